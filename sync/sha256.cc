#include "sync/sha256.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <sys/stat.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace palm::sync {
namespace {

constexpr size_t kBufferSize = size_t{1} << 20;  // 1 MiB

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Maps an errno from opening or reading `path` to a status naming it.
absl::Status FileError(int err, const std::string& path, absl::string_view what) {
  const std::string message = absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case EISDIR:
      return absl::FailedPreconditionError(message);
    default:
      return absl::DataLossError(message);
  }
}

// SHA-256 fetched from OpenSSL's default provider once per process.
// EVP_sha256() hands back a legacy method that every EVP_DigestInit_ex call
// resolves again (EVP_MD_fetch: a name lookup, a string copy and a lock); that
// was 3 % of the server's push writer (docs/benchmarks.md). A fetched
// EVP_MD is reference-counted and may be shared by all threads; it is kept
// for the life of the process.
const EVP_MD* FetchedSha256() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (fetched == nullptr) std::abort();
    return fetched;
  }();
  return md;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, FetchedSha256(), nullptr) != 1) std::abort();
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(const void* data, size_t size) {
  if (size == 0) return;
  if (EVP_DigestUpdate(ctx_, data, size) != 1) std::abort();
}

Sha256Digest Sha256::Final() {
  Sha256Digest digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx_, digest.data(), &length) != 1 || length != digest.size()) {
    std::abort();
  }
  return digest;
}

Sha256Digest Sha256::Of(absl::string_view data) {
  Sha256 hash;
  hash.Update(data);
  return hash.Final();
}

std::string HexEncode(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    hex[2 * i] = kDigits[data[i] >> 4];
    hex[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return hex;
}

std::string HexEncode(const Sha256Digest& digest) {
  return HexEncode(digest.data(), digest.size());
}

absl::StatusOr<Sha256Digest> HexDecodeDigest(absl::string_view hex) {
  if (hex.size() != 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("a SHA-256 digest is 64 hex characters, got ", hex.size()));
  }
  Sha256Digest digest{};
  for (size_t i = 0; i < digest.size(); ++i) {
    const int high = HexValue(hex[2 * i]);
    const int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return absl::InvalidArgumentError(absl::StrCat("a SHA-256 digest is hex, but character ",
                                                     high < 0 ? 2 * i : 2 * i + 1,
                                                     " is not a hex digit"));
    }
    digest[i] = static_cast<uint8_t>((high << 4) | low);
  }
  return digest;
}

std::string DigestBytes(const Sha256Digest& digest) {
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

absl::StatusOr<Sha256Digest> DigestFromBytes(absl::string_view bytes) {
  Sha256Digest digest{};
  if (bytes.size() != digest.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a SHA-256 digest is 32 bytes, got ", bytes.size()));
  }
  std::copy(bytes.begin(), bytes.end(), digest.begin());
  return digest;
}

bool IsLowerHexSha256(absl::string_view hex) {
  if (hex.size() != 64) return false;
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::StatusOr<FileDigest> Sha256File(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return FileError(errno, path, "open");
  struct stat info;
  if (fstat(fileno(file.get()), &info) != 0) return FileError(errno, path, "stat");
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot hash ", path, ": not a regular file"));
  }
  std::vector<char> buffer(kBufferSize);
  Sha256 hash;
  FileDigest result;
  for (;;) {
    const size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    hash.Update(buffer.data(), n);
    result.size += n;
    if (n < buffer.size()) {
      if (std::ferror(file.get())) return FileError(errno, path, "read");
      break;
    }
  }
  result.sha256_hex = HexEncode(hash.Final());
  return result;
}

absl::StatusOr<FileDigest> Sha256Stream(std::istream& in) {
  std::vector<char> buffer(kBufferSize);
  Sha256 hash;
  FileDigest result;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize n = in.gcount();
    hash.Update(buffer.data(), static_cast<size_t>(n));
    result.size += static_cast<uint64_t>(n);
  }
  if (in.bad() || !in.eof()) {
    return absl::DataLossError(
        absl::StrCat("stream failed after ", result.size, " bytes while hashing"));
  }
  result.sha256_hex = HexEncode(hash.Final());
  return result;
}

}  // namespace palm::sync
