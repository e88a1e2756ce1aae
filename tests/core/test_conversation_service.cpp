// ConversationService end to end: a real SQLite file in a temporary folder, the engine on the tiny qwen3
// fixture as the local provider, and the loopback HTTP server as the cloud. Checks what is stored (read
// back through a second, independent connection), branches, mode switches and titles.
#include <QTemporaryDir>

#include "bonsai/storage/database.h"
#include "bonsai/storage/history.h"
#include "service_test_util.h"

using namespace bonsai;
using namespace bonsai::core;
using bonsai::test::LoopbackHttpServer;

class TestConversationService : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::unique_ptr<LocalProvider> local_;

    QString dbPath(const char* name) const { return dir_.filePath(QString::fromLatin1(name)); }

    // Independent read-back of what is on disk.
    static std::vector<storage::Message> stored(const QString& path, qint64 conv) {
        storage::Database db(path.toStdString());
        storage::History h(db);
        return h.messages(conv);
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        local_ = std::make_unique<LocalProvider>(test::greedyLocalConfig());
        QString error;
        QVERIFY2(local_->loadModelAndWait(test::fixtureModel(), &error), qPrintable(error));
    }
    void cleanupTestCase() { local_.reset(); }

    void localReplyIsStoredAsItStreams() {
        const QString path = dbPath("local.sqlite3");
        qint64 conv = 0, userId = 0;
        test::Turn t;
        QString title;
        {
            storage::Database db(path.toStdString());
            ConversationService s(db);
            s.setLocalProvider(local_.get());
            s.setMaxReplyTokens(12);
            QSignalSpy titles(&s, &ConversationService::titleChanged);
            conv = s.createConversation(QStringLiteral("local"));
            QCOMPARE(s.mode(conv), QStringLiteral("local"));
            t = test::runTurn(s, [&] { userId = s.send(conv, QStringLiteral("Plant a tree in spring")); });
            QVERIFY2(t.finished, qPrintable(t.error));
            QVERIFY(userId > 0 && t.replyId > userId);
            // The title comes from the model or, when it gives nothing usable, from the first words.
            QVERIFY(titles.count() == 1 || titles.wait(30000));
            title = titles.first().at(1).toString();
            QVERIFY(!title.isEmpty());
            test::settle(s, local_.get());
            const QList<MessageView> view = s.messages(conv);
            QCOMPARE(view.size(), 2);
            QCOMPARE(view[0].role, QStringLiteral("user"));
            QCOMPARE(view[1].id, t.replyId);
            QCOMPARE(view[1].content, t.streamed);
        }
        const auto msgs = stored(path, conv);
        QCOMPARE(msgs.size(), size_t(2));
        QCOMPARE(QString::fromStdString(msgs[0].content), QStringLiteral("Plant a tree in spring"));
        QCOMPARE(msgs[0].provider, std::string());
        QCOMPARE(msgs[1].role, storage::Role::assistant);
        QCOMPARE(QString::fromStdString(msgs[1].content), t.streamed);
        QCOMPARE(msgs[1].provider, std::string("local"));
        QCOMPARE(msgs[1].model, std::string("qwen3-e256-F32.gguf"));
        QCOMPARE(msgs[1].status, storage::MessageStatus::complete);
        QCOMPARE(msgs[1].parent_id.value_or(0), userId);
        QCOMPARE(msgs[1].prompt_tokens, static_cast<int64_t>(t.stats.promptTokens));
        QCOMPARE(msgs[1].completion_tokens, static_cast<int64_t>(t.stats.completionTokens));
        storage::Database db(path.toStdString());
        QCOMPARE(QString::fromStdString(storage::History(db).conversation(conv).title), title);
    }

    void regenerateAndEditAreBranches() {
        storage::Database db(dbPath("branches.sqlite3").toStdString());
        ConversationService s(db);
        s.setLocalProvider(local_.get());
        s.setAutoTitles(false);
        s.setMaxReplyTokens(6);
        const qint64 conv = s.createConversation();
        qint64 userId = 0;
        const test::Turn first = test::runTurn(s, [&] { userId = s.send(conv, QStringLiteral("Name a colour")); });
        QVERIFY(first.finished);
        QCOMPARE(s.conversation(conv)->title, QStringLiteral("Name a colour"));

        const test::Turn regen = test::runTurn(s, [&] { s.regenerate(first.replyId); });
        QVERIFY(regen.finished);
        QVERIFY(regen.replyId != first.replyId);
        QList<MessageView> view = s.messages(conv);
        QCOMPARE(view.size(), 2);
        QCOMPARE(view[1].id, regen.replyId);
        QCOMPARE(view[1].parentId, userId);
        QCOMPARE(view[1].branchCount, 2);
        QCOMPARE(view[1].branchIndex, 1);
        QCOMPARE(s.switchBranch(regen.replyId, -1), first.replyId);
        view = s.messages(conv);
        QCOMPARE(view[1].id, first.replyId);
        QCOMPARE(view[1].branchIndex, 0);
        QCOMPARE(s.switchBranch(first.replyId, -1), 0);

        qint64 editedId = 0;
        const test::Turn edited = test::runTurn(s, [&] { editedId = s.editAndResend(userId, QStringLiteral("Name a fruit")); });
        QVERIFY(edited.finished);
        view = s.messages(conv);
        QCOMPARE(view.size(), 2);
        QCOMPARE(view[0].id, editedId);
        QCOMPARE(view[0].content, QStringLiteral("Name a fruit"));
        QCOMPARE(view[0].branchCount, 2);
        QCOMPARE(view[1].id, edited.replyId);
        QCOMPARE(view[1].parentId, editedId);
        // The edited turn's prompt holds the new text and not the old one.
        QVERIFY(local_->lastPrompt().contains(QStringLiteral("Name a fruit")));
        QVERIFY(!local_->lastPrompt().contains(QStringLiteral("Name a colour")));
        // Every branch is kept.
        QCOMPARE(stored(QString::fromStdString(db.path()), conv).size(), size_t(5));
        // Editing a reply is refused.
        QSignalSpy errors(&s, &ConversationService::errorOccurred);
        QCOMPARE(s.editAndResend(edited.replyId, QStringLiteral("x")), 0);
        QCOMPARE(errors.count(), 1);
    }

    void modeSwitchCarriesHistoryAndRecordsProviders() {
        LoopbackHttpServer cloudServer;
        cloudServer.script({test::cloudReply("Cloud ", "answer.")});
        OpenAIConfig cfg;
        cfg.baseUrl = QUrl(QString::fromLatin1(cloudServer.baseUrl()));
        cfg.apiKey = QStringLiteral("test-key");
        OpenAIProvider cloud(cfg);

        const QString path = dbPath("modes.sqlite3");
        qint64 conv = 0;
        {
            storage::Database db(path.toStdString());
            ConversationService s(db);
            s.setLocalProvider(local_.get());
            s.setCloudProvider(&cloud);
            s.setCloudModel(QStringLiteral("gpt-test"));
            s.setAutoTitles(false);
            s.setMaxReplyTokens(6);
            conv = s.createConversation(QStringLiteral("local"));
            const test::Turn a = test::runTurn(s, [&] { s.send(conv, QStringLiteral("Local question one")); });
            QVERIFY(a.finished);

            QSignalSpy modes(&s, &ConversationService::modeChanged);
            s.setMode(conv, QStringLiteral("cloud"));
            QCOMPARE(modes.count(), 1);
            QCOMPARE(s.mode(conv), QStringLiteral("cloud"));
            const test::Turn b = test::runTurn(s, [&] { s.send(conv, QStringLiteral("Cloud question two")); });
            QVERIFY2(b.finished, qPrintable(b.error));
            QCOMPARE(b.streamed, QStringLiteral("Cloud answer."));
            QCOMPARE(cloudServer.requests().size(), 1);
            const QJsonObject body = QJsonDocument::fromJson(cloudServer.requests()[0].body).object();
            QCOMPARE(body.value(QStringLiteral("model")).toString(), QStringLiteral("gpt-test"));
            const QJsonArray msgs = body.value(QStringLiteral("messages")).toArray();
            // The whole visible history went along: user, local reply, user.
            QCOMPARE(msgs.size(), a.streamed.trimmed().isEmpty() ? 2 : 3);
            QCOMPARE(msgs.first().toObject().value(QStringLiteral("content")).toString(), QStringLiteral("Local question one"));
            QCOMPARE(msgs.last().toObject().value(QStringLiteral("content")).toString(), QStringLiteral("Cloud question two"));
            if (!a.streamed.trimmed().isEmpty())
                QCOMPARE(msgs[1].toObject().value(QStringLiteral("content")).toString(), a.streamed);

            s.setMode(conv, QStringLiteral("local"));
            const test::Turn c = test::runTurn(s, [&] { s.send(conv, QStringLiteral("Local question three")); });
            QVERIFY(c.finished);
            // The local model sees the cloud's reply too.
            QVERIFY(local_->lastPrompt().contains(QStringLiteral("Cloud answer.")));
            QVERIFY(local_->lastPrompt().contains(QStringLiteral("Local question one")));
        }
        const auto msgs = stored(path, conv);
        QCOMPARE(msgs.size(), size_t(6));
        QCOMPARE(msgs[1].provider, std::string("local"));
        QCOMPARE(msgs[1].model, std::string("qwen3-e256-F32.gguf"));
        QCOMPARE(msgs[3].provider, std::string("cloud"));
        QCOMPARE(msgs[3].model, std::string("gpt-test"));
        QCOMPARE(msgs[3].content, std::string("Cloud answer."));
        QCOMPARE(msgs[5].provider, std::string("local"));
        storage::Database db(path.toStdString());
        QCOMPARE(storage::History(db).conversation(conv).mode, storage::Mode::local);
    }

    void stopKeepsThePartialReply() {
        const QString path = dbPath("stop.sqlite3");
        storage::Database db(path.toStdString());
        ConversationService s(db);
        s.setLocalProvider(local_.get());
        s.setAutoTitles(false);
        s.setMaxReplyTokens(1500);
        const qint64 conv = s.createConversation();
        bool stopped = false;
        QObject ctx;
        connect(&s, &ConversationService::replyToken, &ctx, [&] {
            if (!stopped) s.stop();
            stopped = true;
        });
        const test::Turn t = test::runTurn(s, [&] { s.send(conv, QStringLiteral("Talk for a long time")); });
        QVERIFY(t.finished);
        if (!stopped) QSKIP("the model ended before its first visible piece");
        QCOMPARE(t.stats.finishReason, QStringLiteral("cancelled"));
        QVERIFY(t.stats.completionTokens < 1500);
        QVERIFY(!s.busy());
        const auto msgs = stored(path, conv);
        QCOMPARE(QString::fromStdString(msgs.back().content), t.streamed);
    }

    void cloudFailureKeepsTheRowInterrupted() {
        LoopbackHttpServer cloudServer;
        cloudServer.script({LoopbackHttpServer::json(401, R"({"error":{"message":"bad key"}})")});
        OpenAIConfig cfg;
        cfg.baseUrl = QUrl(QString::fromLatin1(cloudServer.baseUrl()));
        OpenAIProvider cloud(cfg);
        const QString path = dbPath("fail.sqlite3");
        storage::Database db(path.toStdString());
        ConversationService s(db);
        s.setCloudProvider(&cloud);
        s.setCloudModel(QStringLiteral("gpt-test"));
        s.setAutoTitles(false);
        const qint64 conv = s.createConversation(QStringLiteral("cloud"));
        const test::Turn t = test::runTurn(s, [&] { s.send(conv, QStringLiteral("hello")); });
        QVERIFY(t.failed);
        QVERIFY2(t.error.contains(QStringLiteral("401")), qPrintable(t.error));
        const auto msgs = stored(path, conv);
        QCOMPARE(msgs.back().status, storage::MessageStatus::interrupted);
        QCOMPARE(msgs.back().provider, std::string("cloud"));
        // Without a local provider, local mode is refused with a reason.
        s.setMode(conv, QStringLiteral("local"));
        QSignalSpy errors(&s, &ConversationService::errorOccurred);
        QCOMPARE(s.send(conv, QStringLiteral("hi")), 0);
        QCOMPARE(errors.count(), 1);
    }

    void cloudTitleComesFromTheModel() {
        LoopbackHttpServer cloudServer;
        cloudServer.script({test::cloudReply("Sure, ", "here it is."), test::cloudReply("\\\"Garden ", "Planning\\\".")});
        OpenAIConfig cfg;
        cfg.baseUrl = QUrl(QString::fromLatin1(cloudServer.baseUrl()));
        OpenAIProvider cloud(cfg);
        storage::Database db(dbPath("title.sqlite3").toStdString());
        ConversationService s(db);
        s.setCloudProvider(&cloud);
        s.setCloudModel(QStringLiteral("gpt-test"));
        const qint64 conv = s.createConversation(QStringLiteral("cloud"));
        QSignalSpy titles(&s, &ConversationService::titleChanged);
        const test::Turn t = test::runTurn(s, [&] { s.send(conv, QStringLiteral("Help me plan my garden")); });
        QVERIFY(t.finished);
        QVERIFY(titles.count() == 1 || titles.wait(10000));
        QCOMPARE(titles.first().at(1).toString(), QStringLiteral("Garden Planning"));
        QCOMPARE(cloudServer.requests().size(), 2);
        // The title request is the visible conversation plus one instruction, with a small token budget.
        const QJsonObject body = QJsonDocument::fromJson(cloudServer.requests()[1].body).object();
        QVERIFY(body.value(QStringLiteral("max_tokens")).toInt() <= 32);
        QCOMPARE(body.value(QStringLiteral("messages")).toArray().size(), 3);
    }

    void sendingWhileATitleIsAskedForWaitsForIt() {
        storage::Database db(":memory:");
        ConversationService s(db);
        s.setLocalProvider(local_.get());
        s.setMaxReplyTokens(4);
        const qint64 conv = s.createConversation();
        QVERIFY(test::runTurn(s, [&] { s.send(conv, QStringLiteral("first message here")); }).finished);
        // The title request now runs on the same provider; the next turn supersedes it.
        const test::Turn second = test::runTurn(s, [&] { s.send(conv, QStringLiteral("second")); });
        QVERIFY2(second.finished, qPrintable(second.error));
        test::settle(s, local_.get());
        QVERIFY(!s.conversation(conv)->title.isEmpty());
        QCOMPARE(s.messages(conv).size(), 4);
        QVERIFY(local_->lastPrompt().contains(QStringLiteral("second")));
    }

    void titleFallsBackToTheFirstWords() {
        QCOMPARE(fallbackTitleFor(QStringLiteral("  one two three four five six seven eight")), QStringLiteral("one two three four five six…"));
        QCOMPARE(fallbackTitleFor(QStringLiteral("short")), QStringLiteral("short"));
    }

private:
    static QString fallbackTitleFor(const QString& text);
};

#include "core/title.h"
QString TestConversationService::fallbackTitleFor(const QString& text) { return fallbackTitle(text); }

QTEST_GUILESS_MAIN(TestConversationService)
#include "test_conversation_service.moc"
