#pragma once
// Helpers for the ConversationService tests: the local fixture model, a capturing "cloud" (the loopback
// HTTP server answering OpenAI-style SSE) and waiting for a reply to end.
#include <QEventLoop>
#include <QTimer>
#include <QtTest>

#include "core/conversation_service.h"
#include "core/local_provider.h"
#include "core/openai_provider.h"
#include "loopback_http_server.h"
#include "test_paths.h"

namespace bonsai::test {

inline QString fixtureModel() { return QString::fromStdString(fixtures("models/qwen3-e256-F32.gguf")); }

inline core::LocalProviderConfig greedyLocalConfig() {
    core::LocalProviderConfig c;
    c.nCtx = 2048;
    c.nThreads = 1;
    c.seed = 11;
    c.sampling = [](const SamplingParams&) { return SamplingParams::greedy(); };
    return c;
}

// One OpenAI streaming chunk carrying `text` (JSON-escaped by the caller when needed).
inline QByteArray sseChunk(const QByteArray& text, const char* finish = nullptr, const char* model = "gpt-test") {
    const QByteArray fr = finish ? QByteArray("\"") + finish + "\"" : QByteArray("null");
    return QByteArray(R"({"id":"c1","object":"chat.completion.chunk","model":")") + model +
           R"(","choices":[{"index":0,"delta":{"content":")" + text + R"("},"finish_reason":)" + fr + "}]}";
}

// A complete cloud reply: two pieces, a finish chunk and [DONE].
inline Response cloudReply(const QByteArray& first, const QByteArray& second) {
    return LoopbackHttpServer::sse({sseChunk(first), sseChunk(second, "stop"), "[DONE]"});
}

// What one turn produced.
struct Turn {
    qint64 replyId = 0;
    QString streamed;
    bool finished = false;
    bool failed = false;
    QString error;
    core::GenerationStats stats;
};

// Runs `start` (which calls send/regenerate/editAndResend) and waits until that reply ends.
template <class Fn>
Turn runTurn(core::ConversationService& s, Fn start, int timeoutMs = 60000) {
    Turn t;
    QEventLoop loop;
    QObject ctx;
    QObject::connect(&s, &core::ConversationService::replyStarted, &ctx, [&](qint64, qint64 id) { t.replyId = id; });
    QObject::connect(&s, &core::ConversationService::replyToken, &ctx, [&](qint64, qint64 id, const QString& x) {
        if (id == t.replyId) t.streamed += x;
    });
    QObject::connect(&s, &core::ConversationService::replyFinished, &ctx,
                     [&](qint64, qint64 id, const core::GenerationStats& st) {
                         if (id != t.replyId) return;
                         t.finished = true;
                         t.stats = st;
                         loop.quit();
                     });
    QObject::connect(&s, &core::ConversationService::replyFailed, &ctx, [&](qint64, qint64 id, const QString& m) {
        if (id != t.replyId) return;
        t.failed = true;
        t.error = m;
        loop.quit();
    });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    start();
    if (!t.finished && !t.failed && t.replyId != 0) loop.exec();
    return t;
}

// Waits until the service has nothing running (titles included) by letting queued work drain.
inline void settle(core::ConversationService& s, core::Provider* p, int timeoutMs = 30000) {
    QElapsedTimer clock;
    clock.start();
    while ((s.busy() || (p && p->busy())) && clock.elapsed() < timeoutMs) QTest::qWait(10);
    QTest::qWait(20);
    while (p && p->busy() && clock.elapsed() < timeoutMs) QTest::qWait(10);
}

}  // namespace bonsai::test
