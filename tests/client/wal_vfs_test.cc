// The WAL-gathering VFS (client-lib/src/wal_vfs.h): a commit reaches the WAL
// file in one write; every commit is on the file before the next statement of
// any connection can see it, in every synchronous mode; transactions larger
// than the page cache and than what it gathers commit whole and roll back
// whole; and a write the disk refuses fails the write that needed it, with a
// status that names the reason, and loses nothing already stored.
#include "client-lib/src/wal_vfs.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

using internal::WalGatheringVfs;
using internal::WalVfsStats;
using internal::WalVfsStatsNow;

// A raw connection; `vfs` null: SQLite's default VFS.
struct Conn {
  sqlite3* db = nullptr;
  Conn(const std::string& path, const char* vfs) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) ==
            SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
  }
  ~Conn() { sqlite3_close(db); }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << ": " << (err != nullptr ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }

  // The first column of the first row of `sql`, as text.
  std::string One(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) out = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
    return out;
  }
};

TEST_CASE("a commit reaches the WAL file in one write") {
  TempDir dir;
  Conn c(dir.File("one.db"), WalGatheringVfs());
  c.Exec("PRAGMA journal_mode = WAL");
  c.Exec("PRAGMA synchronous = FULL");
  c.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT UNIQUE, b TEXT UNIQUE)");
  c.Exec("INSERT INTO t (a, b) VALUES ('warm', 'up')");  // the WAL header is written

  const WalVfsStats before = WalVfsStatsNow();
  // Three b-trees change (the table and two indexes): three frames, each a
  // header and a page.
  c.Exec("INSERT INTO t (a, b) VALUES ('x', 'y')");
  const WalVfsStats after = WalVfsStatsNow();
  CHECK(after.writes_gathered - before.writes_gathered == 6);
  CHECK(after.writes_issued - before.writes_issued == 1);
  CHECK(after.commits - before.commits == 1);
}

TEST_CASE("another connection sees each commit as soon as it returns, in every synchronous mode") {
  for (const char* mode : {"OFF", "NORMAL", "FULL"}) {
    DYNAMIC_SECTION("synchronous=" << mode) {
      TempDir dir;
      const std::string path = dir.File("seen.db");
      Conn writer(path, WalGatheringVfs());
      writer.Exec("PRAGMA journal_mode = WAL");
      writer.Exec(std::string("PRAGMA synchronous = ") + mode);
      writer.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
      Conn reader(path, nullptr);  // SQLite's own VFS
      int64_t bytes = 0;
      for (int i = 1; i <= 200; ++i) {
        const int size = 100 + (i * 7919) % 20000;  // up to five pages
        writer.Exec("INSERT INTO t (body) VALUES (zeroblob(" + std::to_string(size) + "))");
        bytes += size;
        INFO("after commit " << i);
        REQUIRE(reader.One("SELECT count(*) || ' ' || sum(length(body)) FROM t") ==
                std::to_string(i) + " " + std::to_string(bytes));
      }
    }
  }
}

TEST_CASE(
    "a transaction larger than the page cache and the gathering limit commits or rolls back "
    "whole") {
  TempDir dir;
  const std::string path = dir.File("big.db");
  constexpr int kRows = 3000;  // ~6 MiB of rows: past kMaxGatheredBytes, cache spills
  {
    Conn writer(path, WalGatheringVfs());
    writer.Exec("PRAGMA journal_mode = WAL");
    writer.Exec("PRAGMA synchronous = NORMAL");
    writer.Exec("PRAGMA cache_size = 20");  // pages: SQLite spills to the WAL mid-transaction
    writer.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, tag TEXT UNIQUE, body BLOB NOT NULL)");
    writer.Exec("BEGIN");
    for (int i = 0; i < kRows; ++i) {
      writer.Exec("INSERT INTO t (id, tag, body) VALUES (" + std::to_string(i) + ", 'tag-" +
                  std::to_string(i) + "', randomblob(2000))");
    }
    // Rewrites pages already spilled in this transaction: SQLite overwrites
    // their frames in place.
    writer.Exec("UPDATE t SET body = zeroblob(1999) WHERE id % 7 = 0");
    writer.Exec("COMMIT");

    Conn reader(path, nullptr);
    const std::string expected = std::to_string(kRows) + " " + std::to_string(kRows / 7 + 1);
    const std::string query =
        "SELECT count(*) || ' ' || sum(length(body) = 1999) FROM t WHERE tag = 'tag-' || id";
    CHECK(reader.One(query) == expected);

    writer.Exec("BEGIN");
    writer.Exec("DELETE FROM t WHERE id % 2 = 0");
    writer.Exec("INSERT INTO t (id, tag, body) SELECT id + 100000, 'x' || id, body FROM t");
    writer.Exec("ROLLBACK");
    CHECK(reader.One(query) == expected);
    CHECK(writer.One(query) == expected);
  }
  // Reopened, through both VFSs.
  Conn again(path, WalGatheringVfs());
  CHECK(again.One("PRAGMA integrity_check") == "ok");
  CHECK(again.One("SELECT count(*) FROM t") == std::to_string(kRows));
  CHECK(IntegrityCheck(path) == "ok");
}

