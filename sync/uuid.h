// UUIDs for everything a device creates (cases, evidence, mutations ...).
//
// Devices make ids offline, so ids must not collide across devices: Palm uses
// RFC 9562 version 7 (48-bit Unix-millisecond timestamp, then random bits),
// which also sorts by creation time and keeps B-tree inserts local.
#ifndef PALM_SYNC_UUID_H_
#define PALM_SYNC_UUID_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace palm::sync {

// Returns a new UUIDv7 for the current system time, as lowercase
// 8-4-4-4-12 hex text. Thread-safe. Ids are ordered by their millisecond;
// within one process, ids made in the same millisecond are strictly
// increasing too.
std::string NewUuidV7();

// Returns a new UUIDv7 whose timestamp is `unix_ms` (clamped to 0..2^48-1).
// Random bits come from OpenSSL's CSPRNG. Thread-safe. Ids this process
// makes for the newest `unix_ms` it has seen are strictly increasing; after
// 2048 or more of them in one millisecond the timestamp may run up to a
// millisecond ahead (RFC 9562 §6.2). Aborts if the CSPRNG fails.
std::string NewUuidV7(int64_t unix_ms);

// Returns true when `text` is a UUID in canonical 8-4-4-4-12 hex form (any
// version, either case, no braces or "urn:uuid:" prefix). The nil UUID is
// refused: an id of all zeros is always a bug.
bool IsValidUuid(absl::string_view text);

}  // namespace palm::sync

#endif  // PALM_SYNC_UUID_H_
