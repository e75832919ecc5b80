// The embedded SQLite server store. WAL mode with synchronous=FULL: an
// acknowledged write survives power loss. Schema changes are numbered,
// forward-only migrations recorded in the database.
//
// Threads: one writer thread owns the only read-write connection and commits
// queued units of work in groups (one transaction, one fsync for many
// batches); `reader_threads` threads each own a read-only connection (WAL
// lets them read while the writer writes). One connection, one thread.
//
// Entities are stored as their palm.v1 protobuf encoding (the wire contract,
// versioned additively) next to the columns that are queried or indexed.
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
#include "server/sqlite_connection.h"
#include "server/sqlite_sql.h"
#include "server/sqlite_txn.h"
#include "server/store.h"
#include "server/store_status.h"
#include "sync/hlc.h"
#include "sync/status_macros.h"
#include "sync/uuid.h"

namespace palm::server {

std::string GlobalScope() { return "*"; }
std::string TownScope(const std::string& town_id) { return absl::StrCat("town:", town_id); }
std::string DeviceScope(const std::string& device_id) { return absl::StrCat("device:", device_id); }
std::string FieldKey(palm::v1::CaseField field, const std::string& party_id) {
  if (party_id.empty()) return absl::StrCat(static_cast<int>(field));
  return absl::StrCat(static_cast<int>(field), ":", party_id);
}

namespace {

namespace v1 = palm::v1;
using namespace sqlite_internal;  // the store's own parts (sqlite_*.h)

class SqliteStore : public ServerStore {
 public:
  ~SqliteStore() override { (void)Close(); }

  absl::Status Open(const StoreOptions& options) {
    options_ = options;
    path_ = options.data_dir + "/palm.db";
    writer_ = std::make_unique<Connection>();
    if (auto s = writer_->Open(path_, /*read_only=*/false); !s.ok()) return s;
    if (auto s = Migrate(); !s.ok()) return s;
    if (options.max_page_count > 0) {
      // A quota (--max-store-pages); SQLite keeps it at least the current
      // size. Past it a write fails SQLITE_FULL, as on a full disk.
      const std::string pragma = absl::StrCat("PRAGMA max_page_count=", options.max_page_count);
      if (auto s = writer_->Exec(pragma.c_str(), "capping the store's size"); !s.ok()) return s;
    }
    if (auto s = LoadOrCreateEpoch(); !s.ok()) return s;
    if (auto s = LoadDevices(); !s.ok()) return s;
    for (int i = 0; i < std::max(1, options.reader_threads); ++i) {
      auto reader = std::make_unique<Connection>();
      if (auto s = reader->Open(path_, /*read_only=*/true); !s.ok()) return s;
      readers_.push_back(std::move(reader));
    }
    checkpointer_ = std::make_unique<Connection>();
    if (auto s = checkpointer_->Open(path_, /*read_only=*/false); !s.ok()) return s;
    // A connection learns that the file is in WAL mode on its first read;
    // until then a checkpoint on it does nothing and reports success.
    if (auto s = checkpointer_->Exec("SELECT count(*) FROM sqlite_schema", "reading the schema");
        !s.ok()) {
      return s;
    }
    // Replaces SQLite's auto-checkpoint on the writer (see OnWalCommit).
    sqlite3_wal_hook(writer_->db(), &SqliteStore::OnWalCommit, this);
    open_ = true;
    checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
    writer_thread_ = std::thread([this] { WriterLoop(); });
    for (auto& reader : readers_) {
      reader_threads_.emplace_back([this, conn = reader.get()] { ReaderLoop(conn); });
    }
    return absl::OkStatus();
  }

  std::string epoch() const override {
    std::lock_guard<std::mutex> lock(epoch_mutex_);
    return epoch_;
  }

  using ServerStore::SubmitWrite;
  void SubmitWrite(WriteWork work, Done done, WriteOptions options) override {
    {
      std::lock_guard<std::mutex> lock(write_mutex_);
      if (open_) {
        writes_.push_back({std::move(work), std::move(done), options.rerunnable});
        write_cv_.notify_one();
        return;
      }
    }
    done(absl::UnavailableError("the store is closed"));
  }

  void SubmitRead(ReadWork work, Done done) override {
    {
      std::lock_guard<std::mutex> lock(read_mutex_);
      if (open_) {
        reads_.push_back({std::move(work), std::move(done)});
        read_cv_.notify_one();
        return;
      }
    }
    done(absl::UnavailableError("the store is closed"));
  }

  std::optional<v1::Device> LookupDevice(const std::string& device_id) const override {
    std::lock_guard<std::mutex> lock(devices_mutex_);
    auto it = devices_.find(device_id);
    if (it == devices_.end()) return std::nullopt;
    return it->second;
  }

