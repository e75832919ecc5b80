// The evidence log's Merkle tree (issue 6): leaf appends per second and the
// time of one inclusion proof in a tree of 10 million leaves (100,000 with
// --quick), through palm::sync::MerkleTree. Targets: >= 100,000 appends/s;
// a proof in <= 100 us.
//
// Headline figures use sync's InMemoryNodeStore ("store": "memory"). The
// server will keep the nodes in SQLite; until it does, a benchmark-local
// SQLite node store (below) gives the same figures with the nodes on disk,
// reported with the suffix _sqlite.
#include <sqlite3.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sync/merkle.h"
#include "sync/status_macros.h"
#include "tools/bench/bench.h"
#include "tools/bench/util.h"

namespace palm::bench {
namespace {

constexpr Metric kAppends{"merkle_appends_per_s", "appends/s", 100000, Better::kHigher};
constexpr Metric kProof{"merkle_proof_us_at_10m", "us", 100, Better::kLower};
constexpr Metric kAppendsSqlite{"merkle_appends_per_s_sqlite", "appends/s", 100000,
                                Better::kHigher};
constexpr Metric kProofSqlite{"merkle_proof_us_at_10m_sqlite", "us", 100, Better::kLower};

constexpr int kProofs = 10000;
constexpr int kVerifiedProofs = 100;
constexpr size_t kEntryBytes = 160;  // about a canonical evidence entry

// The log entry of leaf `index`: fixed filler with the index in front.
std::string Entry(uint64_t index) {
  std::string entry(kEntryBytes, 'e');
  std::memcpy(entry.data(), &index, sizeof index);
  return entry;
}

// Nodes in one SQLite table, as a server store would keep them. Appends are
// grouped into write transactions (Begin/Commit), as the server appends
// inside its batch transaction. One connection, one thread.
class SqliteNodeStore : public sync::MerkleNodeStore {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteNodeStore>> Open(const std::string& path) {
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
      std::string error = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      return absl::InternalError(absl::StrCat("cannot open ", path, ": ", error));
    }
    auto store = std::unique_ptr<SqliteNodeStore>(new SqliteNodeStore(db));
    PALM_RETURN_IF_ERROR(store->Exec(kSchema));
    if (sqlite3_prepare_v3(db, kGet, -1, SQLITE_PREPARE_PERSISTENT, &store->get_, nullptr) !=
            SQLITE_OK ||
        sqlite3_prepare_v3(db, kPut, -1, SQLITE_PREPARE_PERSISTENT, &store->put_, nullptr) !=
            SQLITE_OK) {
      return store->Error("prepare");
    }
    return store;
  }

  ~SqliteNodeStore() override {
    sqlite3_finalize(get_);
    sqlite3_finalize(put_);
    sqlite3_close(db_);
  }

  absl::Status Begin() { return Exec("BEGIN"); }
  absl::Status Commit() { return Exec("COMMIT"); }

  absl::StatusOr<sync::Sha256Digest> Get(uint32_t level, uint64_t index) override {
    sqlite3_reset(get_);
    sqlite3_bind_int(get_, 1, static_cast<int>(level));
    sqlite3_bind_int64(get_, 2, static_cast<sqlite3_int64>(index));
    int rc = sqlite3_step(get_);
    if (rc == SQLITE_DONE) return absl::NotFoundError(absl::StrCat("no node ", level, "/", index));
    if (rc != SQLITE_ROW || sqlite3_column_bytes(get_, 0) != 32) return Error("get");
    sync::Sha256Digest hash;
    std::memcpy(hash.data(), sqlite3_column_blob(get_, 0), hash.size());
    return hash;
  }

  absl::Status Put(uint32_t level, uint64_t index, const sync::Sha256Digest& hash) override {
    sqlite3_reset(put_);
    sqlite3_bind_int(put_, 1, static_cast<int>(level));
    sqlite3_bind_int64(put_, 2, static_cast<sqlite3_int64>(index));
    sqlite3_bind_blob(put_, 3, hash.data(), static_cast<int>(hash.size()), SQLITE_STATIC);
    if (sqlite3_step(put_) != SQLITE_DONE) return Error("put");
    return absl::OkStatus();
  }

 private:
  static constexpr char kSchema[] =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
      "CREATE TABLE merkle_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL,"
      " hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;";
  static constexpr char kGet[] = "SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2";
  static constexpr char kPut[] =
      "INSERT OR REPLACE INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)";

  explicit SqliteNodeStore(sqlite3* db) : db_(db) {}

  absl::Status Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Error(sql);
    return absl::OkStatus();
  }
  absl::Status Error(const char* what) {
    return absl::InternalError(absl::StrCat("sqlite ", what, ": ", sqlite3_errmsg(db_)));
  }

  sqlite3* db_;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
};

