// Opening a profile database: version check, pragmas, migrations with backups, crash recovery.
#include "bonsai/storage/database.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "migrations.h"
#include "sqlite_util.h"

namespace bonsai::storage {

using detail::Stmt;

std::string default_profile_path() {
    std::filesystem::path base;
    const char* xdg = std::getenv("XDG_DATA_HOME");
    // XDG: a relative XDG_DATA_HOME is invalid and must be ignored.
    if (xdg && *xdg && std::filesystem::path(xdg).is_absolute()) {
        base = xdg;
    } else {
        const char* home = std::getenv("HOME");
        if (!home || !*home) throw Error("cannot find the profile folder: neither XDG_DATA_HOME nor HOME is set");
        base = std::filesystem::path(home) / ".local" / "share";
    }
    return (base / "bonsai" / "profiles" / "default.sqlite3").string();
}

int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {
bool is_memory(const std::string& path) { return path.empty() || path == ":memory:"; }
}  // namespace

Database::Database(std::string path, const OpenOptions& options) : path_(std::move(path)) {
    try {
        if (!is_memory(path_) && options.create_parent_dirs) {
            std::filesystem::path parent = std::filesystem::path(path_).parent_path();
            std::error_code ec;
            if (!parent.empty()) std::filesystem::create_directories(parent, ec);
            if (ec) throw Error("cannot create the folder " + parent.string() + ": " + ec.message());
        }
        if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
            detail::throw_sqlite(db_, "cannot open " + path_);
        sqlite3_extended_result_codes(db_, 1);
        sqlite3_busy_timeout(db_, options.busy_timeout_ms);

        // Read the version before anything writes: a newer file must stay byte-identical.
        int version = 0;
        try {
            version = static_cast<int>(detail::scalar(db_, "PRAGMA user_version"));
        } catch (const Error&) {
            throw Error("cannot open " + path_ + " as a Bonsai database: " + sqlite3_errmsg(db_));
        }
        if (version > kSchemaVersion)
            throw Error(path_ + " has schema version " + std::to_string(version) +
                        ", newer than this version of Bonsai understands (" + std::to_string(kSchemaVersion) +
                        "). The file was left untouched: open it with a newer Bonsai.");
        if (version < 0) throw Error(path_ + " has an invalid schema version " + std::to_string(version));

        // Liveness lock (see database.h). Exclusive means no other connection is open: safe to recover.
        bool alone = true;
        if (!is_memory(path_)) {
            lock_fd_ = ::open((path_ + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (lock_fd_ < 0) throw Error("cannot create the lock file " + path_ + ".lock");
            alone = ::flock(lock_fd_, LOCK_EX | LOCK_NB) == 0;
            if (!alone && ::flock(lock_fd_, LOCK_SH) != 0) throw Error("cannot lock " + path_ + ".lock");
        }

        apply_pragmas(options);
        migrate(version);
        if (alone) recover_interrupted_replies();
        if (lock_fd_ >= 0 && alone) ::flock(lock_fd_, LOCK_SH);  // let other connections in
    } catch (...) {
        if (db_) sqlite3_close_v2(db_);
        db_ = nullptr;
        if (lock_fd_ >= 0) ::close(lock_fd_);
        lock_fd_ = -1;
        throw;
    }
}

Database::~Database() {
    if (db_) sqlite3_close_v2(db_);
    if (lock_fd_ >= 0) ::close(lock_fd_);  // closing the descriptor drops the flock
}

void Database::apply_pragmas(const OpenOptions&) {
    std::string mode;
    {
        Stmt s(db_, "PRAGMA journal_mode=WAL");
        if (s.step()) mode = s.text(0);
    }
    if (mode != "wal" && !is_memory(path_))
        throw Error("cannot switch " + path_ + " to write-ahead logging (journal mode is '" + mode + "')");
    detail::exec(db_, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

void Database::backup_to(const std::string& dest) const {
    sqlite3* out = nullptr;
    if (sqlite3_open_v2(dest.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        std::string msg = out ? sqlite3_errmsg(out) : "out of memory";
        sqlite3_close_v2(out);
        throw Error("cannot create the backup " + dest + ": " + msg);
    }
    sqlite3_backup* b = sqlite3_backup_init(out, "main", db_, "main");
    int rc = SQLITE_ERROR;
    if (b) {
        rc = sqlite3_backup_step(b, -1);
        sqlite3_backup_finish(b);
    }
    std::string msg = sqlite3_errmsg(out);
    sqlite3_close_v2(out);
    if (rc != SQLITE_DONE) throw Error("cannot write the backup " + dest + ": " + msg);
}

void Database::migrate(int from_version) {
    int version = from_version;
    for (const auto& m : detail::migrations()) {
        if (m.version <= version) continue;
        // A fresh database has nothing to lose; any other gets a copy before each schema change.
        if (from_version > 0) {
            std::string dest = path_ + ".bak-v" + std::to_string(version);
            if (!is_memory(path_)) {
                backup_to(dest);
                backups_.push_back(dest);
            }
        }
        detail::Tx tx(db_);
        // Another process may have migrated while we waited for the write lock.
        int now = static_cast<int>(detail::scalar(db_, "PRAGMA user_version"));
        if (now < m.version) {
            try {
                detail::exec(db_, m.sql);
            } catch (const Error& e) {
                throw Error("migration of " + path_ + " to schema version " + std::to_string(m.version) +
                            " failed (the database was left at version " + std::to_string(now) + "): " + e.what());
            }
            detail::exec(db_, "PRAGMA user_version=" + std::to_string(m.version));
        }
        tx.commit();
        version = m.version;
    }
}

void Database::recover_interrupted_replies() {
    detail::exec(db_, "UPDATE messages SET status='interrupted' WHERE status='streaming'");
    interrupted_at_open_ = sqlite3_changes(db_);
}

int Database::schema_version() const { return static_cast<int>(detail::scalar(db_, "PRAGMA user_version")); }

std::string Database::integrity_check() const {
    Stmt s(db_, "PRAGMA integrity_check");
    std::string out;
    while (s.step()) {
        if (!out.empty()) out += "\n";
        out += s.text(0);
    }
    return out;
}

void Database::exec(const std::string& sql) const { detail::exec(db_, sql); }

Transaction::Transaction(const Database& db) : db_(db.handle()) {
    // Nests as a savepoint inside an open transaction, else begins an immediate one.
    if (sqlite3_get_autocommit(db_)) {
        detail::exec(db_, "BEGIN IMMEDIATE");
        name_.clear();
    } else {
        name_ = "bonsai_user_tx";
        detail::exec(db_, "SAVEPOINT " + name_);
    }
}

Transaction::~Transaction() {
    if (done_) return;
    if (!name_.empty()) {
        sqlite3_exec(db_, ("ROLLBACK TO " + name_ + "; RELEASE " + name_).c_str(), nullptr, nullptr, nullptr);
    } else if (!sqlite3_get_autocommit(db_)) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void Transaction::commit() {
    detail::exec(db_, name_.empty() ? "COMMIT" : "RELEASE " + name_);
    done_ = true;
}

}  // namespace bonsai::storage
