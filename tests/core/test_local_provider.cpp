// LocalProvider on the tiny random qwen3 fixture: loading with progress, streaming, stats, stop,
// prefix reuse across turns, model switching and clear failures. The reference for the streamed text is the
// engine itself driven directly (build_chat_prompt + Session::generate, greedy): the provider must deliver
// exactly that, split into pieces, on the caller's thread.
#include <QFileInfo>
#include <QSignalSpy>
#include <QTest>
#include <QThread>
#include <QTimer>

#include "bonsai/chat.h"
#include "bonsai/model.h"
#include "bonsai/session.h"
#include "core/local_provider.h"
#include "test_paths.h"

using namespace bonsai::core;

namespace {

const QString kModel = QString::fromStdString(bonsai::test::fixtures("models/qwen3-e256-F32.gguf"));
const QString kOtherModel = QString::fromStdString(bonsai::test::fixtures("models/llama-e256-F32.gguf"));

LocalProviderConfig greedyConfig() {
    LocalProviderConfig c;
    c.nCtx = 1024;
    c.nThreads = 1;
    c.seed = 7;
    c.sampling = [](const bonsai::SamplingParams&) { return bonsai::SamplingParams::greedy(); };
    return c;
}

struct Outcome {
    QString text;
    QStringList pieces;
    bool finished = false;
    bool failed = false;
    GenerationStats stats;
    QString error;
    bool allOnCallerThread = true;
};

// Runs one request to its end (finished or failed), collecting what the provider emitted.
Outcome run(LocalProvider& p, const ChatRequest& r, std::function<void(LocalProvider&, const QString&)> onToken = {}) {
    Outcome o;
    QEventLoop loop;
    auto c1 = QObject::connect(&p, &Provider::token, &loop, [&](const QString& t) {
        o.pieces << t;
        o.text += t;
        if (QThread::currentThread() != p.thread()) o.allOnCallerThread = false;
        if (onToken) onToken(p, t);
    });
    auto c2 = QObject::connect(&p, &Provider::finished, &loop, [&](const GenerationStats& s) {
        o.finished = true;
        o.stats = s;
        loop.quit();
    });
    auto c3 = QObject::connect(&p, &Provider::failed, &loop, [&](const QString& m) {
        o.failed = true;
        o.error = m;
        loop.quit();
    });
    QTimer::singleShot(60000, &loop, &QEventLoop::quit);
    p.start(r);
    if (o.finished || o.failed) {
        QObject::disconnect(c1);
        QObject::disconnect(c2);
        QObject::disconnect(c3);
        return o;
    }
    loop.exec();
    QObject::disconnect(c1);
    QObject::disconnect(c2);
    QObject::disconnect(c3);
    return o;
}

ChatRequest userSays(const QString& text, int maxTokens) {
    ChatRequest r;
    r.messages = {{QStringLiteral("user"), text}};
    r.maxTokens = maxTokens;
    return r;
}

// The engine driven directly: what greedy decoding of `msgs` gives.
bonsai::GenerationResult reference(const std::vector<bonsai::ChatMessage>& msgs, int maxTokens) {
    auto model = bonsai::Model::load(bonsai::test::fixtures("models/qwen3-e256-F32.gguf"));
    bonsai::ChatPromptOptions po;
    po.extra = {{"enable_thinking", false}};
    const bonsai::ChatPrompt prompt = bonsai::build_chat_prompt(*model, msgs, po);
    bonsai::SessionParams sp;
    sp.n_ctx = 1024;
    sp.sampling = bonsai::SamplingParams::greedy();
    bonsai::Session s(*model, sp);
    bonsai::GenerateOptions go;
    go.max_tokens = maxTokens;
    go.stop_strings = bonsai::chat_stop_strings(*model, prompt);
    return s.generate(prompt.tokens, go);
}

}  // namespace

