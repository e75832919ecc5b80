// Service of a decision (Art. 61) and the dates a case's moves stamp on it:
// the filing (the 90 days to decide run from it, Art. 60), the decision
// (the 7 working days to serve run from it) and the service (the payment
// and remedy periods run from it). The device checks a service record
// before it is written and the server checks it again; both record it on
// the case the same way. docs/law.md, "Art. 61".
#ifndef PALM_SYNC_SERVICE_H_
#define PALM_SYNC_SERVICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "palm/v1/case.pb.h"
#include "sync/calendar.h"

namespace palm::sync {

// An announcement counts as service this many days after it is published
// (Civil Procedure Law Art. 95, which Art. 61 applies).
inline constexpr int kAnnouncementDays = 30;

// When service `r` takes effect: when it reached the recipient, or, for an
// announcement, the start (00:00 Asia/Shanghai) of the 30th day after the
// day it was published.
int64_t ServiceEffectiveAtMs(const palm::v1::ServiceRecord& r);

// When the decision of `c` was made: its decision record, or, for a case
// decided before decisions were recorded and still in DECIDED, the stamp of
// that move; 0 when neither says.
int64_t DecidedAtMs(const palm::v1::Case& c);

// When `c` was filed (the ordinary procedure's move to FILED): its record,
// or, for a case filed before filings were recorded, 90 days before the
// decision clock's end (deadline_ms); 0 when neither says.
int64_t FiledAtMs(const palm::v1::Case& c);

// Records what the move of `c` to `to` at `at_ms` dates: FILED (ordinary
// procedure) the filing, DECIDED the decision (the fine proposed then, the
// matter). Both ends call it after sync::EnterState.
void StampMove(palm::v1::Case* c, palm::v1::CaseState to, int64_t at_ms);

// Records what ticket `t` decided on its summary-procedure case `c`: the
// ticket is the decision (its fine, its matter, when issued) and, handed to
// the party on the spot and signed for (Art. 52), its service, so that the
// payment clock runs from it (Art. 67). Both ends call it when the ticket
// is applied.
void StampTicket(palm::v1::Case* c, const palm::v1::Ticket& t);

// Undoes StampTicket for ticket `ticket_id` when it is voided: the case has
// no decision or service on record from it any more.
void ClearTicketStamp(palm::v1::Case* c, const std::string& ticket_id);

// What a service record is checked against.
struct ServiceFacts {
  // The case, with its state, decision and any service on record.
  const palm::v1::Case* c = nullptr;
  // The evidence records the proof names, as found (ids not found are
  // missing here).
  const std::vector<palm::v1::Evidence>* proof = nullptr;
  // The working-day calendar; null when none is on record.
  const WorkingDayCalendar* calendar = nullptr;
  // When the event is written (the mutation's HLC time).
  int64_t written_at_ms = 0;
};

// Checks event `e` for its service record (CheckAppendCaseEvent first: it
// refuses a record on any other kind). A SERVICE event without one is a
// note and passes. For a record, in order:
//   FAILED_PRECONDITION REASON_ILLEGAL_TRANSITION the case is not DECIDED,
//       or its decision date is unknown;
//   FAILED_PRECONDITION REASON_IMMUTABLE          a service is on record;
//   INVALID_ARGUMENT    REASON_SERVICE_PROOF      no method; no served_at_ms;
//       what the method needs is missing (DIRECT and LEFT_AT_ADDRESS: the
//       recipient; LEFT_AT_ADDRESS: witnesses, or photo or video among the
//       proof; POST: the tracking number; ELECTRONIC: the address and the
//       party's consent, given before service; ANNOUNCEMENT: where it was
//       published); no proof, or proof that is not evidence of this case or
//       was withdrawn;
//   INVALID_ARGUMENT    REASON_INVALID_ARGUMENT   served before the decision
//       or after the event is written;
//   FAILED_PRECONDITION                           no calendar covers the 7
//       working days;
//   FAILED_PRECONDITION REASON_SERVICE_LATE       served after them with no
//       late_reason.
absl::Status CheckServiceEvent(const ServiceFacts& facts, const palm::v1::CaseEvent& e);

// Records the service that event `e` carries on `c`.
void RecordService(palm::v1::Case* c, const palm::v1::CaseEvent& e);

// Checks a move of `c` to SERVED made at `at_ms`: FAILED_PRECONDITION,
// REASON_NOT_SERVED, when no service record is on file or an announcement
// has not yet taken effect. OK for every other move.
absl::Status CheckServedMove(const palm::v1::Case& c, palm::v1::CaseState to, int64_t at_ms);

// The method's name as a squad leader reads it, e.g. "直接送达".
const char* ServiceMethodLabel(palm::v1::ServiceMethod method);

}  // namespace palm::sync

#endif  // PALM_SYNC_SERVICE_H_
