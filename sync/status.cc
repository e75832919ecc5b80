#include "sync/status.h"

#include <cassert>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace palm::sync {

absl::Status Refuse(absl::StatusCode code, palm::v1::ReasonCode reason, absl::string_view message) {
  assert(code != absl::StatusCode::kOk);
  absl::Status status(code, message);
  status.SetPayload(kReasonPayloadKey, absl::Cord(absl::StrCat(static_cast<int>(reason))));
  return status;
}

palm::v1::ReasonCode ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayloadKey);
  int value = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &value) ||
      !palm::v1::ReasonCode_IsValid(value)) {
    return palm::v1::REASON_UNSPECIFIED;
  }
  return static_cast<palm::v1::ReasonCode>(value);
}

std::string ReasonName(palm::v1::ReasonCode reason) {
  std::string name = palm::v1::ReasonCode_Name(reason);
  absl::string_view rest = name;
  absl::ConsumePrefix(&rest, "REASON_");
  return absl::AsciiStrToLower(rest);
}

}  // namespace palm::sync
