// What palmctl knows of the signed-in officer: the claims of the session
// token it sends (client_channel.h, SessionToken), read without verifying
// them (the server verifies every call). The claims' format is documented in
// docs/security.md; palmctl reads it to default "my squad" and for
// `auth status`, and treats a token it cannot read as no session.
#ifndef PALM_TOOLS_PALMCTL_SESSION_H_
#define PALM_TOOLS_PALMCTL_SESSION_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "palm/v1/common.pb.h"

namespace palm::palmctl {

struct SessionInfo {
  std::string officer_id;
  palm::v1::Role role = palm::v1::ROLE_UNSPECIFIED;
  std::string town_id;
  std::string squad_id;
  // The device id or "operator:NAME" the token was issued to.
  std::string principal;
  int64_t expires_at_ms = 0;
};

// The claims of `token`, or nullopt when it is not a Palm session token.
std::optional<SessionInfo> ReadSession(const std::string& token);

// The claims of the token palmctl would send now, if any.
std::optional<SessionInfo> CurrentSession();

// `given` when not empty; else the signed-in officer's squad. Otherwise
// FAILED_PRECONDITION saying what to do: sign in, or give --squad.
absl::StatusOr<std::string> SquadOrMine(const std::string& given);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_SESSION_H_
