// The local OpenAI-compatible server over a real fixture model, spoken to over real loopback HTTP.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QtTest>
#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "bonsai/chat.h"
#include "bonsai/model.h"
#include "openai_server.h"
#include "test_paths.h"

using json = nlohmann::json;
using bonsai::server::OpenAIServer;
using bonsai::server::ServerOptions;

namespace {
// Resident memory of this process in KiB (/proc/self/status VmRSS).
long rssKiB() {
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly)) return -1;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:")) return line.mid(6).trimmed().split(' ').value(0).toLong();
    return -1;
}

const std::string kModel = bonsai::test::fixtures("models/qwen3-e256-F32.gguf");

json chatBody(const std::string& text, int maxTokens, bool stream = false) {
    return json{{"model", "anything"},
                {"messages", json::array({json{{"role", "user"}, {"content", text}}})},
                {"max_tokens", maxTokens},
                {"temperature", 0},
                {"stream", stream}};
}

// Splits an SSE body into its data payloads.
std::vector<std::string> sseData(const std::string& body) {
    std::vector<std::string> out;
    size_t pos = 0;
    while ((pos = body.find("data: ", pos)) != std::string::npos) {
        const size_t end = body.find("\n\n", pos);
        out.push_back(body.substr(pos + 6, end - pos - 6));
        pos = end == std::string::npos ? body.size() : end + 2;
    }
    return out;
}
}  // namespace

class TestOpenAIServer : public QObject {
    Q_OBJECT
    std::unique_ptr<bonsai::Model> model_;

private slots:
    void initTestCase() { model_ = bonsai::Model::load(kModel); }

    void listsModels() {
        OpenAIServer server(*model_, ServerOptions{.port = 0});
        server.start();
        httplib::Client c("127.0.0.1", server.port());
        auto res = c.Get("/v1/models");
        QVERIFY(res);
        QCOMPARE(res->status, 200);
        const json j = json::parse(res->body);
        QCOMPARE(QString::fromStdString(j["object"]), QStringLiteral("list"));
        QCOMPARE(QString::fromStdString(j["data"][0]["id"]), QStringLiteral("qwen3-e256-F32"));
    }

    void chatCompletionNonStreaming() {
        OpenAIServer server(*model_, ServerOptions{.port = 0});
        server.start();
        httplib::Client c("127.0.0.1", server.port());
        auto res = c.Post("/v1/chat/completions", chatBody("Hello there", 5).dump(), "application/json");
        QVERIFY(res);
        QCOMPARE(res->status, 200);
        const json j = json::parse(res->body);
        QCOMPARE(QString::fromStdString(j["object"]), QStringLiteral("chat.completion"));
        QCOMPARE(QString::fromStdString(j["choices"][0]["message"]["role"]), QStringLiteral("assistant"));
        QVERIFY(j["choices"][0]["message"]["content"].is_string());
        const std::string finish = j["choices"][0]["finish_reason"];
        QVERIFY(finish == "stop" || finish == "length");
        const auto prompt = bonsai::build_chat_prompt(*model_, {{"user", "Hello there"}});
        QCOMPARE(j["usage"]["prompt_tokens"].get<int64_t>(), static_cast<int64_t>(prompt.tokens.size()));
        QVERIFY(j["usage"]["completion_tokens"].get<int64_t>() <= 5);
        QCOMPARE(j["usage"]["total_tokens"].get<int64_t>(),
                 j["usage"]["prompt_tokens"].get<int64_t>() + j["usage"]["completion_tokens"].get<int64_t>());
        if (finish == "length") QCOMPARE(j["usage"]["completion_tokens"].get<int64_t>(), 5);

        // Greedy is deterministic: the same request gives the same answer.
        auto again = c.Post("/v1/chat/completions", chatBody("Hello there", 5).dump(), "application/json");
        QCOMPARE(json::parse(again->body)["choices"][0]["message"]["content"], j["choices"][0]["message"]["content"]);
    }