// Appends `leaves` entries to an empty tree over `store`, `batch` appends per
// write transaction (0: no transactions), and times proofs of random leaves
// in the whole tree. Checks the first proofs against the root.
template <typename Store>
absl::StatusOr<std::vector<Json>> Measure(Store* store, uint64_t leaves, uint64_t batch,
                                          const Metric& appends_metric, const Metric& proof_metric,
                                          std::string_view store_name) {
  sync::MerkleTree tree(store, 0);
  Stopwatch watch;
  for (uint64_t i = 0; i < leaves; ++i) {
    if constexpr (std::is_same_v<Store, SqliteNodeStore>) {
      if (i % batch == 0) PALM_RETURN_IF_ERROR(store->Begin());
    }
    absl::StatusOr<uint64_t> index = tree.Append(Entry(i));
    if (!index.ok()) return index.status();
    if constexpr (std::is_same_v<Store, SqliteNodeStore>) {
      if (i % batch == batch - 1 || i + 1 == leaves) PALM_RETURN_IF_ERROR(store->Commit());
    }
    if ((i + 1) % (leaves / 4) == 0) {
      Progress(absl::StrFormat("merkle (%s): %d leaves appended", store_name, i + 1));
    }
  }
  const double append_seconds = watch.Seconds();

  absl::StatusOr<sync::Sha256Digest> root = tree.Root(leaves);
  if (!root.ok()) return root.status();
  // Proofs of random leaves over `proving`, in microseconds each.
  auto time_proofs = [&](sync::MerkleTree& proving,
                         uint64_t seed) -> absl::StatusOr<std::vector<double>> {
    std::mt19937_64 random(seed);
    std::uniform_int_distribution<uint64_t> pick(0, leaves - 1);
    std::vector<double> micros;
    micros.reserve(kProofs);
    for (int p = 0; p < kProofs; ++p) {
      const uint64_t index = pick(random);
      Stopwatch proof_watch;
      absl::StatusOr<std::vector<sync::Sha256Digest>> proof = proving.InclusionProof(index, leaves);
      micros.push_back(proof_watch.Seconds() * 1e6);
      if (!proof.ok()) return proof.status();
      if (p < kVerifiedProofs) {
        PALM_RETURN_IF_ERROR(
            sync::VerifyInclusion(index, leaves, sync::LeafHash(Entry(index)), *proof, *root));
      }
    }
    return micros;
  };
  absl::StatusOr<std::vector<double>> uncached = time_proofs(tree, 7);
  if (!uncached.ok()) return uncached.status();
  // The server proves from committed nodes through a sync::NodeCache of the
  // upper levels (server/evidence_service.cc); in memory there is nothing
  // to save.
  std::vector<double> micros = *uncached;
  sync::NodeCache cache;
  if constexpr (std::is_same_v<Store, SqliteNodeStore>) {
    sync::CachingNodeStore cached(store, &cache);
    sync::MerkleTree cached_tree(&cached, leaves);
    // Other leaves than the uncached run's, whose reads warmed SQLite's cache.
    absl::StatusOr<std::vector<double>> warm = time_proofs(cached_tree, 8);
    if (!warm.ok()) return warm.status();
    micros = *std::move(warm);
  }

  Json appends = Measured(appends_metric, static_cast<double>(leaves) / append_seconds);
  appends["store"] = store_name;
  appends["leaves"] = leaves;
  appends["seconds"] = append_seconds;
  appends["entry_bytes"] = kEntryBytes;
  if (batch > 0) appends["appends_per_transaction"] = batch;
  Json proof = Measured(proof_metric, Median(micros));
  proof["store"] = store_name;
  proof["leaves"] = leaves;
  proof["proofs"] = kProofs;
  proof["statistic"] = "median over random leaf indices";
  proof["p99_us"] = Percentile(micros, 99);
  proof["verified_proofs"] = kVerifiedProofs;
  if constexpr (std::is_same_v<Store, SqliteNodeStore>) {
    proof["node_cache"] =
        absl::StrFormat("levels >= %d, %d nodes after the proofs", cache.min_level(), cache.size());
    proof["uncached_us"] = Median(*uncached);
    proof["uncached_p99_us"] = Percentile(*uncached, 99);
  }
  Progress(absl::StrFormat("merkle (%s): %.0f appends/s, proof median %.1f us", store_name,
                           appends["value"].get<double>(), proof["value"].get<double>()));
  return std::vector<Json>{appends, proof};
}

std::vector<Json> FailBoth(const Metric& a, const Metric& b, const absl::Status& status) {
  return {Failed(a, status.ToString()), Failed(b, status.ToString())};
}

}  // namespace

std::vector<Json> RunMerkleBench(const BenchContext& context) {
  const uint64_t leaves = context.quick ? 100'000 : 10'000'000;
  std::vector<Json> results;
  {
    sync::InMemoryNodeStore memory;
    absl::StatusOr<std::vector<Json>> measured =
        Measure(&memory, leaves, 0, kAppends, kProof, "memory");
    if (measured.ok()) {
      results = *std::move(measured);
    } else {
      results = FailBoth(kAppends, kProof, measured.status());
    }
  }
  absl::StatusOr<std::unique_ptr<SqliteNodeStore>> sqlite =
      SqliteNodeStore::Open(context.scratch_dir + "/merkle.db");
  absl::StatusOr<std::vector<Json>> measured =
      sqlite.ok() ? Measure(sqlite->get(), leaves, 1000, kAppendsSqlite, kProofSqlite, "sqlite")
                  : absl::StatusOr<std::vector<Json>>(sqlite.status());
  std::vector<Json> more = measured.ok()
                               ? *std::move(measured)
                               : FailBoth(kAppendsSqlite, kProofSqlite, measured.status());
  results.insert(results.end(), more.begin(), more.end());
  return results;
}

}  // namespace palm::bench
