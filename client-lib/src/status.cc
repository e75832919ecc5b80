#include "palm/status.h"

#include "absl/strings/str_cat.h"
#include "client-lib/src/status_internal.h"
#include "sync/status.h"

namespace palm {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kCancelled:
      return "CANCELLED";
    case StatusCode::kUnknown:
      return "UNKNOWN";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case StatusCode::kAborted:
      return "ABORTED";
    case StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case StatusCode::kInternal:
      return "INTERNAL";
    case StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case StatusCode::kDataLoss:
      return "DATA_LOSS";
    case StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = StatusCodeName(code_);
  if (!reason_.empty()) absl::StrAppend(&out, " [", reason_, "]");
  absl::StrAppend(&out, ": ", message_);
  return out;
}

namespace internal {

Status FromAbsl(const absl::Status& status) {
  if (status.ok()) return Status();
  v1::ReasonCode reason = sync::ReasonOf(status);
  return Status(static_cast<StatusCode>(status.code()),
                reason == v1::REASON_UNSPECIFIED ? std::string() : sync::ReasonName(reason),
                std::string(status.message()));
}

}  // namespace internal
}  // namespace palm
