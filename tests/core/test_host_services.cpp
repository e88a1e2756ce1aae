// AppHostServices: the plugin host's view of the app, called from plugin worker threads while the
// service's thread runs its event loop. The cloud is the loopback server (fast and deterministic).
#include <QTemporaryDir>
#include <atomic>
#include <thread>

#include "bonsai/storage/database.h"
#include "core/host_services_impl.h"
#include "service_test_util.h"

using namespace bonsai;
using namespace bonsai::core;
using bonsai::test::LoopbackHttpServer;
using bonsai::test::Response;

class TestHostServices : public QObject {
    Q_OBJECT
private slots:
    void worksFromPluginThreads() {
        LoopbackHttpServer server;
        server.script({test::cloudReply("Bonjour ", "le monde")});
        OpenAIConfig cfg;
        cfg.baseUrl = QUrl(QString::fromLatin1(server.baseUrl()));
        OpenAIProvider cloud(cfg);
        storage::Database db(":memory:");
        ConversationService s(db);
        s.setCloudProvider(&cloud);
        s.setCloudModel(QStringLiteral("gpt-test"));
        s.setAutoTitles(false);
        const qint64 conv = s.createConversation(QStringLiteral("cloud"));
        QVERIFY(test::runTurn(s, [&] { s.send(conv, QStringLiteral("Translate hello world")); }).finished);
        s.setActiveConversation(conv);
        s.setSelectedMessage(s.messages(conv)[1].id);
        AppHostServices host(&s);
        QSignalSpy notes(&s, &ConversationService::pluginNotification);
        QSignalSpy fills(&s, &ConversationService::composerFillRequested);

        std::atomic<bool> threadDone{false};
        QList<plugins::ChatMessage> seen;
        plugins::ChatMessage selected;
        bool cloudMode = false;
        QString completion, completionError = QStringLiteral("unset");
        std::atomic<int> doneCalls{0};
        QString clip;
        quint64 completionId = 0;
        std::thread plugin([&] {
            seen = host.conversation();
            selected = host.selectedMessage();
            cloudMode = host.isCloudMode();
            host.notify(QStringLiteral("translate"), QStringLiteral("working"));
            host.fillComposer(QStringLiteral("translate"), QStringLiteral("draft"));
            host.setClipboardText(QStringLiteral("copied"));
            clip = host.clipboardText();
            plugins::CompletionRequest req;
            req.pluginId = QStringLiteral("translate");
            req.messages = {{QString(), QStringLiteral("user"), QStringLiteral("Translate: hello world")}};
            std::mutex m;
            std::condition_variable cv;
            bool finished = false;
            plugins::CompletionCallbacks cb;
            cb.onToken = [&](const QString& t) {
                std::lock_guard l(m);
                completion += t;
            };
            cb.onDone = [&](const QString& e) {
                std::lock_guard l(m);
                completionError = e;
                finished = true;
                ++doneCalls;
                cv.notify_all();
            };
            completionId = host.startCompletion(req, cb);
            std::unique_lock l(m);
            cv.wait_for(l, std::chrono::seconds(20), [&] { return finished; });
            l.unlock();
            host.insertMessage(QStringLiteral("translate"), {QString(), QStringLiteral("assistant"), QStringLiteral("Hello world, translated")});
            threadDone = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(threadDone.load(), 30000);
        plugin.join();

        QVERIFY(completionId != 0);
        QCOMPARE(seen.size(), 2);
        QCOMPARE(seen[0].content, QStringLiteral("Translate hello world"));
        QCOMPARE(selected.content, QStringLiteral("Bonjour le monde"));
        QVERIFY(cloudMode);
        QCOMPARE(notes.count(), 1);
        QCOMPARE(fills.count(), 1);
        QCOMPARE(fills.first().at(1).toString(), QStringLiteral("draft"));
        QCOMPARE(clip, QStringLiteral("copied"));
        QCOMPARE(completionError, QString());
        QCOMPARE(completion, QStringLiteral("Bonjour le monde"));
        QCOMPARE(doneCalls.load(), 1);
        // The plugin's completion is not a conversation turn; its inserted message is, marked as the plugin's.
        const QList<MessageView> view = s.messages(conv);
        QCOMPARE(view.size(), 3);
        QCOMPARE(view[2].provider, QStringLiteral("plugin:translate"));
        QCOMPARE(view[2].content, QStringLiteral("Hello world, translated"));
        // Cloud mode: no personal context for plugins.
        QVERIFY(host.contextSearch(QStringLiteral("anything"), 3).isEmpty());
        // After shutdown every call answers at once with nothing (onDone still called).
        host.shutdown();
        QString err;
        QCOMPARE(host.startCompletion({}, {{}, [&](const QString& e) { err = e; }}), quint64(0));
        QVERIFY(!err.isEmpty());
    }

    void busyProviderRefusesPluginCompletion() {
        LoopbackHttpServer server;
        Response slow = test::cloudReply("a", "b");
        slow.chunkDelayMs = 200;
        server.script({slow});
        OpenAIConfig cfg;
        cfg.baseUrl = QUrl(QString::fromLatin1(server.baseUrl()));
        OpenAIProvider cloud(cfg);
        storage::Database db(":memory:");
        ConversationService s(db);
        s.setCloudProvider(&cloud);
        s.setAutoTitles(false);
        const qint64 conv = s.createConversation(QStringLiteral("cloud"));
        s.setActiveConversation(conv);
        QVERIFY(s.send(conv, QStringLiteral("hi")) != 0);
        QVERIFY(s.busy());
        QString err;
        QCOMPARE(s.startCompletion({}, {}, [&](const QString& e) { err = e; }), quint64(0));
        QVERIFY(err.contains(QStringLiteral("busy")));
        QSignalSpy finished(&s, &ConversationService::replyFinished);
        QVERIFY(finished.wait(10000));
    }
};


QTEST_GUILESS_MAIN(TestHostServices)
#include "test_host_services.moc"
