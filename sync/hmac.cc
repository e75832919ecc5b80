#include "sync/hmac.h"

#include <openssl/crypto.h>

#include <cstring>

namespace palm::sync {

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP,
// whose contexts cannot be copied without an allocation; they remain the
// only way to resume a digest from a stored midstate.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

HmacSha256::HmacSha256(absl::string_view key) {
  unsigned char block[SHA256_CBLOCK] = {};
  if (key.size() > sizeof block) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block);
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char pad[SHA256_CBLOCK];
  for (size_t i = 0; i < sizeof pad; ++i) pad[i] = block[i] ^ 0x36;
  SHA256_Init(&inner_);
  SHA256_Update(&inner_, pad, sizeof pad);
  for (size_t i = 0; i < sizeof pad; ++i) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&outer_);
  SHA256_Update(&outer_, pad, sizeof pad);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
}

HmacSha256::~HmacSha256() {
  OPENSSL_cleanse(&inner_, sizeof inner_);
  OPENSSL_cleanse(&outer_, sizeof outer_);
}

Sha256Digest HmacSha256::Mac(absl::string_view message) const {
  SHA256_CTX ctx = inner_;
  Sha256Digest inner_digest;
  SHA256_Update(&ctx, message.data(), message.size());
  SHA256_Final(inner_digest.data(), &ctx);
  ctx = outer_;
  Sha256Digest mac;
  SHA256_Update(&ctx, inner_digest.data(), inner_digest.size());
  SHA256_Final(mac.data(), &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);
  return mac;
}

#pragma GCC diagnostic pop

}  // namespace palm::sync