    void chatCompletionStreamingMatchesNonStreaming() {
        OpenAIServer server(*model_, ServerOptions{.port = 0});
        server.start();
        httplib::Client c("127.0.0.1", server.port());
        json body = chatBody("Tell me", 8, true);
        body["stream_options"] = {{"include_usage", true}};
        auto res = c.Post("/v1/chat/completions", body.dump(), "application/json");
        QVERIFY(res);
        QCOMPARE(res->status, 200);
        QVERIFY(res->get_header_value("Content-Type").find("text/event-stream") != std::string::npos);
        const auto events = sseData(res->body);
        QVERIFY(events.size() >= 3);
        QCOMPARE(QString::fromStdString(events.back()), QStringLiteral("[DONE]"));
        std::string text;
        std::string finish;
        json usage;
        for (size_t i = 0; i + 1 < events.size(); ++i) {
            const json e = json::parse(events[i]);
            QCOMPARE(QString::fromStdString(e["object"]), QStringLiteral("chat.completion.chunk"));
            if (e.contains("usage") && !e["usage"].is_null()) usage = e["usage"];
            if (e["choices"].empty()) continue;
            const json& d = e["choices"][0]["delta"];
            if (d.contains("content")) text += d["content"].get<std::string>();
            if (e["choices"][0]["finish_reason"].is_string()) finish = e["choices"][0]["finish_reason"];
        }
        QVERIFY(!finish.empty());
        QVERIFY(!usage.is_null());
        auto plain = c.Post("/v1/chat/completions", chatBody("Tell me", 8).dump(), "application/json");
        QCOMPARE(QString::fromStdString(text),
                 QString::fromStdString(json::parse(plain->body)["choices"][0]["message"]["content"].get<std::string>()));
    }

    void textCompletion() {
        OpenAIServer server(*model_, ServerOptions{.port = 0});
        server.start();
        httplib::Client c("127.0.0.1", server.port());
        auto res = c.Post("/v1/completions", json{{"prompt", "The fox"}, {"max_tokens", 4}, {"temperature", 0}}.dump(),
                          "application/json");
        QVERIFY(res);
        QCOMPARE(res->status, 200);
        const json j = json::parse(res->body);
        QCOMPARE(QString::fromStdString(j["object"]), QStringLiteral("text_completion"));
        QVERIFY(j["choices"][0]["text"].is_string());
    }

