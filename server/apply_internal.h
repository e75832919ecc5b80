// What the parts of the server's apply path share (apply.cc: batches,
// idempotency, audit; apply_case.cc: cases and their lifecycle;
// apply_records.cc: evidence, tickets, decisions, events). Internal to
// server/: the meaning of each operation lives in sync/operations.h, and
// these files only look entities up, call it, and write what it decided.
#ifndef PALM_SERVER_APPLY_INTERNAL_H_
#define PALM_SERVER_APPLY_INTERNAL_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/apply.h"
#include "server/store.h"
#include "sync/operations.h"
#include "sync/status.h"
#include "sync/status_macros.h"

namespace palm::server::internal {

// INVALID_ARGUMENT with REASON_INVALID_ARGUMENT.
inline absl::Status Malformed(absl::string_view message) {
  return sync::InvalidArgument(palm::v1::REASON_INVALID_ARGUMENT, message);
}

// The refusal of a mutation (rule broken) versus a storage error: both are
// absl::Status; a refusal carries a ReasonCode, a storage error does not.
inline bool IsRefusal(const absl::Status& s) {
  return sync::ReasonOf(s) != palm::v1::REASON_UNSPECIFIED;
}

// How a case is named to a caller of its own town: its number once it has
// one, else its id.
inline std::string CaseLabel(const std::string& case_id, const std::string& case_number) {
  return case_number.empty() ? case_id : case_number;
}
inline std::string CaseLabel(const palm::v1::Case& c) {
  return CaseLabel(c.case_id(), c.case_number());
}

// Everything one mutation's apply needs, and what it produced.
struct Apply {
  WriteTxn& txn;
  MatterCache& matters;
  const Caller& caller;
  const ApplyOptions& options;
  const PreparedMutation& prepared;
  int64_t now_ms;
  palm::v1::MutationResult* result;
  // A write the server makes itself (ResolveConflict restoring a losing
  // value): it always wins and loses nothing worth a conflict row.
  bool server_write = false;
  // The caller's sequence numbers above this one were recorded by this push
  // batch, at now_ms (ApplyBatch); none when unset.
  uint64_t recorded_now_after = UINT64_MAX;

  const palm::v1::Mutation& m() const { return prepared.mutation; }

  // Appends a change and remembers the highest position for the result.
  absl::Status Changed(EntityKind kind, const std::string& id, const std::string& scope) {
    PALM_ASSIGN_OR_RETURN(uint64_t seq, txn.AppendChange(kind, id, scope));
    result->set_server_seq(std::max<uint64_t>(result->server_seq(), seq));
    return absl::OkStatus();
  }

  // The case `case_id`, which must exist and lie in the caller's town.
  absl::StatusOr<CaseRecord> CaseInScope(const std::string& case_id);
  // CaseInScope for an operation that only checks the case: its id, number
  // and town, without copying or parsing the whole case.
  absl::StatusOr<CaseBrief> CaseBriefInScope(const std::string& case_id);
  // Refuses a case of town `town_id` unless that is the caller's town. The
  // refusal names only what the caller sent (`case_id`): nothing of a case
  // outside the caller's town is disclosed.
  absl::Status InCallersTown(const std::string& case_id, const std::string& town_id) const;

  // Looks up the officers `ids` (active or not) and keeps those of the
  // caller's town: the roster lookup sync/operations.h asks for, valid for
  // the life of this Apply. Loads only the ids named, so a push does not read
  // a town's whole roster per mutation.
  absl::StatusOr<sync::OfficerLookup> RosterFor(
      const google::protobuf::RepeatedPtrField<std::string>& ids);

  // A system-written timeline entry whose id is the mutation id, so the
  // device that made the mutation can write the same entry locally.
  absl::Status SystemEvent(const std::string& case_id, const std::string& town_id,
                           palm::v1::CaseEventKind kind, const std::string& text,
                           palm::v1::CaseState from = palm::v1::CASE_STATE_UNSPECIFIED,
                           palm::v1::CaseState to = palm::v1::CASE_STATE_UNSPECIFIED);
  absl::Status SystemEvent(const palm::v1::Case& c, palm::v1::CaseEventKind kind,
                           const std::string& text,
                           palm::v1::CaseState from = palm::v1::CASE_STATE_UNSPECIFIED,
                           palm::v1::CaseState to = palm::v1::CASE_STATE_UNSPECIFIED) {
    return SystemEvent(c.case_id(), c.town_id(), kind, text, from, to);
  }

  // Records that the party `party` of case `c` violated `matter_code`.
  absl::Status PriorViolation(const palm::v1::Case& c, const palm::v1::Party& party,
                              const std::string& matter_code, int64_t at_ms);

  // RosterFor's officers of the caller's town, by id. (A public member so
  // that Apply stays an aggregate, made with designated fields.)
  std::map<std::string, palm::v1::Officer> roster_cache = {};
};

// Art. 58: a town-owned case heading for a major decision goes to the
// county. Marks `c` escalated (the caller stores it) and records why on its
// timeline, once.
absl::Status EscalateIfMajor(Apply& a, palm::v1::Case& c);

// One function per operation; each checks every rule before its first
// write, so that a refusal leaves nothing behind.
absl::Status ApplyRecordCase(Apply& a);
absl::Status ApplyUpdateCaseFields(Apply& a);
absl::Status ApplyTransitionCase(Apply& a);
absl::Status ApplyAddEvidence(Apply& a);
absl::Status ApplyWithdrawEvidence(Apply& a);
absl::Status ApplyIssueTicket(Apply& a);
absl::Status ApplyVoidTicket(Apply& a);
absl::Status ApplyRecordNoPenalty(Apply& a);
absl::Status ApplyAppendCaseEvent(Apply& a);

// Checks the mutation's acting officer, then runs its operation.
absl::Status ApplyOperation(Apply& a);

}  // namespace palm::server::internal

#endif  // PALM_SERVER_APPLY_INTERNAL_H_
