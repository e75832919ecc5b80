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
// Thread safety: registration is once per process and thread-safe. A file
// object is used by one connection, which SQLite serialises.
#ifndef PALM_CLIENT_WAL_VFS_H_
#define PALM_CLIENT_WAL_VFS_H_

#include <cstdint>

namespace palm::internal {

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

// The most a WAL file holds in memory before handing it on (in writes of at
// most 124 KiB each).
inline constexpr int64_t kMaxGatheredBytes = 1 << 20;

}  // namespace palm::internal

#endif  // PALM_CLIENT_WAL_VFS_H_
