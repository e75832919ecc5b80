// Group commit (client-lib/src/wal_vfs.h, WalDurability): a durable write
// returns only once a sync that began after its commit has finished; writers
// that commit while a sync is under way share the next one, and a sync
// SQLite made for a checkpoint counts; a failed sync
// fails the write that waited for it and every later one, with a status that
// names the file and the error; and whatever a push reads is synced first,
// in either durability mode.
#include <sqlite3.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client-lib/src/wal_vfs.h"
#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

using internal::WalDurability;
using internal::WalGatheringVfs;

// A connection through the gathering VFS, in WAL mode and
// synchronous=NORMAL, with a table to write to.
struct WalConn {
  sqlite3* db = nullptr;
  std::unique_ptr<WalDurability> wal;

  explicit WalConn(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            WalGatheringVfs()) == SQLITE_OK);
    Exec("PRAGMA journal_mode = WAL");
    Exec("PRAGMA synchronous = NORMAL");
    Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    absl::StatusOr<std::unique_ptr<WalDurability>> of = WalDurability::Of(db);
    INFO(of.status().ToString());
    REQUIRE(of.ok());
    wal = std::move(*of);
  }
  ~WalConn() {
    wal.reset();
    sqlite3_close(db);
  }

  // Not for worker threads (Catch2's macros are not thread-safe): returns
  // the SQLite result code.
  int TryExec(const std::string& sql) {
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  void Exec(const std::string& sql) {
    INFO(sql);
    REQUIRE(TryExec(sql) == SQLITE_OK);
  }
};

TEST_CASE("a sync covers what was committed and is made only when something is unsynced") {
  TempDir dir;
  WalConn c(dir.File("one.db"));
  REQUIRE(c.wal->Sync().ok());  // the table, and the WAL's directory entry
  const uint64_t base = c.wal->syncs();
  CHECK(c.wal->AllSynced());

  c.Exec("INSERT INTO t (body) VALUES ('a')");
  CHECK_FALSE(c.wal->AllSynced());  // NORMAL: the commit did not sync
  REQUIRE(c.wal->Sync().ok());
  CHECK(c.wal->AllSynced());
  CHECK(c.wal->syncs() == base + 1);

  // Nothing new: no fdatasync.
  REQUIRE(c.wal->Sync().ok());
  CHECK(c.wal->syncs() == base + 1);

  // Two commits, one sync.
  c.Exec("INSERT INTO t (body) VALUES ('b')");
  c.Exec("INSERT INTO t (body) VALUES ('c')");
  REQUIRE(c.wal->Sync().ok());
  CHECK(c.wal->syncs() == base + 2);
  CHECK(c.wal->AllSynced());
}

TEST_CASE("a checkpoint's sync of the WAL on another connection counts as the writer's sync") {
  TempDir dir;
  const std::string path = dir.File("shared.db");
  WalConn c(path);
  REQUIRE(c.wal->Sync().ok());
  const uint64_t base = c.wal->syncs();
  c.Exec("INSERT INTO t (body) VALUES ('a')");
  REQUIRE_FALSE(c.wal->AllSynced());

  // SQLite syncs the WAL before it copies frames into the database.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &other, SQLITE_OPEN_READWRITE, WalGatheringVfs()) ==
          SQLITE_OK);
  // (A connection finds the WAL at its first read.)
  REQUIRE(sqlite3_exec(other, "SELECT count(*) FROM t", nullptr, nullptr, nullptr) == SQLITE_OK);
  int log = -1, copied = -1;
  REQUIRE(sqlite3_wal_checkpoint_v2(other, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied) ==
          SQLITE_OK);
  CHECK(log > 0);
  CHECK(copied == log);
  CHECK(c.wal->AllSynced());
  REQUIRE(c.wal->Sync().ok());
  CHECK(c.wal->syncs() == base);  // nothing left to sync
  sqlite3_close(other);
}

