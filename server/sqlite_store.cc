// The embedded SQLite server store. WAL mode with synchronous=FULL: an
// acknowledged write survives power loss. Schema changes are numbered,
// forward-only migrations recorded in the database.
#include <sqlite3.h>

#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/store.h"
#include "sync/uuid.h"

namespace palm::server {
namespace {

// Each entry is one migration, applied in order inside one transaction and
// recorded in schema_migrations. Never edit a released entry; append.
constexpr const char* kMigrations[] = {
    // 1: store identity.
    R"sql(
      CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    )sql",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return absl::DataLossError(absl::StrCat(what, ": ", detail));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return absl::PermissionDeniedError(absl::StrCat(what, ": ", detail));
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(absl::StrCat(what, ": disk full: ", detail));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::AbortedError(absl::StrCat(what, ": ", detail));
    default:
      return absl::InternalError(absl::StrCat(what, ": ", detail));
  }
}

class SqliteStore : public ServerStore {
 public:
  ~SqliteStore() override { (void)Close(); }

  absl::Status Open(const StoreOptions& options) {
    path_ = options.data_dir + "/palm.db";
    int rc = sqlite3_open_v2(path_.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, absl::StrCat("cannot open ", path_));
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    if (auto s = Exec("PRAGMA journal_mode=WAL", "setting WAL mode"); !s.ok()) return s;
    if (auto s = Exec("PRAGMA synchronous=FULL", "setting synchronous=FULL"); !s.ok()) return s;
    if (auto s = Exec("PRAGMA foreign_keys=ON", "enabling foreign keys"); !s.ok()) return s;
    if (auto s = Migrate(); !s.ok()) return s;
    return LoadOrCreateEpoch();
  }

  std::string epoch() const override { return epoch_; }

  absl::Status Close() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (db_ == nullptr) return absl::OkStatus();
    int rc = sqlite3_close_v2(db_);
    db_ = nullptr;
    if (rc != SQLITE_OK) return absl::InternalError(absl::StrCat("closing ", path_, " failed"));
    return absl::OkStatus();
  }

 private:
  absl::Status Exec(const char* sql, absl::string_view what) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, absl::StrCat(path_, ": ", what));
    return absl::OkStatus();
  }

  absl::StatusOr<int> QueryInt(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, path_);
    int value = 0;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) value = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(db_, rc, path_);
    return value;
  }

  absl::Status Migrate() {
    if (auto s = Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL) STRICT",
                      "creating schema_migrations");
        !s.ok()) {
      return s;
    }
    auto current = QueryInt("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!current.ok()) return current.status();
    if (*current > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          path_, " was written by a newer palm-server (schema ", *current,
          "; this build knows up to ", kSchemaVersion, "); upgrade palm-server"));
    }
    for (int version = *current + 1; version <= kSchemaVersion; ++version) {
      if (auto s = Exec("BEGIN IMMEDIATE", "starting migration"); !s.ok()) return s;
      absl::Status s = Exec(kMigrations[version - 1], "applying migration");
      if (s.ok()) {
        std::string record = absl::StrCat(
            "INSERT INTO schema_migrations VALUES (", version,
            ", CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))");
        s = Exec(record.c_str(), "recording migration");
      }
      if (s.ok()) s = Exec("COMMIT", "committing migration");
      if (!s.ok()) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status LoadOrCreateEpoch() {
    std::string fresh = sync::NewUuidV7();
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(
        db_, "INSERT OR IGNORE INTO store_meta(key, value) VALUES ('epoch', ?1)", -1, &stmt,
        nullptr);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(stmt, 1, fresh.c_str(), -1, SQLITE_TRANSIENT);
      rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "recording the store epoch");
    rc = sqlite3_prepare_v2(db_, "SELECT value FROM store_meta WHERE key = 'epoch'", -1, &stmt,
                            nullptr);
    if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      epoch_ = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    if (epoch_.empty()) return absl::InternalError("the store has no epoch");
    return absl::OkStatus();
  }

  std::mutex mutex_;
  sqlite3* db_ = nullptr;
  std::string path_;
  std::string epoch_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ServerStore>> OpenSqliteStore(const StoreOptions& options) {
  auto store = std::make_unique<SqliteStore>();
  if (absl::Status s = store->Open(options); !s.ok()) return s;
  return store;
}

}  // namespace palm::server
