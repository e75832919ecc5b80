// WAL checkpoints for the device store, off the write path.
//
// SQLite's own auto-checkpoint runs inside the commit that leaves the WAL
// 1,000 frames long: that commit copies every frame into the database file
// and syncs it before it returns, and was the p99 of local writes (1–3 ms
// where a write takes 0.05–0.2 ms; docs/benchmarks.md). A Checkpointer
// replaces it. It installs a WAL hook on the writer's connection (which turns
// SQLite's auto-checkpoint off) that, once a commit leaves kWakePages frames
// in the WAL, wakes a thread of its own; the thread runs PASSIVE checkpoints
// on a second connection to the same file. A PASSIVE checkpoint takes no
// write lock and never waits, so it neither blocks the writer nor makes it
// fail with SQLITE_BUSY.
//
// The WAL starts over from its beginning (instead of growing) only at a
// transaction that begins when the whole WAL is in the database file. A
// writer that writes back to back begins its next transaction right after
// each commit, before a checkpoint started by that commit can finish, so the
// thread alone would never let the WAL start over. The thread therefore
// checkpoints until at most kTailPages frames are left, and the next commit
// copies that tail itself (a few pages and one sync) before its writer
// begins again. A writer that pauses lets the thread copy everything.
//
// Writes that keep overtaking the thread (or a thread that keeps failing)
// must not let the WAL grow without bound: a commit that leaves kForcePages
// frames checkpoints on the committing thread, as SQLite would have, after
// any checkpoint of the thread's has finished (so it cannot collide with it).
//
// A failed checkpoint loses nothing: the WAL keeps every committed frame until
// a later checkpoint copies it. Failures are counted and the last one kept
// (stats()); nothing is logged.
//
// Thread safety: the hook runs on whichever thread commits on the writer's
// connection, one commit at a time; stats() and TEST_WaitIdle() may be called
// from any thread. The writer's connection must outlive the Checkpointer and
// must not be in use while it is started or destroyed (the hook is installed
// and removed then).
#ifndef PALM_CLIENT_CHECKPOINTER_H_
#define PALM_CLIENT_CHECKPOINTER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client-lib/src/sqlite.h"

namespace palm::internal {

class Checkpointer {
 public:
  // SQLite's default auto-checkpoint threshold, in WAL frames (pages).
  static constexpr int kWakePages = 1000;
  // What the thread leaves for the next commit to copy.
  static constexpr int kTailPages = 64;
  // Where the committing thread checkpoints whatever the thread is doing.
  static constexpr int kForcePages = 8 * kWakePages;

  struct Stats {
    // Frames the writer's commits have appended to the WAL.
    uint64_t frames_committed = 0;
    // Checkpoints run by the thread; on the committing thread to copy the
    // tail the thread left; and on the committing thread because the WAL
    // reached kForcePages.
    uint64_t background = 0;
    uint64_t tail = 0;
    uint64_t forced = 0;
    // Checkpoints refused with SQLITE_BUSY (another connection was
    // checkpointing): nothing was done and nothing is wrong; a later commit
    // asks again.
    uint64_t busy = 0;
    // Checkpoints that failed otherwise, and the last such failure (OK when
    // none has failed).
    uint64_t failures = 0;
    absl::Status last_error;
    // After the last checkpoint that succeeded: the WAL's length, and how
    // much of it is in the database file, in frames.
    int wal_frames = 0;
    int checkpointed_frames = 0;
  };

  // Opens a second connection to `path` (a database already in WAL mode),
  // installs the hook on `writer` and starts the thread. A checkpoint syncs
  // the WAL before copying it and the database file after, whatever the
  // writer's synchronous setting (FULL or NORMAL).
  static absl::StatusOr<std::unique_ptr<Checkpointer>> Start(const std::string& path, Db& writer);

  // Hands `writer` back to SQLite's own auto-checkpoint, stops and joins the
  // thread, and checkpoints once more (PASSIVE) before closing its connection.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  Stats stats() const;

  // Returns once the thread has no checkpoint asked for or under way. Tests
  // only: with writes going on at the same time it may never return.
  void TEST_WaitIdle();

 private:
  enum class Kind { kBackground, kTail, kForced };
  // What one checkpoint left: `ok` unless it failed or was refused.
  struct Outcome {
    bool ok = false;
    int wal_frames = 0;
    int checkpointed_frames = 0;
  };

  Checkpointer(std::unique_ptr<Db> db, Db& writer);

  // The WAL hook (sqlite3_wal_hook); `self` is the Checkpointer.
  static int OnCommit(void* self, sqlite3* db, const char* db_name, int wal_pages);
  // After each commit on the writer's connection, which left `wal_pages`.
  void Committed(int wal_pages) ABSL_LOCKS_EXCLUDED(mutex_);
  void Loop() ABSL_LOCKS_EXCLUDED(mutex_);
  // Runs one PASSIVE checkpoint on db_ and records its outcome.
  Outcome Checkpoint(Kind kind) ABSL_LOCKS_EXCLUDED(run_mutex_, mutex_);

  Db& writer_;
  // The WAL's length after the last commit (the hook's alone).
  int wal_pages_ = 0;
  std::atomic<uint64_t> frames_committed_{0};

  // Held for the whole of each checkpoint: db_ is used by one thread at a
  // time, and a commit's checkpoint waits for the thread's.
  std::mutex run_mutex_;
  std::unique_ptr<Db> db_ ABSL_GUARDED_BY(run_mutex_);

  mutable std::mutex mutex_;
  std::condition_variable wake_;  // requested_ or stop_ became true
  std::condition_variable idle_;  // the thread went back to waiting
  bool requested_ ABSL_GUARDED_BY(mutex_) = false;
  bool running_ ABSL_GUARDED_BY(mutex_) = false;
  bool stop_ ABSL_GUARDED_BY(mutex_) = false;
  // Counts the times the WAL started over. A checkpoint's outcome says how
  // long a tail is left only while the WAL it saw is still the current one.
  uint64_t generation_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t outcome_generation_ ABSL_GUARDED_BY(mutex_) = 0;
  Stats stats_ ABSL_GUARDED_BY(mutex_);

  std::thread thread_;
};

}  // namespace palm::internal

#endif  // PALM_CLIENT_CHECKPOINTER_H_
