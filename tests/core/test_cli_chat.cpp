// `bonsai-cli chat` driven through QProcess with stdin: local replies from the fixture model, /mode cloud
// against the loopback server with the key from BONSAI_API_KEY, --db persistence and --conversation.
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include "bonsai/storage/database.h"
#include "bonsai/storage/history.h"
#include "service_test_util.h"

using namespace bonsai;
using bonsai::test::LoopbackHttpServer;

namespace {

struct CliRun {
    int exitCode = -1;
    QString out, err;
};

// Runs the CLI while this thread's event loop keeps serving the loopback server.
CliRun runCli(const QStringList& args, const QByteArray& input, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
    QProcess p;
    p.setProcessEnvironment(env);
    QEventLoop loop;
    QObject::connect(&p, &QProcess::finished, &loop, &QEventLoop::quit);
    QObject::connect(&p, &QProcess::errorOccurred, &loop, &QEventLoop::quit);
    QTimer::singleShot(120000, &loop, &QEventLoop::quit);
    p.start(QString::fromStdString(test::cli()), QStringList{QStringLiteral("chat")} + args);
    p.write(input);
    p.closeWriteChannel();
    loop.exec();
    if (p.state() != QProcess::NotRunning) {
        p.kill();
        p.waitForFinished();
    }
    CliRun r;
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

qint64 conversationIdIn(const QString& err) {
    const auto m = QRegularExpression(QStringLiteral("conversation (\\d+)")).match(err);
    return m.hasMatch() ? m.captured(1).toLongLong() : 0;
}

}  // namespace

class TestCliChat : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    const QString model_ = test::fixtureModel();

private slots:
    void localChatAnswersEachLine() {
        const CliRun r = runCli({QStringLiteral("-m"), model_, QStringLiteral("-n"), QStringLiteral("6"), QStringLiteral("--seed"), QStringLiteral("3")},
                                "hello\n/reset\nagain\n/exit\n");
        QCOMPARE(r.exitCode, 0);
        // Three prompts were shown (two turns and /exit) and the reset was acknowledged.
        QCOMPARE(r.out.count(QStringLiteral("> ")) >= 3, true);
        QVERIFY(r.out.contains(QStringLiteral("(conversation reset)")));
    }

    void badModelFailsWithExit1() {
        const CliRun r = runCli({QStringLiteral("-m"), QStringLiteral("/nonexistent.gguf")}, "hi\n");
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.err.contains(QStringLiteral("/nonexistent.gguf")));
    }

    void modeCloudAndPersistence() {
        QVERIFY(dir_.isValid());
        LoopbackHttpServer server;
        server.script({test::cloudReply("Cloud ", "says hi.")});
        const QString db = dir_.filePath(QStringLiteral("chat.sqlite3"));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("BONSAI_API_KEY"), QStringLiteral("cli-test-key"));
        const QStringList common{QStringLiteral("-m"), model_, QStringLiteral("-n"), QStringLiteral("6"),
                                 QStringLiteral("--base-url"), QString::fromLatin1(server.baseUrl()),
                                 QStringLiteral("--cloud-model"), QStringLiteral("gpt-test"), QStringLiteral("--db"), db};
        const CliRun first = runCli(common, "Local first\n/mode cloud\nCloud second\n/exit\n", env);
        QCOMPARE(first.exitCode, 0);
        QVERIFY2(first.out.contains(QStringLiteral("Cloud says hi.")), qPrintable(first.out));
        QVERIFY(first.out.contains(QStringLiteral("(mode: cloud)")));
        const qint64 conv = conversationIdIn(first.err);
        QVERIFY2(conv > 0, qPrintable(first.err));
        QVERIFY(!server.requests().isEmpty());
        const auto& req = server.requests().last();
        QCOMPARE(req.header("Authorization"), QByteArray("Bearer cli-test-key"));
        QVERIFY(req.body.contains("Local first"));  // the local turn went along as history
        QVERIFY(req.body.contains("Cloud second"));
        {
            storage::Database d(db.toStdString());
            storage::History h(d);
            const auto msgs = h.active_path(conv);
            QCOMPARE(msgs.size(), size_t(4));
            QCOMPARE(msgs[1].provider, std::string("local"));
            QCOMPARE(msgs[1].model, std::string("qwen3-e256-F32.gguf"));
            QCOMPARE(msgs[3].provider, std::string("cloud"));
            QCOMPARE(msgs[3].content, std::string("Cloud says hi."));
            QCOMPARE(h.conversation(conv).mode, storage::Mode::cloud);
        }
        // Continue the stored conversation: it is still in cloud mode and its history is sent again.
        const int before = static_cast<int>(server.requests().size());
        const CliRun second = runCli(common + QStringList{QStringLiteral("--conversation"), QString::number(conv)},
                                     "Cloud third\n/exit\n", env);
        QCOMPARE(second.exitCode, 0);
        QVERIFY(second.out.contains(QStringLiteral("Cloud says hi.")));
        QVERIFY(server.requests().size() > before);
        QVERIFY(server.requests().last().body.contains("Local first"));
        storage::Database d(db.toStdString());
        QCOMPARE(storage::History(d).active_path(conv).size(), size_t(6));
        // An unknown conversation is an error.
        const CliRun bad = runCli(common + QStringList{QStringLiteral("--conversation"), QStringLiteral("999")}, "/exit\n", env);
        QCOMPARE(bad.exitCode, 1);
    }

    void cloudOnlyNeedsNoLocalModel() {
        LoopbackHttpServer server;
        server.script({test::cloudReply("Only ", "cloud.")});
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("BONSAI_API_KEY"), QStringLiteral("k2"));
        env.insert(QStringLiteral("BONSAI_DEFAULT_MODEL"), QStringLiteral("/nonexistent/default.gguf"));
        const CliRun r = runCli({QStringLiteral("--cloud"), QStringLiteral("--base-url"), QString::fromLatin1(server.baseUrl()),
                                 QStringLiteral("--model"), QStringLiteral("gpt-test")},
                                "question\n/exit\n", env);
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains(QStringLiteral("Only cloud.")), qPrintable(r.out + r.err));
        QCOMPARE(QJsonDocument::fromJson(server.requests().first().body).object().value(QStringLiteral("model")).toString(),
                 QStringLiteral("gpt-test"));
    }

    void usageErrors() {
        QCOMPARE(runCli({QStringLiteral("--cloud"), QStringLiteral("--model"), QStringLiteral("x")}, "").exitCode, 2);
        QCOMPARE(runCli({QStringLiteral("--conversation"), QStringLiteral("3")}, "").exitCode, 2);
    }
};

QTEST_GUILESS_MAIN(TestCliChat)
#include "test_cli_chat.moc"
