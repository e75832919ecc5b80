// How storage failures become statuses (server/store_status.h, issue 18): a
// full disk is RESOURCE_EXHAUSTED on every RPC, however it shows — SQLite's
// SQLITE_FULL, an I/O error with errno ENOSPC or EDQUOT, the store's page
// cap, or ENOSPC from the blob store — and the push and pull paths keep that
// code instead of turning it into UNAVAILABLE.
#include "server/store_status.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>

#include "server/store.h"
#include "support/temp_dir.h"

namespace palm::testing {
namespace {

using server::ErrnoStatus;
using server::SqliteStatus;
using server::StoreFailure;

TEST_CASE("SQLite results map to the documented status codes") {
  absl::Status full = SqliteStatus(SQLITE_FULL, 0, "committing", "database or disk is full");
  CHECK(full.code() == absl::StatusCode::kResourceExhausted);
  CHECK(full.message() == "committing: disk full: database or disk is full");
  absl::Status io_full = SqliteStatus(SQLITE_IOERR_WRITE, ENOSPC, "committing", "disk I/O error");
  CHECK(io_full.code() == absl::StatusCode::kResourceExhausted);
  CHECK(io_full.message() == "committing: disk full: disk I/O error (No space left on device)");
  CHECK(SqliteStatus(SQLITE_IOERR_FSYNC, EDQUOT, "w", "d").code() ==
        absl::StatusCode::kResourceExhausted);
  CHECK(SqliteStatus(SQLITE_IOERR_WRITE, EIO, "w", "d").code() == absl::StatusCode::kInternal);
  CHECK(SqliteStatus(SQLITE_BUSY, 0, "w", "d").code() == absl::StatusCode::kAborted);
  CHECK(SqliteStatus(SQLITE_LOCKED, 0, "w", "d").code() == absl::StatusCode::kAborted);
  CHECK(SqliteStatus(SQLITE_CORRUPT, 0, "w", "d").code() == absl::StatusCode::kDataLoss);
  CHECK(SqliteStatus(SQLITE_NOTADB, 0, "w", "d").code() == absl::StatusCode::kDataLoss);
  CHECK(SqliteStatus(SQLITE_READONLY, 0, "w", "d").code() == absl::StatusCode::kPermissionDenied);
  CHECK(SqliteStatus(SQLITE_ERROR, 0, "w", "d").code() == absl::StatusCode::kInternal);
}

TEST_CASE("OS errors map to the documented status codes") {
  CHECK(ErrnoStatus(ENOSPC, "cannot write x").code() == absl::StatusCode::kResourceExhausted);
  CHECK(ErrnoStatus(ENOSPC, "cannot write x").message() ==
        "cannot write x: No space left on device");
  CHECK(ErrnoStatus(EDQUOT, "w").code() == absl::StatusCode::kResourceExhausted);
  CHECK(ErrnoStatus(EACCES, "w").code() == absl::StatusCode::kPermissionDenied);
  CHECK(ErrnoStatus(EIO, "w").code() == absl::StatusCode::kInternal);
}

TEST_CASE("an RPC keeps RESOURCE_EXHAUSTED and ABORTED from the store, else says UNAVAILABLE") {
  absl::Status full = StoreFailure(absl::ResourceExhaustedError("committing: disk full: x"),
                                   "the batch could not be stored; resend it");
  CHECK(full.code() == absl::StatusCode::kResourceExhausted);
  CHECK(full.message() ==
        "the server's disk is full; nothing of this call was kept: committing: disk full: x");
  absl::Status busy = StoreFailure(absl::AbortedError("database is locked"), "resend it");
  CHECK(busy.code() == absl::StatusCode::kAborted);
  CHECK(busy.message() == "database is locked");
  absl::Status other = StoreFailure(absl::InternalError("disk I/O error"), "resend it");
  CHECK(other.code() == absl::StatusCode::kUnavailable);
  CHECK(other.message() == "resend it: disk I/O error");
  CHECK(StoreFailure(absl::OkStatus(), "x").ok());
}

TEST_CASE("a store capped at its size fails its next growing write with RESOURCE_EXHAUSTED") {
  TempDir dir;
  auto store = server::OpenSqliteStore({.data_dir = dir.path().string(), .max_page_count = 1});
  REQUIRE(store.ok());
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  absl::Status result;
  (*store)->SubmitWrite(
      [](server::WriteTxn& txn) -> absl::Status {
        // Far more than the free space left in the pages it has.
        for (int i = 0; i < 2000; ++i) {
          palm::v1::Town town;
          town.set_town_id("town-" + std::to_string(i));
          town.set_name(std::string(500, 'n'));
          if (absl::Status s = txn.PutTown(town); !s.ok()) return s;
        }
        return absl::OkStatus();
      },
      [&](absl::Status s) {
        std::lock_guard<std::mutex> lock(mu);
        result = s;
        finished = true;
        cv.notify_one();
      });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return finished; });
  }
  INFO(result.ToString());
  CHECK(result.code() == absl::StatusCode::kResourceExhausted);
  CHECK(result.message().find("disk full") != absl::string_view::npos);
  CHECK((*store)->Close().ok());
}

}  // namespace
}  // namespace palm::testing
