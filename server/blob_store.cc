#include "server/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "server/store_status.h"
#include "sync/fsync.h"
#include "sync/sha256.h"

namespace palm::server {
namespace {

// O_DIRECT transfers must start at, and span, multiples of the logical block
// size; 4096 covers every device we run on.
constexpr uint64_t kBlockBytes = 4096;

// A full disk is RESOURCE_EXHAUSTED on every RPC (server/store_status.h has
// the one map).
absl::Status ErrnoStatus(int err, absl::string_view what, const std::string& path) {
  return server::ErrnoStatus(err, absl::StrCat(what, " ", path));
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return ErrnoStatus(errno, what, path);
}

absl::Status FsyncDir(const std::string& dir) {
  const sync::FsyncFailure failure = sync::FsyncPath(dir);
  if (failure.err == 0) return absl::OkStatus();
  return ErrnoStatus(failure.err, absl::StrCat("cannot ", failure.step), dir);
}

// Creates `dir` (and parents) and makes the new entry durable.
absl::Status MakeDir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return absl::OkStatus();
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus(ec.value(), "cannot create", dir);
  return FsyncDir(std::filesystem::path(dir).parent_path().string());
}

// Opens `path` write-only with O_DIRECT when `*direct` and the file system
// allows it (tmpfs may refuse with EINVAL), else buffered, and says which in
// `*direct`. `flags` adds to O_WRONLY; new files get mode 0600.
int OpenForWrite(const std::string& path, int flags, bool* direct) {
  if (*direct) {
    int fd = open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC | flags, 0600);
    if (fd >= 0 || errno != EINVAL) return fd;
    *direct = false;
  }
  return open(path.c_str(), O_WRONLY | O_CLOEXEC | flags, 0600);
}

}  // namespace

std::string BlobStore::FinalPath(const std::string& sha256) const {
  return absl::StrCat(root_, "/sha256/", sha256.substr(0, 2), "/", sha256);
}

std::string BlobStore::PartialPath(const std::string& sha256) const {
  return absl::StrCat(root_, "/partial/", sha256);
}

bool BlobStore::Has(const std::string& sha256) const {
  struct stat st;
  return stat(FinalPath(sha256).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

absl::StatusOr<uint64_t> BlobStore::DurableOffset(const std::string& sha256) const {
  const std::string path = PartialPath(sha256);
  if (auto it = open_.find(path); it != open_.end()) {
    if (absl::Status s = it->second->Sync(); !s.ok()) return s;
    return it->second->size();
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;
    return Errno("cannot open", path);
  }
  struct stat st;
  absl::Status s;
  if (fsync(fd) != 0) s = Errno("cannot fsync", path);
  if (s.ok() && fstat(fd, &st) != 0) s = Errno("cannot stat", path);
  close(fd);
  if (!s.ok()) return s;
  return static_cast<uint64_t>(st.st_size);
}

BlobStore::Partial::Partial(int fd, bool direct, uint64_t size, std::string path, char* staging)
    : fd_(fd),
      direct_(direct),
      size_(size),
      path_(std::move(path)),
      staging_(staging, &std::free),
      staged_at_(size & ~(kBlockBytes - 1)) {}

BlobStore::Partial::~Partial() {
  if (fd_ >= 0) {
    (void)Sync();
    close(fd_);
  }
  if (tail_fd_ >= 0) close(tail_fd_);
  if (store_ != nullptr) {
    auto it = store_->open_.find(path_);
    if (it != store_->open_.end() && it->second == this) store_->open_.erase(it);
  }
}

absl::Status BlobStore::Partial::Append(absl::string_view data) {
  sha256_.Update(data);
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    const uint64_t staged = size_ - staged_at_;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kSyncEveryBytes - staged, left));
    memcpy(staging_.get() + staged, p, n);
    p += n;
    left -= n;
    size_ += n;
    unsynced_ += n;
    if (size_ - staged_at_ == kSyncEveryBytes) {
      if (absl::Status s = Flush(/*with_tail=*/false); !s.ok()) return s;
    }
  }
  if (unsynced_ >= kSyncEveryBytes) return Sync();
  return absl::OkStatus();
}

absl::Status BlobStore::Partial::Sync() { return Sync(/*with_metadata=*/false); }

absl::Status BlobStore::Partial::Sync(bool with_metadata) {
  if (unsynced_ == 0 && !with_metadata) return absl::OkStatus();
  if (unsynced_ > 0) {
    if (absl::Status s = Flush(/*with_tail=*/true); !s.ok()) return s;
  }
  // One inode: this also covers what the tail fd wrote.
  if ((with_metadata ? fsync(fd_) : fdatasync(fd_)) != 0) return Errno("cannot fsync", path_);
  unsynced_ = 0;
  return absl::OkStatus();
}

