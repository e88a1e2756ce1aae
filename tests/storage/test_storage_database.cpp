// Opening profile databases: pragmas, the default XDG path, refusal of newer schemas (file untouched),
// migration from a version-1 file (data kept, backup written), atomic migrations, transactions.
#include <sqlite3.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "bonsai/storage/context_store.h"
#include "bonsai/storage/database.h"
#include "bonsai/storage/error.h"
#include "bonsai/storage/history.h"

using namespace bonsai::storage;

namespace {

// Migration 1's schema exactly as it shipped (kept here on purpose: the fixture must not follow later
// edits of storage/src/migrations.cpp).
const char* kV1Schema = R"sql(
CREATE TABLE conversations(
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
  mode TEXT NOT NULL DEFAULT 'local' CHECK (mode IN ('local', 'cloud')),
  model TEXT NOT NULL DEFAULT '',
  system_prompt TEXT NOT NULL DEFAULT '',
  deleted_at INTEGER
);
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
  content TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  prompt_ms REAL NOT NULL DEFAULT 0,
  generation_ms REAL NOT NULL DEFAULT 0,
  tokens_per_second REAL NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'streaming', 'interrupted')),
  created_at INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX messages_by_parent ON messages(parent_id);
CREATE INDEX conversations_by_updated ON conversations(deleted_at, updated_at);
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

const char* kV1Data = R"sql(
INSERT INTO conversations(id, title, created_at, updated_at, pinned, mode, model)
  VALUES (1, 'Old trip', 1000, 2000, 1, 'cloud', 'gpt-x');
INSERT INTO conversations(id, title, created_at, updated_at) VALUES (2, 'Recipes', 1100, 2100);
INSERT INTO messages(id, conversation_id, parent_id, role, content, created_at)
  VALUES (1, 1, NULL, 'user', 'Plan a hike in the Pyrenees', 1000),
         (2, 1, 1, 'assistant', 'Start at Gavarnie', 1001),
         (3, 1, 1, 'assistant', 'Try the Ordesa canyon instead', 1002),
         (4, 2, NULL, 'user', 'How long to boil an egg', 1100),
         (5, 1, 3, 'user', 'Thanks!', 1003);
INSERT INTO messages(id, conversation_id, parent_id, role, content, status, created_at)
  VALUES (6, 2, 4, 'assistant', 'About nine min', 'streaming', 1101);
INSERT INTO settings VALUES ('theme', 'dark');
PRAGMA user_version = 1;
)sql";

void raw_exec(const QString& path, const char* sql) {
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    QString msg = err ? QString::fromUtf8(err) : QString();
    sqlite3_free(err);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, qPrintable(msg));
}

QString pragma(const Database& db, const char* name) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db.handle(), (std::string("PRAGMA ") + name).c_str(), -1, &s, nullptr);
    QString v;
    if (sqlite3_step(s) == SQLITE_ROW) v = QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    return v;
}

long long count(sqlite3* db, const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return -1;
    long long v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
}

QByteArray bytes(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

}  // namespace

class TestStorageDatabase : public QObject {
    Q_OBJECT

private slots:
    void defaultPathFollowsXdg() {
        const QByteArray oldXdg = qgetenv("XDG_DATA_HOME"), oldHome = qgetenv("HOME");
        qputenv("XDG_DATA_HOME", "/data/xdg");
        QCOMPARE(QString::fromStdString(default_profile_path()), QStringLiteral("/data/xdg/bonsai/profiles/default.sqlite3"));
        qunsetenv("XDG_DATA_HOME");
        qputenv("HOME", "/home/ann");
        QCOMPARE(QString::fromStdString(default_profile_path()),
                 QStringLiteral("/home/ann/.local/share/bonsai/profiles/default.sqlite3"));
        qputenv("XDG_DATA_HOME", "relative/is/ignored");
        QCOMPARE(QString::fromStdString(default_profile_path()),
                 QStringLiteral("/home/ann/.local/share/bonsai/profiles/default.sqlite3"));
        qputenv("XDG_DATA_HOME", oldXdg);
        qputenv("HOME", oldHome);
    }

