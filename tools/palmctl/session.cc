#include "tools/palmctl/session.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tools/palmctl/client_channel.h"

namespace palm::palmctl {

std::optional<SessionInfo> ReadSession(const std::string& token) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string claims;
  if (parts.size() != 3 || parts[0] != "palm1" || !absl::WebSafeBase64Unescape(parts[1], &claims)) {
    return std::nullopt;
  }
  nlohmann::json json = nlohmann::json::parse(claims, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  try {
    return SessionInfo{.officer_id = json.at("off").get<std::string>(),
                       .role = static_cast<palm::v1::Role>(json.at("role").get<int>()),
                       .town_id = json.at("town").get<std::string>(),
                       .squad_id = json.at("squad").get<std::string>(),
                       .principal = json.at("dev").get<std::string>(),
                       .expires_at_ms = json.at("exp").get<int64_t>()};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::optional<SessionInfo> CurrentSession() {
  const std::string token = SessionToken();
  if (token.empty()) return std::nullopt;
  return ReadSession(token);
}

absl::StatusOr<std::string> SquadOrMine(const std::string& given) {
  if (!given.empty()) return given;
  std::optional<SessionInfo> session = CurrentSession();
  if (!session) {
    return absl::FailedPreconditionError(
        "no --squad given and not signed in: give --squad SQUAD, or run palmctl auth login as "
        "the squad's leader");
  }
  if (session->squad_id.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no --squad given and officer ", session->officer_id, " has no squad: give --squad SQUAD"));
  }
  return session->squad_id;
}

}  // namespace palm::palmctl
