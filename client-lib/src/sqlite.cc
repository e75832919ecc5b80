#include "client-lib/src/sqlite.h"

#include <sqlite3.h>

#include <cassert>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "client-lib/src/wal_vfs.h"

namespace palm::internal {
namespace {

absl::StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kAlreadyExists;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_CANTOPEN:
      return absl::StatusCode::kNotFound;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return absl::StatusCode::kPermissionDenied;
    case SQLITE_FULL:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kInternal;
  }
}

// The status of a failed SQLite call on `db`. An I/O failure names the
// operating system's reason too ("disk I/O error (File too large)"), and a
// full disk, quota or file-size limit is RESOURCE_EXHAUSTED whichever code
// SQLite chose for it.
absl::Status Failure(sqlite3* db, int rc, absl::string_view message, absl::string_view sql) {
  absl::StatusCode code = CodeFor(rc);
  std::string text = absl::StrCat("sqlite: ", message);
  const int primary = rc & 0xff;
  const bool io = primary == SQLITE_IOERR || primary == SQLITE_FULL;
  int err = io && db != nullptr ? sqlite3_system_errno(db) : 0;
  if (io && err == 0) err = TakeLastIoErrno();
  if (err != 0) {
    absl::StrAppend(&text, " (", std::strerror(err), ")");
    if (err == ENOSPC || err == EDQUOT || err == EFBIG) code = absl::StatusCode::kResourceExhausted;
  }
  if (!sql.empty()) absl::StrAppend(&text, " in: ", sql);
  return absl::Status(code, text);
}

}  // namespace

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, absl::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindBlob(int index, absl::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  return Failure(db, rc, sqlite3_errmsg(db), sqlite3_sql(stmt_));
}

absl::Status Statement::Run() {
  for (;;) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) {
      Reset();
      return row.status();
    }
    if (!*row) {
      Reset();
      return absl::OkStatus();
    }
  }
}

void Statement::Reset() { sqlite3_reset(stmt_); }

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::string Statement::Blob(int column) const {
  const void* p = sqlite3_column_blob(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& path, bool read_only) {
  sqlite3* raw = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, WalGatheringVfs());
  if (rc != SQLITE_OK) {
    std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return absl::Status(CodeFor(rc), absl::StrCat("cannot open database ", path, ": ", msg));
  }
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

absl::Status Db::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return absl::OkStatus();
  absl::Status status = Failure(db_, rc, err != nullptr ? err : sqlite3_errstr(rc), "");
  sqlite3_free(err);
  return status;
}

absl::StatusOr<Statement> Db::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Statement(this, it->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(absl::StrCat("prepare: ", sql));
  cache_.emplace(sql, stmt);
  return Statement(this, stmt);
}

absl::Status Db::ExecCached(const char* sql) {
  absl::StatusOr<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  const int rc = sqlite3_step(stmt->stmt_);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return absl::OkStatus();
  return Failure(db_, rc, sqlite3_errmsg(db_), "");
}

int64_t Db::Changes() const { return sqlite3_changes64(db_); }

absl::Status Db::Error(absl::string_view context) const {
  return absl::Status(CodeFor(sqlite3_errcode(db_)),
                      absl::StrCat("sqlite: ", sqlite3_errmsg(db_), " (", context, ")"));
}

Transaction::Transaction(Db& db) : db_(db) {
  status_ = db_.ExecCached("BEGIN IMMEDIATE");
  open_ = status_.ok();
}

Transaction::~Transaction() noexcept {
  if (open_) {
    // Rolling back cannot be reported from a destructor; a failed rollback
    // leaves SQLite to roll back on the next open, which is still atomic.
    (void)db_.ExecCached("ROLLBACK");
  }
}

absl::Status Transaction::Commit() {
  assert(open_);
  absl::Status status = db_.ExecCached("COMMIT");
  if (status.ok()) open_ = false;
  return status;
}

}  // namespace palm::internal
