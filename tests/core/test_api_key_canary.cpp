// API-key canary: after a scripted cloud session (replies, a title, a failure) with a key from the
// SecretStore, the key must be in no file under the data and config folders and in no log output
// (Qt messages through a handler, and raw stderr through a redirected file descriptor), while the
// endpoint did receive it.
#include <QDirIterator>
#include <QTemporaryDir>
#include <cstdio>
#include <unistd.h>

#include "bonsai/storage/database.h"
#include "core/paths.h"
#include "core/secret_store.h"
#include "service_test_util.h"

using namespace bonsai;
using namespace bonsai::core;
using bonsai::test::LoopbackHttpServer;

namespace {
const QByteArray kKey = "sk-CANARYKEY-93f1c0de77aa";
QStringList g_log;

void captureMessages(QtMsgType, const QMessageLogContext&, const QString& msg) { g_log << msg; }

QStringList filesContaining(const QString& root, const QByteArray& needle) {
    QStringList hits;
    QDirIterator it(root, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (f.open(QIODevice::ReadOnly) && f.readAll().contains(needle)) hits << path;
    }
    return hits;
}
}  // namespace

class TestApiKeyCanary : public QObject {
    Q_OBJECT
private slots:
    void keyStaysOutOfFilesAndLogs() {
        QTemporaryDir home;
        QVERIFY(home.isValid());
        const QString dataDir = home.filePath(QStringLiteral("data")), configDir = home.filePath(QStringLiteral("config"));
        qputenv("BONSAI_DATA_DIR", dataDir.toUtf8());
        qputenv("BONSAI_CONFIG_DIR", configDir.toUtf8());
        QDir().mkpath(configDir);
        const AppPaths paths = AppPaths::fromEnvironment();
        QCOMPARE(paths.dataDir, dataDir);

        // Raw stderr goes to a file outside the scanned folders for the whole session.
        const QString errPath = home.filePath(QStringLiteral("stderr.txt"));
        fflush(stderr);
        const int savedErr = dup(2);
        FILE* errFile = fopen(errPath.toLocal8Bit().constData(), "w");
        QVERIFY(errFile);
        dup2(fileno(errFile), 2);
        g_log.clear();
        const QtMessageHandler previous = qInstallMessageHandler(captureMessages);

        LoopbackHttpServer server;
        server.script({test::cloudReply("Hello ", "there."), test::cloudReply("Greeting", " Chat"),
                       test::cloudReply("Second ", "reply."), LoopbackHttpServer::json(401, R"({"error":{"message":"denied"}})")});
        QString secret;
        {
            SecretStore store;  // no keyring in this test's environment: the key stays in memory
            const QString entry = QStringLiteral("cloud/") + QString::fromLatin1(server.baseUrl());
            store.write(entry, QString::fromLatin1(kKey));
            secret = store.read(entry);
            QCOMPARE(secret.toLatin1(), kKey);

            storage::Database db(paths.databasePath().toStdString());
            OpenAIConfig cfg;
            cfg.baseUrl = QUrl(QString::fromLatin1(server.baseUrl()));
            cfg.apiKey = secret;
            cfg.maxRetries = 0;
            OpenAIProvider cloud(cfg);
            ConversationService s(db);
            s.setCloudProvider(&cloud);
            s.setCloudModel(QStringLiteral("gpt-test"));
            const qint64 conv = s.createConversation(QStringLiteral("cloud"));
            QVERIFY(test::runTurn(s, [&] { s.send(conv, QStringLiteral("hi")); }).finished);
            test::settle(s, &cloud);
            QVERIFY(test::runTurn(s, [&] { s.send(conv, QStringLiteral("again")); }).finished);
            const test::Turn failed = test::runTurn(s, [&] { s.send(conv, QStringLiteral("and again")); });
            QVERIFY(failed.failed);
            QVERIFY(!failed.error.contains(QString::fromLatin1(kKey)));
            qWarning("cloud session done: %s", qPrintable(failed.error));  // goes through the handler
        }

        qInstallMessageHandler(previous);
        fflush(stderr);
        dup2(savedErr, 2);
        close(savedErr);
        fclose(errFile);

        // The endpoint got the key on every request.
        QVERIFY(server.requests().size() >= 4);
        for (const auto& r : server.requests()) QCOMPARE(r.header("Authorization"), "Bearer " + kKey);
        // Nowhere else.
        QVERIFY(QFileInfo::exists(paths.databasePath()));
        QCOMPARE(filesContaining(dataDir, kKey), QStringList());
        QCOMPARE(filesContaining(configDir, kKey), QStringList());
        QVERIFY(!g_log.isEmpty());  // the handler did capture
        for (const QString& line : std::as_const(g_log)) QVERIFY2(!line.contains(QString::fromLatin1(kKey)), qPrintable(line));
        QFile err(errPath);
        QVERIFY(err.open(QIODevice::ReadOnly));
        QVERIFY(!err.readAll().contains(kKey));
    }
};

QTEST_GUILESS_MAIN(TestApiKeyCanary)
#include "test_api_key_canary.moc"
