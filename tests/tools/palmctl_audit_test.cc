// The audit log cannot be cut or rewritten unnoticed (issue 18): a real
// palm-server, palmctl as a child process, and the store file tampered with
// through SQLite while the server is stopped — rows deleted from the end,
// or a row edited with every later hash recomputed, as whoever holds the
// file but not the server's key could do. `palmctl audit verify` names a
// cut and a rewrite as such, against the newest checkpoint in the store and
// against a checkpoint file kept before the tampering.
#include <signal.h>
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/temp_dir.h"
#include "sync/sha256.h"

namespace palm::testing {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A server on `data` (started and stopped at will) and palmctl against it.
class AuditBench {
 public:
  AuditBench() { Start(); }

  void Start() {
    // No schedule: checkpoints come with the calls below and at shutdown.
    server_.emplace(data_, std::vector<std::string>{"--insecure-loopback",
                                                    "--audit-checkpoint-interval-ms", "0"});
  }
  // SIGTERM: a clean stop, which signs a last checkpoint.
  void Stop() {
    REQUIRE(server_->Stop(SIGTERM) == 0);
    server_.reset();
  }

  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {PalmctlBinary(), "--insecure", "--server", server_->address()});
    return RunCommand(args);
  }
  std::string Must(const std::vector<std::string>& args) {
    CommandResult r = Run(args);
    INFO("palmctl exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }

  // `n` audited writes (one officer each).
  void Write(int n) {
    for (int i = 0; i < n; ++i) {
      const std::string id = "o" + std::to_string(++officers_);
      Must({"officer", "add", "--id", id, "--name", id, "--role", "officer", "--town", "wutong",
            "--squad", "sq-a", "--sworn"});
    }
  }

  uint64_t Entries() {
    const std::string out = Must({"audit", "verify", "--json"});
    return std::stoull(nlohmann::json::parse(out).at("entries").get<std::string>());
  }

  std::string File(const std::string& name) { return dir_.File(name); }
  std::string db() const { return data_ + "/palm.db"; }

 private:
  TempDir dir_;
  std::string data_ = dir_.File("data");
  std::optional<ServerProcess> server_;
  int officers_ = 0;
};

// The store file, opened as a tamperer would (the server is stopped).
class Tamper {
 public:
  explicit Tamper(const std::string& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK);
    Exec("DROP TRIGGER IF EXISTS audit_log_no_update");
    Exec("DROP TRIGGER IF EXISTS audit_log_no_delete");
  }
  ~Tamper() { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    INFO(sql << ": " << (error ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
  }

  // Changes the details of entry `seq` and recomputes the hash of it and of
  // every later entry (server/audit.h gives the canonical bytes), so that
  // the chain verifies again.
  void Rewrite(uint64_t seq, const std::string& details) {
    Exec("UPDATE audit_log SET details = '" + details + "' WHERE seq = " + std::to_string(seq));
    sqlite3_stmt* read = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_,
                               "SELECT seq, at_ms, actor, action, subject, details FROM audit_log "
                               "WHERE seq >= ?1 ORDER BY seq",
                               -1, &read, nullptr) == SQLITE_OK);
    sqlite3_bind_int64(read, 1, static_cast<int64_t>(seq));
    std::string prev = PrevHash(seq);
    struct Row {
      int64_t seq;
      std::string prev, hash;
    };
    std::vector<Row> rows;
    while (sqlite3_step(read) == SQLITE_ROW) {
      auto text = [&](int i) {
        return std::string(reinterpret_cast<const char*>(sqlite3_column_text(read, i)),
                           sqlite3_column_bytes(read, i));
      };
      auto raw = sync::HexDecodeDigest(prev);
      REQUIRE(raw.ok());
      std::string bytes = sync::DigestBytes(*raw);
      PutInt(&bytes, static_cast<uint64_t>(sqlite3_column_int64(read, 0)), 8);
      PutInt(&bytes, static_cast<uint64_t>(sqlite3_column_int64(read, 1)), 8);
      for (int i = 2; i <= 5; ++i) {
        const std::string field = text(i);
        PutInt(&bytes, field.size(), 4);
        bytes += field;
      }
      const std::string hash = sync::HexEncode(sync::Sha256::Of(bytes));
      rows.push_back({sqlite3_column_int64(read, 0), prev, hash});
      prev = hash;
    }
    sqlite3_finalize(read);
    REQUIRE(!rows.empty());
    for (const Row& r : rows) {
      Exec("UPDATE audit_log SET prev_hash = '" + r.prev + "', hash = '" + r.hash +
           "' WHERE seq = " + std::to_string(r.seq));
    }
  }

 private:
  static void PutInt(std::string* out, uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
      out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    }
  }
  std::string PrevHash(uint64_t seq) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, "SELECT prev_hash FROM audit_log WHERE seq = ?1", -1, &stmt,
                               nullptr) == SQLITE_OK);
    sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(seq));
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    std::string hash(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    sqlite3_finalize(stmt);
    return hash;
  }

  sqlite3* db_ = nullptr;
};

