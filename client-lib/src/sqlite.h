// A thin RAII layer over the SQLite C API for the device store.
//
// One Db is one connection, used by one thread at a time (the DeviceStore's
// mutex guarantees it). Statements are prepared once per SQL constant and
// reused; a Statement handle resets its statement when it goes out of scope.
// Transactions begin in their constructor and roll back in a noexcept
// destructor unless committed (as SQLiteCpp does).
#ifndef PALM_CLIENT_SQLITE_H_
#define PALM_CLIENT_SQLITE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct sqlite3;
struct sqlite3_stmt;

namespace palm::internal {

class Db;

// A prepared statement borrowed from a Db's cache. Resets the statement and
// clears its bindings on destruction so the next user starts clean.
class Statement {
 public:
  Statement(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Bind by 1-based index. Text and blobs are copied (SQLITE_TRANSIENT).
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, absl::string_view text);
  Statement& BindBlob(int index, absl::string_view bytes);
  Statement& BindNull(int index);

  // Steps once: true when a row is available, false when done. Errors carry
  // the SQLite message.
  absl::StatusOr<bool> Step();
  // Steps to completion (discarding rows) and resets, keeping the bindings.
  absl::Status Run();
  // Resets so the statement can be bound and stepped again.
  void Reset();

  int64_t Int(int column) const;
  std::string Text(int column) const;
  std::string Blob(int column) const;
  bool IsNull(int column) const;

 private:
  friend class Db;  // ExecCached steps the statement itself

  Db* db_;
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  // Opens `path`. `read_only` opens without creating or writing.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path, bool read_only);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements with no parameters and no result rows.
  absl::Status Exec(const char* sql);

  // Runs one statement with no parameters and no result rows, prepared once
  // and cached like Prepare (for the BEGIN and COMMIT of every write, which
  // Exec would parse again each time). Fails as Exec does.
  absl::Status ExecCached(const char* sql);

  // Returns the cached prepared statement for `sql`, which must be a string
  // with static storage (the cache is keyed by its address).
  absl::StatusOr<Statement> Prepare(const char* sql);

  // Number of rows changed by the last statement.
  int64_t Changes() const;

  // Turns the connection's last error into a status.
  absl::Status Error(absl::string_view context) const;

  sqlite3* raw() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<const char*, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE in the constructor; ROLLBACK in the destructor unless
// Commit() succeeded. Check status() before using the transaction.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction() noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  const absl::Status& status() const { return status_; }
  absl::Status Commit();

 private:
  Db& db_;
  absl::Status status_;
  bool open_ = false;
};

}  // namespace palm::internal

#endif  // PALM_CLIENT_SQLITE_H_
