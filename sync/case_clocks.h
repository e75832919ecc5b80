// The clocks the law runs on a case, read from what the case records (its
// filing, decision and service: sync/service.h) with the functions of
// sync/clocks.h. The server lists them for squad leaders (ListDeadlines,
// the shift report); the device lists an officer's own, offline. Both read
// them with this one function. docs/law.md, "Clocks".
#ifndef PALM_SYNC_CASE_CLOCKS_H_
#define PALM_SYNC_CASE_CLOCKS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "palm/v1/case.pb.h"
#include "sync/calendar.h"

namespace palm::sync {

// The clocks running on `c` on `today`, each read with a warning window of
// `warn_days` calendar days (sync::ReadClock):
//   DECISION           an ordinary case filed and not yet decided: 90 days
//                      from filing, or the approved extension (Art. 60);
//   SERVICE            a decision not yet served: 7 working days (Art. 61);
//   PAYMENT            a fine decided (or ticketed) and served, while the
//                      case awaits performance (sync::FineIsDue) and
//                      anything is outstanding: 15 days from service, to
//                      the next working day (Art. 67), with the unpaid fine
//                      and the surcharge accrued (Art. 72);
//   COURT_ENFORCEMENT  the same case once the payment day has passed: the
//                      3 months after the remedy periods (Art. 72);
//   HAND_OVER          each collection on the spot not yet handed over: 2
//                      working days (Art. 71), for the collecting officer.
// A clock stops when the act it waits for is recorded (the decision, the
// service, payment in full, the hand-over, the move to CLOSED). FAILED_PRECONDITION when a
// working-day clock is running and `calendar` is null or does not cover its days.
absl::StatusOr<std::vector<palm::v1::CaseClock>> CaseClocks(const palm::v1::Case& c,
                                                            const WorkingDayCalendar* calendar,
                                                            absl::CivilDay today,
                                                            int64_t warn_days);

// The clock's name as a squad leader reads it, e.g. "送达期限 (第61条)".
const char* ClockKindLabel(palm::v1::ClockKind kind);

// Orders clocks for a list: overdue first, then by last day, case number
// (or id) and kind.
bool ClockBefore(const palm::v1::CaseClock& a, const palm::v1::CaseClock& b);

}  // namespace palm::sync

#endif  // PALM_SYNC_CASE_CLOCKS_H_
