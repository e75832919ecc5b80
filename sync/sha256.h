// SHA-256 over memory, streams and files, and hex helpers.
//
// Evidence is identified by the SHA-256 of its content, taken on the device
// at capture and checked again by the server on upload. Files can be large
// (video), so hashing streams through a fixed buffer.
#ifndef PALM_SYNC_SHA256_H_
#define PALM_SYNC_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace palm::sync {

using Sha256Digest = std::array<uint8_t, 32>;

// An incremental SHA-256 (OpenSSL EVP). Not copyable; thread-compatible.
class Sha256 {
 public:
  // Starts a new digest. Aborts if OpenSSL cannot allocate a context.
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Feeds `size` bytes at `data` (may be null when `size` is 0). Must not be
  // called after Final().
  void Update(const void* data, size_t size);
  void Update(absl::string_view data) { Update(data.data(), data.size()); }

  // Returns the digest of everything fed so far. Call at most once.
  Sha256Digest Final();

  // Returns the digest of `data` in one call.
  static Sha256Digest Of(absl::string_view data);

 private:
  EVP_MD_CTX* ctx_;
};

// Returns `size` bytes at `data` as lowercase hex.
std::string HexEncode(const uint8_t* data, size_t size);
// Returns `digest` as 64 lowercase hex characters.
std::string HexEncode(const Sha256Digest& digest);

// Parses 64 hex characters (either case) into a digest. Returns
// INVALID_ARGUMENT naming the problem otherwise.
absl::StatusOr<Sha256Digest> HexDecodeDigest(absl::string_view hex);

// Returns the 32 raw bytes of `digest`, as protobuf `bytes` fields hold them.
std::string DigestBytes(const Sha256Digest& digest);

// Returns the digest held in a 32-byte `bytes` field, or INVALID_ARGUMENT
// when `bytes` is not 32 bytes long.
absl::StatusOr<Sha256Digest> DigestFromBytes(absl::string_view bytes);

// Returns true when `hex` is 64 lowercase hex characters: the form Palm
// stores and sends evidence hashes in.
bool IsLowerHexSha256(absl::string_view hex);

struct FileDigest {
  // Lowercase hex.
  std::string sha256_hex;
  uint64_t size = 0;
};

// Hashes the file at `path`, reading it through a 1 MiB buffer (the file is
// never held in memory). Returns the digest and size in bytes, or
// NOT_FOUND / PERMISSION_DENIED / FAILED_PRECONDITION (not a regular file) /
// DATA_LOSS (read error) with a message naming `path`.
absl::StatusOr<FileDigest> Sha256File(const std::string& path);

// Hashes everything left in `in` through a 1 MiB buffer. Returns DATA_LOSS if
// the stream fails before its end.
absl::StatusOr<FileDigest> Sha256Stream(std::istream& in);

}  // namespace palm::sync

#endif  // PALM_SYNC_SHA256_H_
