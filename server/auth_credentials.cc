#include "server/auth_credentials.h"

#include "sync/scrypt.h"

namespace palm::server {

absl::StatusOr<OfficerCredential> NewCredential(const std::string& officer_id,
                                                const std::string& secret) {
  OfficerCredential c;
  sync::ScryptParams params;
  c.officer_id = officer_id;
  c.log2_n = params.log2_n;
  c.r = params.r;
  c.p = params.p;
  c.salt = sync::RandomBytes(sync::kScryptSaltBytes);
  c.offline_salt = sync::RandomBytes(sync::kScryptSaltBytes);
  auto hash = sync::Scrypt(secret, c.salt, params);
  if (!hash.ok()) return hash.status();
  c.hash = std::move(*hash);
  return c;
}

absl::StatusOr<bool> SecretMatches(const OfficerCredential& c, const std::string& secret) {
  auto hash = sync::Scrypt(secret, c.salt, {.log2_n = c.log2_n, .r = c.r, .p = c.p});
  if (!hash.ok()) return hash.status();
  return sync::ConstantTimeEqual(*hash, c.hash);
}

}  // namespace palm::server
