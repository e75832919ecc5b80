// Ed25519 keys through OpenSSL EVP_PKEY: generation, PEM, key ids. The
// evidence log signs its tree heads with one (sync/merkle.h).
#ifndef PALM_SYNC_ED25519_H_
#define PALM_SYNC_ED25519_H_

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace palm::sync {

// Frees an EVP_PKEY.
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using UniqueEvpPkey = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// Returns a fresh Ed25519 key pair, or INTERNAL if OpenSSL fails.
absl::StatusOr<UniqueEvpPkey> GenerateEd25519Key();

// Returns the private key of `key` as unencrypted PKCS#8 PEM
// ("-----BEGIN PRIVATE KEY-----"). Keep it out of logs and off shared disks.
absl::StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key);

// Returns the public key of `key` (a key pair or a public key) as
// SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
absl::StatusOr<std::string> PublicKeyPem(EVP_PKEY* key);

// Parses a PKCS#8 PEM private key. Returns INVALID_ARGUMENT when `pem` is not
// one or is not an Ed25519 key.
absl::StatusOr<UniqueEvpPkey> LoadPrivateKeyPem(absl::string_view pem);

// Parses a SubjectPublicKeyInfo PEM public key. Returns INVALID_ARGUMENT
// when `pem` is not one or is not an Ed25519 key.
absl::StatusOr<UniqueEvpPkey> LoadPublicKeyPem(absl::string_view pem);

// Returns the lowercase hex SHA-256 of the DER SubjectPublicKeyInfo of `key`
// (works for a key pair and for its public half alike), or "" if `key`
// cannot be encoded.
std::string KeyId(EVP_PKEY* key);

// Returns the 64-byte Ed25519 signature of `message` made with the private
// key `key`. Returns INVALID_ARGUMENT if `key` is not an Ed25519 private key.
absl::StatusOr<std::string> Ed25519Sign(EVP_PKEY* key, absl::string_view message);

// Returns true when `signature` is a valid Ed25519 signature of `message`
// under `key` (a public key or a key pair); false for any failure, including
// a key that is not Ed25519.
bool Ed25519Verify(EVP_PKEY* key, absl::string_view message, absl::string_view signature);

// Returns true when `key` is an Ed25519 key.
bool IsEd25519(EVP_PKEY* key);

}  // namespace palm::sync

#endif  // PALM_SYNC_ED25519_H_
