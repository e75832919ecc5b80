// The mutation model (DESIGN.md §3.1): helpers both ends use to check, name
// and fingerprint a palm.v1.Mutation.
#ifndef PALM_SYNC_MUTATION_H_
#define PALM_SYNC_MUTATION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "palm/v1/mutation.pb.h"

namespace palm::sync {

// Checks that `m` is well formed, whatever the state it will meet: a UUID
// mutation_id, a device_id, device_seq >= 1, hlc.wall_ms > 0, an officer_id,
// exactly one operation, and that operation's own ids (see mutation.cc for
// the list per operation: UUIDs for case/evidence/ticket/decision/event ids,
// a 64-character lowercase hex sha256 and a size for evidence, a reason for
// withdrawals and voids, a target state for transitions ...). Returns OK or
// INVALID_ARGUMENT with REASON_INVALID_ARGUMENT and a message naming the
// field, e.g. "add_evidence.evidence.sha256 must be 64 lowercase hex
// characters". The legal rules (sync/rules.h) are checked separately.
absl::Status CheckMutationShape(const palm::v1::Mutation& m);

// Returns the lowercase hex SHA-256 of the deterministic serialization of
// `m`: equal for equal content, so that a mutation id resent with different
// content (REASON_MUTATION_ID_REUSED) can be told from a plain retry.
// Deterministic within one protobuf version; store the digest with the
// mutation rather than recomputing it from an old copy after an upgrade.
std::string MutationContentDigest(const palm::v1::Mutation& m);

// Returns the proto field name of the operation `m` carries, e.g.
// "record_case", or "none" when no operation is set. The view is valid for
// the life of the process.
absl::string_view OperationName(const palm::v1::Mutation& m);

// Returns the id of the case the operation of `m` touches, or "" when no
// operation is set.
std::string CaseIdOf(const palm::v1::Mutation& m);

}  // namespace palm::sync

#endif  // PALM_SYNC_MUTATION_H_
