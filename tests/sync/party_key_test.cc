#include "sync/party_key.h"

#include <catch2/catch.hpp>

#include "absl/strings/ascii.h"
#include "sync/sha256.h"

namespace palm::sync {
namespace {

PartyKeySecret SecretOf(char fill) {
  return PartyKeySecret::FromBytes(std::string(kPartyKeySecretSize, fill)).value();
}

TEST_CASE("a party key ignores surrounding space and the case of the check letter") {
  const PartyKeySecret secret = SecretOf('s');
  CHECK(secret.KeyOf(" 33010219900101123x\n") == secret.KeyOf("33010219900101123X"));
  CHECK(secret.KeyOf("33010219900101123X") != secret.KeyOf("330102199001011234"));
  CHECK(LegacyPartyKey(" 33010219900101123x\n") == LegacyPartyKey("33010219900101123X"));
}

TEST_CASE("a party key is an HMAC under the secret, not a digest of the ID number") {
  const PartyKeySecret secret = SecretOf('s');
  const std::string id = "33010219900101123X";
  const std::string key = secret.KeyOf(id);
  CHECK(key.size() == 64);
  CHECK(key != HexEncode(Sha256::Of(id)));
  CHECK(key != LegacyPartyKey(id));
  // HMAC-SHA-256(secret, SHA-256(id)), computed independently.
  HmacSha256 mac(std::string(kPartyKeySecretSize, 's'));
  CHECK(key == HexEncode(mac.Mac(DigestBytes(Sha256::Of(id)))));
  // Another secret, another key: a table under one says nothing under another.
  CHECK(SecretOf('t').KeyOf(id) != key);
  CHECK(PartyKey(&secret, id) == key);
  CHECK(PartyKey(nullptr, id) == LegacyPartyKey(id));
}

TEST_CASE("a legacy key rekeys to the key of the same ID number") {
  const PartyKeySecret secret = SecretOf('s');
  const std::string id = "330483199001011234";
  CHECK(secret.Rekey(LegacyPartyKey(id)).value() == secret.KeyOf(id));
  CHECK(secret.Rekey(absl::AsciiStrToUpper(LegacyPartyKey(id))).value() == secret.KeyOf(id));
  absl::StatusOr<std::string> bad = secret.Rekey("not-a-key");
  REQUIRE(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.status().message() == "party key \"not-a-key\" is not a SHA-256 in hex");
}

TEST_CASE("a party-key secret is 32 bytes and named without being revealed") {
  absl::StatusOr<PartyKeySecret> short_secret = PartyKeySecret::FromBytes("short");
  REQUIRE(short_secret.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(short_secret.status().message() == "a party-key secret is 32 bytes, not 5");
  const PartyKeySecret secret = SecretOf('s');
  CHECK(secret.bytes() == std::string(32, 's'));
  CHECK(secret.key_id().size() == 16);
  CHECK(secret.key_id().find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(secret.key_id() ==
        HexEncode(Sha256::Of("palm party key id v1\n" + std::string(32, 's'))).substr(0, 16));
  CHECK(SecretOf('t').key_id() != secret.key_id());
  // Copies share the keyed state and agree.
  const PartyKeySecret copy = secret;
  CHECK(copy.KeyOf("x") == secret.KeyOf("x"));
  CHECK(copy.key_id() == secret.key_id());
}

}  // namespace
}  // namespace palm::sync
