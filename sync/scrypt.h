// scrypt (RFC 7914) through OpenSSL's EVP_KDF "SCRYPT": the memory-hard
// hash under officer secrets, on the server (sign-in) and on the device
// (offline unlock verifier). Shared by both ends, so it lives in sync/.
#ifndef PALM_SYNC_SCRYPT_H_
#define PALM_SYNC_SCRYPT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace palm::sync {

// Cost parameters. The default, N = 2^15, r = 8, p = 1, takes 32 MiB and
// roughly 0.1 s per hash on a handheld-class core: cheap for one sign-in,
// expensive for a guessing attack on a stolen hash.
struct ScryptParams {
  uint32_t log2_n = 15;
  uint32_t r = 8;
  uint32_t p = 1;
};

// Length of salts and derived keys, bytes.
inline constexpr size_t kScryptSaltBytes = 16;
inline constexpr size_t kScryptKeyBytes = 32;

// Returns kScryptKeyBytes derived from `secret` and `salt` with `params`.
// INVALID_ARGUMENT for parameters OpenSSL refuses, INTERNAL when the KDF
// is unavailable. Thread-safe.
absl::StatusOr<std::string> Scrypt(absl::string_view secret, absl::string_view salt,
                                   const ScryptParams& params = {});

// Returns `n` random bytes from OpenSSL's CSPRNG (aborts if it fails).
std::string RandomBytes(size_t n);

// Compares in time independent of where the inputs differ (CRYPTO_memcmp).
// False when the lengths differ.
bool ConstantTimeEqual(absl::string_view a, absl::string_view b);

}  // namespace palm::sync

#endif  // PALM_SYNC_SCRYPT_H_
