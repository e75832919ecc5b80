// Officer sign-in secrets as salted scrypt (sync/scrypt.h, default cost
// N = 2^15, r = 8, p = 1, 16-byte salt, 32-byte key). CPU- and memory-heavy:
// call from a store thread or at start-up, never from a reaction.
#ifndef PALM_SERVER_AUTH_CREDENTIALS_H_
#define PALM_SERVER_AUTH_CREDENTIALS_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/store.h"

namespace palm::server {

// A fresh credential for `officer_id` with `secret` (new salts).
absl::StatusOr<OfficerCredential> NewCredential(const std::string& officer_id,
                                                const std::string& secret);

// True when `secret` hashes to `credential.hash` (constant-time compare).
absl::StatusOr<bool> SecretMatches(const OfficerCredential& credential, const std::string& secret);

}  // namespace palm::server

#endif  // PALM_SERVER_AUTH_CREDENTIALS_H_
