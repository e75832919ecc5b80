// The pull cursor: opaque to devices, checked by the server. It names the
// store epoch it belongs to, the scope it was issued for and a position in
// the change log.
#ifndef PALM_SERVER_CURSOR_H_
#define PALM_SERVER_CURSOR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace palm::server {

struct PullCursor {
  std::string epoch;
  // The scope the changes were read for (the device's town).
  std::string scope;
  uint64_t server_seq = 0;
};

// Returns the wire form of `cursor`.
std::string EncodeCursor(const PullCursor& cursor);

// Parses a cursor made by EncodeCursor. Anything else (truncated, edited,
// from another program) is INVALID_ARGUMENT "the cursor is malformed ...".
// Whether the epoch and scope still hold is the caller's check.
absl::StatusOr<PullCursor> DecodeCursor(absl::string_view bytes);

}  // namespace palm::server

#endif  // PALM_SERVER_CURSOR_H_