TEST_CASE("palmctl audit verify names a cut audit log, with the stored and a kept checkpoint",
          "[palmctl][audit]") {
  AuditBench bench;
  bench.Must({"catalog", "load", std::string(PALM_SOURCE_DIR) + "/tools/data/sample-catalog.json"});
  bench.Write(6);
  const std::string kept = bench.File("kept.json");
  const std::string saved = bench.Must({"audit", "checkpoint", "--out", kept});
  const uint64_t at_kept = bench.Entries();
  CHECK(saved.rfind("checkpoint of audit entry " + std::to_string(at_kept) + ", signed ", 0) == 0);
  CHECK(Contains(saved, ", saved to " + kept + "\n"));
  bench.Write(5);
  const uint64_t full = bench.Entries();
  REQUIRE(full == at_kept + 5);
  // Before any tampering the kept checkpoint is accepted.
  const std::string intact = bench.Must({"audit", "verify", "--checkpoint", kept});
  CHECK(intact.rfind("the audit log is intact: " + std::to_string(full) + " entries verified\n",
                     0) == 0);
  CHECK(Contains(intact, " and with the kept checkpoint of entry " + std::to_string(at_kept)));
  bench.Stop();

  // The last 3 rows deleted: the checkpoint signed at shutdown says more.
  Tamper(bench.db()).Exec("DELETE FROM audit_log WHERE seq > " + std::to_string(full - 3));
  bench.Start();
  CommandResult cut = bench.Run({"audit", "verify"});
  INFO(cut.err);
  CHECK(cut.exit_code == 1);
  CHECK(cut.err.rfind("palmctl: the audit log ends at entry " + std::to_string(full - 3) +
                          " but the stored checkpoint signed at ",
                      0) == 0);
  CHECK(Contains(cut.err, " commits to entry " + std::to_string(full) + ": the log was cut\n"));
  CommandResult json = bench.Run({"audit", "verify", "--json"});
  CHECK(json.exit_code == 1);
  CHECK(nlohmann::json::parse(json.out).at("finding") == "AUDIT_FINDING_CUT");
  bench.Stop();

  // Cut further and the stored checkpoints dropped too: only the kept file
  // still knows.
  {
    Tamper t(bench.db());
    t.Exec("DELETE FROM audit_log WHERE seq > " + std::to_string(at_kept - 2));
    t.Exec("DELETE FROM audit_checkpoints");
  }
  bench.Start();
  const std::string fooled = bench.Must({"audit", "verify"});
  CHECK(Contains(fooled, "no signed checkpoint is stored yet"));
  CommandResult caught = bench.Run({"audit", "verify", "--checkpoint", kept});
  CHECK(caught.exit_code == 1);
  CHECK(caught.err.rfind("palmctl: the audit log ends at entry " + std::to_string(at_kept - 2) +
                             " but the kept checkpoint signed at ",
                         0) == 0);
  CHECK(
      Contains(caught.err, " commits to entry " + std::to_string(at_kept) + ": the log was cut\n"));
}

