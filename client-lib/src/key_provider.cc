#include "palm/key_provider.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace palm {
namespace {

Status IoError(const std::string& what, const std::string& path) {
  return Status(StatusCode::kInternal, "", what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

KeyProvider::~KeyProvider() = default;

FileKeyProvider::FileKeyProvider(std::string directory) : directory_(std::move(directory)) {}

FileKeyProvider::~FileKeyProvider() = default;

Status KeyProvider::DeleteKey(const std::string& name) {
  return Status(StatusCode::kUnimplemented, "cannot_delete_key",
                "this key provider cannot delete key \"" + name + "\"");
}

Status FileKeyProvider::DeleteKey(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return Status(StatusCode::kInvalidArgument, "invalid_argument",
                  "key name \"" + name + "\" is not a plain file name");
  }
  const std::string path = directory_ + "/" + name + ".key";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return IoError("cannot delete key file", path);
  return Status();
}

Result<Key256> FileKeyProvider::GetKey(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return Status(StatusCode::kInvalidArgument, "invalid_argument",
                  "key name \"" + name + "\" is not a plain file name");
  }
  if (::mkdir(directory_.c_str(), 0700) != 0 && errno != EEXIST) {
    return IoError("cannot create key directory", directory_);
  }
  const std::string path = directory_ + "/" + name + ".key";
  Key256 key;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    // First use: make the key and publish it atomically with O_EXCL, so two
    // processes racing here agree on one key.
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
      return Status(StatusCode::kInternal, "", "RAND_bytes failed");
    }
    int out = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out >= 0) {
      bool written = ::write(out, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
                     ::fsync(out) == 0;
      ::close(out);
      if (!written) return IoError("cannot write key file", path);
      return key;
    }
    if (errno != EEXIST) return IoError("cannot create key file", path);
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return IoError("cannot open key file", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return IoError("cannot stat key file", path);
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return Status(StatusCode::kPermissionDenied, "permission_denied",
                  "key file " + path + " is readable by others; make it mode 0600");
  }
  ssize_t n = ::read(fd, key.data(), key.size());
  char extra;
  ssize_t more = ::read(fd, &extra, 1);
  ::close(fd);
  if (n != static_cast<ssize_t>(key.size()) || more != 0) {
    OPENSSL_cleanse(key.data(), key.size());
    return Status(StatusCode::kDataLoss, "", "key file " + path + " is not exactly 32 bytes");
  }
  return key;
}

}  // namespace palm
