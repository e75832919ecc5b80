#include "client-lib/src/wal_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sync/fsync.h"

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

}  // namespace

// What every connection's handle on one WAL file (one inode) shares.
struct WalShared {
  // Writes and truncations handed to the platform so far, counted after each
  // returned; WalDurability reads it from other threads.
  std::atomic<uint64_t> changes{0};
  // A sync that succeeded covered every change counted before it began.
  std::atomic<uint64_t> synced{0};

  void NoteSynced(uint64_t through) {
    uint64_t seen = synced.load(std::memory_order_relaxed);
    while (seen < through &&
           !synced.compare_exchange_weak(seen, through, std::memory_order_release)) {
    }
  }
};

// What a WAL file keeps besides the platform's file object.
struct WalState {
  std::string path;
  std::string gathered;  // bytes not yet handed on
  std::shared_ptr<WalShared> shared;
  // A descriptor of the file of its own, for WalDurability::Sync: it syncs
  // from any thread without touching the platform's file object, which only
  // the connection's thread may use.
  int sync_fd = -1;
};

namespace {

// The WalShared of each WAL file some connection of this process has open,
// by device and inode: a checkpoint's sync on one connection covers the
// writes of another. (Only the last connection to close deletes a WAL, so a
// live entry's inode is not reused.)
std::mutex g_shared_mutex;
std::map<std::pair<dev_t, ino_t>, std::weak_ptr<WalShared>>* g_shared = nullptr;

std::shared_ptr<WalShared> SharedFor(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return nullptr;
  std::lock_guard<std::mutex> lock(g_shared_mutex);
  if (g_shared == nullptr)
    g_shared = new std::map<std::pair<dev_t, ino_t>, std::weak_ptr<WalShared>>;
  std::erase_if(*g_shared, [](const auto& entry) { return entry.second.expired(); });
  std::weak_ptr<WalShared>& slot = (*g_shared)[{st.st_dev, st.st_ino}];
  std::shared_ptr<WalShared> shared = slot.lock();
  if (shared == nullptr) {
    shared = std::make_shared<WalShared>();
    slot = shared;
  }
  return shared;
}

// Our part of a file object; the platform VFS's file object follows it in
// the same allocation (szOsFile covers both). SQLite allocates and frees the
// memory; xOpen and xClose create and destroy what it owns.
struct GatherFile {
  sqlite3_file base;
  sqlite3_file* real;    // the platform's file object, right after this one
  WalState* wal;         // WAL files only
  sqlite3_int64 offset;  // where wal->gathered[0] goes in the file
  bool committing;       // after a commit frame's header: hand on each write
};

constexpr size_t kHeaderSize = (sizeof(GatherFile) + 15) & ~size_t{15};

GatherFile* Of(sqlite3_file* file) { return reinterpret_cast<GatherFile*>(file); }
sqlite3_file* Real(sqlite3_file* file) { return Of(file)->real; }

// Counts a write or truncation of a WAL file that the platform completed,
// after it returned: a WalDurability::Sync that sees the count starts its
// sync after the change reached the file.
void CountChange(GatherFile* f) {
  if (f->wal != nullptr) f->wal->shared->changes.fetch_add(1, std::memory_order_release);
}

// Hands the gathered bytes to the platform as one write. On failure they are
// dropped: the SQLite call that asked fails, and SQLite treats them as never
// written.
int Flush(GatherFile* f) {
  if (f->wal == nullptr || f->wal->gathered.empty()) return SQLITE_OK;
  std::string& gathered = f->wal->gathered;
  int rc = SQLITE_OK;
  for (size_t at = 0; at < gathered.size() && rc == SQLITE_OK; at += kMaxWriteBytes) {
    const size_t n = std::min(kMaxWriteBytes, gathered.size() - at);
    rc = Noted([&] {
      return f->real->pMethods->xWrite(f->real, gathered.data() + at, static_cast<int>(n),
                                       f->offset + static_cast<sqlite3_int64>(at));
    });
    g_issued.fetch_add(1, std::memory_order_relaxed);
  }
  gathered.clear();
  if (rc == SQLITE_OK) CountChange(f);
  return rc;
}

void DeleteWalState(GatherFile* f) {
  if (f->wal == nullptr) return;
  if (f->wal->sync_fd >= 0) ::close(f->wal->sync_fd);
  delete f->wal;
  f->wal = nullptr;
}

int Close(sqlite3_file* file) {
  GatherFile* f = Of(file);
  int flushed = Flush(f);
  DeleteWalState(f);
  int rc = f->real->pMethods->xClose(f->real);
  return flushed != SQLITE_OK ? flushed : rc;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  if (int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xRead(Real(file), out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  GatherFile* f = Of(file);
  if (f->wal == nullptr) {
    return Noted([&] { return f->real->pMethods->xWrite(f->real, data, amount, offset); });
  }
  std::string& gathered = f->wal->gathered;
  g_gathered.fetch_add(1, std::memory_order_relaxed);
  if (!gathered.empty() && offset != f->offset + static_cast<sqlite3_int64>(gathered.size())) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  if (gathered.empty()) f->offset = offset;
  try {
    gathered.append(static_cast<const char*>(data), static_cast<size_t>(amount));
  } catch (const std::bad_alloc&) {
    gathered.clear();
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
  if (static_cast<int64_t>(gathered.size()) >= kMaxGatheredBytes) return Flush(f);
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  GatherFile* f = Of(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  const int rc = Noted([&] { return f->real->pMethods->xTruncate(f->real, size); });
  if (rc == SQLITE_OK) CountChange(f);
  return rc;
}

int Sync(sqlite3_file* file, int flags) {
  GatherFile* f = Of(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  const uint64_t covers =
      f->wal != nullptr ? f->wal->shared->changes.load(std::memory_order_acquire) : 0;
  const int rc = Noted([&] { return f->real->pMethods->xSync(f->real, flags); });
  // SQLite syncs the WAL before each checkpoint: then a writer's
  // WalDurability::Sync need not sync again.
  if (rc == SQLITE_OK && f->wal != nullptr) f->wal->shared->NoteSynced(covers);
  return rc;
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
  f->wal = nullptr;
  f->offset = 0;
  f->committing = false;
  sqlite3_vfs* parent = Parent(vfs);
  int rc = parent->xOpen(parent, name, f->real, flags, out_flags);
  // SQLite calls xClose whenever pMethods is set, even when xOpen failed.
  if (f->real->pMethods == nullptr) return rc;
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) != 0) {
    f->wal = new (std::nothrow) WalState;
    if (f->wal == nullptr) {
      f->real->pMethods->xClose(f->real);
      return SQLITE_NOMEM;
    }
    f->wal->path = name;
    // Read-only is enough: fdatasync syncs the file, whichever descriptor
    // names it.
    f->wal->sync_fd = ::open(name, O_RDONLY | O_CLOEXEC);
    if (f->wal->sync_fd >= 0) f->wal->shared = SharedFor(f->wal->sync_fd);
    if (f->wal->sync_fd < 0 || f->wal->shared == nullptr) {
      t_io_errno = errno;
      DeleteWalState(f);
      f->real->pMethods->xClose(f->real);
      return SQLITE_CANTOPEN;
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

absl::StatusOr<std::unique_ptr<WalDurability>> WalDurability::Of(sqlite3* db) {
  sqlite3_file* file = nullptr;
  const int rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file);
  const bool ours = file != nullptr && file->pMethods >= std::begin(kMethods) &&
                    file->pMethods < std::end(kMethods);
  // (Of here would name this function.)
  WalState* wal = ours ? reinterpret_cast<GatherFile*>(file)->wal : nullptr;
  if (rc != SQLITE_OK || wal == nullptr) {
    return absl::FailedPreconditionError(
        "sqlite: the database's write-ahead log is not open through the palm-wal-gather VFS");
  }
  return std::unique_ptr<WalDurability>(new WalDurability(wal));
}

absl::Status WalDurability::Sync() {
  WalShared& shared = *wal_->shared;
  const uint64_t target = shared.changes.load(std::memory_order_acquire);
  std::unique_lock<std::mutex> lock(mutex_);
  while (failed_.ok() && shared.synced.load(std::memory_order_acquire) < target) {
    if (syncing_) {
      ++waiting_;
      synced_cv_.wait(lock);
      --waiting_;
      continue;
    }
    // Lead a sync for everyone waiting: it covers every change made before
    // it starts, including those of callers that came after this one.
    syncing_ = true;
    const uint64_t covers = shared.changes.load(std::memory_order_acquire);
    const bool first = !dir_synced_;
    lock.unlock();
    absl::Status status = SyncFile(first);
    lock.lock();
    syncing_ = false;
    ++syncs_;
    if (status.ok()) {
      dir_synced_ = true;
      shared.NoteSynced(covers);
    } else {
      failed_ = std::move(status);
    }
    synced_cv_.notify_all();
  }
  return failed_;
}

absl::Status WalDurability::SyncFile(bool with_directory) {
  const int injected = before_sync_ ? before_sync_() : 0;
  if (injected != 0 || ::fdatasync(wal_->sync_fd) != 0) {
    const int err = injected != 0 ? injected : errno;
    return (err == ENOSPC || err == EDQUOT ? absl::ResourceExhaustedError : absl::DataLossError)(
        absl::StrCat("sqlite: fdatasync of ", wal_->path, " failed (", std::strerror(err),
                     "): writes since the last sync may not be on the disk; reopen the "
                     "database before writing again"));
  }
  if (!with_directory) return absl::OkStatus();
  // The log's name in its directory must be on the disk too, as SQLite's own
  // first sync of a new log makes sure.
  const std::string dir = wal_->path.substr(0, wal_->path.find_last_of('/') + 1);
  const sync::FsyncFailure failure = sync::FsyncPath(dir.empty() ? "." : dir);
  if (failure.err != 0) {
    return absl::DataLossError(absl::StrCat("sqlite: syncing the directory of ", wal_->path,
                                            " failed (", std::strerror(failure.err), ")"));
  }
  return absl::OkStatus();
}

uint64_t WalDurability::syncs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return syncs_;
}

absl::Status WalDurability::failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failed_;
}

int WalDurability::TEST_waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiting_;
}

bool WalDurability::AllSynced() const {
  const WalShared& shared = *wal_->shared;
  return shared.synced.load(std::memory_order_acquire) >=
         shared.changes.load(std::memory_order_acquire);
}

WalVfsStats WalVfsStatsNow() {
  WalVfsStats s;
  s.writes_gathered = g_gathered.load(std::memory_order_relaxed);
  s.writes_issued = g_issued.load(std::memory_order_relaxed);
  s.commits = g_commits.load(std::memory_order_relaxed);
  return s;
}

}  // namespace palm::internal
