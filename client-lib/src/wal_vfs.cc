#include "client-lib/src/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

namespace palm::internal {
namespace {

constexpr char kVfsName[] = "palm-wal-gather";
// The WAL file format (https://sqlite.org/fileformat2.html#walformat): each
// frame starts with a 24-byte header whose bytes 4..7 hold the database size
// in pages after a commit, or zero in a frame that does not commit.
constexpr int kFrameHeaderBytes = 24;
// SQLite's unix VFS writes at most 0x1ffff bytes per pwrite and refuses a
// larger write whose size is a multiple of 128 KiB (it reports SQLITE_FULL),
// so gathered bytes are handed on in pieces no larger than this.
constexpr size_t kMaxWriteBytes = 124 << 10;

std::atomic<uint64_t> g_gathered{0};
std::atomic<uint64_t> g_issued{0};
std::atomic<uint64_t> g_commits{0};
// The errno of this thread's last failed write, sync or truncate.
thread_local int t_io_errno = 0;

// Runs `call` (a platform file method) and keeps the errno it failed with;
// returns its result.
template <typename Call>
int Noted(Call&& call) {
  errno = 0;
  const int rc = call();
  if (rc != SQLITE_OK && errno != 0) t_io_errno = errno;
  return rc;
}

// Our part of a file object; the platform VFS's file object follows it in
// the same allocation (szOsFile covers both). SQLite allocates and frees the
// memory; xOpen and xClose create and destroy what it owns.
struct GatherFile {
  sqlite3_file base;
  sqlite3_file* real;     // the platform's file object, right after this one
  std::string* gathered;  // WAL files only: bytes not yet handed on
  sqlite3_int64 offset;   // where gathered[0] goes in the file
  bool committing;        // after a commit frame's header: hand on each write
};

constexpr size_t kHeaderSize = (sizeof(GatherFile) + 15) & ~size_t{15};

GatherFile* Of(sqlite3_file* file) { return reinterpret_cast<GatherFile*>(file); }
sqlite3_file* Real(sqlite3_file* file) { return Of(file)->real; }

// Hands the gathered bytes to the platform as one write. On failure they are
// dropped: the SQLite call that asked fails, and SQLite treats them as never
// written.
int Flush(GatherFile* f) {
  if (f->gathered == nullptr || f->gathered->empty()) return SQLITE_OK;
  int rc = SQLITE_OK;
  for (size_t at = 0; at < f->gathered->size() && rc == SQLITE_OK; at += kMaxWriteBytes) {
    const size_t n = std::min(kMaxWriteBytes, f->gathered->size() - at);
    rc = Noted([&] {
      return f->real->pMethods->xWrite(f->real, f->gathered->data() + at, static_cast<int>(n),
                                       f->offset + static_cast<sqlite3_int64>(at));
    });
    g_issued.fetch_add(1, std::memory_order_relaxed);
  }
  f->gathered->clear();
  return rc;
}

int Close(sqlite3_file* file) {
  GatherFile* f = Of(file);
  int flushed = Flush(f);
  delete f->gathered;
  f->gathered = nullptr;
  int rc = f->real->pMethods->xClose(f->real);
  return flushed != SQLITE_OK ? flushed : rc;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  if (int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xRead(Real(file), out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  GatherFile* f = Of(file);
  if (f->gathered == nullptr) {
    return Noted([&] { return f->real->pMethods->xWrite(f->real, data, amount, offset); });
  }
  g_gathered.fetch_add(1, std::memory_order_relaxed);
  if (!f->gathered->empty() &&
      offset != f->offset + static_cast<sqlite3_int64>(f->gathered->size())) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  if (f->gathered->empty()) f->offset = offset;
  try {
    f->gathered->append(static_cast<const char*>(data), static_cast<size_t>(amount));
  } catch (const std::bad_alloc&) {
    f->gathered->clear();
    return SQLITE_IOERR_NOMEM;
  }
  if (amount == kFrameHeaderBytes) {
    const auto* header = static_cast<const unsigned char*>(data);
    f->committing = (header[4] | header[5] | header[6] | header[7]) != 0;
    if (f->committing) g_commits.fetch_add(1, std::memory_order_relaxed);
  } else if (f->committing) {
    // The commit frame's page (or what SQLite writes after it before the
    // next transaction): on the file before SQLite publishes the commit.
    return Flush(f);
  }
  if (static_cast<int64_t>(f->gathered->size()) >= kMaxGatheredBytes) return Flush(f);
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Noted([&] { return Real(file)->pMethods->xTruncate(Real(file), size); });
}

int Sync(sqlite3_file* file, int flags) {
  if (int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Noted([&] { return Real(file)->pMethods->xSync(Real(file), flags); });
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  if (int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFileSize(Real(file), size);
}

int Lock(sqlite3_file* file, int level) { return Real(file)->pMethods->xLock(Real(file), level); }

int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}

int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  if (int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}

int SectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }

int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}

int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return Real(file)->pMethods->xShmMap(Real(file), region, size, extend, out);
}

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(file)->pMethods->xShmLock(Real(file), offset, n, flags);
}

void ShmBarrier(sqlite3_file* file) { Real(file)->pMethods->xShmBarrier(Real(file)); }

int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(file)->pMethods->xShmUnmap(Real(file), delete_flag);
}

int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  if (int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFetch(Real(file), offset, amount, out);
}

int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return Real(file)->pMethods->xUnfetch(Real(file), offset, page);
}

