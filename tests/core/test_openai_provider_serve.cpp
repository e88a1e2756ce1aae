// OpenAIProvider (the cloud client) against our own `bonsai-cli serve` over real loopback HTTP: the two
// halves of the OpenAI protocol we implement must understand each other.
#include <QProcess>
#include <QSignalSpy>
#include <QtTest>

#include "core/openai_provider.h"
#include "test_paths.h"

using namespace bonsai::core;

class TestOpenAIProviderServe : public QObject {
    Q_OBJECT
    QProcess server_;
    int port_ = 0;

private slots:
    void initTestCase() {
        server_.start(QString::fromStdString(bonsai::test::cli()),
                      {QStringLiteral("serve"), QStringLiteral("-m"),
                       QString::fromStdString(bonsai::test::fixtures("models/qwen3-e256-F32.gguf")), QStringLiteral("--port"),
                       QStringLiteral("0"), QStringLiteral("--api-key"), QStringLiteral("k-123")});
        QVERIFY(server_.waitForStarted(10000));
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += server_.readAllStandardOutput()).contains('\n'), 20000);
        QVERIFY2(out.startsWith("port "), out.constData());
        port_ = out.mid(5).trimmed().toInt();
        QVERIFY(port_ > 0);
    }
    void cleanupTestCase() {
        server_.terminate();
        QVERIFY(server_.waitForFinished(10000));
        QCOMPARE(server_.exitCode(), 0);  // SIGTERM is a clean shutdown
    }

    void listsTheServedModel() {
        OpenAIConfig c;
        c.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(port_));
        c.apiKey = QStringLiteral("k-123");
        OpenAIProvider p(c);
        QSignalSpy listed(&p, &OpenAIProvider::modelsListed);
        p.fetchModels();
        QVERIFY(listed.wait(10000));
        QCOMPARE(listed[0][0].toStringList(), QStringList{QStringLiteral("qwen3-e256-F32")});
    }

    void streamsAChatReply() {
        OpenAIConfig c;
        c.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(port_));
        c.apiKey = QStringLiteral("k-123");
        OpenAIProvider p(c);
        QString text;
        GenerationStats stats;
        QString error;
        bool done = false;
        connect(&p, &Provider::token, this, [&](const QString& t) { text += t; });
        connect(&p, &Provider::finished, this, [&](const GenerationStats& s) {
            stats = s;
            done = true;
        });
        connect(&p, &Provider::failed, this, [&](const QString& e) {
            error = e;
            done = true;
        });
        ChatRequest req;
        req.model = QStringLiteral("qwen3-e256-F32");
        req.messages = {{QStringLiteral("user"), QStringLiteral("Hello")}};
        req.maxTokens = 6;
        req.temperature = 0;
        p.start(req);
        QTRY_VERIFY_WITH_TIMEOUT(done, 30000);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(stats.finishReason == QStringLiteral("stop") || stats.finishReason == QStringLiteral("length"));
        QVERIFY(stats.promptTokens > 0);                   // usage came back through stream_options
        QVERIFY(stats.completionTokens <= 6);
        QCOMPARE(stats.model, QStringLiteral("qwen3-e256-F32"));
        if (stats.finishReason == QStringLiteral("length")) QCOMPARE(stats.completionTokens, 6);
    }

    void wrongKeyIsExplained() {
        OpenAIConfig c;
        c.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(port_));
        c.apiKey = QStringLiteral("wrong");
        OpenAIProvider p(c);
        QSignalSpy failed(&p, &Provider::failed);
        p.start({QStringLiteral("m"), {{QStringLiteral("user"), QStringLiteral("x")}}});
        QVERIFY(failed.wait(10000));
        QVERIFY2(failed[0][0].toString().contains(QStringLiteral("rejected the API key")), qPrintable(failed[0][0].toString()));
    }
};

QTEST_GUILESS_MAIN(TestOpenAIProviderServe)
#include "test_openai_provider_serve.moc"