class TestLocalProvider : public QObject {
    Q_OBJECT
private slots:
    void loadsWithProgress() {
        LocalProvider p(greedyConfig());
        QSignalSpy progress(&p, &LocalProvider::loadProgress);
        QSignalSpy loaded(&p, &LocalProvider::modelLoaded);
        QVERIFY(!p.isLoaded());
        QString error;
        QVERIFY2(p.loadModelAndWait(kModel, &error), qPrintable(error));
        QCOMPARE(loaded.count(), 1);
        QCOMPARE(loaded.first().first().toString(), QStringLiteral("qwen3-e256-F32.gguf"));
        QVERIFY(progress.count() >= 2);
        double last = -1;
        for (const auto& args : progress) {
            const double f = args.first().toDouble();
            QVERIFY(f >= last);
            QVERIFY(f >= 0 && f <= 1);
            last = f;
        }
        QCOMPARE(last, 1.0);
        QVERIFY(p.isLoaded());
        QCOMPARE(p.currentModel(), QStringLiteral("qwen3-e256-F32.gguf"));
        QCOMPARE(p.kind(), QStringLiteral("local"));
    }

    void missingModelFailsClearly() {
        LocalProvider p(greedyConfig());
        QString error;
        QVERIFY(!p.loadModelAndWait(QStringLiteral("/nonexistent/model.gguf"), &error));
        QVERIFY2(error.contains(QStringLiteral("/nonexistent/model.gguf")), qPrintable(error));
        QVERIFY(!p.isLoaded());
        const Outcome o = run(p, userSays(QStringLiteral("hi"), 4));
        QVERIFY(o.failed);
        QVERIFY2(o.error.contains(QStringLiteral("No local model")), qPrintable(o.error));
    }

    void streamsWhatTheEngineGenerates() {
        LocalProvider p(greedyConfig());
        QVERIFY(p.loadModelAndWait(kModel));
        const int maxTokens = 24;
        const Outcome o = run(p, userSays(QStringLiteral("Tell me about trees."), maxTokens));
        QVERIFY2(o.finished, qPrintable(o.error));
        QVERIFY(o.allOnCallerThread);
        const bonsai::GenerationResult ref = reference({{"user", "Tell me about trees."}}, maxTokens);
        QCOMPARE(o.text, QString::fromStdString(ref.text));
        QCOMPARE(o.stats.promptTokens, static_cast<int>(ref.stats.n_prompt));
        QCOMPARE(o.stats.reusedPromptTokens, 0);
        QVERIFY(o.stats.completionTokens <= maxTokens);
        if (ref.stop == bonsai::StopReason::MaxTokens) {
            QCOMPARE(o.stats.finishReason, QStringLiteral("length"));
            QCOMPARE(o.stats.completionTokens, maxTokens);
        } else {
            QCOMPARE(o.stats.finishReason, QStringLiteral("stop"));
        }
        QVERIFY(o.stats.tokensPerSecond >= 0);
        QCOMPARE(o.stats.model, QStringLiteral("qwen3-e256-F32.gguf"));
        // The prompt the model saw is the template's rendering of the request.
        QVERIFY(p.lastPrompt().contains(QStringLiteral("Tell me about trees.")));
        QVERIFY(!p.busy());
    }

    void reusesThePrefixOnTheNextTurn() {
        LocalProvider p(greedyConfig());
        QVERIFY(p.loadModelAndWait(kModel));
        const Outcome first = run(p, userSays(QStringLiteral("First question"), 8));
        QVERIFY(first.finished);
        ChatRequest second;
        second.messages = {{QStringLiteral("user"), QStringLiteral("First question")},
                           {QStringLiteral("assistant"), first.text},
                           {QStringLiteral("user"), QStringLiteral("Second question")}};
        second.maxTokens = 8;
        const Outcome o = run(p, second);
        QVERIFY(o.finished);
        // The cache held the first prompt (and its reply): at least the tokens the two prompts share are reused
        // (templates may render a past assistant turn differently from the generation prompt, so not all).
        auto model = bonsai::Model::load(bonsai::test::fixtures("models/qwen3-e256-F32.gguf"));
        bonsai::ChatPromptOptions po;
        po.extra = {{"enable_thinking", false}};
        const auto p1 = bonsai::build_chat_prompt(*model, {{"user", "First question"}}, po).tokens;
        const auto p2 = bonsai::build_chat_prompt(*model, {{"user", "First question"}, {"assistant", first.text.toStdString()},
                                                            {"user", "Second question"}}, po).tokens;
        size_t common = 0;
        while (common < p1.size() && common < p2.size() && p1[common] == p2[common]) ++common;
        QVERIFY(common > 0);
        QCOMPARE(o.stats.promptTokens, static_cast<int>(p2.size()));
        QVERIFY2(o.stats.reusedPromptTokens >= static_cast<int>(common),
                 qPrintable(QStringLiteral("reused %1, shared prefix %2").arg(o.stats.reusedPromptTokens).arg(common)));
        QVERIFY(o.stats.reusedPromptTokens < o.stats.promptTokens);
    }