  absl::Status WriteConsistentCopy(const std::string& dest_path) override {
    return CopySqliteDatabase(path_, dest_path);
  }

  absl::Status AssignNewEpoch(const EpochWork& also) override {
    std::string fresh = sync::NewUuidV7();
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    absl::Status result;
    SubmitWrite(
        [this, fresh, &also](WriteTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto stmt, writer_->Prepare(kReplaceEpoch));
          stmt->Text(1, fresh);
          PALM_RETURN_IF_ERROR(stmt->Run());
          return also ? also(txn, fresh) : absl::OkStatus();
        },
        [&](absl::Status s) {
          std::lock_guard<std::mutex> lock(m);
          result = s;
          finished = true;
          cv.notify_one();
        });
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return finished; });
    if (result.ok()) {
      std::lock_guard<std::mutex> epoch_lock(epoch_mutex_);
      epoch_ = fresh;
    }
    return result;
  }

  absl::Status Close() override {
    {
      std::scoped_lock lock(write_mutex_, read_mutex_);
      if (!open_ && writer_ == nullptr) return absl::OkStatus();
      open_ = false;
      write_cv_.notify_all();
      read_cv_.notify_all();
    }
    if (writer_thread_.joinable()) writer_thread_.join();
    {
      std::lock_guard<std::mutex> lock(checkpoint_mutex_);
      checkpoint_stop_ = true;
      checkpoint_cv_.notify_all();
    }
    if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
    checkpointer_.reset();
    for (auto& t : reader_threads_) t.join();
    reader_threads_.clear();
    readers_.clear();
    absl::Status status;
    if (writer_ != nullptr) {
      // A clean checkpoint leaves palm.db whole without its -wal file.
      status = writer_->Exec("PRAGMA wal_checkpoint(TRUNCATE)", "checkpointing");
      writer_.reset();
    }
    return status;
  }

 private:
  struct WriteItem {
    WriteWork work;
    Done done;
    bool rerunnable = false;
  };
  struct ReadItem {
    ReadWork work;
    Done done;
  };

  // --- WAL checkpoints, off the writer thread. ---
  //
  // SQLite's auto-checkpoint runs inside the commit that leaves the WAL
  // kCheckpointPages long: on the writer thread, so every push batch of that
  // group waits while the WAL is copied into palm.db and palm.db is synced.
  // Instead this WAL hook (installing it turns the auto-checkpoint off) wakes
  // the checkpoint thread, which runs PASSIVE checkpoints on a connection of
  // its own: they take no write lock and never block or fail the writer.
  //
  // SQLite starts the WAL over only at a write transaction that begins when
  // every frame is already in palm.db, and a busy writer commits new frames
  // while the thread copies. So the thread copies until at most
  // kTailPages are left and then leaves that short tail to the writer's next
  // commit, which copies it inline (a few pages) so that the transaction
  // after it restarts the WAL. A WAL that still reaches
  // kInlineCheckpointPages (the thread fell behind, or long reads pin old
  // frames) is checkpointed by the writer itself, as SQLite would have. A
  // failed checkpoint loses nothing: the WAL keeps every frame.
  static constexpr int kCheckpointPages = 1000;
  static constexpr int kTailPages = 64;
  static constexpr int kInlineCheckpointPages = 16 * kCheckpointPages;

  // Runs on the writer thread after each commit, with the WAL's length.
  static int OnWalCommit(void* self, sqlite3* db, const char* /*db_name*/, int wal_pages) {
    auto* store = static_cast<SqliteStore*>(self);
    if (wal_pages >= kInlineCheckpointPages || store->checkpoint_tail_ready_.exchange(false)) {
      // SQLITE_BUSY here only means the thread is checkpointing right now.
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (wal_pages >= kCheckpointPages) {
      std::lock_guard<std::mutex> lock(store->checkpoint_mutex_);
      store->checkpoint_wanted_ = true;
      store->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void CheckpointLoop() {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(checkpoint_mutex_);
        checkpoint_cv_.wait(lock, [this] { return checkpoint_wanted_ || checkpoint_stop_; });
        if (checkpoint_stop_) return;
        checkpoint_wanted_ = false;
      }
      // Catch up with the writer, a bounded number of times.
      for (int round = 0; round < 8; ++round) {
        int wal_frames = 0;
        int copied = 0;
        int rc = sqlite3_wal_checkpoint_v2(checkpointer_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &wal_frames, &copied);
        if (rc != SQLITE_OK) break;
        if (wal_frames - copied <= kTailPages) {
          checkpoint_tail_ready_ = true;
          break;
        }
      }
    }
  }

  void WriterLoop() {
    SqliteTxn txn(writer_.get(), [this](const v1::Device& d) { CacheDevice(d); });
    txn.EnableWriterCaches();
    while (true) {
      std::vector<WriteItem> group;
      {
        std::unique_lock<std::mutex> lock(write_mutex_);
        write_cv_.wait(lock, [this] { return !writes_.empty() || !open_; });
        if (writes_.empty()) return;  // closed and drained
        while (!writes_.empty() && static_cast<int>(group.size()) < options_.max_group) {
          group.push_back(std::move(writes_.front()));
          writes_.pop_front();
        }
      }
      CommitGroup(txn, group);
    }
  }

  // Runs `group` in one transaction and answers every unit once the commit
  // is durable. A group of rerunnable units (push batches) runs first
  // without a savepoint per unit: inside a savepoint SQLite copies every
  // page a unit changes that the group had already changed (16 KiB each)
  // into the savepoint's journal, ~3 % of the writer's time in the push
  // benchmark (docs/benchmarks.md). If one of them fails, the group runs
  // again the usual way. (A group of one gains nothing: in a fresh
  // transaction its savepoint copies no page.)
  void CommitGroup(SqliteTxn& txn, std::vector<WriteItem>& group) {
    std::vector<absl::Status> results;
    std::vector<std::function<void()>> hooks;
    absl::Status commit;
    const bool rerunnable =
        group.size() > 1 &&
        std::all_of(group.begin(), group.end(), [](const WriteItem& w) { return w.rerunnable; });
    if (!RunGroup(txn, group, /*savepoints=*/!rerunnable, &results, &hooks, &commit)) {
      RunGroup(txn, group, /*savepoints=*/true, &results, &hooks, &commit);
    }
    if (commit.ok()) {
      for (auto& hook : hooks) hook();
    }
    for (size_t i = 0; i < group.size(); ++i) {
      group[i].done(commit.ok() ? results[i] : commit);
    }
  }

  // Runs every unit of `group` in one transaction and commits it, setting
  // each unit's status in `results`, the commit's in `commit`, and the
  // OnCommit hooks of the units that succeeded in `hooks`. With
  // `savepoints`, each unit runs in its own savepoint and one that fails is
  // rolled back alone. Without, a unit that fails rolls the whole
  // transaction back and RunGroup returns false, having stored nothing.
  bool RunGroup(SqliteTxn& txn, std::vector<WriteItem>& group, bool savepoints,
                std::vector<absl::Status>* results, std::vector<std::function<void()>>* hooks,
                absl::Status* commit) {
    results->assign(group.size(), absl::OkStatus());
    hooks->clear();
    txn.ForgetCached();
    *commit = writer_->ExecCached("BEGIN IMMEDIATE", "starting a write transaction");
    if (!commit->ok()) return true;
    for (size_t i = 0; i < group.size(); ++i) {
      absl::Status s = savepoints ? writer_->ExecCached("SAVEPOINT unit", "opening a savepoint")
                                  : absl::OkStatus();
      if (s.ok()) {
        s = group[i].work(txn);
        auto unit_hooks = txn.TakeHooks();
        if (s.ok()) {
          if (savepoints) s = writer_->ExecCached("RELEASE unit", "releasing a savepoint");
          for (auto& h : unit_hooks) hooks->push_back(std::move(h));
        } else if (!savepoints) {
          Abandon(txn);
          return false;
        } else {
          txn.ForgetCached();
          if (sqlite3_get_autocommit(writer_->db()) != 0) {
            // SQLite rolled the whole transaction back itself, as it may on
            // a full disk or an I/O error: every unit of the group is
            // undone, and each is told why (RESOURCE_EXHAUSTED for a full
            // disk), not that a savepoint went missing.
            *commit = s;
            break;
          }
          absl::Status undo = writer_->ExecCached("ROLLBACK TO unit", "rolling back a unit");
          if (undo.ok()) undo = writer_->ExecCached("RELEASE unit", "releasing a savepoint");
          if (!undo.ok()) {
            *commit = undo;
            break;
          }
        }
      }
      (*results)[i] = s;
    }
    if (commit->ok()) *commit = writer_->ExecCached("COMMIT", "committing");
    if (!commit->ok()) Abandon(txn);
    return true;
  }

  // Rolls back the writer's open transaction and forgets what `txn` kept
  // of it.
  void Abandon(SqliteTxn& txn) {
    txn.ForgetCached();
    sqlite3_exec(writer_->db(), "ROLLBACK", nullptr, nullptr, nullptr);
  }

  void ReaderLoop(Connection* conn) {
    SqliteTxn txn(conn);
    while (true) {
      ReadItem item;
      {
        std::unique_lock<std::mutex> lock(read_mutex_);
        read_cv_.wait(lock, [this] { return !reads_.empty() || !open_; });
        if (reads_.empty()) return;
        item = std::move(reads_.front());
        reads_.pop_front();
      }
      absl::Status s = conn->ExecCached("BEGIN", "starting a read transaction");
      if (s.ok()) {
        s = item.work(txn);
        absl::Status end = conn->ExecCached("COMMIT", "ending a read transaction");
        if (s.ok()) s = end;
      }
      item.done(s);
    }
  }

  absl::Status Migrate() {
    if (auto s =
            writer_->Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL) STRICT",
                          "creating schema_migrations");
        !s.ok()) {
      return s;
    }
    int current = 0;
    {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v2(writer_->db(),
                                  "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                                  &stmt, nullptr);
      if (rc != SQLITE_OK) return SqliteError(writer_->db(), rc, path_);
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) current = sqlite3_column_int(stmt, 0);
      sqlite3_finalize(stmt);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(writer_->db(), rc, path_);
    }
    if (current > kSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat(path_, " was written by a newer palm-server (schema ", current,
                       "; this build knows up to ", kSchemaVersion, "); upgrade palm-server"));
    }
    for (int version = current + 1; version <= kSchemaVersion; ++version) {
      if (auto s = writer_->Exec("BEGIN IMMEDIATE", "starting migration"); !s.ok()) return s;
      absl::Status s = writer_->Exec(kMigrations[version - 1], "applying migration");
      if (s.ok()) {
        std::string record =
            absl::StrCat("INSERT INTO schema_migrations VALUES (", version, ", ", NowMs(), ")");
        s = writer_->Exec(record.c_str(), "recording migration");
      }
      if (s.ok()) s = writer_->Exec("COMMIT", "committing migration");
      if (!s.ok()) {
        sqlite3_exec(writer_->db(), "ROLLBACK", nullptr, nullptr, nullptr);
        return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status LoadOrCreateEpoch() {
    {
      PALM_ASSIGN_OR_RETURN(auto stmt, writer_->Prepare(kInsertEpoch));
      stmt->Text(1, sync::NewUuidV7());
      if (auto s = stmt->Run(); !s.ok()) return s;
    }
    PALM_ASSIGN_OR_RETURN(auto stmt, writer_->Prepare(kGetEpoch));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row) epoch_ = stmt->ColumnText(0);
    if (epoch_.empty()) return absl::InternalError("the store has no epoch");
    return absl::OkStatus();
  }

  absl::Status LoadDevices() {
    SqliteTxn txn(writer_.get());
    PALM_ASSIGN_OR_RETURN(auto devices, txn.AllDevices());
    std::lock_guard<std::mutex> lock(devices_mutex_);
    for (auto& d : devices) devices_[d.device_id()] = std::move(d);
    return absl::OkStatus();
  }

  void CacheDevice(const v1::Device& device) {
    std::lock_guard<std::mutex> lock(devices_mutex_);
    devices_[device.device_id()] = device;
  }

  StoreOptions options_;
  std::string path_;

  mutable std::mutex epoch_mutex_;
  std::string epoch_;  // GUARDED_BY(epoch_mutex_)

  mutable std::mutex devices_mutex_;
  std::map<std::string, v1::Device> devices_;  // GUARDED_BY(devices_mutex_)

  // The writer connection is used only by the writer thread once it runs
  // (and by Open/Close before and after).
  std::unique_ptr<Connection> writer_;
  std::vector<std::unique_ptr<Connection>> readers_;

  std::mutex write_mutex_;
  std::condition_variable write_cv_;
  std::deque<WriteItem> writes_;  // GUARDED_BY(write_mutex_)
  std::mutex read_mutex_;
  std::condition_variable read_cv_;
  std::deque<ReadItem> reads_;  // GUARDED_BY(read_mutex_)
  bool open_ = false;           // GUARDED_BY(write_mutex_ and read_mutex_)

  std::thread writer_thread_;
  std::vector<std::thread> reader_threads_;

  // Used only by the checkpoint thread once it runs.
  std::unique_ptr<Connection> checkpointer_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;  // GUARDED_BY(checkpoint_mutex_)
  // The thread left at most kTailPages for the writer's next commit to copy.
  std::atomic<bool> checkpoint_tail_ready_{false};
  bool checkpoint_stop_ = false;  // GUARDED_BY(checkpoint_mutex_)
  std::thread checkpoint_thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ServerStore>> OpenSqliteStore(const StoreOptions& options) {
  auto store = std::make_unique<SqliteStore>();
  if (absl::Status s = store->Open(options); !s.ok()) return s;
  return store;
}

}  // namespace palm::server
