// Errors are values: absl::Status carrying, besides the canonical code and a
// sentence for people, a machine-readable palm.v1.ReasonCode as a payload.
// Every refusal Palm makes — on the device or on the server — is built with
// Refuse() so the reason survives the trip through gRPC status details.
#ifndef PALM_SYNC_STATUS_H_
#define PALM_SYNC_STATUS_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "palm/v1/common.pb.h"

namespace palm::sync {

// Payload key under which the reason code travels inside an absl::Status.
inline constexpr absl::string_view kReasonPayloadKey = "palm.v1.ReasonCode";

// Returns a non-OK status with `code`, `message` and `reason` attached.
// `code` must not be kOk.
absl::Status Refuse(absl::StatusCode code, palm::v1::ReasonCode reason, absl::string_view message);

// Shorthands for the two codes the legal rules use most.
inline absl::Status InvalidArgument(palm::v1::ReasonCode reason, absl::string_view message) {
  return Refuse(absl::StatusCode::kInvalidArgument, reason, message);
}
inline absl::Status FailedPrecondition(palm::v1::ReasonCode reason, absl::string_view message) {
  return Refuse(absl::StatusCode::kFailedPrecondition, reason, message);
}

// The reason attached by Refuse(), or REASON_UNSPECIFIED when there is none
// (including for an OK status).
palm::v1::ReasonCode ReasonOf(const absl::Status& status);

// Short lowercase name of a reason, e.g. "fine_over_limit".
std::string ReasonName(palm::v1::ReasonCode reason);

}  // namespace palm::sync

#endif  // PALM_SYNC_STATUS_H_
