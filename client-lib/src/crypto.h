// AES-256-GCM sealing of personal data at rest (DESIGN.md §4).
//
// Sealed form: version byte 0x01 | 12-byte random nonce | ciphertext |
// 16-byte tag. The associated data binds a sealed value to the row and field
// it belongs to, so a ciphertext copied into another row fails to open.
#ifndef PALM_CLIENT_CRYPTO_H_
#define PALM_CLIENT_CRYPTO_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace palm::internal {

class Aead {
 public:
  explicit Aead(const std::array<uint8_t, 32>& key) : key_(key) {}
  ~Aead();

  // Encrypts `plaintext` under a fresh random nonce, binding `aad`.
  absl::StatusOr<std::string> Seal(absl::string_view plaintext, absl::string_view aad) const;

  // Decrypts what Seal made with the same key and `aad`. PERMISSION_DENIED
  // when the tag does not verify (wrong key, or data moved or tampered with);
  // DATA_LOSS for a malformed value.
  absl::StatusOr<std::string> Open(absl::string_view sealed, absl::string_view aad) const;

 private:
  std::array<uint8_t, 32> key_;
};

}  // namespace palm::internal

#endif  // PALM_CLIENT_CRYPTO_H_
