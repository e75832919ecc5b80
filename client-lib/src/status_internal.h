// The one place where the library's internal absl::Status becomes the public
// palm::Status (code, machine reason from palm::sync::ReasonName, message).
#ifndef PALM_CLIENT_STATUS_INTERNAL_H_
#define PALM_CLIENT_STATUS_INTERNAL_H_

#include "absl/status/status.h"
#include "palm/status.h"

namespace palm::internal {

Status FromAbsl(const absl::Status& status);

}  // namespace palm::internal

#endif  // PALM_CLIENT_STATUS_INTERNAL_H_