    void stopCancelsMidReply() {
        LocalProviderConfig c = greedyConfig();
        c.nCtx = 4096;
        LocalProvider p(c);
        QVERIFY(p.loadModelAndWait(kModel));
        // Sampling at temperature 1 over a random model rarely meets an end token early; stop at the first piece.
        ChatRequest r = userSays(QStringLiteral("Go on and on"), 3000);
        r.temperature = 1.0;
        const Outcome o = run(p, r, [](LocalProvider& lp, const QString&) { lp.stop(); });
        QVERIFY(o.finished);
        if (o.pieces.isEmpty()) QSKIP("the model ended before its first visible piece");
        QCOMPARE(o.stats.finishReason, QStringLiteral("cancelled"));
        QVERIFY2(o.stats.completionTokens < 3000, qPrintable(QString::number(o.stats.completionTokens)));
        // The session is usable again afterwards.
        const Outcome next = run(p, userSays(QStringLiteral("hello"), 4));
        QVERIFY(next.finished);
        QVERIFY(next.stats.finishReason != QLatin1String("cancelled"));
    }

    void stopBeforeTheWorkerStartsCancels() {
        LocalProvider p(greedyConfig());
        QVERIFY(p.loadModelAndWait(kModel));
        QSignalSpy finished(&p, &Provider::finished);
        p.start(userSays(QStringLiteral("hello"), 200));
        QVERIFY(p.busy());
        p.stop();
        QVERIFY(finished.wait(30000));
        QCOMPARE(finished.first().first().value<GenerationStats>().finishReason, QStringLiteral("cancelled"));
        // A stop sent while idle must not cancel the next request.
        p.stop();
        const Outcome o = run(p, userSays(QStringLiteral("hello"), 4));
        QVERIFY(o.finished);
        QVERIFY(o.stats.finishReason != QLatin1String("cancelled"));
    }

    void refusesASecondRequestWhileBusy() {
        LocalProvider p(greedyConfig());
        QVERIFY(p.loadModelAndWait(kModel));
        QSignalSpy failed(&p, &Provider::failed);
        QSignalSpy finished(&p, &Provider::finished);
        p.start(userSays(QStringLiteral("one"), 16));
        p.start(userSays(QStringLiteral("two"), 16));
        QCOMPARE(failed.count(), 1);
        QVERIFY(failed.first().first().toString().contains(QStringLiteral("already")));
        QVERIFY(finished.wait(30000));
        QCOMPARE(finished.count(), 1);
    }

    void switchingModelsUnloadsTheOldOne() {
        LocalProvider p(greedyConfig());
        QVERIFY(p.loadModelAndWait(kModel));
        QSignalSpy finished(&p, &Provider::finished);
        p.start(userSays(QStringLiteral("a long answer please"), 2000));
        // Loading another model while generating: the running reply ends first, then the switch happens.
        QVERIFY(p.loadModelAndWait(kOtherModel));
        QVERIFY(finished.count() == 1 || finished.wait(30000));
        QCOMPARE(p.currentModel(), QStringLiteral("llama-e256-F32.gguf"));
        const Outcome o = run(p, userSays(QStringLiteral("hello"), 4));
        QVERIFY2(o.finished, qPrintable(o.error));
        QCOMPARE(o.stats.model, QStringLiteral("llama-e256-F32.gguf"));
        QSignalSpy unloaded(&p, &LocalProvider::modelUnloaded);
        p.unloadModel();
        QVERIFY(unloaded.wait(10000));
        QVERIFY(!p.isLoaded());
        QCOMPARE(p.currentModel(), QString());
    }
};

QTEST_GUILESS_MAIN(TestLocalProvider)
#include "test_local_provider.moc"
