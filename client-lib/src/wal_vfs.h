// A SQLite VFS that gathers the frames a commit appends to the WAL into one
// write.
//
// SQLite writes each WAL frame as two writes, its 24-byte header and then the
// page, so a local write that changes ten pages makes twenty pwrite calls
// before the commit's fdatasync. On one core that per-call kernel work was a
// fifth of a synchronous=FULL write's time (docs/benchmarks.md, local_write).
// This VFS wraps the platform's default VFS (SQLite's "unix") and, for WAL
// files only, keeps contiguous appends in memory and hands them to the
// platform as one write:
//
//   - when the page of a commit frame (a frame header whose "database size
//     after commit" field is not zero, per the WAL file format) has been
//     gathered — so the whole commit reaches the file before SQLite publishes
//     it in the WAL index, in every synchronous mode, and before its sync;
//   - before anything that needs the file as written: a sync, a read, a size,
//     a truncate, a file control, closing;
//   - when a write does not continue the gathered bytes (SQLite rewriting a
//     frame in place), before it; and past kMaxGatheredBytes.
//
// A write that fails when the gathered bytes are handed on fails the SQLite
// call that caused it (the commit, the read, the sync), and the gathered
// bytes are dropped: SQLite then rolls the transaction back, and frames past
// the last commit in the WAL are never read. Nothing SQLite was told is on
// the disk is held back: it is only told so by xSync, which writes first.
// Database, journal and temporary files pass straight through.
//
// It also makes group commit possible (WalDurability below): a connection in
// synchronous=NORMAL commits without syncing, and each writer then waits
// until one fdatasync of the WAL, shared with the writers that committed
// meanwhile, has covered its commit.
//
// Thread safety: registration is once per process and thread-safe. A file
// object is used by one connection, which SQLite serialises; a
// WalDurability may be used from any thread.
#ifndef PALM_CLIENT_WAL_VFS_H_
#define PALM_CLIENT_WAL_VFS_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;

namespace palm::internal {

struct WalState;

// The name of the gathering VFS, registered (not as the default) on first
// call; pass it to sqlite3_open_v2.
const char* WalGatheringVfs();

// The errno of the last write, sync or truncate through this VFS that failed
// on the calling thread (0 for none), and forgets it. SQLite does not keep
// it for a failed write (sqlite3_system_errno stays 0), so this is how a
// failure says "File too large" or "No space left on device".
int TakeLastIoErrno();

// Process-wide counts, for tests and benchmarks.
struct WalVfsStats {
  uint64_t writes_gathered = 0;  // WAL writes SQLite asked for
  uint64_t writes_issued = 0;    // WAL writes handed to the platform
  uint64_t commits = 0;          // commit frames seen
};
WalVfsStats WalVfsStatsNow();

// Group commit over the WAL of one connection that runs with
// synchronous=NORMAL: SQLite then writes a commit to the WAL (through this
// VFS, one write) and publishes it without syncing; the writer calls Sync()
// before it tells anyone the commit is durable. With FULL, SQLite would sync
// inside the commit, while the connection is busy; here the sync runs after
// it, so while one writer waits for the disk the next can commit, and one
// sync covers all of them. What is on the disk after a crash is what FULL
// would leave: SQLite's NORMAL mode never corrupts the file, and no caller
// is told a commit is durable before a sync that started after its write.
//
// A commit another connection or thread can already read may not be on the
// disk yet: anything that leaves the device (a push) must Sync() after it
// read what it sends.
//
// Lifetime: borrows the connection's WAL file; destroy it before closing
// the connection.
class WalDurability {
 public:
  // The WAL of `db`'s main database. `db` must be open on WalGatheringVfs
  // in WAL mode and have read the database once (SQLite opens the WAL then).
  static absl::StatusOr<std::unique_ptr<WalDurability>> Of(sqlite3* db);

  // Returns once everything written to the WAL before the call is on stable
  // storage. Concurrent callers share syncs: while one fdatasync runs, later
  // callers wait, and one of them leads the next, which covers them all. A
  // sync SQLite made meanwhile on any connection of this process to the same
  // WAL (before a checkpoint) counts too. The first sync this makes also
  // syncs the WAL's directory.
  //
  // A failed sync fails this and every later call, with DATA_LOSS (or
  // RESOURCE_EXHAUSTED for a full disk) naming the file and the error: the
  // kernel may have dropped the pages it could not write, so a later sync
  // that succeeds would prove nothing.
  absl::Status Sync();

  // OK, or the failure that fails every Sync() from now on: a writer checks
  // it first, so as not to commit what it could only report as failed.
  absl::Status failure() const;

  // For tests: fdatasync calls made so far (failed ones too); whether
  // everything written so far is synced; callers waiting for another's sync.
  uint64_t syncs() const;
  bool AllSynced() const;
  int TEST_waiting() const;
  // For tests: runs `hook` before each fdatasync, on the thread about to
  // make it; a non-zero result fails that sync as if fdatasync had failed
  // with that errno. Set it while no Sync() is running.
  void TEST_SetBeforeSync(std::function<int()> hook) { before_sync_ = std::move(hook); }

 private:
  explicit WalDurability(WalState* wal) : wal_(wal) {}
  absl::Status SyncFile(bool with_directory);

  std::function<int()> before_sync_;
  WalState* const wal_;
  mutable std::mutex mutex_;
  std::condition_variable synced_cv_;
  bool syncing_ ABSL_GUARDED_BY(mutex_) = false;
  bool dir_synced_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t syncs_ ABSL_GUARDED_BY(mutex_) = 0;
  int waiting_ ABSL_GUARDED_BY(mutex_) = 0;
  absl::Status failed_ ABSL_GUARDED_BY(mutex_);
};

// The most a WAL file holds in memory before handing it on (in writes of at
// most 124 KiB each).
inline constexpr int64_t kMaxGatheredBytes = 1 << 20;

}  // namespace palm::internal

#endif  // PALM_CLIENT_WAL_VFS_H_
