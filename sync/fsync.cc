#include "sync/fsync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace palm::sync {

FsyncFailure FsyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {errno, "open"};
  FsyncFailure failure;
  if (::fsync(fd) != 0) failure = {errno, "fsync"};
  ::close(fd);
  return failure;
}

}  // namespace palm::sync
