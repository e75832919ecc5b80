#include "sync/ed25519.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sync/sha256.h"

namespace palm::sync {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using UniqueBio = std::unique_ptr<BIO, BioDeleter>;

// The newest OpenSSL error as text, clearing the queue.
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof(buffer));
  return buffer;
}

absl::StatusOr<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  if (size < 0 || (size > 0 && data == nullptr)) {
    return absl::InternalError("cannot read the PEM buffer");
  }
  return std::string(data, static_cast<size_t>(size));
}

UniqueBio ReadBio(absl::string_view text) {
  return UniqueBio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

}  // namespace

bool IsEd25519(EVP_PKEY* key) { return key != nullptr && EVP_PKEY_id(key) == EVP_PKEY_ED25519; }

absl::StatusOr<UniqueEvpPkey> GenerateEd25519Key() {
  UniqueEvpPkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (key == nullptr) {
    return absl::InternalError(absl::StrCat("cannot generate an Ed25519 key: ", OpenSslError()));
  }
  return key;
}

absl::StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key) {
  if (!IsEd25519(key)) return absl::InvalidArgumentError("not an Ed25519 key");
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write the private key as PEM: ", OpenSslError()));
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> PublicKeyPem(EVP_PKEY* key) {
  if (!IsEd25519(key)) return absl::InvalidArgumentError("not an Ed25519 key");
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot write the public key as PEM: ", OpenSslError()));
  }
  return BioContents(bio.get());
}

absl::StatusOr<UniqueEvpPkey> LoadPrivateKeyPem(absl::string_view pem) {
  UniqueBio bio = ReadBio(pem);
  UniqueEvpPkey key(bio == nullptr ? nullptr
                                   : PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("not a PEM private key: ", OpenSslError()));
  }
  if (!IsEd25519(key.get())) return absl::InvalidArgumentError("the private key is not Ed25519");
  return key;
}

absl::StatusOr<UniqueEvpPkey> LoadPublicKeyPem(absl::string_view pem) {
  UniqueBio bio = ReadBio(pem);
  UniqueEvpPkey key(bio == nullptr ? nullptr
                                   : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("not a PEM public key: ", OpenSslError()));
  }
  if (!IsEd25519(key.get())) return absl::InvalidArgumentError("the public key is not Ed25519");
  return key;
}

std::string KeyId(EVP_PKEY* key) {
  if (key == nullptr) return "";
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key, &der);
  if (size <= 0) {
    ERR_clear_error();
    return "";
  }
  std::string id = HexEncode(Sha256::Of(absl::string_view(reinterpret_cast<char*>(der), size)));
  OPENSSL_free(der);
  return id;
}

absl::StatusOr<std::string> Ed25519Sign(EVP_PKEY* key, absl::string_view message) {
  if (!IsEd25519(key)) return absl::InvalidArgumentError("not an Ed25519 key");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string signature(64, '\0');
  size_t size = signature.size();
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot sign with this key (is it a private key?): ", OpenSslError()));
  }
  signature.resize(size);
  return signature;
}

bool Ed25519Verify(EVP_PKEY* key, absl::string_view message, absl::string_view signature) {
  if (!IsEd25519(key)) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace palm::sync
