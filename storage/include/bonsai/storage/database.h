#pragma once
// One SQLite database per profile: opening, pragmas, schema migrations, transactions.
//
// Opening a database:
//   1. reads PRAGMA user_version before writing anything; a version newer than kSchemaVersion is refused
//      with storage::Error and the file is left byte-for-byte untouched;
//   2. sets journal_mode=WAL, synchronous=FULL, foreign_keys=ON, busy_timeout;
//   3. applies the pending migrations in order; before each one an existing (version > 0) database is copied
//      with SQLite's online backup API to "<path>.bak-v<old version>", then the migration and its
//      user_version bump run in one transaction (a failure rolls the whole step back);
//   4. marks every message still 'streaming' as 'interrupted' (a previous process died mid-reply), unless
//      another live connection holds the database open: it may own those replies (see below).
//
// Liveness: every connection holds a shared flock() on "<path>.lock" for its lifetime. Crash recovery in
// step 4 runs only when the exclusive lock can be taken, i.e. no other connection (in any process) is
// open; the kernel drops the locks of a killed process, so a crashed writer never blocks recovery.
//
// A Database is one connection: use it from one thread at a time. Objects built on it (History,
// ContextStore, StreamingReply) keep a reference and must not outlive it.
#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;

namespace bonsai::storage {

// $XDG_DATA_HOME/bonsai/profiles/default.sqlite3, or ~/.local/share/bonsai/profiles/default.sqlite3 when
// XDG_DATA_HOME is unset or not absolute (XDG Base Directory rules). Throws Error when HOME is unset too.
std::string default_profile_path();

// Milliseconds since the Unix epoch (UTC): the unit of every timestamp in the database.
int64_t now_ms();

struct OpenOptions {
    int busy_timeout_ms = 5000;     // how long a statement waits for another connection's lock
    bool create_parent_dirs = true; // mkdir -p the folder of `path` first (profile folders start absent)
};

class Database {
public:
    // The schema version this code writes; older files are migrated, newer ones refused.
    static constexpr int kSchemaVersion = 2;

    // Opens (creating if absent) the database at `path` (":memory:" works too, without the lock file).
    // Throws Error for an unreadable or non-SQLite file, a newer schema, or a failed migration.
    explicit Database(std::string path, const OpenOptions& options = {});
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    sqlite3* handle() const { return db_; }          // the raw connection (for callers that need SQL)
    const std::string& path() const { return path_; }
    int schema_version() const;                      // PRAGMA user_version, now
    int interrupted_at_open() const { return interrupted_at_open_; }  // replies recovered in step 4
    // Backup files written by migrations during this open, in order (empty when nothing was migrated).
    const std::vector<std::string>& migration_backups() const { return backups_; }
    // PRAGMA integrity_check joined with newlines: "ok" for a healthy file.
    std::string integrity_check() const;
    // Runs SQL with no results (several statements allowed); throws Error naming the failure.
    void exec(const std::string& sql) const;

private:
    void apply_pragmas(const OpenOptions& options);
    void migrate(int from_version);
    void backup_to(const std::string& dest) const;
    void recover_interrupted_replies();

    std::string path_;
    sqlite3* db_ = nullptr;
    int lock_fd_ = -1;
    int interrupted_at_open_ = 0;
    std::vector<std::string> backups_;
};

// A transaction (a SAVEPOINT, so it nests inside another Transaction or a library call's own).
// Rolled back by the destructor unless commit() was called. Use it to batch many writes into one commit.
class Transaction {
public:
    explicit Transaction(const Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    sqlite3* db_;
    std::string name_;
    bool done_ = false;
};

}  // namespace bonsai::storage