TEST_CASE("palmctl audit verify names a rewritten audit log whose hashes were recomputed",
          "[palmctl][audit]") {
  AuditBench bench;
  bench.Must({"catalog", "load", std::string(PALM_SOURCE_DIR) + "/tools/data/sample-catalog.json"});
  bench.Write(6);
  const std::string kept = bench.File("kept.json");
  bench.Must({"audit", "checkpoint", "--out", kept});
  const uint64_t at_kept = bench.Entries();
  bench.Write(4);
  const uint64_t full = bench.Entries();
  bench.Stop();

  // Entry 3 edited, every later hash recomputed: the chain alone verifies.
  Tamper(bench.db()).Rewrite(3, R"({"town":"elsewhere"})");
  bench.Start();
  CommandResult rewritten = bench.Run({"audit", "verify"});
  INFO(rewritten.err);
  CHECK(rewritten.exit_code == 1);
  CHECK(rewritten.err.rfind("palmctl: entry " + std::to_string(full) +
                                "'s hash differs from the one the stored checkpoint signed at ",
                            0) == 0);
  CHECK(Contains(rewritten.err, " signed: the log was rewritten\n"));
  CommandResult json = bench.Run({"audit", "verify", "--json"});
  CHECK(nlohmann::json::parse(json.out).at("finding") == "AUDIT_FINDING_REWRITTEN");
  // The server signs no checkpoint of the rewritten log.
  CommandResult refused = bench.Run({"audit", "checkpoint", "--out", bench.File("new.json")});
  CHECK(refused.exit_code == 1);
  CHECK(Contains(refused.err,
                 "FAILED_PRECONDITION: the audit log no longer extends its newest "
                 "checkpoint (entry " +
                     std::to_string(full) + ")"));
  bench.Stop();

  // The stored checkpoints dropped as well: the kept file catches it.
  Tamper(bench.db()).Exec("DELETE FROM audit_checkpoints");
  bench.Start();
  CHECK(Contains(bench.Must({"audit", "verify"}), "no signed checkpoint is stored yet"));
  CommandResult caught = bench.Run({"audit", "verify", "--checkpoint", kept});
  CHECK(caught.exit_code == 1);
  CHECK(caught.err.rfind("palmctl: entry " + std::to_string(at_kept) +
                             "'s hash differs from the one the kept checkpoint signed at ",
                         0) == 0);
  CHECK(Contains(caught.err, " signed: the log was rewritten\n"));
}

TEST_CASE("palmctl audit verify refuses a kept checkpoint that was altered", "[palmctl][audit]") {
  AuditBench bench;
  bench.Write(2);
  const std::string kept = bench.File("kept.json");
  bench.Must({"audit", "checkpoint", "--out", kept});
  std::ifstream in(kept);
  nlohmann::json checkpoint = nlohmann::json::parse(in);
  checkpoint["entries"] = "1";
  const std::string forged = bench.File("forged.json");
  std::ofstream(forged) << checkpoint.dump();
  CommandResult r = bench.Run({"audit", "verify", "--checkpoint", forged});
  CHECK(r.exit_code == 1);
  CHECK(r.err ==
        "palmctl: VerifyAudit failed: INVALID_ARGUMENT: the checkpoint's signature does not "
        "verify under this server's key: it was altered or signed by another key\n");
  CommandResult missing = bench.Run({"audit", "verify", "--checkpoint", bench.File("none.json")});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "palmctl: " + bench.File("none.json") + " cannot be read\n");
}

TEST_CASE("palmctl audit checkpoint and verify --checkpoint have --help", "[palmctl][audit]") {
  CommandResult checkpoint = RunCommand({PalmctlBinary(), "audit", "checkpoint", "--help"});
  CHECK(checkpoint.exit_code == 0);
  CHECK(Contains(checkpoint.out, "Usage: palmctl audit checkpoint"));
  CHECK(Contains(checkpoint.out, "--out"));
  CommandResult verify = RunCommand({PalmctlBinary(), "audit", "verify", "--help"});
  CHECK(verify.exit_code == 0);
  CHECK(Contains(verify.out, "--checkpoint"));
}

}  // namespace
}  // namespace palm::testing
