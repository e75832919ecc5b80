#include "client-lib/src/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

#include "sync/random.h"

namespace palm::internal {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

// AES-256-GCM fetched from OpenSSL's default provider once per process:
// EVP_aes_256_gcm() hands back a legacy method that every EVP_*Init_ex call
// resolves again (a name lookup and a lock per seal). A fetched EVP_CIPHER is
// reference-counted and may be shared by all threads; it is kept for the life
// of the process. Null if the provider has no AES-256-GCM, which makes every
// seal and open fail with INTERNAL.
const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

}  // namespace

Aead::~Aead() { OPENSSL_cleanse(key_.data(), key_.size()); }

absl::StatusOr<std::string> Aead::Seal(absl::string_view plaintext, absl::string_view aad) const {
  std::string out(1 + kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  bytes[0] = kVersion;
  unsigned char* nonce = bytes + 1;
  if (!sync::RandomBytes(nonce, kNonceSize)) return absl::InternalError("RAND_bytes failed");
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || Aes256Gcm() == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), Aes256Gcm(), nullptr, key_.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes + 1 + kNonceSize, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes + 1 + kNonceSize + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize,
                          bytes + 1 + kNonceSize + plaintext.size()) != 1) {
    return absl::InternalError("AES-256-GCM encryption failed");
  }
  return out;
}

absl::StatusOr<std::string> Aead::Open(absl::string_view sealed, absl::string_view aad) const {
  if (sealed.size() < 1 + kNonceSize + kTagSize || static_cast<uint8_t>(sealed[0]) != kVersion) {
    return absl::DataLossError("encrypted value is malformed");
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
  size_t text_size = sealed.size() - 1 - kNonceSize - kTagSize;
  std::string out(text_size, '\0');
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  std::array<unsigned char, kTagSize> tag;
  std::copy(bytes + 1 + kNonceSize + text_size, bytes + sealed.size(), tag.begin());
  if (!ctx || Aes256Gcm() == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), Aes256Gcm(), nullptr, key_.data(), bytes + 1) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        bytes + 1 + kNonceSize, static_cast<int>(text_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) != 1) {
    return absl::InternalError("AES-256-GCM decryption failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) !=
      1) {
    return absl::PermissionDeniedError(
        "encrypted data does not open with this key (wrong key, or the data was altered)");
  }
  return out;
}

}  // namespace palm::internal
