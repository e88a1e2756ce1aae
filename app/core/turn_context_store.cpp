#include "core/turn_context_store.h"

#include <QStringList>
#include <sqlite3.h>

#include <string>

#include "bonsai/storage/database.h"
#include "bonsai/storage/error.h"

namespace bonsai::core {

namespace {

// A prepared statement that finalizes itself; errors become storage::Error naming the statement.
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
            throw storage::Error(std::string("preparing a turn-context statement: ") + sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    void bind(int i, qint64 v) { sqlite3_bind_int64(s_, i, v); }
    void bind(int i, const QString& v) {
        const QByteArray u = v.toUtf8();
        sqlite3_bind_text(s_, i, u.constData(), static_cast<int>(u.size()), SQLITE_TRANSIENT);
    }
    bool step() {
        const int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw storage::Error(std::string("turn-context statement failed: ") + sqlite3_errmsg(db_));
    }
    QString text(int col) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
        return p ? QString::fromUtf8(p, sqlite3_column_bytes(s_, col)) : QString();
    }

private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
};

}  // namespace

TurnContextStore::TurnContextStore(storage::Database& db) : db_(db) {
    db_.exec(
        "CREATE TABLE IF NOT EXISTS core_turn_context("
        " reply_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,"
        " context TEXT NOT NULL,"
        " item_ids TEXT NOT NULL DEFAULT '',"
        " created_at INTEGER NOT NULL)");
}

void TurnContextStore::save(qint64 replyId, const QString& text, const QList<qint64>& itemIds) {
    QStringList ids;
    for (qint64 id : itemIds) ids << QString::number(id);
    Stmt s(db_.handle(), "INSERT OR REPLACE INTO core_turn_context(reply_id, context, item_ids, created_at) VALUES (?1, ?2, ?3, ?4)");
    s.bind(1, replyId);
    s.bind(2, text);
    s.bind(3, ids.join(QLatin1Char(',')));
    s.bind(4, static_cast<qint64>(storage::now_ms()));
    s.step();
}

QString TurnContextStore::text(qint64 replyId) const {
    Stmt s(db_.handle(), "SELECT context FROM core_turn_context WHERE reply_id = ?1");
    s.bind(1, replyId);
    return s.step() ? s.text(0) : QString();
}

void TurnContextStore::setConversationMode(qint64 conversationId, const QString& mode) {
    if (mode != QLatin1String("local") && mode != QLatin1String("cloud"))
        throw storage::Error("a conversation's mode is 'local' or 'cloud', not '" + mode.toStdString() + "'");
    Stmt s(db_.handle(), "UPDATE conversations SET mode = ?1, updated_at = ?2 WHERE id = ?3");
    s.bind(1, mode);
    s.bind(2, static_cast<qint64>(storage::now_ms()));
    s.bind(3, conversationId);
    s.step();
    if (sqlite3_changes(db_.handle()) != 1)
        throw storage::Error("no conversation " + std::to_string(conversationId));
}

void TurnContextStore::recordReplyResult(qint64 replyId, const QString& model, qint64 completionTokens) {
    Stmt s(db_.handle(),
           "UPDATE messages SET model = CASE WHEN ?1 = '' THEN model ELSE ?1 END, completion_tokens = ?2 WHERE id = ?3");
    s.bind(1, model);
    s.bind(2, completionTokens < 0 ? 0 : completionTokens);
    s.bind(3, replyId);
    s.step();
}

}  // namespace bonsai::core
