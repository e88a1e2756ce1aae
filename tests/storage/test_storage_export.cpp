// Markdown and JSON export, a lossless JSON round trip (branches, stats, flags), and refusal of malformed
// or foreign imports with the database left unchanged.
#include <sqlite3.h>

#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "bonsai/storage/database.h"
#include "bonsai/storage/error.h"
#include "bonsai/storage/export.h"
#include "bonsai/storage/history.h"

using namespace bonsai::storage;
using nlohmann::json;

namespace {

NewMessage msg(Role role, const std::string& text) { return NewMessage{role, text, "", "", 0, 0, {}}; }

// A conversation with a regenerated reply and an edited question.
int64_t build(History& h) {
    int64_t c = h.create_conversation({"Branches & *stats*", Mode::cloud, "gpt-4o", "You are terse."});
    int64_t u1 = h.append_message(c, msg(Role::user, "What is 2+2?"));
    h.append_message(c, NewMessage{Role::assistant, "Five.", "openai", "gpt-4o", 11, 2, {3.5, 40.25, 49.5}});
    h.add_message(c, u1, NewMessage{Role::assistant, "Four.", "openai", "gpt-4o", 11, 2, {3.0, 41.0, 48.0}});
    h.add_message(c, std::nullopt, msg(Role::user, "What is 3+3?"));  // edit: second root
    StreamingReply r = h.begin_reply(c, std::nullopt, "local", "bonsai-1b");
    r.append("Si", 1);
    r.interrupt();
    h.select_branch(u1);
    h.set_pinned(c, true);
    return c;
}

// The document with ids replaced by their position, and exported_at dropped: two exports of the same
// content from different databases must then be equal.
json normalized(const std::string& text) {
    json d = json::parse(text);
    d.erase("exported_at");
    for (auto& c : d["conversations"]) {
        std::map<int64_t, int64_t> pos;
        int64_t i = 0;
        for (auto& m : c["messages"]) pos[m["id"].get<int64_t>()] = i++;
        for (auto& m : c["messages"]) {
            m["id"] = pos.at(m["id"].get<int64_t>());
            if (!m["parent_id"].is_null()) m["parent_id"] = pos.at(m["parent_id"].get<int64_t>());
        }
        if (!c["active_leaf_id"].is_null()) c["active_leaf_id"] = pos.at(c["active_leaf_id"].get<int64_t>());
        c.erase("id");
    }
    return d;
}

struct Snapshot {
    long long conversations, messages;
    int total_changes;
    bool operator==(const Snapshot&) const = default;
};

long long count(sqlite3* db, const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return -1;
    long long v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
}

Snapshot snapshot(const Database& db) {
    return {count(db.handle(), "SELECT count(*) FROM conversations"), count(db.handle(), "SELECT count(*) FROM messages"),
            sqlite3_total_changes(db.handle())};
}

// A valid two-conversation document written by hand (independent of export_json).
json valid_doc() {
    return json::parse(R"({
      "format": "bonsai-conversations", "version": 1, "exported_at": 0,
      "conversations": [
        {"id": 7, "title": "Hand made", "messages": [
          {"id": 3, "parent_id": 1, "role": "assistant", "content": "hello back"},
          {"id": 1, "parent_id": null, "role": "user", "content": "hello"}],
         "active_leaf_id": 3},
        {"id": 8, "title": "Second", "mode": "cloud", "messages": [
          {"id": 10, "role": "user", "content": "x"}]}
      ]})");
}

}  // namespace

class TestStorageExport : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    int n_ = 0;
    std::string fresh() { return dir_.filePath(QStringLiteral("e%1.sqlite3").arg(++n_)).toStdString(); }

