// Backups and restores (issue 18, item 1): `palmctl server backup` against a
// real palm-server while officers keep being added, the copy checked with
// SQLite and against its manifest, and `palm-server --restore-from` putting
// exactly that copy back (with a new epoch, the replaced store kept, the
// restore audited), refusing a damaged backup, a second restore of the same
// backup, and a data directory another server is using.
#include <signal.h>
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/temp_dir.h"
#include "sync/sha256.h"

namespace palm::testing {
namespace {

namespace fs = std::filesystem;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Sha256Of(const std::string& path) {
  return sync::HexEncode(sync::Sha256::Of(ReadAll(path)));
}

// One value of `sql` over the database file at `path`, as text.
std::string SqlValue(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::string value;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

// palmctl against a server on `data`, started and stopped at will.
class BackupBench {
 public:
  BackupBench() { Start(); }

  void Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--insecure-loopback"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_.emplace(data(), args);
  }
  void Stop() {
    REQUIRE(server_->Stop(SIGTERM) == 0);
    server_.reset();
  }
  ServerProcess& server() { return *server_; }

  std::vector<std::string> Argv(std::vector<std::string> args) const {
    args.insert(args.begin(), {PalmctlBinary(), "--insecure", "--server", server_->address()});
    return args;
  }
  CommandResult Run(std::vector<std::string> args) { return RunCommand(Argv(std::move(args))); }
  std::string Must(const std::vector<std::string>& args) {
    CommandResult r = Run(args);
    INFO("palmctl exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }
  std::vector<std::string> AddOfficerArgs(int n) const {
    const std::string id = "o" + std::to_string(n);
    return {"officer", "add",    "--id",   id,        "--name", id,       "--role",
            "officer", "--town", "wutong", "--squad", "sq-a",   "--sworn"};
  }
  int64_t Officers(const std::string& db) {
    return std::stoll(
        SqlValue(db, "SELECT count(*) FROM officers WHERE officer_id GLOB 'o[0-9]*'"));
  }

  std::string data() const { return dir_.File("data"); }
  std::string File(const std::string& name) const { return dir_.File(name); }

 private:
  TempDir dir_;
  std::optional<ServerProcess> server_;
};

}  // namespace

TEST_CASE("palmctl server backup copies the store online and a restore serves exactly that copy") {
  BackupBench bench;
  for (int i = 1; i <= 5; ++i) bench.Must(bench.AddOfficerArgs(i));

  // Officers keep being added while the backup runs (no Catch2 macro on
  // that thread: it only counts what succeeded).
  std::atomic<bool> stop{false};
  std::atomic<int> added{5};
  const auto writer_argv = [&bench](int n) { return bench.Argv(bench.AddOfficerArgs(n)); };
  std::thread writer([&] {
    for (int n = 6; !stop.load() && n < 400; ++n) {
      if (RunCommand(writer_argv(n)).exit_code == 0) added.store(n);
    }
  });
  CommandResult backup = bench.Run({"server", "backup", "--name", "shift-end", "--json"});
  stop.store(true);
  writer.join();
  INFO("stdout: " << backup.out << "\nstderr: " << backup.err);
  REQUIRE(backup.exit_code == 0);
  const nlohmann::json out = nlohmann::json::parse(backup.out);
  const std::string dir = fs::absolute(bench.data() + "/backups/shift-end").lexically_normal();
  CHECK(out.at("directory") == dir);
  const nlohmann::json& manifest = out.at("manifest");
  CHECK(manifest.at("format") == "palm-backup/1");
  CHECK(manifest.at("name") == "shift-end");

  // The copy: whole, one file, and what the manifest says it is.
  const std::string copy = dir + "/palm.db";
  REQUIRE(fs::exists(copy));
  CHECK_FALSE(fs::exists(copy + "-wal"));
  CHECK(SqlValue(copy, "PRAGMA integrity_check") == "ok");
  CHECK(SqlValue(copy, "PRAGMA journal_mode") == "delete");
  CHECK(manifest.at("store_sha256") == Sha256Of(copy));
  CHECK(manifest.at("store_bytes").get<int64_t>() == static_cast<int64_t>(fs::file_size(copy)));
  CHECK(manifest.at("audit_entries").get<int64_t>() ==
        std::stoll(SqlValue(copy, "SELECT count(*) FROM audit_log")));
  CHECK(manifest.at("epoch") == SqlValue(copy, "SELECT value FROM store_meta WHERE key='epoch'"));
  CHECK(fs::exists(dir + "/evidence-index.tsv"));
  CHECK(ReadAll(dir + "/evidence-index.tsv") == "sha256\tsize\tcontent\n");
  CHECK(fs::exists(dir + "/log_public_key.pem"));
  const int64_t in_backup = bench.Officers(copy);
  CHECK(in_backup >= 5);
  CHECK(in_backup <= added.load());
  // No staging directory is left behind.
  for (const auto& entry : fs::directory_iterator(bench.data() + "/backups")) {
    CHECK(entry.path().filename() == "shift-end");
  }

  // The same name again is refused and the backup stays as it was.
  CommandResult again = bench.Run({"server", "backup", "--name", "shift-end"});
  CHECK(again.exit_code == 1);
  CHECK(again.err ==
        "palmctl: BackupServer failed: ALREADY_EXISTS: backup shift-end already "
        "exists in " +
            bench.data() + "/backups: choose another name\n");
  CHECK(Sha256Of(copy) == manifest.at("store_sha256").get<std::string>());
  CommandResult bad = bench.Run({"server", "backup", "--name", "../escape"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err ==
        "palmctl: BackupServer failed: INVALID_ARGUMENT: name \"../escape\" is not a "
        "backup name: use 1-64 of a-z 0-9 . _ - , not starting with '.'\n");
  CHECK_FALSE(fs::exists(bench.data() + "/escape"));

  // More work after the backup, then the restore.
  bench.Must(bench.AddOfficerArgs(1000));
  bench.Stop();
  const std::string live_sha = Sha256Of(bench.data() + "/palm.db");
  bench.Start({"--restore-from", dir});
  const std::string log = bench.server().Log();
  INFO(log);
  CHECK(Contains(log, "\"event\":\"restored\""));
  CHECK(Contains(log, "\"event\":\"new_epoch\""));
  CHECK(Contains(log, "\"old_epoch\":\"" + manifest.at("epoch").get<std::string>() + "\""));
  const nlohmann::json officers = nlohmann::json::parse(bench.Must({"officer", "list", "--json"}));
  int64_t listed = 0;
  bool has_later = false;
  for (const nlohmann::json& o : officers.at("officers")) {
    const std::string id = o.at("officer_id");
    if (id.size() > 1 && id[0] == 'o' && std::isdigit(static_cast<unsigned char>(id[1]))) ++listed;
    if (id == "o1000") has_later = true;
  }
  CHECK(listed == in_backup);
  CHECK_FALSE(has_later);
  // The audit chain of the copy verifies, with the restore recorded on it.
  const nlohmann::json verified = nlohmann::json::parse(bench.Must({"audit", "verify", "--json"}));
  CHECK(verified.at("ok") == true);
  bench.Stop();
  CHECK(SqlValue(bench.data() + "/palm.db",
                 "SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1") == "server.restored");

  // The store it replaced is kept, whole.
  const nlohmann::json last = nlohmann::json::parse(ReadAll(bench.data() + "/last-restore.json"));
  const std::string aside = last.at("replaced_store_kept_in");
  REQUIRE(fs::exists(aside + "/palm.db"));
  CHECK(Sha256Of(aside + "/palm.db") == live_sha);

  // --restore-from left in place must not restore the same backup twice.
  CommandResult twice = RunCommand({PalmServerBinary(), "--listen", "127.0.0.1:0", "--data-dir",
                                    bench.data(), "--insecure-loopback", "--restore-from", dir});
  CHECK(twice.exit_code == 1);
  CHECK(twice.err == "palm-server: " + bench.data() + " was already restored from this backup (" +
                         dir + ", at " + last.at("restored_at").get<std::string>() +
                         "): drop --restore-from, as restoring it again would discard everything "
                         "written since\n");
}

TEST_CASE("a damaged backup is refused and the store it would replace stays as it was") {
  BackupBench bench;
  bench.Must(bench.AddOfficerArgs(1));
  bench.Must({"server", "backup", "--name", "b1"});
  bench.Must(bench.AddOfficerArgs(2));
  bench.Stop();
  const std::string dir = fs::absolute(bench.data() + "/backups/b1").lexically_normal();
  const nlohmann::json manifest = nlohmann::json::parse(ReadAll(dir + "/manifest.json"));
  // One byte changed in the copy.
  {
    std::fstream f(dir + "/palm.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x5a');
  }
  const std::string damaged_sha = Sha256Of(dir + "/palm.db");
  const std::string live_sha = Sha256Of(bench.data() + "/palm.db");
  CommandResult refused = RunCommand({PalmServerBinary(), "--listen", "127.0.0.1:0", "--data-dir",
                                      bench.data(), "--insecure-loopback", "--restore-from", dir});
  CHECK(refused.exit_code == 1);
  const std::string bytes = std::to_string(manifest.at("store_bytes").get<int64_t>());
  CHECK(refused.err == "palm-server: " + dir + "/palm.db does not match its manifest (" + bytes +
                           " bytes, sha256 " + damaged_sha + "; the manifest says " + bytes +
                           " bytes, sha256 " + manifest.at("store_sha256").get<std::string>() +
                           "): the backup is damaged or was changed\n");
  CHECK(Sha256Of(bench.data() + "/palm.db") == live_sha);
  CHECK_FALSE(fs::exists(bench.data() + "/last-restore.json"));

  // Not a backup at all.
  CommandResult not_backup =
      RunCommand({PalmServerBinary(), "--listen", "127.0.0.1:0", "--data-dir", bench.data(),
                  "--insecure-loopback", "--restore-from", bench.File("nowhere")});
  CHECK(not_backup.exit_code == 1);
  CHECK(not_backup.err == "palm-server: " + bench.File("nowhere") +
                              " is not a Palm backup: it has no manifest.json\n");
  // The store still serves what it held.
  bench.Start();
  CHECK(Contains(bench.Must({"officer", "list"}), "o2"));
}

TEST_CASE("a second palm-server on a data directory in use is refused before it touches it") {
  BackupBench bench;
  bench.Must(bench.AddOfficerArgs(1));
  CommandResult second =
      RunCommand({PalmServerBinary(), "--listen", "127.0.0.1:0", "--data-dir", bench.data(),
                  "--insecure-loopback", "--restore-from", bench.data() + "/backups/none"});
  CHECK(second.exit_code == 1);
  CHECK(second.err == "palm-server: another palm-server (pid " +
                          std::to_string(bench.server().pid()) + ") is using the data directory " +
                          bench.data() + ": stop it first, or give this one its own --data-dir\n");
  CHECK(Contains(bench.Must({"officer", "list"}), "o1"));
}

}  // namespace palm::testing
