// The notice before a decision and the party's answer to it (Art. 44-45, 62):
// the notice records what the party was told; the party may state and
// defend, or waive it; the decision waits for the period the notice gives
// unless the party waived, and may not be heavier than what was noticed.
// The same functions run on the device before a write is recorded and on
// the server before a pushed mutation is applied. docs/law.md, "Art. 44-45".
#ifndef PALM_SYNC_NOTICE_H_
#define PALM_SYNC_NOTICE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "palm/v1/case.pb.h"
#include "palm/v1/mutation.pb.h"
#include "sync/calendar.h"

namespace palm::sync {

// The party's period to state and defend when the notice names none, and
// the longest a notice may give, in working days (Art. 85).
inline constexpr int kDefaultNoticePeriodWorkingDays = 3;
inline constexpr int kMaxNoticePeriodWorkingDays = 30;

// Checks what a move to NOTIFIED carries: `notice_period_working_days` 0
// (the default) or 1 to 30, else INVALID_ARGUMENT, REASON_INVALID_ARGUMENT.
// OK for every other move.
absl::Status CheckNoticeMove(const palm::v1::TransitionCase& op);

// Records the notice the move `op` to NOTIFIED gives at `at_ms`: the fine
// and matter `c` proposes now, and the period. A fresh notice replaces an
// earlier one, with its statement and waiver.
void RecordNotice(palm::v1::Case* c, const palm::v1::TransitionCase& op, int64_t at_ms);

// The last day (Asia/Shanghai) of the party's period under `notice`.
// FAILED_PRECONDITION when the calendar does not cover the days it counts.
absl::StatusOr<absl::CivilDay> NoticePeriodLastDay(const palm::v1::CaseNotice& notice,
                                                    const WorkingDayCalendar& calendar);

// Checks a decision on `c` made at `at_ms` against its notice, in order:
//   FAILED_PRECONDITION REASON_ILLEGAL_TRANSITION    no notice on record (a
//       case notified before notices were recorded): give the notice again;
//   FAILED_PRECONDITION REASON_HEAVIER_THAN_NOTICED  the fine proposed now
//       is above the noticed one, or the matter changed;
//   FAILED_PRECONDITION REASON_NOTICE_PERIOD_RUNNING the decision falls on
//       or before the period's last day and the party did not waive;
//   FAILED_PRECONDITION                              `calendar` is null or
//       does not cover the period (a guess could shorten it).
absl::Status CheckDecisionAfterNotice(const palm::v1::Case& c, const WorkingDayCalendar* calendar,
                                      int64_t at_ms);

// Whether `kind` is the party's answer to a notice (STATEMENT or
// STATEMENT_WAIVED).
bool IsStatementKind(palm::v1::CaseEventKind kind);

// Checks that a statement or waiver event may be recorded on `c`: the case
// holds a notice and is between it and the decision (NOTIFIED, HEARING or
// LEGAL_REVIEW). FAILED_PRECONDITION, REASON_ILLEGAL_TRANSITION otherwise.
absl::Status CheckStatementEvent(const palm::v1::Case& c, const palm::v1::CaseEvent& e);

// Records a statement or waiver event `e` on the notice of `c`.
void RecordStatement(palm::v1::Case* c, const palm::v1::CaseEvent& e);

}  // namespace palm::sync

#endif  // PALM_SYNC_NOTICE_H_
