// Performance of a fine (Art. 66-72): what a payment record needs, what is
// owed on a given day (the fine and the late-payment surcharge), and the
// hand-over of money collected on the spot. The device checks a PAYMENT or
// HAND_OVER event before it is written and the server checks it again;
// both record it on the case (Case.payments) the same way. docs/law.md,
// "Art. 66-72".
#ifndef PALM_SYNC_PAYMENT_H_
#define PALM_SYNC_PAYMENT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "palm/v1/case.pb.h"
#include "palm/v1/org.pb.h"
#include "sync/calendar.h"

namespace palm::sync {

// Whether `c` has a fine the party owes now: a decision (or, on the summary
// procedure, a ticket) imposing a fine, served, and the case in a state
// that awaits performance (ordinary: SERVED or EXECUTING; summary: ISSUED,
// FILED or EXECUTING).
bool FineIsDue(const palm::v1::Case& c);

// What is owed on a case's fine on a given day.
struct FineDue {
  int64_t fine_fen = 0;
  // Everything paid by that day (payments go to the fine first, then to
  // the surcharge).
  int64_t paid_fen = 0;
  int64_t unpaid_fine_fen = 0;
  // The surcharge accrued (Art. 72: 3 % of the unpaid fine a day after the
  // last day, never more than the fine), and the part not yet paid.
  int64_t surcharge_fen = 0;
  int64_t unpaid_surcharge_fen = 0;
  // unpaid_fine_fen + unpaid_surcharge_fen.
  int64_t outstanding_fen = 0;
  // The last day to pay (Art. 67).
  absl::CivilDay last_day;
};

// What is owed on `c` on `as_of`, from its decision, service and payments.
// FAILED_PRECONDITION when no fine is due (FineIsDue) or `calendar` does
// not cover the 15 days.
absl::StatusOr<FineDue> FineDueOn(const palm::v1::Case& c, const WorkingDayCalendar& calendar,
                                  absl::CivilDay as_of);

// What a PAYMENT or HAND_OVER event is checked against.
struct PaymentFacts {
  // The case, with its decision, service and payments on record.
  const palm::v1::Case* c = nullptr;
  // The officer who writes the event (the mutation's acting officer, as
  // found on the roster; null when not found). Collects an on-the-spot
  // payment, or hands it over.
  const palm::v1::Officer* actor = nullptr;
  // The working-day calendar; null when none is on record (then a date
  // that needs one is refused, as with a calendar that lacks its year).
  const WorkingDayCalendar* calendar = nullptr;
  // When the event is written (the mutation's HLC time).
  int64_t written_at_ms = 0;
};

// The payment record of event `e`: its own, or, for a PAYMENT event older
// clients wrote without one, a bank payment on the event's date.
palm::v1::PaymentRecord PaymentOf(const palm::v1::CaseEvent& e);

// Checks a PAYMENT event (CheckAppendCaseEvent first: a positive amount,
// the record on PAYMENT events only). In order:
//   FAILED_PRECONDITION REASON_PAYMENT  no fine is due on the case
//       (FineIsDue);
//   INVALID_ARGUMENT    REASON_PAYMENT  no channel; no paid_at_ms, or one
//       before the service or after the event is written; a bank or
//       electronic payment without its reference; an on-the-spot
//       collection without a receipt in the provincial format (8-digit
//       code, 10-digit number) or with one already on the case, or without
//       ground_detail where its ground needs it;
//   FAILED_PRECONDITION REASON_ON_THE_SPOT_NOT_ALLOWED  collection on the
//       spot with no ground, on an Art. 68 ground for a decision not made
//       on the spot, or of a fine over 100 yuan on the small-fine ground;
//   PERMISSION_DENIED   REASON_ON_THE_SPOT_NOT_ALLOWED  collected by someone
//       not an officer of the case holding a credential (Art. 42, 68);
//   FAILED_PRECONDITION REASON_PAYMENT  no calendar covers the days to
//       pay, or more than is outstanding on the day paid (the message says
//       fine, paid, surcharge and outstanding).
absl::Status CheckPaymentEvent(const PaymentFacts& facts, const palm::v1::CaseEvent& e);

// Records the payment that event `e` carries on `c`; `collected_by` is the
// acting officer (kept for on-the-spot collections).
void RecordPayment(palm::v1::Case* c, const palm::v1::CaseEvent& e,
                   const std::string& collected_by);

// Checks a HAND_OVER event. In order:
//   INVALID_ARGUMENT    REASON_INVALID_ARGUMENT  no hand-over record; no
//       payment named, more than 20, or one twice; no handed_over_at_ms, or
//       one after the event is written; no reference;
//   FAILED_PRECONDITION REASON_PAYMENT  a named payment is not an
//       on-the-spot collection of this case, or was handed over already,
//       or the hand-over is dated before it;
//   PERMISSION_DENIED   REASON_PERMISSION_DENIED  the actor is not an
//       officer of the case;
//   FAILED_PRECONDITION                  no calendar covers the 2 working
//       days;
//   FAILED_PRECONDITION REASON_PAYMENT  handed over after them (Art. 71)
//       with no late_reason.
absl::Status CheckHandOverEvent(const PaymentFacts& facts, const palm::v1::CaseEvent& e);

// Records the hand-over that event `e` carries on `c`.
void RecordHandOver(palm::v1::Case* c, const palm::v1::CaseEvent& e);

// Checks a move of `c` to `to`: FAILED_PRECONDITION, REASON_PAYMENT, for a
// move to CLOSED while money collected on the spot is not yet handed over
// (Art. 71: the case is not closed with the money still in an officer's
// hands). OK for every other move.
absl::Status CheckClosingMove(const palm::v1::Case& c, palm::v1::CaseState to);

// The channel's name as a squad leader reads it, e.g. "当场收缴".
const char* PaymentChannelLabel(palm::v1::PaymentChannel channel);

}  // namespace palm::sync

#endif  // PALM_SYNC_PAYMENT_H_
