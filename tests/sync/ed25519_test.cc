#include "sync/ed25519.h"

#include <catch2/catch.hpp>
#include <string>

#include "sync/sha256.h"

namespace palm::sync {
namespace {

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

TEST_CASE("Ed25519 signs the RFC 8032 test 1 vector", "[ed25519]") {
  const std::string secret =
      Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  UniqueEvpPkey key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(secret.data()),
      secret.size()));
  REQUIRE(key != nullptr);
  CHECK(IsEd25519(key.get()));
  auto signature = Ed25519Sign(key.get(), "");
  REQUIRE(signature.ok());
  CHECK(HexEncode(reinterpret_cast<const uint8_t*>(signature->data()), signature->size()) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e"
        "39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  CHECK(Ed25519Verify(key.get(), "", *signature));
  CHECK_FALSE(Ed25519Verify(key.get(), "x", *signature));
}

TEST_CASE("keys survive a PEM round trip and keep their key id", "[ed25519]") {
  auto key = GenerateEd25519Key();
  REQUIRE(key.ok());
  auto private_pem = PrivateKeyPem(key->get());
  auto public_pem = PublicKeyPem(key->get());
  REQUIRE((private_pem.ok() && public_pem.ok()));
  CHECK(private_pem->rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  CHECK(public_pem->rfind("-----BEGIN PUBLIC KEY-----", 0) == 0);

  auto loaded_private = LoadPrivateKeyPem(*private_pem);
  auto loaded_public = LoadPublicKeyPem(*public_pem);
  REQUIRE((loaded_private.ok() && loaded_public.ok()));
  const std::string id = KeyId(key->get());
  CHECK(id.size() == 64);
  CHECK(KeyId(loaded_private->get()) == id);
  CHECK(KeyId(loaded_public->get()) == id);

  auto signature = Ed25519Sign(loaded_private->get(), "checkpoint");
  REQUIRE(signature.ok());
  CHECK(Ed25519Verify(loaded_public->get(), "checkpoint", *signature));
}

TEST_CASE("a public key cannot sign", "[ed25519]") {
  auto key = GenerateEd25519Key();
  REQUIRE(key.ok());
  auto pem = PublicKeyPem(key->get());
  REQUIRE(pem.ok());
  auto pub = LoadPublicKeyPem(*pem);
  REQUIRE(pub.ok());
  auto signature = Ed25519Sign(pub->get(), "checkpoint");
  CHECK(signature.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("text that is not a PEM key is refused", "[ed25519]") {
  CHECK(LoadPrivateKeyPem("not a key").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(LoadPublicKeyPem("").status().code() == absl::StatusCode::kInvalidArgument);
  auto key = GenerateEd25519Key();
  REQUIRE(key.ok());
  auto public_pem = PublicKeyPem(key->get());
  REQUIRE(public_pem.ok());
  CHECK(LoadPrivateKeyPem(*public_pem).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace palm::sync
