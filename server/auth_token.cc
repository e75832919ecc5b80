#include "server/auth_token.h"

#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "server/pki/pki.h"

namespace palm::server {
namespace {

constexpr char kPrefix[] = "palm1";

absl::Status Malformed() {
  return absl::UnauthenticatedError("the session token is malformed; sign in again");
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenSigner>> TokenSigner::Open(const std::string& data_dir) {
  const std::string path = (std::filesystem::path(data_dir) / kSessionKeyFile).string();
  if (!std::filesystem::exists(path)) {
    auto key = sync::GenerateEd25519Key();
    if (!key.ok()) return key.status();
    auto pem = sync::PrivateKeyPem(key->get());
    if (!pem.ok()) return pem.status();
    if (auto s = pki::WriteNewFile(path, *pem, 0600); !s.ok()) return s;
  }
  auto pem = pki::ReadFile(path);
  if (!pem.ok()) return pem.status();
  auto key = sync::LoadPrivateKeyPem(*pem);
  if (!key.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, " is not an Ed25519 private key: ", key.status().message()));
  }
  return std::make_unique<TokenSigner>(std::move(*key));
}

absl::StatusOr<std::string> TokenSigner::Issue(const SessionClaims& c) const {
  nlohmann::json json = {{"v", 1},
                         {"jti", c.token_id},
                         {"off", c.officer_id},
                         {"role", static_cast<int>(c.role)},
                         {"town", c.town_id},
                         {"squad", c.squad_id},
                         {"dev", c.principal},
                         {"iat", c.issued_at_ms},
                         {"exp", c.expires_at_ms}};
  std::string signed_part = absl::StrCat(kPrefix, ".", absl::WebSafeBase64Escape(json.dump()));
  auto signature = sync::Ed25519Sign(key_.get(), signed_part);
  if (!signature.ok()) return signature.status();
  return absl::StrCat(signed_part, ".", absl::WebSafeBase64Escape(*signature));
}

absl::StatusOr<SessionClaims> TokenSigner::Verify(const std::string& token, int64_t now_ms) const {
  auto c = VerifySignature(token);
  if (!c.ok()) return c.status();
  if (now_ms >= c->expires_at_ms) {
    return absl::UnauthenticatedError(absl::StrCat("the session token of officer ", c->officer_id,
                                                   " expired at ", c->expires_at_ms,
                                                   " (unix ms); sign in again"));
  }
  return c;
}

absl::StatusOr<SessionClaims> TokenSigner::VerifySignature(const std::string& token) const {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0] != kPrefix) return Malformed();
  std::string claims_text;
  std::string signature;
  if (!absl::WebSafeBase64Unescape(parts[1], &claims_text) ||
      !absl::WebSafeBase64Unescape(parts[2], &signature)) {
    return Malformed();
  }
  if (!sync::Ed25519Verify(key_.get(), absl::StrCat(parts[0], ".", parts[1]), signature)) {
    return absl::UnauthenticatedError(
        "the session token's signature does not verify (forged, altered or issued by another "
        "server); sign in again");
  }
  nlohmann::json json = nlohmann::json::parse(claims_text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || json.value("v", 0) != 1) return Malformed();
  SessionClaims c;
  try {
    c.token_id = json.at("jti").get<std::string>();
    c.officer_id = json.at("off").get<std::string>();
    c.role = static_cast<palm::v1::Role>(json.at("role").get<int>());
    c.town_id = json.at("town").get<std::string>();
    c.squad_id = json.at("squad").get<std::string>();
    c.principal = json.at("dev").get<std::string>();
    c.issued_at_ms = json.at("iat").get<int64_t>();
    c.expires_at_ms = json.at("exp").get<int64_t>();
  } catch (const nlohmann::json::exception&) {
    return Malformed();
  }
  return c;
}

}  // namespace palm::server