TEST_CASE("writers that commit while a sync is under way share the next sync") {
  TempDir dir;
  WalConn c(dir.File("group.db"));
  REQUIRE(c.wal->Sync().ok());
  const uint64_t base = c.wal->syncs();
  constexpr int kWriters = 4;

  // The first writer's sync waits in the hook until the other writers have
  // committed and are all waiting for a sync of their own.
  std::atomic<bool> first_in_sync{false};
  std::atomic<int> hook_calls{0};
  c.wal->TEST_SetBeforeSync([&]() -> int {
    if (hook_calls.fetch_add(1) == 0) {
      first_in_sync = true;
      while (c.wal->TEST_waiting() < kWriters)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return 0;
  });

  std::mutex connection;  // one connection: its statements one at a time
  absl::Status first_status;
  int first_rc = SQLITE_OK;
  std::thread first([&] {
    {
      std::lock_guard<std::mutex> lock(connection);
      first_rc = c.TryExec("INSERT INTO t (body) VALUES ('first')");
    }
    first_status = c.wal->Sync();
  });
  while (!first_in_sync) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  std::vector<int> rcs(kWriters, SQLITE_OK);
  std::vector<absl::Status> statuses(kWriters);
  std::vector<uint64_t> syncs_when_done(kWriters, 0);
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      {
        std::lock_guard<std::mutex> lock(connection);
        rcs[i] = c.TryExec("INSERT INTO t (body) VALUES ('w" + std::to_string(i) + "')");
      }
      statuses[i] = c.wal->Sync();
      syncs_when_done[i] = c.wal->syncs();
    });
  }
  for (std::thread& w : writers) w.join();
  first.join();

  REQUIRE(first_rc == SQLITE_OK);
  CHECK(first_status.ok());
  for (int i = 0; i < kWriters; ++i) {
    INFO("writer " << i << ": " << statuses[i].ToString());
    CHECK(rcs[i] == SQLITE_OK);
    CHECK(statuses[i].ok());
    // Not released by the first writer's sync, which began before they
    // committed: only by the one after it.
    CHECK(syncs_when_done[i] == base + 2);
  }
  // Five commits, two syncs.
  CHECK(c.wal->syncs() == base + 2);
  CHECK(c.wal->AllSynced());
}

TEST_CASE("a failed sync fails its waiters and every later sync, naming the file and the error") {
  TempDir dir;
  const std::string path = dir.File("failing.db");
  WalConn c(path);
  REQUIRE(c.wal->Sync().ok());
  c.Exec("INSERT INTO t (body) VALUES ('lost?')");
  c.wal->TEST_SetBeforeSync([] { return EIO; });
  const std::string expected = "sqlite: fdatasync of " + path +
                               "-wal failed (Input/output error): writes since the last sync may "
                               "not be on the disk; reopen the database before writing again";
  absl::Status failed = c.wal->Sync();
  CHECK(failed.code() == absl::StatusCode::kDataLoss);
  CHECK(std::string(failed.message()) == expected);

  // The kernel may have dropped what it could not write: a later sync that
  // succeeds would prove nothing, so later syncs fail the same way.
  c.wal->TEST_SetBeforeSync(nullptr);
  c.Exec("INSERT INTO t (body) VALUES ('after')");
  absl::Status later = c.wal->Sync();
  CHECK(later.code() == absl::StatusCode::kDataLoss);
  CHECK(std::string(later.message()) == expected);

  SECTION("a full disk is RESOURCE_EXHAUSTED") {
    WalConn d(dir.File("full.db"));
    d.Exec("INSERT INTO t (body) VALUES ('x')");
    d.wal->TEST_SetBeforeSync([] { return ENOSPC; });
    absl::Status full = d.wal->Sync();
    CHECK(full.code() == absl::StatusCode::kResourceExhausted);
    CHECK(std::string(full.message()).find("-wal failed (No space left on device)") !=
          std::string::npos);
  }
}

