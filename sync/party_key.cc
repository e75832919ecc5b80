#include "sync/party_key.h"

#include <openssl/crypto.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "sync/sha256.h"

namespace palm::sync {
namespace {

std::string Normalised(absl::string_view id_number) {
  return absl::AsciiStrToUpper(absl::StripAsciiWhitespace(id_number));
}

std::string KeyIdOf(absl::string_view secret) {
  const std::string id = HexEncode(Sha256::Of(absl::StrCat("palm party key id v1\n", secret)));
  return id.substr(0, 16);
}

}  // namespace

PartyKeySecret::State::State(absl::string_view secret)
    : bytes(secret), key_id(KeyIdOf(secret)), mac(secret) {}

PartyKeySecret::State::~State() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

absl::StatusOr<PartyKeySecret> PartyKeySecret::FromBytes(absl::string_view bytes) {
  if (bytes.size() != kPartyKeySecretSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("a party-key secret is ", kPartyKeySecretSize, " bytes, not ", bytes.size()));
  }
  return PartyKeySecret(std::make_shared<const State>(bytes));
}

std::string PartyKeySecret::KeyOf(absl::string_view id_number) const {
  return HexEncode(state_->mac.Mac(DigestBytes(Sha256::Of(Normalised(id_number)))));
}

absl::StatusOr<std::string> PartyKeySecret::Rekey(absl::string_view legacy_key) const {
  absl::StatusOr<Sha256Digest> inner = HexDecodeDigest(legacy_key);
  if (!inner.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("party key \"", legacy_key, "\" is not a SHA-256 in hex"));
  }
  return HexEncode(state_->mac.Mac(DigestBytes(*inner)));
}

std::string LegacyPartyKey(absl::string_view id_number) {
  return HexEncode(Sha256::Of(Normalised(id_number)));
}

std::string PartyKey(const PartyKeySecret* secret, absl::string_view id_number) {
  return secret != nullptr ? secret->KeyOf(id_number) : LegacyPartyKey(id_number);
}

}  // namespace palm::sync
