// The privacy guard: personal context reaches the LOCAL model only. A canary string lives in the personal
// context store; the "cloud" is the loopback server recording every request. Through mode switches,
// regenerations and edits, the canary must appear in no recorded request while it does appear in the
// prompt the local model was given.
#include <QTemporaryDir>

#include "bonsai/storage/context_store.h"
#include "bonsai/storage/database.h"
#include "bonsai/storage/history.h"
#include "core/host_services_impl.h"
#include "core/privacy_guard.h"
#include "service_test_util.h"

using namespace bonsai;
using namespace bonsai::core;
using bonsai::test::LoopbackHttpServer;

namespace {
const QByteArray kCanary = "ZEBRACANARY4217";

void addCanaryItems(storage::Database& db) {
    storage::ContextStore cs(db);
    storage::NewContextItem a;
    a.kind = storage::ContextKind::fact;
    a.title = "Secret project";
    a.text = "The secret project codename is " + kCanary.toStdString() + " and the launch is in March.";
    cs.add(a);
    storage::NewContextItem b;
    b.kind = storage::ContextKind::note;
    b.title = "Garden " + kCanary.toStdString();
    b.text = "Tomatoes need sun; the secret project garden plan is private.";
    cs.add(b);
}

int requestsWithCanary(const LoopbackHttpServer& server) {
    int n = 0;
    for (const auto& r : server.requests()) {
        bool hit = r.body.contains(kCanary) || r.path.contains(kCanary);
        for (const auto& h : r.headers) hit = hit || h.second.contains(kCanary);
        n += hit ? 1 : 0;
    }
    return n;
}
}  // namespace

class TestPrivacyGuard : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void guardNeverRetrievesForTheCloud() {
        storage::Database db(":memory:");
        addCanaryItems(db);
        storage::ContextStore cs(db);
        PrivacyGuard g(&cs);
        const RetrievedContext local = g.retrieve(QStringLiteral("local"), QStringLiteral("secret project codename"), 4);
        QVERIFY(local.text.contains(QString::fromLatin1(kCanary)));
        QVERIFY(!local.itemIds.isEmpty());
        QVERIFY(g.retrieve(QStringLiteral("cloud"), QStringLiteral("secret project codename"), 4).isEmpty());