TEST_CASE("WalDurability needs a WAL opened through the gathering VFS") {
  TempDir dir;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.File("plain.db").c_str(), &db) == SQLITE_OK);  // SQLite's own VFS
  REQUIRE(sqlite3_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE t (x)", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  absl::StatusOr<std::unique_ptr<WalDurability>> of = WalDurability::Of(db);
  CHECK(of.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(of.status().message() ==
        "sqlite: the database's write-ahead log is not open through the palm-wal-gather VFS");
  sqlite3_close(db);
}

TEST_CASE("a durable write returns synced, a kNormal write is synced before a push reads it") {
  Device d;
  internal::DeviceStore& store = d.store();
  Result<std::string> case_id = d.client->RecordCase(SummaryCase());
  REQUIRE(case_id.ok());
  CHECK(store.TEST_wal().AllSynced());

  d.durability = Durability::kNormal;
  d.Reopen();
  REQUIRE(d.client->SetActingOfficer(kSworn).ok());
  internal::DeviceStore& normal = d.store();
  const uint64_t syncs = normal.TEST_wal().syncs();
  Result<std::string> second = d.client->RecordCase(SummaryCase());
  REQUIRE(second.ok());
  CHECK_FALSE(normal.TEST_wal().AllSynced());
  CHECK(normal.TEST_wal().syncs() == syncs);

  absl::StatusOr<std::vector<internal::OutboxEntry>> outbox = normal.OutboxFrom(1, 100);
  REQUIRE(outbox.ok());
  REQUIRE(outbox->size() == 2);
  CHECK(normal.TEST_wal().AllSynced());
  CHECK(normal.TEST_wal().syncs() == syncs + 1);
}

TEST_CASE("after a failed sync the store commits nothing more until it is reopened") {
  Device d;
  d.store().TEST_wal().TEST_SetBeforeSync([] { return EIO; });
  Result<std::string> failed = d.client->RecordCase(SummaryCase());
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().code() == StatusCode::kDataLoss);
  CHECK(failed.status().message().rfind(
            "sqlite: fdatasync of " + d.db_path() + "-wal failed (Input/output error)", 0) == 0);
  // That write committed before its sync failed: it may or may not survive
  // a crash, and the caller was told so.
  absl::StatusOr<uint64_t> seq = d.store().LastDeviceSeq();
  REQUIRE(seq.ok());
  CHECK(*seq == 1);

  // Later writes are refused before they commit: the same status, and
  // nothing written — the local write path and the sync's writes alike.
  d.store().TEST_wal().TEST_SetBeforeSync(nullptr);
  Result<std::string> later = d.client->RecordCase(SummaryCase());
  CHECK(later.status().code() == StatusCode::kDataLoss);
  CHECK(later.status().message() == failed.status().message());
  absl::Status cursor = d.store().SetSyncCursor("cursor", "epoch");
  CHECK(cursor.code() == absl::StatusCode::kDataLoss);
  seq = d.store().LastDeviceSeq();
  REQUIRE(seq.ok());
  CHECK(*seq == 1);
  absl::StatusOr<std::pair<std::string, std::string>> stored = d.store().SyncCursor();
  REQUIRE(stored.ok());
  CHECK(stored->first.empty());

  // Reopened, the store works again and the file is sound.
  d.Reopen();
  REQUIRE(d.client->SetActingOfficer(kSworn).ok());
  CHECK(IntegrityCheck(d.db_path()) == "ok");
  Result<std::string> again = d.client->RecordCase(SummaryCase());
  INFO(again.status().ToString());
  CHECK(again.ok());
}

TEST_CASE("writes from many threads through one client are all stored, gapless, and synced") {
  Device d(/*seed=*/true, /*ticket_numbers=*/1000);
  internal::DeviceStore& store = d.store();
  const uint64_t syncs_before = store.TEST_wal().syncs();
  constexpr int kThreads = 8;
  constexpr int kCasesEach = 25;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::string> errors(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kCasesEach; ++i) {
          Result<std::string> id = d.client->RecordCase(SummaryCase());
          if (!id.ok()) {
            errors[t] = id.status().message();
            return;
          }
          Result<Ticket> ticket = d.client->IssueTicket(ValidTicket(*id));
          if (!ticket.ok()) {
            errors[t] = ticket.status().message();
            return;
          }
          ids[t].push_back(*id);
        }
      });
    }
  }
  std::set<std::string> all;
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t << ": " << errors[t]);
    CHECK(errors[t].empty());
    CHECK(ids[t].size() == kCasesEach);
    all.insert(ids[t].begin(), ids[t].end());
  }
  CHECK(all.size() == kThreads * kCasesEach);
  CHECK(store.TEST_wal().AllSynced());
  // Never more than one sync per write (each waits for at most its own).
  const uint64_t writes = 2 * kThreads * kCasesEach;
  CHECK(store.TEST_wal().syncs() - syncs_before <= writes);

  absl::StatusOr<std::vector<internal::OutboxEntry>> outbox = store.Outbox();
  REQUIRE(outbox.ok());
  REQUIRE(outbox->size() == writes);
  for (size_t i = 0; i < outbox->size(); ++i) CHECK((*outbox)[i].mutation.device_seq() == i + 1);
}

}  // namespace
}  // namespace palm::testing
