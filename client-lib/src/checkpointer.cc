#include "client-lib/src/checkpointer.h"

#include <sqlite3.h>

#include <cstring>
#include <utility>

#include "client-lib/src/macros.h"

namespace palm::internal {

absl::StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path,
                                                                  Db& writer) {
  PALM_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(path, /*read_only=*/false));
  // Never OFF, whatever SQLite was built with: a checkpoint must sync.
  PALM_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = FULL"));
  // A connection learns that the file is in WAL mode from its first read;
  // until then sqlite3_wal_checkpoint_v2 does nothing and reports success.
  PALM_RETURN_IF_ERROR(db->Exec("SELECT count(*) FROM sqlite_schema"));
  std::unique_ptr<Checkpointer> checkpointer(new Checkpointer(std::move(db), writer));
  checkpointer->thread_ = std::thread([c = checkpointer.get()] { c->Loop(); });
  // Replaces (and so turns off) SQLite's auto-checkpoint on `writer`.
  sqlite3_wal_hook(writer.raw(), &Checkpointer::OnCommit, checkpointer.get());
  return checkpointer;
}

Checkpointer::Checkpointer(std::unique_ptr<Db> db, Db& writer)
    : writer_(writer), db_(std::move(db)) {}

Checkpointer::~Checkpointer() {
  sqlite3_wal_autocheckpoint(writer_.raw(), kWakePages);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  Checkpoint(Kind::kBackground);
}

int Checkpointer::OnCommit(void* self, sqlite3* /*db*/, const char* db_name, int wal_pages) {
  if (std::strcmp(db_name, "main") == 0) static_cast<Checkpointer*>(self)->Committed(wal_pages);
  // Whatever became of a checkpoint, the commit has happened: never report
  // an error for it.
  return SQLITE_OK;
}

void Checkpointer::Committed(int wal_pages) {
  // A WAL shorter than after the last commit was started over by this one.
  const bool restarted = wal_pages < wal_pages_;
  frames_committed_.fetch_add(static_cast<uint64_t>(restarted ? wal_pages : wal_pages - wal_pages_),
                              std::memory_order_relaxed);
  wal_pages_ = wal_pages;
  if (wal_pages < kWakePages) {
    if (restarted) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++generation_;
    }
    return;
  }
  if (wal_pages >= kForcePages) {
    Checkpoint(Kind::kForced);
    return;
  }
  bool copy_tail = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (restarted) ++generation_;
    if (running_ || requested_) return;
    // The thread stopped with at most kTailPages left, and this commit (or
    // the few that came while it was stopping) added some more: copy them
    // now, so that the writer's next transaction starts the WAL over.
    copy_tail = outcome_generation_ == generation_ &&
                wal_pages - stats_.checkpointed_frames <= 2 * kTailPages;
    if (!copy_tail) requested_ = true;
  }
  if (copy_tail) {
    Checkpoint(Kind::kTail);
  } else {
    wake_.notify_one();
  }
}

void Checkpointer::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return requested_ || stop_; });
    if (stop_) break;
    requested_ = false;
    running_ = true;
    lock.unlock();
    // Catch up until no more than the tail is left (a writer that keeps
    // writing adds frames meanwhile) or a checkpoint did not run.
    for (;;) {
      Outcome outcome = Checkpoint(Kind::kBackground);
      if (!outcome.ok || outcome.wal_frames - outcome.checkpointed_frames <= kTailPages) break;
      std::lock_guard<std::mutex> stopping(mutex_);
      if (stop_) break;
    }
    lock.lock();
    running_ = false;
    idle_.notify_all();
  }
  idle_.notify_all();
}

Checkpointer::Outcome Checkpointer::Checkpoint(Kind kind) {
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation = generation_;
  }
  Outcome outcome;
  int rc = SQLITE_OK;
  absl::Status error;
  {
    std::lock_guard<std::mutex> run(run_mutex_);
    rc = sqlite3_wal_checkpoint_v2(db_->raw(), "main", SQLITE_CHECKPOINT_PASSIVE,
                                   &outcome.wal_frames, &outcome.checkpointed_frames);
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) error = db_->Error("wal checkpoint");
  }
  outcome.ok = rc == SQLITE_OK;

  std::lock_guard<std::mutex> lock(mutex_);
  switch (kind) {
    case Kind::kBackground:
      ++stats_.background;
      break;
    case Kind::kTail:
      ++stats_.tail;
      break;
    case Kind::kForced:
      ++stats_.forced;
      break;
  }
  if (outcome.ok) {
    stats_.wal_frames = outcome.wal_frames;
    stats_.checkpointed_frames = outcome.checkpointed_frames;
    outcome_generation_ = generation;
  } else if ((rc & 0xff) == SQLITE_BUSY) {
    ++stats_.busy;
  } else {
    ++stats_.failures;
    stats_.last_error = std::move(error);
  }
  return outcome;
}

Checkpointer::Stats Checkpointer::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats stats = stats_;
  stats.frames_committed = frames_committed_.load(std::memory_order_relaxed);
  return stats;
}

void Checkpointer::TEST_WaitIdle() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return stop_ || (!requested_ && !running_); });
}

}  // namespace palm::internal
