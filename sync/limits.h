// The bounded contract (issue 16): the largest value of every string, bytes
// and repeated field of proto/palm/v1. One table, which docs/protocol.md
// ("Limits of fields") repeats row for row (a test compares the two). The
// device refuses a mutation over a limit before it writes it and the server
// refuses a request over a limit before it stores anything
// (sync/request_check.h).
#ifndef PALM_SYNC_LIMITS_H_
#define PALM_SYNC_LIMITS_H_

#include <cstddef>
#include <vector>

#include <google/protobuf/descriptor.h>

namespace palm::sync {

// One row: `key` is a field's full name ("palm.v1.Party.name"), or one of
// the defaults: "*_id" (a string field named *_id, or an element of one
// named *_ids), "string", "bytes", "repeated". `max` is in bytes for string
// and bytes fields and in elements for repeated fields (a repeated string
// field has both: its element limit is the string row that applies).
struct FieldLimit {
  const char* key;
  size_t max;
};

// The table, explicit fields first, then the defaults, in the order of
// docs/protocol.md.
const std::vector<FieldLimit>& FieldLimits();

// Largest size in bytes of one value of the string or bytes field `field`.
size_t MaxBytes(const google::protobuf::FieldDescriptor* field);

// Largest number of elements of the repeated field `field`.
size_t MaxCount(const google::protobuf::FieldDescriptor* field);

// The largest pull page in bytes (the changes it carries; one change is
// always sent, and no entity can exceed this under the limits above).
inline constexpr size_t kMaxPullPageBytes = 1024 * 1024;

}  // namespace palm::sync

#endif  // PALM_SYNC_LIMITS_H_
