// Files of the evidence log that palmctl reads and writes (docs/evidence.md,
// "Files"): tree heads and receipts in protobuf's JSON mapping (binary
// protobuf is accepted on input too), the log key as PEM. Shared by
// cmd_log.cc and cmd_evidence.cc.
#ifndef PALM_TOOLS_PALMCTL_CMD_LOG_H_
#define PALM_TOOLS_PALMCTL_CMD_LOG_H_

#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sync/ed25519.h"

namespace palm::palmctl {

// Reads `path` into `message`: protobuf JSON (as `palmctl log head --json`
// and `palmctl evidence receipt` write it), else binary protobuf.
// NOT_FOUND when the file cannot be read, INVALID_ARGUMENT naming `what`
// when it is neither.
absl::Status ReadMessageFile(const std::string& path, const std::string& what,
                             google::protobuf::Message* message);

// Writes `content` to `path` (replacing it).
absl::Status WriteFile(const std::string& path, const std::string& content);

// Reads the log's public key (PEM) from `path`.
absl::StatusOr<sync::UniqueEvpPkey> ReadLogKey(const std::string& path);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_CMD_LOG_H_
