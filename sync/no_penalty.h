// Art. 33 as the law writes it: the three grounds of a decision not to
// penalise, what each needs on record, and which earlier violations make a
// violation not a first one. Pure functions over the protos; the device
// (DeviceStore::Write) and the server (server/apply_records.cc) both call
// them, so a decision means the same on both ends.
#ifndef PALM_SYNC_NO_PENALTY_H_
#define PALM_SYNC_NO_PENALTY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "palm/v1/case.pb.h"
#include "palm/v1/catalog.pb.h"
#include "sync/operations.h"

namespace palm::sync {

// How messages name a ground, e.g. "Art. 33 ¶1 (first violation, slight
// harm, corrected in time)".
std::string GroundLabel(palm::v1::NoPenaltyGround ground);

// The Art. 33 ¶1 grounds `matter`'s no-penalty list entry admits: its
// no_penalty_grounds, or, for an entry from before grounds were listed, the
// first-violation ground alone (the rule Palm applied then). Empty when the
// matter is not on the list.
std::vector<palm::v1::NoPenaltyGround> AdmittedGrounds(const palm::v1::Matter& matter);

// What CheckNoPenalty reads besides the decision. Every pointer is set by
// the caller (the matter may be null: not in the catalogue).
struct NoPenaltyFacts {
  // The decision's case.
  const palm::v1::Case* c = nullptr;
  // The catalogue's entry for the case's matter, or null.
  const palm::v1::Matter* matter = nullptr;
  // The town's roster, for the correction's verifier.
  const OfficerLookup* roster = nullptr;
  // The evidence records the decision's no_fault_evidence_ids name, as found
  // on record (an id with no record is simply absent).
  const std::vector<palm::v1::Evidence>* cited_evidence = nullptr;
  // The party's violations of the case's matter on record, voided ones
  // included (CountingPriorViolation picks).
  const std::vector<palm::v1::PriorViolation>* priors = nullptr;
  // When the write was made (the mutation's HLC wall time). The look-back
  // window ends on the earlier of it and the decision's decided_at_ms, so
  // that a decision dated ahead cannot move the window past an earlier
  // violation.
  int64_t written_at_ms = 0;
};

// Checks a no-penalty decision (its matter already the case's, see
// DeriveNoPenalty) against Art. 33. In this order:
//   INVALID_ARGUMENT    REASON_UNKNOWN_MATTER            matter not catalogued;
//   INVALID_ARGUMENT    REASON_NO_PENALTY_GROUND         no ground, or LEGACY
//                                                        (kept for migrated
//                                                        decisions only);
//   INVALID_ARGUMENT    REASON_NOT_ON_NO_PENALTY_LIST    a ¶1 ground for a
//                                                        matter off the list;
//   INVALID_ARGUMENT    REASON_NO_PENALTY_GROUND         a ¶1 ground the list
//                                                        entry does not admit;
//   INVALID_ARGUMENT    REASON_MISSING_EDUCATION         no education record
//                                                        (¶3, every ground);
//   INVALID_ARGUMENT    REASON_MISSING_CORRECTION        a ¶1 ground without
//                                                        what was corrected,
//                                                        when, or who verified;
//   INVALID_ARGUMENT    REASON_INVALID_ARGUMENT          a correction dated
//                                                        before the violation
//                                                        or after the decision;
//   then CheckOfficersOnRoster for the verifier;
//   INVALID_ARGUMENT    REASON_MISSING_NO_FAULT_EVIDENCE the no-fault ground
//                                                        citing no evidence,
//                                                        or evidence that is
//                                                        not the case's or is
//                                                        withdrawn;
//   FAILED_PRECONDITION REASON_NOT_FIRST_VIOLATION       the first-violation
//                                                        ground with another
//                                                        violation inside the
//                                                        look-back window.
// Only the first-violation ground runs the prior-violation check.
absl::Status CheckNoPenalty(const palm::v1::NoPenaltyDecision& d, const NoPenaltyFacts& facts);

// The violation among `priors` (of one party and matter) that makes a
// violation at `at_ms` not a first one under `matter`'s look-back window
// (no_penalty_lookback_months, counted back on Asia/Shanghai dates from the
// day of `at_ms`; 0: ever), or null. Voided records never count.
const palm::v1::PriorViolation* CountingPriorViolation(
    const std::vector<palm::v1::PriorViolation>& priors, const palm::v1::Matter& matter,
    int64_t at_ms);

// The officers decision `d` names, whom both ends look up on the town's
// roster: its deciding officers, then the correction's verifier (if any).
google::protobuf::RepeatedPtrField<std::string> NamedOfficers(const palm::v1::NoPenaltyDecision& d);

// Whether recording `d` records a violation for a later first-violation
// check: every ground but no fault (¶2: a party without fault committed no
// violation to count).
bool RecordsViolation(const palm::v1::NoPenaltyDecision& d);

// The stable id of the violation of `matter_code` by party `party_id` of
// case `case_id` (PriorViolation.violation_id): both ends compute it, so the
// record a device made and the one the server sends coincide.
std::string PriorViolationId(absl::string_view case_id, absl::string_view party_id,
                             absl::string_view matter_code);

// The violation id the server gives a record stored before violation ids
// existed, from its store key: stable, and never a PriorViolationId.
std::string StoredViolationId(absl::string_view store_key);

// Whether the violation of `matter_code` by party `party_id` that case `c`
// recorded still stands, given the case's tickets and no-penalty decisions.
// On the summary procedure: a ticket for it not voided, or a decision that
// records a violation. An ordinary case's stands (it is its decision's,
// which nothing in Palm overturns yet). When a violation no longer stands
// (its last ticket voided), both ends mark its PriorViolation voided: a
// voided ticket is not a violation on record for Art. 33's check.
bool ViolationStands(const palm::v1::Case& c, const std::vector<palm::v1::Ticket>& tickets,
                     const std::vector<palm::v1::NoPenaltyDecision>& decisions,
                     absl::string_view party_id, absl::string_view matter_code);

}  // namespace palm::sync

#endif  // PALM_SYNC_NO_PENALTY_H_
