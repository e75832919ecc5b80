// Checks of a request that the generated parser does not make: an enum value
// the contract does not name, a value over its limit (sync/limits.h), and (for messages built in
// memory, which the parser never saw) a string that is not UTF-8. The device runs the same walk on
// every mutation before it writes it (client-lib DeviceStore::Write) and the server on every
// request before it does anything with it, so a device never stores what the server would refuse.
// docs/protocol.md, "Bad input".
#ifndef PALM_SYNC_REQUEST_CHECK_H_
#define PALM_SYNC_REQUEST_CHECK_H_

#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "palm/v1/mutation.pb.h"

namespace palm::sync {

// OK, or INVALID_ARGUMENT naming the first offending field by its path from
// `message`, e.g. "issue_ticket.ticket.remedies[0]: unknown enum value 99
// for palm.v1.RemedyKind", "record_case.case.parties[0].name: at most 256
// bytes, this one has 300 ("张三张三张三张…")" (a prefix of at most 16 bytes is
// quoted), or "officer_id: not valid UTF-8". Fields
// are visited in field-number order, elements in index order. Thread-safe.
absl::Status CheckMessage(const google::protobuf::Message& message);

// CheckMessage for a mutation, as a refusal with REASON_INVALID_ARGUMENT.
absl::Status CheckMutation(const palm::v1::Mutation& mutation);

// Cuts every value of `message` over its limit to fit: a string or bytes
// value to its longest prefix that ends in "…" within the limit (a UTF-8
// boundary), a repeated field to its first elements. The server keeps a
// refused mutation this way, so that what it records of a refusal (the
// rejected list) is bounded too.
void CutToLimits(google::protobuf::Message* message);

// What the server keeps of a refused mutation for the squad leader (the
// rejected list, GetRejected, the shift report): CutToLimits, and no
// evidence receipt (a receipt is the server's to make, and the one part of
// a mutation whose limits allow megabytes: 100 proofs of 64 KiB each). So a
// kept refusal encodes to at most about 0.5 MiB.
void BoundRefused(palm::v1::Mutation* mutation);

// CheckMessage for an entity as a change would leave it: the check of each
// mutation bounds the values it carries, not what merging them into the
// stored entity makes (a field change may carry 4096 bytes where a party's
// name holds 256; each new party id adds a party). As a refusal with
// REASON_INVALID_ARGUMENT whose message is `what`, ": " and the path from
// the entity, e.g. "update_case_fields would leave case 2026-0001 over a
// limit: parties[0].name: at most 256 bytes, this one has 4096
// ("nnnnnnnnnnnnnnnn…")". The device runs it before it writes a change and
// the server before it stores the merged entity. Thread-safe.
absl::Status CheckChangedEntity(const google::protobuf::Message& entity, absl::string_view what);

// For bytes that did not parse as `type`: the path of the first string
// field that holds bytes which are not UTF-8 (the reason proto3's parser
// refuses otherwise well-formed bytes), e.g. "officer_id"; empty when the
// bytes are malformed for another reason. Thread-safe.
std::string FindInvalidUtf8(const google::protobuf::Descriptor* type, absl::string_view bytes);

// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates).
bool IsUtf8(absl::string_view text);

}  // namespace palm::sync

#endif  // PALM_SYNC_REQUEST_CHECK_H_
