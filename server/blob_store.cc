#include "server/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "sync/sha256.h"

namespace palm::server {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  int err = errno;
  std::string message = absl::StrCat(what, " ", path, ": ", strerror(err));
  if (err == ENOSPC) return absl::ResourceExhaustedError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

absl::Status FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", dir);
  int rc = fsync(fd);
  absl::Status s = rc == 0 ? absl::OkStatus() : Errno("cannot fsync", dir);
  close(fd);
  return s;
}

// Creates `dir` (and parents) and makes the new entry durable.
absl::Status MakeDir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return absl::OkStatus();
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  return FsyncDir(std::filesystem::path(dir).parent_path().string());
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

BlobStore::Partial::~Partial() {
  if (fd_ >= 0) {
    (void)Sync();
    close(fd_);
  }
}

absl::Status BlobStore::Partial::Append(absl::string_view data) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path_);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  size_ += data.size();
  unsynced_ += data.size();
  if (unsynced_ >= kSyncEveryBytes) return Sync();
  return absl::OkStatus();
}

absl::Status BlobStore::Partial::Sync() {
  if (unsynced_ == 0) return absl::OkStatus();
  if (fdatasync(fd_) != 0) return Errno("cannot fsync", path_);
  unsynced_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BlobStore::Partial>> BlobStore::OpenPartial(
    const std::string& sha256, uint64_t offset) {
  const std::string dir = absl::StrCat(root_, "/partial");
  if (absl::Status s = MakeDir(dir); !s.ok()) return s;
  const std::string path = PartialPath(sha256);
  bool created = false;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
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
  if ((offset < held && ftruncate(fd, static_cast<off_t>(offset)) != 0) ||
      lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    absl::Status s = Errno("cannot position", path);
    close(fd);
    return s;
  }
  if (created) {
    if (absl::Status s = FsyncDir(dir); !s.ok()) {
      close(fd);
      return s;
    }
  }
  return std::unique_ptr<Partial>(new Partial(fd, offset, path));
}

absl::Status BlobStore::Commit(const std::string& sha256) {
  const std::string partial = PartialPath(sha256);
  {
    int fd = open(partial.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("cannot open", partial);
    int rc = fsync(fd);
    close(fd);
    if (rc != 0) return Errno("cannot fsync", partial);
  }
  auto digest = sync::Sha256File(partial);
  if (!digest.ok()) return digest.status();
  if (digest->sha256_hex != sha256) {
    Discard(sha256);
    return absl::DataLossError(absl::StrCat("content does not match its recorded SHA-256 ", sha256,
                                            " (the ", digest->size, " bytes received hash to ",
                                            digest->sha256_hex, "); nothing was kept"));
  }
  const std::string final_path = FinalPath(sha256);
  const std::string dir = std::filesystem::path(final_path).parent_path().string();
  if (absl::Status s = MakeDir(dir); !s.ok()) return s;
  if (rename(partial.c_str(), final_path.c_str()) != 0)
    return Errno("cannot move into", final_path);
  if (absl::Status s = FsyncDir(dir); !s.ok()) return s;
  return FsyncDir(absl::StrCat(root_, "/partial"));
}

void BlobStore::Discard(const std::string& sha256) {
  const std::string path = PartialPath(sha256);
  if (unlink(path.c_str()) == 0) (void)FsyncDir(absl::StrCat(root_, "/partial"));
}

}  // namespace palm::server
