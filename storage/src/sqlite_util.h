#pragma once
// Private RAII wrappers over the SQLite C API: prepared statements and transactions that throw
// storage::Error with the SQL error message instead of returning codes.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bonsai/storage/error.h"

namespace bonsai::storage::detail {

// Throws Error("<what>: <sqlite message>").
[[noreturn]] void throw_sqlite(sqlite3* db, const std::string& what);

// Runs SQL without results (several statements allowed).
void exec(sqlite3* db, const std::string& sql);

class Stmt {
public:
    Stmt(sqlite3* db, std::string_view sql);
    ~Stmt();
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    // Binders take 1-based parameter indexes, like SQLite, and return *this for chaining.
    Stmt& bind(int i, int64_t v);
    Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
    Stmt& bind(int i, double v);
    Stmt& bind(int i, std::string_view v);
    Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, std::optional<int64_t> v);
    Stmt& bind_blob(int i, const void* data, size_t size);
    Stmt& bind_null(int i);

    bool step();       // true when a row is available
    void run();        // steps to the end (for statements without results)
    void reset();      // ready to run again with new bindings

    // Column readers take 0-based indexes.
    int64_t int64(int c) const { return sqlite3_column_int64(s_, c); }
    double real(int c) const { return sqlite3_column_double(s_, c); }
    std::string text(int c) const;
    bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
    std::optional<int64_t> opt_int64(int c) const;
    std::vector<float> floats(int c) const;   // a float32 BLOB; empty when NULL or not a multiple of 4

private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
};

// BEGIN IMMEDIATE when no transaction is open (so a writer waits for the lock up front instead of failing
// on upgrade), else a SAVEPOINT nested in the caller's transaction. Rolled back unless commit() is called.
class Tx {
public:
    explicit Tx(sqlite3* db);
    ~Tx();
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;
    void commit();

private:
    sqlite3* db_;
    bool nested_;
    bool done_ = false;
};

// A single integer result (e.g. "SELECT count(*) ..."), or `fallback` when there is no row.
int64_t scalar(sqlite3* db, std::string_view sql, int64_t fallback = 0);

}  // namespace bonsai::storage::detail
