// Conversations, the message tree (branches and the active path), streaming replies, crash recovery at
// open, full-text search, soft delete/restore/purge and two connections at once (WAL).
#include <sqlite3.h>

#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include "bonsai/storage/database.h"
#include "bonsai/storage/error.h"
#include "bonsai/storage/history.h"

using namespace bonsai::storage;

namespace {

NewMessage user(const std::string& text) { return NewMessage{Role::user, text, "", "", 0, 0, {}}; }
NewMessage bot(const std::string& text) { return NewMessage{Role::assistant, text, "local", "bonsai-1b", 5, 7, {1, 2, 3}}; }

std::vector<int64_t> ids(const std::vector<Message>& v) {
    std::vector<int64_t> out;
    for (const auto& m : v) out.push_back(m.id);
    return out;
}

long long count(sqlite3* db, const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return -1;
    long long v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
}

}  // namespace

class TestStorageHistory : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    int n_ = 0;
    std::string fresh() { return dir_.filePath(QStringLiteral("h%1.sqlite3").arg(++n_)).toStdString(); }

private slots:
    void conversationsListRenamePinArchive() {
        Database db(fresh());
        History h(db);
        int64_t a = h.create_conversation({"Alpha", Mode::local, "m1", "be brief"});
        int64_t b = h.create_conversation({"Beta", Mode::cloud, "gpt", ""});
        int64_t c = h.create_conversation({"Gamma", Mode::local, "", ""});
        Conversation ca = h.conversation(a);
        QCOMPARE(QString::fromStdString(ca.title), QStringLiteral("Alpha"));
        QCOMPARE(QString::fromStdString(ca.system_prompt), QStringLiteral("be brief"));
        QCOMPARE(h.conversation(b).mode, Mode::cloud);
        QVERIFY(ca.created_at > 0 && ca.updated_at >= ca.created_at);
        h.rename(b, "Beta renamed");
        QCOMPARE(QString::fromStdString(h.conversation(b).title), QStringLiteral("Beta renamed"));
        h.set_pinned(c, true);
        h.set_archived(a, true);
        auto all = h.list_conversations();
        QCOMPARE(all.size(), size_t(3));
        QCOMPARE(all[0].id, c);  // pinned first
        auto live = h.list_conversations({false, false});
        QCOMPARE(live.size(), size_t(2));
        for (const auto& x : live) QVERIFY(x.id != a);
        QVERIFY_THROWS_EXCEPTION(Error, h.conversation(999));
        QVERIFY_THROWS_EXCEPTION(Error, h.rename(999, "x"));
    }

    void branchesAndActivePath() {
        Database db(fresh());
        History h(db);
        int64_t c = h.create_conversation({"Tree", Mode::local, "", ""});
        QVERIFY(h.active_path(c).empty());
        int64_t u1 = h.append_message(c, user("question"));
        int64_t a1 = h.append_message(c, bot("first answer"));
        QCOMPARE(h.message(a1).parent_id.value_or(-1), u1);
        QCOMPARE(h.message(u1).parent_id.has_value(), false);
        // Regenerate: a sibling reply under the same user message.
        int64_t a2 = h.add_message(c, u1, bot("second answer"));
        QCOMPARE(ids(h.children(c, u1)), (std::vector<int64_t>{a1, a2}));
        QCOMPARE(ids(h.active_path(c)), (std::vector<int64_t>{u1, a2}));
        int64_t u2 = h.append_message(c, user("follow-up"));
        QCOMPARE(ids(h.active_path(c)), (std::vector<int64_t>{u1, a2, u2}));
        // Back to the first branch, and again to the second (its newest leaf).
        QCOMPARE(h.select_branch(a1), a1);
        QCOMPARE(ids(h.active_path(c)), (std::vector<int64_t>{u1, a1}));
        QCOMPARE(h.select_branch(u1), u2);  // newest child a2, then its child u2
        QCOMPARE(ids(h.active_path(c)), (std::vector<int64_t>{u1, a2, u2}));
        // Edit the first message: a second root.
        int64_t u1b = h.add_message(c, std::nullopt, user("question, edited"));
        QCOMPARE(ids(h.children(c, std::nullopt)), (std::vector<int64_t>{u1, u1b}));
        QCOMPARE(ids(h.active_path(c)), (std::vector<int64_t>{u1b}));
        QCOMPARE(h.messages(c).size(), size_t(5));
        QCOMPARE(h.conversation(c).message_count, int64_t(5));
        // Stats are kept.
        Message m = h.message(a2);
        QCOMPARE(QString::fromStdString(m.provider), QStringLiteral("local"));
        QCOMPARE(m.prompt_tokens, int64_t(5));
        QCOMPARE(m.completion_tokens, int64_t(7));
        QCOMPARE(m.timings.tokens_per_second, 3.0);
        QCOMPARE(m.status, MessageStatus::complete);
        // A parent from another conversation is refused.
        int64_t other = h.create_conversation({"Other", Mode::local, "", ""});
        QVERIFY_THROWS_EXCEPTION(Error, h.add_message(other, u1, user("x")));
        QVERIFY_THROWS_EXCEPTION(Error, h.add_message(c, int64_t(12345), user("x")));
    }

    void streamingReplyCommitsAsItGrows() {
        const std::string path = fresh();
        Database db(path);
        Database reader(path);
        History h(db), hr(reader);
        int64_t c = h.create_conversation({"Stream", Mode::local, "", ""});
        int64_t u = h.append_message(c, user("tell me a story"));
        StreamingReply r = h.begin_reply(c, std::nullopt, "local", "bonsai");
        QCOMPARE(hr.message(r.id()).status, MessageStatus::streaming);  // the row exists at once
        QCOMPARE(hr.message(r.id()).parent_id.value_or(-1), u);
        std::string expect;
        for (int i = 0; i < StreamingReply::kCommitTokens; ++i) {
            std::string tok = "w" + std::to_string(i) + " ";
            expect += tok;
            r.append(tok, 1);
        }
        // At most 32 tokens may be pending: after the 32nd, another connection sees all of them.
        QCOMPARE(QString::fromStdString(hr.message(r.id()).content), QString::fromStdString(expect));
        QCOMPARE(hr.message(r.id()).completion_tokens, int64_t(32));
        // And at most 500 ms: a token appended after a longer pause is committed by that append.
        r.append("late ", 1);
        QThread::msleep(600);
        QVERIFY(r.append("later ", 1));
        expect += "late later ";
        QCOMPARE(QString::fromStdString(hr.message(r.id()).content), QString::fromStdString(expect));
        r.finish(12, Timings{10.0, 200.0, 170.0});
        Message m = hr.message(r.id());
        QCOMPARE(m.status, MessageStatus::complete);
        QCOMPARE(m.completion_tokens, int64_t(34));
        QCOMPARE(m.prompt_tokens, int64_t(12));
        QCOMPARE(m.timings.generation_ms, 200.0);
        QCOMPARE(QString::fromStdString(m.content), QString::fromStdString(expect));
        QVERIFY_THROWS_EXCEPTION(Error, r.append("x", 1));
        // An unfinished reply that goes out of scope is kept as interrupted.
        int64_t id2 = 0;
        {
            StreamingReply r2 = h.begin_reply(c, u, "local", "bonsai");
            id2 = r2.id();
            r2.append("partial", 1);
        }
        QCOMPARE(h.message(id2).status, MessageStatus::interrupted);
        QCOMPARE(QString::fromStdString(h.message(id2).content), QStringLiteral("partial"));
    }

    void streamingRowsAreInterruptedOnOpenUnlessOwned() {
        const std::string path = fresh();
        int64_t dead = 0;
        {
            Database db(path);
            History h(db);
            int64_t c = h.create_conversation({"Crash", Mode::local, "", ""});
            h.append_message(c, user("hi"));
            // What a killed process leaves behind: a committed row still marked streaming.
            dead = h.append_message(c, bot("half an ans"));
            db.exec("UPDATE messages SET status = 'streaming' WHERE id = " + std::to_string(dead));
        }
        {
            Database db(path);
            QCOMPARE(db.interrupted_at_open(), 1);
            History h(db);
            QCOMPARE(h.message(dead).status, MessageStatus::interrupted);
            QCOMPARE(QString::fromStdString(h.message(dead).content), QStringLiteral("half an ans"));

            // A reply streaming in a live connection is not stolen by a second connection opening.
            StreamingReply r = h.begin_reply(h.list_conversations()[0].id, std::nullopt, "local", "m");
            r.append("still going", 1);
            r.flush();
            Database second(path);
            QCOMPARE(second.interrupted_at_open(), 0);
            QCOMPARE(History(second).message(r.id()).status, MessageStatus::streaming);
            r.finish();
        }
    }

    void searchRanksBySnippetAndRelevance() {
        Database db(fresh());
        History h(db);
        int64_t c1 = h.create_conversation({"Quant talk", Mode::local, "", ""});
        int64_t c2 = h.create_conversation({"Cooking", Mode::local, "", ""});
        int64_t weak = h.append_message(c1, user("We talked about many things today: the weather, the trains, the "
                                                 "shops, the museum, the river and, briefly, quantization."));
        int64_t strong = h.append_message(c1, bot("Quantization: ternary quantization stores each weight in "
                                                  "1.58 bits; quantization error is small."));
        h.append_message(c2, user("Boil the pasta for nine minutes."));
        h.append_message(c2, user("Un café crème, s'il vous plaît."));

        auto hits = h.search("quantization");
        QCOMPARE(hits.size(), size_t(2));
        QCOMPARE(hits[0].message.id, strong);  // three short-text occurrences beat one in a long text
        QCOMPARE(hits[1].message.id, weak);
        QVERIFY(hits[0].score < hits[1].score);
        QCOMPARE(QString::fromStdString(hits[0].conversation_title), QStringLiteral("Quant talk"));
        QCOMPARE(hits[0].message.conversation_id, c1);
        QVERIFY2(QString::fromStdString(hits[1].snippet).contains(QStringLiteral("[quantization]")), hits[1].snippet.c_str());
        SearchOptions o;
        o.highlight_open = "<b>";
        o.highlight_close = "</b>";
        QVERIFY(QString::fromStdString(h.search("pasta", o)[0].snippet).contains(QStringLiteral("<b>pasta</b>")));
        // All words must match; prefixes; diacritics folded; FTS syntax is just text.
        QCOMPARE(h.search("pasta nine").size(), size_t(1));
        QCOMPARE(h.search("pasta quantization").size(), size_t(0));
        QCOMPARE(h.search("quant*").size(), size_t(2));
        QCOMPARE(h.search("cafe").size(), size_t(1));
        QCOMPARE(h.search("\"AND ( NEAR").size(), size_t(0));
        QCOMPARE(h.search("   ").size(), size_t(0));
        // Edits reach the index (the update trigger): a streamed reply is searchable by its final text.
        StreamingReply r = h.begin_reply(c2, std::nullopt, "local", "m");
        r.append("Risotto needs arborio rice.", 5);
        r.finish();
        QCOMPARE(h.search("arborio").size(), size_t(1));
        db.exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')");
    }

    void softDeleteRestoreAndPurge() {
        Database db(fresh());
        History h(db);
        int64_t keep = h.create_conversation({"Keep", Mode::local, "", ""});
        int64_t gone = h.create_conversation({"Gone", Mode::local, "", ""});
        int64_t old = h.create_conversation({"Old", Mode::local, "", ""});
        h.append_message(keep, user("kiwi one"));
        h.append_message(gone, user("kiwi two"));
        h.append_message(gone, bot("kiwi three"));
        h.append_message(old, user("kiwi four"));
        QCOMPARE(h.search("kiwi").size(), size_t(4));

        h.soft_delete(gone);
        QCOMPARE(h.list_conversations().size(), size_t(2));
        QCOMPARE(h.list_conversations({true, true}).size(), size_t(1));
        QCOMPARE(h.search("kiwi").size(), size_t(2));
        QVERIFY(h.conversation(gone).deleted_at.has_value());
        QVERIFY_THROWS_EXCEPTION(Error, h.append_message(gone, user("x")));
        h.restore(gone);  // undo
        QCOMPARE(h.list_conversations().size(), size_t(3));
        QCOMPARE(h.search("kiwi").size(), size_t(4));
        QVERIFY(!h.conversation(gone).deleted_at.has_value());

        h.soft_delete(gone);
        h.soft_delete(old);
        // Make "old" look deleted ten days ago.
        db.exec("UPDATE conversations SET deleted_at = deleted_at - 10 * 86400000 WHERE id = " + std::to_string(old));
        QCOMPARE(h.purge_deleted(30), 0);
        QCOMPARE(h.purge_deleted(7), 1);
        QVERIFY_THROWS_EXCEPTION(Error, h.conversation(old));
        QCOMPARE(h.list_conversations({true, true}).size(), size_t(1));
        QCOMPARE(h.purge_deleted(), 1);  // on demand: everything in the trash
        QVERIFY_THROWS_EXCEPTION(Error, h.conversation(gone));
        QCOMPARE(count(db.handle(), "SELECT count(*) FROM messages"), 1LL);  // messages went with them
        QCOMPARE(h.search("kiwi").size(), size_t(1));
        db.exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')");
        QCOMPARE(QString::fromStdString(db.integrity_check()), QStringLiteral("ok"));
        QCOMPARE(count(db.handle(), "SELECT count(*) FROM pragma_foreign_key_check"), 0LL);
    }

    void twoConnectionsReaderSeesCommittedDataWhileWriterWrites() {
        const std::string path = fresh();
        Database writer(path);
        Database reader(path);
        History w(writer), r(reader);
        int64_t c = w.create_conversation({"Shared", Mode::local, "", ""});
        w.append_message(c, user("one"));
        QCOMPARE(r.messages(c).size(), size_t(1));
        {
            Transaction tx(writer);  // the writer holds the write lock with uncommitted rows
            w.append_message(c, user("two"));
            w.append_message(c, user("three"));
            // The reader is not blocked and sees only committed data.
            QCOMPARE(r.messages(c).size(), size_t(1));
            QCOMPARE(r.search("two").size(), size_t(0));
            tx.commit();
        }
        QCOMPARE(r.messages(c).size(), size_t(3));
        QCOMPARE(r.search("two").size(), size_t(1));
        // A reader in the middle of a read transaction keeps its snapshot while the writer commits.
        reader.exec("BEGIN");
        QCOMPARE(r.messages(c).size(), size_t(3));
        w.append_message(c, user("four"));
        QCOMPARE(r.messages(c).size(), size_t(3));
        reader.exec("COMMIT");
        QCOMPARE(r.messages(c).size(), size_t(4));
    }
};

QTEST_GUILESS_MAIN(TestStorageHistory)
#include "test_storage_history.moc"
