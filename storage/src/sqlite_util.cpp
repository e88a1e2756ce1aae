#include "sqlite_util.h"

#include <cstring>

namespace bonsai::storage::detail {

void throw_sqlite(sqlite3* db, const std::string& what) {
    throw Error(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

void exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errmsg(db);
        sqlite3_free(err);
        throw Error("SQL failed: " + msg);
    }
}

Stmt::Stmt(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &s_, nullptr) != SQLITE_OK)
        throw_sqlite(db, "cannot prepare statement");
}

Stmt::~Stmt() { sqlite3_finalize(s_); }

Stmt& Stmt::bind(int i, int64_t v) {
    if (sqlite3_bind_int64(s_, i, v) != SQLITE_OK) throw_sqlite(db_, "bind failed");
    return *this;
}
Stmt& Stmt::bind(int i, double v) {
    if (sqlite3_bind_double(s_, i, v) != SQLITE_OK) throw_sqlite(db_, "bind failed");
    return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
    // SQLITE_TRANSIENT: SQLite copies the text, so temporaries are safe to pass.
    if (sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK)
        throw_sqlite(db_, "bind failed");
    return *this;
}
Stmt& Stmt::bind(int i, std::optional<int64_t> v) { return v ? bind(i, *v) : bind_null(i); }
Stmt& Stmt::bind_blob(int i, const void* data, size_t size) {
    if (sqlite3_bind_blob64(s_, i, data, size, SQLITE_TRANSIENT) != SQLITE_OK) throw_sqlite(db_, "bind failed");
    return *this;
}
Stmt& Stmt::bind_null(int i) {
    if (sqlite3_bind_null(s_, i) != SQLITE_OK) throw_sqlite(db_, "bind failed");
    return *this;
}

bool Stmt::step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_reset(s_);
    throw Error("SQL failed: " + msg);
}

void Stmt::run() {
    while (step()) {
    }
}

void Stmt::reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
}

std::string Stmt::text(int c) const {
    const unsigned char* p = sqlite3_column_text(s_, c);
    int n = sqlite3_column_bytes(s_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::optional<int64_t> Stmt::opt_int64(int c) const {
    if (is_null(c)) return std::nullopt;
    return int64(c);
}

std::vector<float> Stmt::floats(int c) const {
    if (sqlite3_column_type(s_, c) != SQLITE_BLOB) return {};
    const void* p = sqlite3_column_blob(s_, c);
    int n = sqlite3_column_bytes(s_, c);
    if (!p || n <= 0 || n % 4 != 0) return {};
    std::vector<float> out(static_cast<size_t>(n) / 4);
    std::memcpy(out.data(), p, static_cast<size_t>(n));
    return out;
}

Tx::Tx(sqlite3* db) : db_(db), nested_(!sqlite3_get_autocommit(db)) {
    exec(db_, nested_ ? "SAVEPOINT bonsai_tx" : "BEGIN IMMEDIATE");
}

Tx::~Tx() {
    if (done_) return;
    // Never throws: a failed rollback leaves SQLite to roll back when the connection closes.
    if (nested_) {
        sqlite3_exec(db_, "ROLLBACK TO bonsai_tx; RELEASE bonsai_tx", nullptr, nullptr, nullptr);
    } else if (!sqlite3_get_autocommit(db_)) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void Tx::commit() {
    exec(db_, nested_ ? "RELEASE bonsai_tx" : "COMMIT");
    done_ = true;
}

int64_t scalar(sqlite3* db, std::string_view sql, int64_t fallback) {
    Stmt s(db, sql);
    return s.step() ? s.int64(0) : fallback;
}

}  // namespace bonsai::storage::detail
