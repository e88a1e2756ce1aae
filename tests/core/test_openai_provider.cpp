// OpenAIProvider against a real loopback HTTP server that injects faults: streaming, retries, and the
// messages a user sees for every failure class.
#include <QSignalSpy>
#include <QtTest>

#include "core/openai_provider.h"
#include "loopback_http_server.h"

using namespace bonsai::core;
using bonsai::test::LoopbackHttpServer;
using bonsai::test::Response;

namespace {
QByteArray chunk(const char* text, const char* finish = nullptr) {
    QByteArray fr = finish ? QByteArray("\"") + finish + "\"" : QByteArray("null");
    return QByteArray(R"({"id":"c1","object":"chat.completion.chunk","model":"gpt-test","choices":[{"index":0,"delta":{"content":")") +
           text + R"("},"finish_reason":)" + fr + "}]}";
}

struct Run {
    QString text;
    GenerationStats stats;
    QString error;
    bool done = false;
};

Run runChat(OpenAIProvider& p, int timeoutMs = 10000) {
    Run run;
    QObject ctx;
    QObject::connect(&p, &Provider::token, &ctx, [&](const QString& t) { run.text += t; });
    QObject::connect(&p, &Provider::finished, &ctx, [&](const GenerationStats& s) {
        run.stats = s;
        run.done = true;
    });
    QObject::connect(&p, &Provider::failed, &ctx, [&](const QString& e) {
        run.error = e;
        run.done = true;
    });
    ChatRequest req;
    req.model = QStringLiteral("gpt-test");
    req.messages = {{QStringLiteral("user"), QStringLiteral("Hello")}};
    p.start(req);
    if (!QTest::qWaitFor([&] { return run.done; }, timeoutMs)) run.error = QStringLiteral("test timeout: no finished/failed signal");
    return run;
}

OpenAIConfig configFor(const LoopbackHttpServer& s) {
    OpenAIConfig c;
    c.baseUrl = QUrl(QString::fromLatin1(s.baseUrl()));
    c.apiKey = QStringLiteral("sk-test-key");
    c.backoffBaseMs = 10;
    c.connectTimeoutMs = 2000;
    c.stallTimeoutMs = 500;
    return c;
}
}  // namespace