absl::Status BlobStore::Partial::Flush(bool with_tail) {
  const uint64_t staged = size_ - staged_at_;
  const uint64_t whole = staged & ~(kBlockBytes - 1);
  const uint64_t tail = staged - whole;
  if (whole > 0) {
    if (absl::Status s = WriteAt(fd_, staging_.get(), whole, staged_at_); !s.ok()) return s;
  }
  if (with_tail && tail > 0) {
    // O_DIRECT cannot write a partial block; the buffered fd can. The block
    // stays staged, and its next direct write rewrites it whole.
    if (direct_ && tail_fd_ < 0) {
      tail_fd_ = open(path_.c_str(), O_WRONLY | O_CLOEXEC);
      if (tail_fd_ < 0) return Errno("cannot open", path_);
    }
    const int fd = direct_ ? tail_fd_ : fd_;
    if (absl::Status s = WriteAt(fd, staging_.get() + whole, tail, staged_at_ + whole); !s.ok())
      return s;
  }
  if (whole > 0) {
    memmove(staging_.get(), staging_.get() + whole, tail);
    staged_at_ += whole;
  }
  return absl::OkStatus();
}

absl::Status BlobStore::Partial::WriteAt(int fd, const char* data, size_t size, uint64_t offset) {
  while (size > 0) {
    ssize_t n = pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EINVAL && fd == fd_ && direct_) {
        // The file system accepted O_DIRECT at open but not this write
        // (alignment it requires is larger, or a short write left us
        // unaligned): go on buffered.
        const int flags = fcntl(fd_, F_GETFL);
        if (flags < 0 || fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0)
          return Errno("cannot write", path_);
        direct_ = false;
        continue;
      }
      return Errno("cannot write", path_);
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BlobStore::Partial>> BlobStore::OpenPartial(
    const std::string& sha256, uint64_t offset) {
  const std::string dir = absl::StrCat(root_, "/partial");
  if (absl::Status s = MakeDir(dir); !s.ok()) return s;
  const std::string path = PartialPath(sha256);
  bool created = false;
  bool direct = true;
  int fd = OpenForWrite(path, 0, &direct);
  if (fd < 0 && errno == ENOENT) {
    fd = OpenForWrite(path, O_CREAT, &direct);
    created = true;
  }
  if (fd < 0) return Errno("cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    absl::Status s = Errno("cannot stat", path);
    close(fd);
    return s;
  }
  const uint64_t held = static_cast<uint64_t>(st.st_size);
  if (offset > held) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat("the upload starts at offset ", offset,
                                                      " but the server holds ", held, " bytes of ",
                                                      sha256, "; resume from GetUploadOffset"));
  }
  if (offset < held && ftruncate(fd, static_cast<off_t>(offset)) != 0) {
    absl::Status s = Errno("cannot truncate", path);
    close(fd);
    return s;
  }
  if (created) {
    if (absl::Status s = FsyncDir(dir); !s.ok()) {
      close(fd);
      return s;
    }
  }
  void* staging = nullptr;
  if (posix_memalign(&staging, kBlockBytes, kSyncEveryBytes) != 0) {
    close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate a ", kSyncEveryBytes, "-byte buffer for ", path));
  }
  std::unique_ptr<Partial> partial(
      new Partial(fd, direct, offset, path, static_cast<char*>(staging)));
  if (offset > 0) {
    if (absl::Status s = partial->Resume(); !s.ok()) return s;
  }
  partial->store_ = this;
  open_[path] = partial.get();
  return partial;
}

absl::Status BlobStore::Partial::Resume() {
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path_);
  // Hashes the bytes already held, through the staging buffer, and leaves
  // those past the last whole block staged so that its next direct write
  // rewrites the block whole.
  absl::Status s;
  for (uint64_t at = 0; at < size_;) {
    const bool in_tail = at >= staged_at_;
    char* into = staging_.get() + (in_tail ? at - staged_at_ : 0);
    const uint64_t want = in_tail ? size_ - at : std::min(staged_at_ - at, kSyncEveryBytes);
    ssize_t n = pread(fd, into, static_cast<size_t>(want), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Errno("cannot read", path_);
      break;
    }
    if (n == 0) {
      s = absl::DataLossError(absl::StrCat(path_, " ended before ", size_, " bytes"));
      break;
    }
    sha256_.Update(into, static_cast<size_t>(n));
    at += static_cast<uint64_t>(n);
  }
  close(fd);
  return s;
}

absl::Status BlobStore::Commit(const std::string& sha256, std::unique_ptr<Partial> partial) {
  const std::string partial_path = PartialPath(sha256);
  // One full fsync before the rename, as the file's metadata moves with it.
  absl::Status synced = partial->Sync(/*with_metadata=*/true);
  const uint64_t received = partial->size();
  const std::string digest = sync::HexEncode(partial->sha256_.Final());
  partial.reset();
  if (!synced.ok()) return synced;
  if (digest != sha256) {
    Discard(sha256);
    return absl::DataLossError(absl::StrCat("content does not match its recorded SHA-256 ", sha256,
                                            " (the ", received, " bytes received hash to ", digest,
                                            "); nothing was kept"));
  }
  const std::string final_path = FinalPath(sha256);
  const std::string dir = std::filesystem::path(final_path).parent_path().string();
  if (absl::Status s = MakeDir(dir); !s.ok()) return s;
  if (rename(partial_path.c_str(), final_path.c_str()) != 0)
    return Errno("cannot move into", final_path);
  if (absl::Status s = FsyncDir(dir); !s.ok()) return s;
  return FsyncDir(absl::StrCat(root_, "/partial"));
}

void BlobStore::Discard(const std::string& sha256) {
  const std::string path = PartialPath(sha256);
  if (unlink(path.c_str()) == 0) (void)FsyncDir(absl::StrCat(root_, "/partial"));
}

}  // namespace palm::server
