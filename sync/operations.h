// The meaning of every operation a mutation can carry (DESIGN.md §2–3): how
// each one is checked, put in canonical form, completed from the case it
// touches, and applied to entity state. Pure functions over the palm.v1
// messages — no SQLite, no gRPC — called by the device before it records a
// write and by the server before it applies one, so that the two ends can
// never give one mutation two meanings.
//
// The caller looks the entities up (each end from its own tables) and hands
// them in; a null pointer means "not on record". The order in which the
// checks run is part of the meaning: both ends call these functions in the
// order the comments give, so the first broken rule is the same on both.
//
// Where the device and the server used to disagree, the rule chosen is said
// beside the function. Refusals carry a palm.v1.ReasonCode (sync/status.h).
#ifndef PALM_SYNC_OPERATIONS_H_
#define PALM_SYNC_OPERATIONS_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "palm/v1/case.pb.h"
#include "palm/v1/catalog.pb.h"
#include "palm/v1/mutation.pb.h"
#include "palm/v1/org.pb.h"
#include "sync/calendar.h"
#include "sync/party_key.h"

namespace palm::sync {

// --- Case fields (UpdateCaseFields, RecordCase). -----------------------------

// True for CASE_FIELD_PARTY_*: the change names a party by party_id.
bool IsPartyField(palm::v1::CaseField field);

// "lat,lng" or "lat,lng,accuracy" with 7 decimals for the position and one
// for the accuracy (about 1 cm): the one text form of a location, on both ends.
std::string FormatLocation(const palm::v1::GeoPoint& p);

// Checks one field change and returns its value in canonical form. `where`
// names the change in messages, e.g. "update_case_fields.changes[2]". Refuses
// with INVALID_ARGUMENT, REASON_INVALID_ARGUMENT:
//   - an unknown field, or a party field without a party_id;
//   - a location that is not "lat,lng[,accuracy]" with latitude in [-90, 90],
//     longitude in [-180, 180] and accuracy >= 0 (the device used to accept a
//     negative accuracy; refused on both ends now);
//   - occurred_at that is not a positive number of Unix milliseconds (the
//     server used to accept 0, which erases the time of the act; refused);
//   - a proposed fine that is not a whole number of fen >= 0;
//   - a party kind other than citizen (1) or organisation (2);
//   - an empty matter code.
// Locations are rounded to FormatLocation on both ends (the device used to
// keep what the officer's app sent). Whether a matter code is in the
// catalogue is CheckMatterKnown's job: the caller looks the matter up.
absl::StatusOr<std::string> CanonicalFieldValue(const palm::v1::CaseFieldChange& change,
                                                absl::string_view where);

// The current value of `field` (of party `party_id` for a party field) in
// `c`, in the form CanonicalFieldValue returns; "" when unset.
std::string FieldValue(const palm::v1::Case& c, palm::v1::CaseField field,
                       const std::string& party_id);

// Writes `canonical` (a value CanonicalFieldValue returned for `field`) into
// `c`; a party field of a new party_id adds that party.
void SetFieldValue(palm::v1::Case* c, palm::v1::CaseField field, const std::string& party_id,
                   const std::string& canonical);

// OK unless `c` is archived (FAILED_PRECONDITION, REASON_IMMUTABLE): an
// archived case's fields no longer change (the device used not to check).
absl::Status CheckCaseEditable(const palm::v1::Case& c, absl::string_view case_label);

// OK when `matter` (the catalogue entry looked up for `code`) exists;
// otherwise INVALID_ARGUMENT, REASON_UNKNOWN_MATTER "matter code X is not in
// the catalogue".
absl::Status CheckMatterKnown(const std::string& code, const palm::v1::Matter* matter);

// --- Who acts. ----------------------------------------------------------------

// Looks an officer up by id on the roster of the town a write is for; null
// when not on it.
using OfficerLookup = std::function<const palm::v1::Officer*(const std::string& officer_id)>;

// Checks that every id in `officer_ids` (named `where` in messages, e.g.
// "record_case.case.officer_ids") is an active officer on `roster`, the
// roster of the town the write is for (a device holds only its own town's;
// the server looks only there too, so an officer of another town is "not on
// the roster" on both ends, and the message discloses nothing about them):
//   FAILED_PRECONDITION REASON_UNKNOWN_OFFICER   not on the roster;
//   PERMISSION_DENIED   REASON_PERMISSION_DENIED an inactive officer.
absl::Status CheckOfficersOnRoster(const google::protobuf::RepeatedPtrField<std::string>& ids,
                                   absl::string_view where, const OfficerLookup& roster);

// Whether `officer` holds an enforcement credential (执法证) and so counts
// as law-enforcement personnel (Art. 42): sworn, with a credential number on
// record, and active. An auxiliary (辅勤) never does; nor does a sworn officer
// whose roster entry has no credential number (stores from before the
// number was required hold such entries).
bool HoldsCredential(const palm::v1::Officer& officer);

// The acts the law gives to law-enforcement personnel, each needing at least
// two credentialed officers.
enum class CredentialedAct {
  kTicket,            // an on-the-spot penalty decision (Art. 42, Art. 51)
  kInspectionRecord,  // recording a case: inspection or investigation (Art. 55)
  kNoPenalty,         // a no-penalty decision (Art. 42)
};

// Checks that `officer_ids` name at least two distinct officers who hold a
// credential (HoldsCredential), looked up on `roster`; auxiliaries may be
// named as assisting and are not counted. Otherwise INVALID_ARGUMENT,
// REASON_TOO_FEW_OFFICERS, e.g. "a ticket needs at least two
// law-enforcement officers holding credentials (Art. 42); officer-a3 is an
// auxiliary and does not count". The message names every officer who does
// not count and why, or how many were named when that alone is too few.
// Runs after the roster check of the same ids (an unknown or inactive
// officer is refused there first); one not on `roster` does not count.
absl::Status CheckCredentialedOfficers(const google::protobuf::RepeatedPtrField<std::string>& ids,
                                       CredentialedAct act, const OfficerLookup& roster);

// --- RecordCase. ----------------------------------------------------------------

// The refusal of record_case for a case id already on record (ALREADY_EXISTS,
// REASON_ALREADY_EXISTS). Names only the id the caller sent.
absl::Status CaseAlreadyRecorded(const std::string& case_id);

// Checks the parties of a case about to be recorded: each has a party_id,
// none twice (INVALID_ARGUMENT, REASON_INVALID_ARGUMENT). Runs after
// CheckRecordCase (sync/rules.h).
absl::Status CheckCaseParties(const palm::v1::Case& c);

// --- IssueTicket. ------------------------------------------------------------

// Completes `t` from the case `c` it is issued on (with its parties): the
// matter code and the party kind follow from the case, never from what the
// mutation said, so that a ticket cannot claim an organisation's limit for a
// citizen or another matter's range. Checked first, in this order:
//   INVALID_ARGUMENT REASON_NOT_FAST_TRACK      the case follows the ordinary
//                                               procedure;
//   INVALID_ARGUMENT REASON_INVALID_ARGUMENT    party_id names no party of c.
// `case_label` names the case in messages (its number, or its id).
absl::Status DeriveTicket(const palm::v1::Case& c, absl::string_view case_label,
                          palm::v1::Ticket* t);

// The refusal of ticket `ticket_id` that is already issued
// (FAILED_PRECONDITION, REASON_IMMUTABLE: a ticket is never edited).
absl::Status TicketAlreadyIssued(const std::string& ticket_id);

// --- VoidTicket, WithdrawEvidence. -------------------------------------------

// Checks a void of `stored` (null when no such ticket is on record):
//   FAILED_PRECONDITION REASON_UNKNOWN_TICKET   unknown, or of another case;
//   FAILED_PRECONDITION REASON_ALREADY_VOIDED.
absl::Status CheckVoidTicket(const palm::v1::VoidTicket& op, const palm::v1::Ticket* stored,
                             absl::string_view case_label);

// Checks a withdrawal of `stored` (null when no such evidence is on record):
//   FAILED_PRECONDITION REASON_UNKNOWN_EVIDENCE unknown, or of another case;
//   FAILED_PRECONDITION REASON_ALREADY_WITHDRAWN.
absl::Status CheckWithdrawEvidence(const palm::v1::WithdrawEvidence& op,
                                   const palm::v1::Evidence* stored, absl::string_view case_label);

// --- AddEvidence. ------------------------------------------------------------

// Checks new evidence `e` before its case is looked up: a known kind
// (INVALID_ARGUMENT, REASON_INVALID_ARGUMENT; the device used not to check).
absl::Status CheckAddEvidence(const palm::v1::Evidence& e);

// The refusal of evidence `evidence_id` that is already on record
// (FAILED_PRECONDITION, REASON_IMMUTABLE: evidence is never edited).
absl::Status EvidenceAlreadyRecorded(const std::string& evidence_id);

// --- RecordNoPenalty. --------------------------------------------------------

// Completes `d` from the case `c` (with its parties): the matter code is the
// case's (never the mutation's: a decision cannot borrow another matter's
// place on the no-penalty list). Refuses, in this order:
//   INVALID_ARGUMENT REASON_INVALID_ARGUMENT  party_id names no party of c;
//   INVALID_ARGUMENT REASON_INVALID_ARGUMENT  that party has no ID number,
//                    which the first-violation check needs (the device used
//                    to skip the check instead; refused on both ends now).
// On success *party points at the decision's party in `c`.
absl::Status DeriveNoPenalty(const palm::v1::Case& c, absl::string_view case_label,
                             palm::v1::NoPenaltyDecision* d, const palm::v1::Party** party);

// The refusal of no-penalty decision `decision_id` that is already on record
// (FAILED_PRECONDITION, REASON_IMMUTABLE).
absl::Status DecisionAlreadyRecorded(const std::string& decision_id);

// Whether recording a no-penalty decision moves `c` to NO_PENALTY: false
// when it is already there (a second party's decision on the same case).
// When it moves, the caller checks CheckCaseTransition(c, matter,
// NO_PENALTY) (the device used to check it even for a case already in
// NO_PENALTY, refusing the second party's decision; the server's rule holds).
bool NoPenaltyMovesCase(const palm::v1::Case& c);

// --- Prior violations (Art. 33's first-violation check). ---------------------

// The record that party `party` of case `c` violated `matter_code` at
// `at_ms`, which a later no-penalty decision for the same party and matter
// finds; nullopt when the party has no ID number to be found by. Keyed under
// `secret` (sync/party_key.h; null: the legacy key, on a device that has no
// secret yet). Written by both ends when a ticket is issued, a no-penalty
// decision recorded or a case DECIDED, so that a device offline knows its
// own earlier violations as the server does.
std::optional<palm::v1::PriorViolation> PriorViolationOf(const PartyKeySecret* secret,
                                                         const palm::v1::Case& c,
                                                         const palm::v1::Party& party,
                                                         const std::string& matter_code,
                                                         int64_t at_ms);

// `v` as a device receives it: without the case number, which only the
// server and the device that recorded it know.
palm::v1::PriorViolation PriorViolationForDevice(palm::v1::PriorViolation v);

// --- TransitionCase. ---------------------------------------------------------

// Checks a lifecycle move of `c` (its matter `matter`, or null), in order:
//   FAILED_PRECONDITION REASON_STALE_TRANSITION   c is no longer in from_state;
//   INVALID_ARGUMENT    REASON_ILLEGAL_TRANSITION to NO_PENALTY: a case gets
//                       there only through record_no_penalty, which carries
//                       the Art. 33 checks;
//   then CheckCaseTransition (sync/lifecycle.h).
//   CheckNoticeMove (sync/notice.h); then CheckCaseTransition
//   (sync/lifecycle.h); then CheckServedMove (sync/service.h: SERVED needs
//   the service record); then, for a move to DECIDED made at `at_ms`,
//   CheckDecisionAfterNotice against `calendar` (null when none is on record).
// `actor` is the acting officer (null when not on the roster); `c` must
// carry its parties.
absl::Status CheckTransitionCase(const palm::v1::Case& c, const palm::v1::Matter* matter,
                                 const palm::v1::TransitionCase& op, absl::string_view case_label,
                                 const palm::v1::Officer* actor, const WorkingDayCalendar* calendar,
                                 int64_t at_ms);

// --- AppendCaseEvent. --------------------------------------------------------

// Checks an event an officer appends, before its case is looked up (the
// device's rule, now the server's too): notes, notifications and services
// need text (a service with a ServiceRecord need not: sync/service.h checks
// the record); only a SERVICE event carries a record; a payment needs a
// positive amount; every other kind
// (transitions, reviews, the record of a withdrawal or a void, creation) is
// written by the system from the matching mutation and refused here
// (INVALID_ARGUMENT, REASON_INVALID_ARGUMENT).
absl::Status CheckAppendCaseEvent(const palm::v1::CaseEvent& e);

// The refusal of case event `event_id` that is already on record
// (FAILED_PRECONDITION, REASON_IMMUTABLE: the timeline is append-only).
absl::Status EventAlreadyRecorded(const std::string& event_id);

}  // namespace palm::sync

#endif  // PALM_SYNC_OPERATIONS_H_