    void badRequestsGetOpenAIErrors_data() {
        QTest::addColumn<QString>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("message");
        QTest::newRow("not json") << "{oops" << 400 << "not valid JSON";
        QTest::newRow("array") << "[1,2]" << 400 << "must be a JSON object";
        QTest::newRow("no messages") << R"({"model":"x"})" << 400 << "'messages'";
        QTest::newRow("empty messages") << R"({"messages":[]})" << 400 << "'messages'";
        QTest::newRow("bad role") << R"({"messages":[{"role":"wizard","content":"x"}]})" << 400 << "not supported";
        QTest::newRow("content type") << R"({"messages":[{"role":"user","content":5}]})" << 400 << "content";
        QTest::newRow("temperature type") << R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})" << 400 << "'temperature'";
        QTest::newRow("max_tokens too big") << R"({"messages":[{"role":"user","content":"x"}],"max_tokens":100000000})" << 400 << "limit";
        QTest::newRow("n > 1") << R"({"messages":[{"role":"user","content":"x"}],"n":3})" << 400 << "n = 1";
    }
    void badRequestsGetOpenAIErrors() {
        QFETCH(QString, body);
        QFETCH(int, status);
        QFETCH(QString, message);
        OpenAIServer server(*model_, ServerOptions{.port = 0});
        server.start();
        httplib::Client c("127.0.0.1", server.port());
        auto res = c.Post("/v1/chat/completions", body.toStdString(), "application/json");
        QVERIFY(res);
        QCOMPARE(res->status, status);
        const json j = json::parse(res->body);
        QVERIFY2(QString::fromStdString(j["error"]["message"]).contains(message), res->body.c_str());
        QVERIFY(j["error"].contains("type"));
    }

    void bodyLimitAndUnknownPath() {
        ServerOptions opt{.port = 0};
        opt.max_body_bytes = 1024;
        OpenAIServer server(*model_, opt);
        server.start();
        httplib::Client c("127.0.0.1", server.port());
        auto big = c.Post("/v1/chat/completions", chatBody(std::string(4096, 'a'), 1).dump(), "application/json");
        QVERIFY(big);
        QCOMPARE(big->status, 413);
        auto missing = c.Get("/v1/nothing");
        QVERIFY(missing);
        QCOMPARE(missing->status, 404);
        QVERIFY(json::parse(missing->body)["error"]["message"].is_string());
    }

    void bearerKeyIsEnforced() {
        ServerOptions opt{.port = 0};
        opt.api_key = "local-secret";
        OpenAIServer server(*model_, opt);
        server.start();
        httplib::Client c("127.0.0.1", server.port());
        auto denied = c.Get("/v1/models");
        QCOMPARE(denied->status, 401);
        QCOMPARE(QString::fromStdString(json::parse(denied->body)["error"]["code"]), QStringLiteral("invalid_api_key"));
        c.set_bearer_token_auth("local-secret");
        QCOMPARE(c.Get("/v1/models")->status, 200);
    }

    void fullQueueAnswers503AndDisconnectCancels() {
        ServerOptions opt{.port = 0};
        opt.max_queue = 0;  // one slot, nobody may wait
        opt.n_ctx = 4096;
        OpenAIServer server(*model_, opt);
        server.start();
        // A: a long streaming generation whose client reads one chunk and then hangs up.
        std::atomic<bool> gotChunk{false}, aDone{false};
        std::thread a([&] {
            json body = chatBody("Count forever", 4000, true);
            body["temperature"] = 1.0;
            const std::string payload = body.dump();
            const std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                        "Content-Length: " + std::to_string(payload.size()) + "\r\n\r\n" + payload;
            const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_port = htons(static_cast<uint16_t>(server.port()));
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                ::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
                std::string got;
                char buf[4096];
                while (got.find("data: ") == std::string::npos) {
                    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
                    if (n <= 0) break;
                    got.append(buf, static_cast<size_t>(n));
                }
                gotChunk = got.find("data: ") != std::string::npos;
            }
            ::close(fd);  // hang up in the middle of the stream
            aDone = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(gotChunk.load(), 10000);
        // B arrives while A holds the only slot (or, if A is already cancelled, succeeds).
        httplib::Client c("127.0.0.1", server.port());
        auto b = c.Post("/v1/chat/completions", chatBody("hi", 1).dump(), "application/json");
        QVERIFY(b);
        if (b->status == 503) {
            QCOMPARE(b->get_header_value("Retry-After"), std::string("2"));
            QCOMPARE(QString::fromStdString(json::parse(b->body)["error"]["code"]), QStringLiteral("server_busy"));
        } else {
            QCOMPARE(b->status, 200);
        }
        a.join();
        // The disconnect cancelled A: the slot frees up long before 4000 tokens could be produced.
        QElapsedTimer t;
        t.start();
        int status = 0;
        while (t.elapsed() < 10000) {
            auto r = c.Post("/v1/chat/completions", chatBody("hi", 1).dump(), "application/json");
            if (r && r->status == 200) {
                status = 200;
                break;
            }
            QTest::qWait(50);
        }
        QCOMPARE(status, 200);
        QVERIFY(server.requests_rejected_busy() >= (b->status == 503 ? 1 : 0));
    }

    void manyConcurrentClients() {
        ServerOptions opt{.port = 0};
        opt.parallel = 2;
        opt.max_queue = 64;
        OpenAIServer server(*model_, opt);
        server.start();
        std::atomic<int> ok{0}, busy{0}, other{0};
        const long rssBefore = rssKiB();
        std::vector<std::thread> clients;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 64; ++i) {
            clients.emplace_back([&, i] {
                httplib::Client c("127.0.0.1", server.port());
                c.set_read_timeout(60, 0);
                auto r = c.Post("/v1/chat/completions", chatBody("client " + std::to_string(i), 3, i % 2 == 0).dump(),
                                "application/json");
                if (r && r->status == 200) ++ok;
                else if (r && r->status == 503) ++busy;
                else {
                    ++other;
                    qWarning("client %d after %lld ms: %s", i, static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()), r ? std::to_string(r->status).c_str() : httplib::to_string(r.error()).c_str());
                }
            });
        }
        for (auto& t : clients) t.join();
        QCOMPARE(other.load(), 0);
        QCOMPARE(ok.load() + busy.load(), 64);
        QVERIFY(ok.load() >= 2);
        // Bounded memory: 64 clients (and the server's 80 HTTP threads) cost stacks and small buffers,
        // not a copy of the model or the KV cache each.
        const long grown = rssKiB() - rssBefore;
        qInfo("resident memory grew by %ld KiB serving 64 clients", grown);
        QVERIFY2(grown < 256 * 1024, qPrintable(QString::number(grown)));
    }
};

QTEST_GUILESS_MAIN(TestOpenAIServer)
#include "test_openai_server.moc"