        storage::Message u;
        u.role = storage::Role::user;
        u.content = "What is the codename?";
        storage::Message a;
        a.role = storage::Role::assistant;
        a.content = "I do not know.";
        storage::Message u2 = u;
        u2.content = "Please tell me.";
        const std::vector<storage::Message> path{u, a, u2};
        // Handed context anyway, a cloud request ignores it.
        const ChatRequest cloud = g.buildRequest(QStringLiteral("cloud"), QStringLiteral("Be brief."), path, local);
        QCOMPARE(cloud.messages.size(), 4);
        for (const ChatTurn& t : cloud.messages) QVERIFY(!t.content.contains(QString::fromLatin1(kCanary)));
        QCOMPARE(cloud.messages[0].role, QStringLiteral("system"));
        QCOMPARE(cloud.messages[3].content, QStringLiteral("Please tell me."));
        // Locally, only the last user turn is augmented.
        const ChatRequest lr = g.buildRequest(QStringLiteral("local"), QString(), path, local);
        QCOMPARE(lr.messages.size(), 3);
        QCOMPARE(lr.messages[0].content, QStringLiteral("What is the codename?"));
        QVERIFY(lr.messages[2].content.contains(QString::fromLatin1(kCanary)));
        QVERIFY(lr.messages[2].content.endsWith(QStringLiteral("Please tell me.")));
    }

    void canaryNeverReachesTheCloud() {
        QVERIFY(dir_.isValid());
        LoopbackHttpServer cloudServer;
        cloudServer.script({test::cloudReply("Cloud ", "reply.")});
        OpenAIConfig cfg;
        cfg.baseUrl = QUrl(QString::fromLatin1(cloudServer.baseUrl()));
        OpenAIProvider cloud(cfg);
        LocalProvider local(test::greedyLocalConfig());
        QVERIFY(local.loadModelAndWait(test::fixtureModel()));

        const QString path = dir_.filePath(QStringLiteral("privacy.sqlite3"));
        storage::Database db(path.toStdString());
        addCanaryItems(db);
        ConversationService s(db);
        s.setLocalProvider(&local);
        s.setCloudProvider(&cloud);
        s.setCloudModel(QStringLiteral("gpt-test"));
        s.setMaxReplyTokens(6);
        // Titles would also go to the local model and replace lastPrompt() at a moment the test can't see.
        s.setAutoTitles(false);
        const QString canary = QString::fromLatin1(kCanary);
        int localPromptsWithCanary = 0;

        // 1. Local turn with personal context: the local model sees the canary.
        const qint64 conv = s.createConversation(QStringLiteral("local"));
        qint64 firstUser = 0;
        const test::Turn t1 = test::runTurn(s, [&] { firstUser = s.send(conv, QStringLiteral("What is the secret project codename?"), true); });
        QVERIFY(t1.finished);
        localPromptsWithCanary += local.lastPrompt().contains(canary) ? 1 : 0;
        QCOMPARE(localPromptsWithCanary, 1);
        // Kept apart: the stored user message is what the user typed; the context sits beside the reply.
        QCOMPARE(s.messages(conv)[0].content, QStringLiteral("What is the secret project codename?"));
        QVERIFY(s.retrievedContext(t1.replyId).contains(canary));
        QVERIFY(s.messages(conv)[1].usedPersonalContext);
        test::settle(s, &local);

        // 2. Switch to cloud and keep talking, asking for context (ignored in cloud mode).
        s.setMode(conv, QStringLiteral("cloud"));
        QVERIFY(test::runTurn(s, [&] { s.send(conv, QStringLiteral("And the secret project launch date?"), true); }).finished);
        // 3. Regenerate the local reply that had context, now in cloud mode.
        QVERIFY(test::runTurn(s, [&] { s.regenerate(t1.replyId); }).finished);
        // 4. Edit the first message and resend, asking for context, in cloud mode.
        QVERIFY(test::runTurn(s, [&] { s.editAndResend(firstUser, QStringLiteral("Secret project codename, please?"), true); }).finished);
        // 5. Back to local with context: the canary is given to the local model again...
        s.setMode(conv, QStringLiteral("local"));
        const test::Turn t5 = test::runTurn(s, [&] { s.send(conv, QStringLiteral("secret project codename once more"), true); });
        QVERIFY(t5.finished);
        localPromptsWithCanary += local.lastPrompt().contains(canary) ? 1 : 0;
        QCOMPARE(localPromptsWithCanary, 2);
        // ...and the next local turn without context no longer carries it (it was never stored in a message).
        QVERIFY(test::runTurn(s, [&] { s.send(conv, QStringLiteral("thanks")); }).finished);
        QVERIFY(!local.lastPrompt().contains(canary));
        // 6. Cloud again: regenerate the local reply that had context, and a follow-up turn.
        s.setMode(conv, QStringLiteral("cloud"));
        QVERIFY(test::runTurn(s, [&] { s.regenerate(t5.replyId); }).finished);
        QVERIFY(test::runTurn(s, [&] { s.send(conv, QStringLiteral("Summarise everything so far"), true); }).finished);
        // 7. A plugin in cloud mode gets no personal context either.
        AppHostServices host(&s);
        s.setActiveConversation(conv);
        QVERIFY(host.isCloudMode());
        QVERIFY(host.contextSearch(QStringLiteral("secret project codename"), 5).isEmpty());
        s.setMode(conv, QStringLiteral("local"));
        QVERIFY(!host.contextSearch(QStringLiteral("secret project codename"), 5).isEmpty());
        test::settle(s, &local);

        QVERIFY2(cloudServer.requests().size() >= 5, qPrintable(QString::number(cloudServer.requests().size())));
        QCOMPARE(requestsWithCanary(cloudServer), 0);
        // The cloud did get the conversation itself (so the check above is not vacuous).
        bool sawHistory = false;
        for (const auto& r : cloudServer.requests())
            sawHistory = sawHistory || r.body.contains("secret project launch date");
        QVERIFY(sawHistory);
        // No stored message contains the canary: only the side table does.
        for (const storage::Message& m : storage::History(db).messages(conv))
            QVERIFY2(!QString::fromStdString(m.content).contains(canary), m.content.c_str());
    }
};

QTEST_GUILESS_MAIN(TestPrivacyGuard)
#include "test_privacy_guard.moc"
