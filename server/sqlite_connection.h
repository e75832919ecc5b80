// What the SQLite store's parts share below the accessors: errors mapped to
// statuses, prepared statements, one connection with its statement cache,
// and the compact encoding of field stamps. Internal to the SQLite store.
#ifndef PALM_SERVER_SQLITE_CONNECTION_H_
#define PALM_SERVER_SQLITE_CONNECTION_H_

#include <sqlite3.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/backup.h"
#include "server/sqlite_sql.h"
#include "server/store.h"
#include "server/store_status.h"
#include "sync/hlc.h"
#include "sync/status_macros.h"
#include "sync/uuid.h"

namespace palm::server::sqlite_internal {

namespace v1 = palm::v1;

inline absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  // The mapping (a full disk is RESOURCE_EXHAUSTED) is server/store_status.h's.
  return SqliteStatus(rc, db ? sqlite3_system_errno(db) : 0, what,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

inline int64_t NowMs() { return sync::SystemNowMs(); }

// One use of a cached prepared statement: binds, steps, reads columns, and
// resets the statement when it goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Text and Blob bind without copying (SQLITE_STATIC). A value passed by
  // reference must outlive the statement's last Step(); a temporary (a
  // serialised message, say) is moved into the Statement, which keeps it
  // until the end of this use. With SQLITE_TRANSIENT, SQLite allocated and
  // copied every bound value on the push writer (docs/benchmarks.md).
  Statement& Text(int i, const std::string& value) {
    sqlite3_bind_text(stmt_, i, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& Text(int i, std::string&& value) {
    if (std::string* kept = Keep(std::move(value))) return Text(i, *kept);
    sqlite3_bind_text(stmt_, i, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Int(int i, int64_t value) {
    sqlite3_bind_int64(stmt_, i, value);
    return *this;
  }
  Statement& Blob(int i, const std::string& value) {
    sqlite3_bind_blob(stmt_, i, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& Blob(int i, std::string&& value) {
    if (std::string* kept = Keep(std::move(value))) return Blob(i, *kept);
    sqlite3_bind_blob(stmt_, i, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // Returns true when a row is available, false when done.
  absl::StatusOr<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, sqlite3_sql(stmt_));
  }
  // Steps to the end, ignoring rows.
  absl::Status Run() {
    while (true) {
      auto row = Step();
      if (!row.ok()) return row.status();
      if (!*row) return absl::OkStatus();
    }
  }

  int64_t ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool ColumnNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string ColumnText(int col) const {
    const unsigned char* text = sqlite3_column_text(stmt_, col);
    return text == nullptr
               ? std::string()
               : std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, col));
  }
  std::string ColumnBlob(int col) const {
    const void* data = sqlite3_column_blob(stmt_, col);
    return data == nullptr
               ? std::string()
               : std::string(static_cast<const char*>(data), sqlite3_column_bytes(stmt_, col));
  }

 private:
  // Takes `value` into a free slot and returns it, or returns null (leaving
  // `value` alone) when every slot is taken; the slots outlive the bindings.
  std::string* Keep(std::string&& value) {
    if (kept_count_ == kept_.size()) return nullptr;
    std::string& slot = kept_[kept_count_++];
    slot = std::move(value);
    return &slot;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  // No statement binds more than two temporaries today.
  std::array<std::string, 4> kept_;
  size_t kept_count_ = 0;
};

template <typename Message>
absl::StatusOr<Message> ParseBody(const std::string& bytes, absl::string_view what) {
  Message message;
  if (!message.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("stored ", what, " cannot be decoded"));
  }
  return message;
}

// Case field stamps, binary (schema 5): a sequence of entries, each
//   varint len, key | varint wall_ms | varint logical |
//   varint len, device_id | varint len, mutation_id
// in key order. Written on every case write of the push path, so it is kept
// free of parsing and per-field allocations beyond the strings themselves.
inline void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

inline void PutBytes(std::string* out, const std::string& bytes) {
  PutVarint(out, bytes.size());
  out->append(bytes);
}

inline bool GetVarint(absl::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

inline bool GetBytes(absl::string_view* in, std::string* out) {
  uint64_t size = 0;
  if (!GetVarint(in, &size) || size > in->size()) return false;
  out->assign(in->data(), size);
  in->remove_prefix(size);
  return true;
}

// Replaces `out` with the encoded `stamps`, reusing its capacity.
inline void EncodeStamps(const std::map<std::string, FieldStamp>& stamps, std::string* out) {
  out->clear();
  for (const auto& [key, stamp] : stamps) {
    PutBytes(out, key);
    PutVarint(out, static_cast<uint64_t>(stamp.hlc.wall_ms));
    PutVarint(out, stamp.hlc.logical);
    PutBytes(out, stamp.device_id);
    PutBytes(out, stamp.mutation_id);
  }
}

inline absl::StatusOr<std::map<std::string, FieldStamp>> DecodeStamps(absl::string_view in) {
  std::map<std::string, FieldStamp> stamps;
  while (!in.empty()) {
    std::string key;
    FieldStamp stamp;
    uint64_t wall = 0;
    uint64_t logical = 0;
    if (!GetBytes(&in, &key) || !GetVarint(&in, &wall) || !GetVarint(&in, &logical) ||
        logical > UINT32_MAX || !GetBytes(&in, &stamp.device_id) ||
        !GetBytes(&in, &stamp.mutation_id)) {
      return absl::DataLossError("stored case field stamps cannot be decoded");
    }
    stamp.hlc.wall_ms = static_cast<int64_t>(wall);
    stamp.hlc.logical = static_cast<uint32_t>(logical);
    stamps.emplace_hint(stamps.end(), std::move(key), std::move(stamp));
  }
  return stamps;
}

// The JSON form of schema ≤ 4, read for rows not written since.
inline absl::StatusOr<std::map<std::string, FieldStamp>> DecodeJsonStamps(const std::string& text) {
  std::map<std::string, FieldStamp> stamps;
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return absl::DataLossError("stored case field stamps cannot be decoded");
  for (const auto& [key, value] : json.items()) {
    if (!value.is_array() || value.size() != 4 || !value[0].is_number_integer() ||
        !value[1].is_number_integer() || !value[2].is_string() || !value[3].is_string()) {
      return absl::DataLossError("stored case field stamps cannot be decoded");
    }
    FieldStamp stamp;
    stamp.hlc.wall_ms = value[0].get<int64_t>();
    stamp.hlc.logical = value[1].get<uint32_t>();
    stamp.device_id = value[2].get<std::string>();
    stamp.mutation_id = value[3].get<std::string>();
    stamps[key] = std::move(stamp);
  }
  return stamps;
}

// One SQLite connection and its prepared statements. Used by one thread.
class Connection {
 public:
  ~Connection() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }

  absl::Status Open(const std::string& path, bool read_only) {
    path_ = path;
    int flags = SQLITE_OPEN_NOMUTEX |
                (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, absl::StrCat("cannot open ", path));
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    if (!read_only) {
      // 16 KiB pages for a new store (an existing one keeps its own): fewer
      // b-tree levels and WAL frames per commit; the push benchmark ran 10-15%
      // faster than with SQLite's 4 KiB default (docs/benchmarks.md).
      if (auto s = Exec("PRAGMA page_size=16384", "setting the page size"); !s.ok()) return s;
      if (auto s = Exec("PRAGMA journal_mode=WAL", "setting WAL mode"); !s.ok()) return s;
    }
    if (auto s = Exec("PRAGMA synchronous=FULL", "setting synchronous=FULL"); !s.ok()) return s;
    // A larger page cache than SQLite's 2 MiB default: the push path touches
    // the cases, device_log, change_log and audit_log b-trees on every
    // mutation; keeping their interior pages cached saves re-reading them
    // from the WAL. Negative: KiB. 64 MiB for the writer, 16 MiB per reader.
    if (auto s = Exec(read_only ? "PRAGMA cache_size=-16384" : "PRAGMA cache_size=-65536",
                      "setting the page cache size");
        !s.ok()) {
      return s;
    }
    // Keep savepoint and statement journals in memory: the writer opens one
    // savepoint per push batch inside each group transaction, and SQLite
    // otherwise spills a savepoint's journal beyond 64 KiB to a temp file —
    // a write() per page on the push path.
    if (auto s = Exec("PRAGMA temp_store=MEMORY", "keeping temporary journals in memory");
        !s.ok()) {
      return s;
    }
    return Exec("PRAGMA foreign_keys=ON", "enabling foreign keys");
  }

  absl::Status Exec(const char* sql, absl::string_view what) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, absl::StrCat(path_, ": ", what));
    return absl::OkStatus();
  }

  // Exec for a statement run again and again (BEGIN, SAVEPOINT, COMMIT, ...):
  // prepared once and cached by the address of `sql`, a named constant or a
  // literal, so the writer does not parse it for every push batch. Fails
  // exactly as Exec does.
  absl::Status ExecCached(const char* sql, absl::string_view what) {
    sqlite3_stmt* stmt = nullptr;
    int rc = Cached(sql, &stmt);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(stmt);
      sqlite3_reset(stmt);
      if (rc == SQLITE_DONE || rc == SQLITE_ROW) return absl::OkStatus();
    }
    return SqliteError(db_, rc, absl::StrCat(path_, ": ", what));
  }

  // The cached statement for `sql` (a named constant: cached by address).
  absl::StatusOr<std::unique_ptr<Statement>> Prepare(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (int rc = Cached(sql, &stmt); rc != SQLITE_OK) {
      return SqliteError(db_, rc, absl::StrCat("preparing ", sql));
    }
    return std::make_unique<Statement>(db_, stmt);
  }

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;

  // Sets `*stmt` to the statement for `sql`, preparing and caching it on
  // first use; returns SQLite's result code.
  int Cached(const char* sql, sqlite3_stmt** stmt) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr);
      if (rc != SQLITE_OK) return rc;
      it = statements_.emplace(sql, *stmt).first;
    }
    *stmt = it->second;
    return SQLITE_OK;
  }
};

// The typed accessors over one connection. The caller brackets the calls in
// a transaction.

}  // namespace palm::server::sqlite_internal

#endif  // PALM_SERVER_SQLITE_CONNECTION_H_