private slots:
    void markdownShowsTheActivePath() {
        Database db(fresh());
        History h(db);
        int64_t c = build(h);
        const QString md = QString::fromStdString(export_markdown(h, {c}));
        QVERIFY(md.startsWith(QStringLiteral("# Branches & *stats*\n")));
        QVERIFY(md.contains(QStringLiteral("## System prompt\n\nYou are terse.")));
        QVERIFY(md.contains(QStringLiteral("### User")));
        QVERIFY(md.contains(QStringLiteral("What is 2+2?")));
        QVERIFY(md.contains(QStringLiteral("### Assistant (openai, gpt-4o)")));
        QVERIFY(md.contains(QStringLiteral("Four.")));       // the selected branch
        QVERIFY(!md.contains(QStringLiteral("Five.")));      // the other branch is not shown
        QVERIFY(!md.contains(QStringLiteral("What is 3+3?")));
        QVERIFY(md.indexOf(QStringLiteral("What is 2+2?")) < md.indexOf(QStringLiteral("Four.")));
    }

    void jsonHasHeaderAndEveryBranch() {
        Database db(fresh());
        History h(db);
        int64_t c = build(h);
        json d = json::parse(export_json(h, {c}));
        QCOMPARE(QString::fromStdString(d["format"].get<std::string>()), QStringLiteral("bonsai-conversations"));
        QCOMPARE(d["version"].get<int>(), 1);
        QCOMPARE(d["conversations"].size(), size_t(1));
        const json& jc = d["conversations"][0];
        QCOMPARE(jc["messages"].size(), size_t(5));
        QCOMPARE(jc["pinned"].get<bool>(), true);
        QCOMPARE(QString::fromStdString(jc["mode"].get<std::string>()), QStringLiteral("cloud"));
        int roots = 0, interrupted = 0;
        for (const auto& m : jc["messages"]) {
            roots += m["parent_id"].is_null();
            interrupted += m["status"] == "interrupted";
        }
        QCOMPARE(roots, 2);
        QCOMPARE(interrupted, 1);
    }

    void jsonRoundTripIsLossless() {
        Database a(fresh());
        History ha(a);
        int64_t c1 = build(ha);
        int64_t c2 = ha.create_conversation({"Ünïcode ✓ \"quotes\"\n", Mode::local, "", ""});
        ha.append_message(c2, msg(Role::system, "line1\nline2\ttab \\ backslash \xF0\x9F\x8C\xB3"));
        ha.set_archived(c2, true);
        const std::string first = export_json(ha, all_conversation_ids(ha));

        Database b(fresh());
        History hb(b);
        hb.create_conversation({"already here", Mode::local, "", ""});  // ids in b differ from a
        std::vector<int64_t> ids = import_json(hb, first);
        QCOMPARE(ids.size(), size_t(2));
        QVERIFY(ids[0] != c1);
        const std::string second = export_json(hb, ids);
        QCOMPARE(normalized(second), normalized(first));

        // The imported tree works: same active path texts, same branching.
        std::vector<std::string> pa, pb;
        for (const auto& m : ha.active_path(c1)) pa.push_back(m.content);
        for (const auto& m : hb.active_path(ids[0])) pb.push_back(m.content);
        QCOMPARE(pb, pa);
        QCOMPARE(hb.children(ids[0], std::nullopt).size(), size_t(2));
        QVERIFY(hb.conversation(ids[1]).archived);
        QCOMPARE(hb.search("Four").size(), size_t(1));  // indexed by the triggers
        QCOMPARE(QString::fromStdString(b.integrity_check()), QStringLiteral("ok"));
    }

    void handWrittenDocumentImportsInDependencyOrder() {
        Database db(fresh());
        History h(db);
        auto ids = import_json(h, valid_doc().dump());
        QCOMPARE(ids.size(), size_t(2));
        auto path = h.active_path(ids[0]);
        QCOMPARE(path.size(), size_t(2));
        QCOMPARE(QString::fromStdString(path[0].content), QStringLiteral("hello"));
        QCOMPARE(QString::fromStdString(path[1].content), QStringLiteral("hello back"));
        QCOMPARE(h.conversation(ids[1]).mode, Mode::cloud);
    }

    void malformedImportsAreRefusedAndChangeNothing_data() {
        QTest::addColumn<QString>("doc");
        QTest::addColumn<QString>("expect");  // a word the error message must contain
        auto mutate = [](auto f) {
            json d = valid_doc();
            f(d);
            return QString::fromStdString(d.dump());
        };
        QTest::newRow("not json") << QStringLiteral("{\"format\": \"bonsai-conversations\", ") << "JSON";
        QTest::newRow("empty") << QString() << "JSON";
        QTest::newRow("array") << QStringLiteral("[1, 2]") << "object";
        QTest::newRow("foreign format") << mutate([](json& d) { d["format"] = "chatgpt-export"; }) << "format";
        QTest::newRow("no format") << mutate([](json& d) { d.erase("format"); }) << "format";
        QTest::newRow("version 2") << mutate([](json& d) { d["version"] = 2; }) << "version";
        QTest::newRow("version string") << mutate([](json& d) { d["version"] = "1"; }) << "integer";
        QTest::newRow("no version") << mutate([](json& d) { d.erase("version"); }) << "version";
        QTest::newRow("no conversations") << mutate([](json& d) { d.erase("conversations"); }) << "conversations";
        QTest::newRow("conversations object") << mutate([](json& d) { d["conversations"] = json::object(); }) << "array";
        QTest::newRow("conversation not object") << mutate([](json& d) { d["conversations"][1] = 5; }) << "object";
        QTest::newRow("missing title") << mutate([](json& d) { d["conversations"][1].erase("title"); }) << "title";
        QTest::newRow("title number") << mutate([](json& d) { d["conversations"][0]["title"] = 3; }) << "string";
        QTest::newRow("missing messages") << mutate([](json& d) { d["conversations"][1].erase("messages"); }) << "messages";
        QTest::newRow("bad mode") << mutate([](json& d) { d["conversations"][1]["mode"] = "remote"; }) << "mode";
        QTest::newRow("pinned string") << mutate([](json& d) { d["conversations"][0]["pinned"] = "yes"; }) << "true or false";
        QTest::newRow("missing role") << mutate([](json& d) { d["conversations"][1]["messages"][0].erase("role"); }) << "role";
        QTest::newRow("unknown role") << mutate([](json& d) { d["conversations"][1]["messages"][0]["role"] = "wizard"; }) << "role";
        QTest::newRow("content number") << mutate([](json& d) { d["conversations"][1]["messages"][0]["content"] = 1; }) << "content";
        QTest::newRow("missing id") << mutate([](json& d) { d["conversations"][1]["messages"][0].erase("id"); }) << "id";
        QTest::newRow("id float") << mutate([](json& d) { d["conversations"][1]["messages"][0]["id"] = 1.5; }) << "integer";
        QTest::newRow("negative tokens") << mutate([](json& d) { d["conversations"][1]["messages"][0]["prompt_tokens"] = -3; }) << "negative";
        QTest::newRow("created_at string") << mutate([](json& d) { d["conversations"][1]["messages"][0]["created_at"] = "today"; }) << "integer";
        QTest::newRow("bad status") << mutate([](json& d) { d["conversations"][1]["messages"][0]["status"] = "done"; }) << "status";
        QTest::newRow("dangling parent") << mutate([](json& d) { d["conversations"][1]["messages"][0]["parent_id"] = 99; }) << "parent_id";
        QTest::newRow("parent in other conversation")
            << mutate([](json& d) { d["conversations"][1]["messages"][0]["parent_id"] = 1; }) << "parent_id";
        QTest::newRow("self parent") << mutate([](json& d) { d["conversations"][1]["messages"][0]["parent_id"] = 10; }) << "cycle";
        QTest::newRow("cycle") << mutate([](json& d) { d["conversations"][0]["messages"][1]["parent_id"] = 3; }) << "cycle";
        QTest::newRow("duplicate id") << mutate([](json& d) { d["conversations"][0]["messages"][1]["id"] = 3; }) << "twice";
        QTest::newRow("dangling leaf") << mutate([](json& d) { d["conversations"][0]["active_leaf_id"] = 10; }) << "active_leaf_id";
    }

    void malformedImportsAreRefusedAndChangeNothing() {
        QFETCH(QString, doc);
        QFETCH(QString, expect);
        Database db(fresh());
        History h(db);
        int64_t c = h.create_conversation({"existing", Mode::local, "", ""});
        h.append_message(c, msg(Role::user, "keep me"));
        const Snapshot before = snapshot(db);
        const std::string json_before = export_json(h, all_conversation_ids(h));
        try {
            import_json(h, doc.toStdString());
            QFAIL("a malformed document was imported");
        } catch (const Error& e) {
            const QString m = QString::fromUtf8(e.what());
            QVERIFY2(m.contains(QStringLiteral("refused")) && m.contains(expect), qPrintable(m));
        }
        QVERIFY(snapshot(db) == before);
        QCOMPARE(normalized(export_json(h, all_conversation_ids(h))), normalized(json_before));
    }
};

QTEST_GUILESS_MAIN(TestStorageExport)
#include "test_storage_export.moc"