// One method table per io-methods version, so that SQLite sees the same
// capabilities (shared memory for WAL, memory mapping) the platform's file
// has.
constexpr sqlite3_io_methods MethodsOfVersion(int version) {
  return sqlite3_io_methods{version,
                            Close,
                            Read,
                            Write,
                            Truncate,
                            Sync,
                            FileSize,
                            Lock,
                            Unlock,
                            CheckReservedLock,
                            FileControl,
                            SectorSize,
                            DeviceCharacteristics,
                            ShmMap,
                            ShmLock,
                            ShmBarrier,
                            ShmUnmap,
                            Fetch,
                            Unfetch};
}
const sqlite3_io_methods kMethods[] = {MethodsOfVersion(1), MethodsOfVersion(2),
                                       MethodsOfVersion(3)};

sqlite3_vfs* Parent(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  GatherFile* f = Of(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kHeaderSize);
  f->gathered = nullptr;
  f->offset = 0;
  f->committing = false;
  sqlite3_vfs* parent = Parent(vfs);
  int rc = parent->xOpen(parent, name, f->real, flags, out_flags);
  // SQLite calls xClose whenever pMethods is set, even when xOpen failed.
  if (f->real->pMethods == nullptr) return rc;
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) != 0) {
    f->gathered = new (std::nothrow) std::string;
    if (f->gathered == nullptr) {
      f->real->pMethods->xClose(f->real);
      return SQLITE_NOMEM;
    }
  }
  const int version = std::clamp(f->real->pMethods->iVersion, 1, 3);
  f->base.pMethods = &kMethods[version - 1];
  return rc;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Parent(vfs)->xDelete(Parent(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Parent(vfs)->xAccess(Parent(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return Parent(vfs)->xFullPathname(Parent(vfs), name, n, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) { return Parent(vfs)->xDlOpen(Parent(vfs), name); }
void DlError(sqlite3_vfs* vfs, int n, char* out) { Parent(vfs)->xDlError(Parent(vfs), n, out); }
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return Parent(vfs)->xDlSym(Parent(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) { Parent(vfs)->xDlClose(Parent(vfs), handle); }
int Randomness(sqlite3_vfs* vfs, int n, char* out) {
  return Parent(vfs)->xRandomness(Parent(vfs), n, out);
}
int Sleep(sqlite3_vfs* vfs, int micros) { return Parent(vfs)->xSleep(Parent(vfs), micros); }
int CurrentTime(sqlite3_vfs* vfs, double* out) {
  return Parent(vfs)->xCurrentTime(Parent(vfs), out);
}
int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return Parent(vfs)->xGetLastError(Parent(vfs), n, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Parent(vfs)->xCurrentTimeInt64(Parent(vfs), out);
}
int SetSystemCall(sqlite3_vfs* vfs, const char* name, sqlite3_syscall_ptr call) {
  return Parent(vfs)->xSetSystemCall(Parent(vfs), name, call);
}
sqlite3_syscall_ptr GetSystemCall(sqlite3_vfs* vfs, const char* name) {
  return Parent(vfs)->xGetSystemCall(Parent(vfs), name);
}
const char* NextSystemCall(sqlite3_vfs* vfs, const char* name) {
  return Parent(vfs)->xNextSystemCall(Parent(vfs), name);
}

}  // namespace

const char* WalGatheringVfs() {
  static std::once_flag once;
  static sqlite3_vfs vfs;
  std::call_once(once, [] {
    sqlite3_vfs* parent = sqlite3_vfs_find(nullptr);
    std::memset(&vfs, 0, sizeof(vfs));
    vfs.iVersion = std::min(parent->iVersion, 3);
    vfs.szOsFile = static_cast<int>(kHeaderSize) + parent->szOsFile;
    vfs.mxPathname = parent->mxPathname;
    vfs.zName = kVfsName;
    vfs.pAppData = parent;
    vfs.xOpen = Open;
    vfs.xDelete = Delete;
    vfs.xAccess = Access;
    vfs.xFullPathname = FullPathname;
    vfs.xDlOpen = parent->xDlOpen != nullptr ? DlOpen : nullptr;
    vfs.xDlError = parent->xDlError != nullptr ? DlError : nullptr;
    vfs.xDlSym = parent->xDlSym != nullptr ? DlSym : nullptr;
    vfs.xDlClose = parent->xDlClose != nullptr ? DlClose : nullptr;
    vfs.xRandomness = Randomness;
    vfs.xSleep = Sleep;
    vfs.xCurrentTime = CurrentTime;
    vfs.xGetLastError = GetLastError;
    if (vfs.iVersion >= 2) vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    if (vfs.iVersion >= 3) {
      vfs.xSetSystemCall = SetSystemCall;
      vfs.xGetSystemCall = GetSystemCall;
      vfs.xNextSystemCall = NextSystemCall;
    }
    sqlite3_vfs_register(&vfs, /*makeDflt=*/0);
  });
  return kVfsName;
}

int TakeLastIoErrno() {
  const int err = t_io_errno;
  t_io_errno = 0;
  return err;
}

WalVfsStats WalVfsStatsNow() {
  WalVfsStats s;
  s.writes_gathered = g_gathered.load(std::memory_order_relaxed);
  s.writes_issued = g_issued.load(std::memory_order_relaxed);
  s.commits = g_commits.load(std::memory_order_relaxed);
  return s;
}

}  // namespace palm::internal