class TestOpenAIProvider : public QObject {
    Q_OBJECT
private slots:
    void streamsTokensAndSendsOpenAIRequest() {
        LoopbackHttpServer server;
        server.script({LoopbackHttpServer::sse({chunk("Hel"), chunk("lo"), chunk("!", "stop"),
                                                R"({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3}})", "[DONE]"},
                                               5)});
        OpenAIProvider p(configFor(server));
        const Run r = runChat(p);
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.text, QStringLiteral("Hello!"));
        QCOMPARE(r.stats.finishReason, QStringLiteral("stop"));
        QCOMPARE(r.stats.promptTokens, 5);
        QCOMPARE(r.stats.completionTokens, 3);
        QCOMPARE(r.stats.model, QStringLiteral("gpt-test"));
        QCOMPARE(server.requests().size(), 1);
        const auto& req = server.requests()[0];
        QCOMPARE(req.method, QByteArray("POST"));
        QCOMPARE(req.path, QByteArray("/v1/chat/completions"));
        QCOMPARE(req.header("Authorization"), QByteArray("Bearer sk-test-key"));
        const QJsonObject body = QJsonDocument::fromJson(req.body).object();
        QCOMPARE(body.value("stream").toBool(), true);
        QCOMPARE(body.value("messages").toArray().at(0).toObject().value("content").toString(), QStringLiteral("Hello"));
    }
    void acceptsNonStreamingAnswer() {
        LoopbackHttpServer server;
        server.script({LoopbackHttpServer::json(200, R"({"model":"m2","choices":[{"message":{"role":"assistant","content":"Hi there"},"finish_reason":"length"}],"usage":{"prompt_tokens":2,"completion_tokens":2}})")});
        OpenAIProvider p(configFor(server));
        const Run r = runChat(p);
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.text, QStringLiteral("Hi there"));
        QCOMPARE(r.stats.finishReason, QStringLiteral("length"));
        QCOMPARE(r.stats.model, QStringLiteral("m2"));
    }
    void retriesOn429And500ThenSucceeds() {
        LoopbackHttpServer server;
        Response limited = LoopbackHttpServer::json(429, R"({"error":{"message":"slow down"}})");
        limited.headers.append(qMakePair(QByteArray("Retry-After"), QByteArray("0")));
        server.script({limited, LoopbackHttpServer::json(500, "{}"), LoopbackHttpServer::sse({chunk("ok", "stop"), "[DONE]"})});
        OpenAIProvider p(configFor(server));
        const Run r = runChat(p);
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.text, QStringLiteral("ok"));
        QCOMPARE(server.requests().size(), 3);
    }
    void givesUpAfterMaxRetries() {
        LoopbackHttpServer server;
        server.script({LoopbackHttpServer::json(503, R"({"error":{"message":"overloaded"}})")});
        OpenAIConfig c = configFor(server);
        c.maxRetries = 2;
        OpenAIProvider p(c);
        const Run r = runChat(p);
        QVERIFY(r.error.contains(QStringLiteral("server error (HTTP 503)")));
        QVERIFY(r.error.contains(QStringLiteral("overloaded")));
        QCOMPARE(server.requests().size(), 3);
    }
    void unauthorizedSaysCheckTheKey() {
        LoopbackHttpServer server;
        server.script({LoopbackHttpServer::json(401, R"({"error":{"message":"Incorrect API key provided"}})")});
        OpenAIProvider p(configFor(server));
        const Run r = runChat(p);
        QVERIFY2(r.error.contains(QStringLiteral("rejected the API key")), qPrintable(r.error));
        QCOMPARE(server.requests().size(), 1);  // never retried
    }
    void unknownModelIsNamed() {
        LoopbackHttpServer server;
        server.script({LoopbackHttpServer::json(404, R"({"error":{"message":"The model `gpt-test` does not exist","code":"model_not_found"}})")});
        OpenAIProvider p(configFor(server));
        const Run r = runChat(p);
        QVERIFY2(r.error.contains(QStringLiteral("does not know the model 'gpt-test'")), qPrintable(r.error));
    }
    void networkDownIsExplained() {
        quint16 port;
        {
            LoopbackHttpServer gone;
            port = gone.port();
        }
        OpenAIConfig c;
        c.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
        c.backoffBaseMs = 5;
        c.maxRetries = 1;
        OpenAIProvider p(c);
        const Run r = runChat(p);
        QVERIFY2(r.error.contains(QStringLiteral("refused the connection")), qPrintable(r.error));
    }
    void tlsFailureIsExplained() {
        // A plain-HTTP server spoken to over https: the TLS handshake fails.
        LoopbackHttpServer server;
        server.script({LoopbackHttpServer::json(200, "{}")});
        OpenAIConfig c = configFor(server);
        c.baseUrl = QUrl(QStringLiteral("https://127.0.0.1:%1/v1").arg(server.port()));
        c.maxRetries = 0;
        OpenAIProvider p(c);
        const Run r = runChat(p);
        QVERIFY2(r.error.contains(QStringLiteral("TLS")),
                 qPrintable(r.error));
    }
    void dropMidStreamKeepsPartialAndFails() {
        LoopbackHttpServer server;
        Response r = LoopbackHttpServer::sse({chunk("partial "), chunk("answer")}, 5);
        r.dropAfterChunks = true;
        server.script({r});
        OpenAIProvider p(configFor(server));
        const Run run = runChat(p);
        QCOMPARE(run.text, QStringLiteral("partial answer"));
        QVERIFY2(run.error.contains(QStringLiteral("partial answer was kept")), qPrintable(run.error));
        QCOMPARE(server.requests().size(), 1);  // no retry once tokens were shown
    }
    void stallIsDetected() {
        LoopbackHttpServer server;
        Response r = LoopbackHttpServer::sse({chunk("wait")});
        r.stallAfterChunks = true;
        server.script({r});
        OpenAIProvider p(configFor(server));
        const Run run = runChat(p);
        QCOMPARE(run.text, QStringLiteral("wait"));
        QVERIFY2(run.error.contains(QStringLiteral("stopped sending")), qPrintable(run.error));
    }
    void malformedStreamIsReported() {
        LoopbackHttpServer server;
        server.script({LoopbackHttpServer::sse({chunk("a"), "{not json", "[DONE]"})});
        OpenAIProvider p(configFor(server));
        const Run r = runChat(p);
        QVERIFY2(r.error.contains(QStringLiteral("malformed stream")), qPrintable(r.error));
    }
    void stopCancels() {
        LoopbackHttpServer server;
        Response r = LoopbackHttpServer::sse({chunk("one"), chunk("two"), chunk("three"), "[DONE]"}, 300);
        server.script({r});
        OpenAIProvider p(configFor(server));
        QString text;
        GenerationStats stats;
        bool done = false;
        connect(&p, &Provider::token, this, [&](const QString& t) {
            text += t;
            p.stop();
        });
        connect(&p, &Provider::finished, this, [&](const GenerationStats& s) {
            stats = s;
            done = true;
        });
        p.start({QStringLiteral("gpt-test"), {{QStringLiteral("user"), QStringLiteral("x")}}});
        QTRY_VERIFY_WITH_TIMEOUT(done, 5000);
        QCOMPARE(stats.finishReason, QStringLiteral("cancelled"));
        QCOMPARE(text, QStringLiteral("one"));
        QVERIFY(!p.busy());
    }
    void listsModels() {
        LoopbackHttpServer server;
        server.script({LoopbackHttpServer::json(200, R"({"object":"list","data":[{"id":"a","object":"model"},{"id":"b","object":"model"}]})")});
        OpenAIProvider p(configFor(server));
        QSignalSpy listed(&p, &OpenAIProvider::modelsListed);
        p.fetchModels();
        QVERIFY(listed.wait(5000));
        QCOMPARE(listed[0][0].toStringList(), QStringList({"a", "b"}));
        QCOMPARE(server.requests()[0].path, QByteArray("/v1/models"));
    }
};

QTEST_GUILESS_MAIN(TestOpenAIProvider)
#include "test_openai_provider.moc"