// The child: records cases under a file-size limit until a write fails;
// reports each acknowledged case ("C <id>") and then the failure
// ("F <code> <message>") on `fd`. Never returns.
[[noreturn]] void WriteUntilFull(const ClientOptions& options, rlim_t limit, int fd) {
  auto say = [fd](const std::string& line) {
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
  };
  Result<std::unique_ptr<Client>> c = Client::Open(options);
  if (!c.ok() || !(*c)->SetActingOfficer(kSworn).ok()) _exit(3);
  ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
  rlimit r{limit, limit};
  if (::setrlimit(RLIMIT_FSIZE, &r) != 0) _exit(4);
  for (int i = 0; i < 100000; ++i) {
    Result<std::string> case_id = (*c)->RecordCase(SummaryCase());
    if (!case_id.ok()) {
      say("F " + std::to_string(static_cast<int>(case_id.status().code())) + " " +
          case_id.status().message() + "\n");
      _exit(0);
    }
    say("C " + *case_id + "\n");
  }
  _exit(6);
}

TEST_CASE("a write the disk refuses fails with the reason and loses nothing already stored") {
  Device d;
  ClientOptions options = d.Options();
  d.client.reset();
  const uintmax_t db_bytes = std::filesystem::file_size(d.db_path());
  // Room for a few hundred frames past what the files hold now.
  const ForkedChild child = ForkChild(
      [&](int fd) { WriteUntilFull(options, static_cast<rlim_t>(db_bytes + (1 << 20)), fd); });
  const std::string out = ReadToEnd(child.fd);
  int wstatus = 0;
  REQUIRE(::waitpid(child.pid, &wstatus, 0) == child.pid);
  INFO("child exit status " << wstatus << ", said:\n"
                            << out.substr(out.size() > 300 ? out.size() - 300 : 0));
  REQUIRE(WIFEXITED(wstatus));
  REQUIRE(WEXITSTATUS(wstatus) == 0);

  std::set<std::string> acked;
  std::string failure;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("C ", 0) == 0) acked.insert(line.substr(2));
    if (line.rfind("F ", 0) == 0) failure = line.substr(2);
  }
  REQUIRE(acked.size() > 10);
  // RESOURCE_EXHAUSTED, naming the operating system's reason.
  CHECK(failure == std::to_string(static_cast<int>(StatusCode::kResourceExhausted)) +
                       " sqlite: disk I/O error (File too large)");

  d.Reopen();
  CHECK(IntegrityCheck(d.db_path()) == "ok");
  for (const std::string& id : acked) {
    INFO(id);
    CHECK(d.client->GetCase(id).ok());
  }
  // Exactly the acknowledged writes are waiting to be synced: the refused
  // one left nothing behind.
  Result<PendingSyncCounts> pending = d.client->PendingCounts();
  REQUIRE(pending.ok());
  CHECK(pending->mutations == acked.size());
  // The store takes writes again once there is room.
  REQUIRE(d.client->SetActingOfficer(kSworn).ok());
  CHECK(d.client->RecordCase(SummaryCase()).ok());
}

}  // namespace
}  // namespace palm::testing
