#include "sync/fsync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace palm::sync {

namespace {

absl::Status Errno(const std::string& what, int err) {
  const std::string text = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(text);
  return absl::InternalError(text);
}

}  // namespace

FsyncFailure FsyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {errno, "open"};
  FsyncFailure failure;
  if (::fsync(fd) != 0) failure = {errno, "fsync"};
  ::close(fd);
  return failure;
}

absl::Status ReplaceFileDurably(const std::string& path, absl::string_view content,
                                const std::string& what) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(absl::StrCat("creating ", tmp), errno);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Errno(absl::StrCat("writing ", what, " (", tmp, ")"), err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Errno(absl::StrCat("fsync of ", what, " (", tmp, ")"), err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Errno(absl::StrCat("renaming ", tmp, " to ", path), err);
  }
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (FsyncFailure f = FsyncPath(dir); f.err != 0) {
    return Errno(absl::StrCat(f.step, " of ", dir), f.err);
  }
  return absl::OkStatus();
}

}  // namespace palm::sync