    void freshDatabaseHasPragmasAndCurrentSchema() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("profiles/sub/p.sqlite3"));  // parent folders created
        Database db(path.toStdString());
        QCOMPARE(pragma(db, "journal_mode"), QStringLiteral("wal"));
        QCOMPARE(pragma(db, "synchronous"), QStringLiteral("2"));  // FULL
        QCOMPARE(pragma(db, "foreign_keys"), QStringLiteral("1"));
        QCOMPARE(pragma(db, "busy_timeout"), QStringLiteral("5000"));
        QCOMPARE(db.schema_version(), Database::kSchemaVersion);
        QCOMPARE(pragma(db, "user_version").toInt(), Database::kSchemaVersion);
        QVERIFY(db.migration_backups().empty());  // nothing to back up in a new file
        QCOMPARE(QString::fromStdString(db.integrity_check()), QStringLiteral("ok"));
        QVERIFY(!QFile::exists(path + QStringLiteral(".bak-v0")));
    }

    void newerSchemaIsRefusedAndFileUntouched() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("future.sqlite3"));
        raw_exec(path, "PRAGMA journal_mode=DELETE; CREATE TABLE future(x); INSERT INTO future VALUES (42); "
                       "PRAGMA user_version = 99;");
        const QByteArray before = bytes(path);
        QVERIFY(!before.isEmpty());
        bool threw = false;
        try {
            Database db(path.toStdString());
        } catch (const Error& e) {
            threw = true;
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QStringLiteral("99")) && msg.contains(QStringLiteral("newer")), qPrintable(msg));
            QVERIFY2(msg.contains(QStringLiteral("untouched")), qPrintable(msg));
        }
        QVERIFY(threw);
        QCOMPARE(bytes(path), before);
        QVERIFY(!QFile::exists(path + QStringLiteral("-wal")));
        QVERIFY(!QFile::exists(path + QStringLiteral(".bak-v99")));
    }

    void nonDatabaseFileIsRefusedReadably() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("notes.sqlite3"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(8192, 'x'));
        f.close();
        const QByteArray before = bytes(path);
        try {
            Database db(path.toStdString());
            QFAIL("a text file was opened as a database");
        } catch (const Error& e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QStringLiteral("not a database")) && msg.contains(path), qPrintable(msg));
        }
        QCOMPARE(bytes(path), before);
    }

    void migratesVersionOneFixture() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("old.sqlite3"));
        raw_exec(path, kV1Schema);
        raw_exec(path, kV1Data);

        Database db(path.toStdString());
        QCOMPARE(db.schema_version(), Database::kSchemaVersion);
        const QString backup = path + QStringLiteral(".bak-v1");
        QCOMPARE(db.migration_backups().size(), size_t(1));
        QCOMPARE(QString::fromStdString(db.migration_backups()[0]), backup);
        QVERIFY(QFile::exists(backup));

        // The backup is the version-1 database, complete.
        sqlite3* b = nullptr;
        QCOMPARE(sqlite3_open_v2(backup.toUtf8().constData(), &b, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        QCOMPARE(count(b, "PRAGMA user_version"), 1LL);
        QCOMPARE(count(b, "SELECT count(*) FROM messages"), 6LL);
        QCOMPARE(count(b, "SELECT count(*) FROM sqlite_master WHERE name = 'messages_fts'"), 0LL);
        sqlite3_close(b);

        // Data survived and the new columns were filled in.
        History h(db);
        Conversation c1 = h.conversation(1);
        QCOMPARE(QString::fromStdString(c1.title), QStringLiteral("Old trip"));
        QVERIFY(c1.pinned);
        QCOMPARE(c1.mode, Mode::cloud);
        QCOMPARE(QString::fromStdString(c1.model), QStringLiteral("gpt-x"));
        QCOMPARE(c1.active_leaf_id.value_or(-1), int64_t(5));  // newest message of the conversation
        QCOMPARE(c1.message_count, int64_t(4));
        std::vector<Message> path1 = h.active_path(1);
        QCOMPARE(path1.size(), size_t(3));
        QCOMPARE(path1[0].id, int64_t(1));
        QCOMPARE(path1[1].id, int64_t(3));
        QCOMPARE(path1[2].id, int64_t(5));
        QCOMPARE(h.children(1, int64_t(1)).size(), size_t(2));  // the branch survived
        // The old streaming row was recovered as interrupted, its text kept.
        QCOMPARE(db.interrupted_at_open(), 1);
        Message m6 = h.message(6);
        QCOMPARE(m6.status, MessageStatus::interrupted);
        QCOMPARE(QString::fromStdString(m6.content), QStringLiteral("About nine min"));
        // Old messages are in the new full-text index.
        auto hits = h.search("Ordesa");
        QCOMPARE(hits.size(), size_t(1));
        QCOMPARE(hits[0].message.id, int64_t(3));
        db.exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')");
        QCOMPARE(count(db.handle(), "SELECT count(*) FROM settings"), 1LL);
        // The new context store works in the migrated file.
        ContextStore store(db);
        store.add({ContextKind::fact, "Boots", "My hiking boots are size 43.", "", {}});
        QCOMPARE(store.search("boots").size(), size_t(1));

        // Reopening migrates nothing more and writes no new backup.
        QFile::remove(backup);
        Database again(path.toStdString());
        QVERIFY(again.migration_backups().empty());
        QVERIFY(!QFile::exists(backup));
    }

    void failedMigrationRollsBackAndKeepsData() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("clash.sqlite3"));
        raw_exec(path, kV1Schema);
        raw_exec(path, kV1Data);
        // A table migration 2 wants to create already exists: the migration must fail as a whole.
        raw_exec(path, "CREATE TABLE context_items(x);");
        try {
            Database db(path.toStdString());
            QFAIL("the clashing migration succeeded");
        } catch (const Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("migration")), e.what());
        }
        sqlite3* raw = nullptr;
        QCOMPARE(sqlite3_open(path.toUtf8().constData(), &raw), SQLITE_OK);
        QCOMPARE(count(raw, "PRAGMA user_version"), 1LL);
        QCOMPARE(count(raw, "SELECT count(*) FROM messages"), 6LL);
        // The ALTER TABLE that ran before the failing statement was rolled back too.
        QCOMPARE(count(raw, "SELECT count(*) FROM pragma_table_info('conversations') WHERE name = 'active_leaf_id'"), 0LL);
        QCOMPARE(count(raw, "SELECT count(*) FROM sqlite_master WHERE name = 'messages_fts'"), 0LL);
        sqlite3_close(raw);
        QVERIFY(QFile::exists(path + QStringLiteral(".bak-v1")));
    }

    void transactionRollsBackUnlessCommitted() {
        QTemporaryDir dir;
        Database db(dir.filePath(QStringLiteral("t.sqlite3")).toStdString());
        History h(db);
        {
            Transaction tx(db);
            h.create_conversation({"dropped", Mode::local, "", ""});
            {
                Transaction inner(db);  // nests as a savepoint
                h.create_conversation({"also dropped", Mode::local, "", ""});
                inner.commit();
            }
        }
        QCOMPARE(h.list_conversations().size(), size_t(0));
        {
            Transaction tx(db);
            h.create_conversation({"kept", Mode::local, "", ""});
            tx.commit();
        }
        QCOMPARE(h.list_conversations().size(), size_t(1));
    }
};

QTEST_GUILESS_MAIN(TestStorageDatabase)
#include "test_storage_database.moc"
