// The clocks the Administrative Penalty Law runs around a decision, as pure
// functions over civil dates (Asia/Shanghai) and the working-day calendar
// (sync/calendar.h), so that the device and the server compute every due
// date the same way (docs/law.md, issue 20).
//
// Counting, everywhere below: the day an act happens is not counted (the
// period starts the next day). The law's "two, three, five, seven days" are
// working days (Art. 85); its other periods are calendar days, months or
// years. A period of calendar days, months or years whose last day is not a
// working day ends on the next working day: the rule of the procedure laws
// on periods (民事诉讼法, 行政诉讼法), applied here in the party's favour to the
// deadlines a party must meet (payment). The agency's own deadlines
// (deciding within 90 days, applying to the court) are not extended: Palm
// warns before they lapse instead.
#ifndef PALM_SYNC_CLOCKS_H_
#define PALM_SYNC_CLOCKS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "sync/calendar.h"

namespace palm::sync {

// --- Calendar arithmetic. ----------------------------------------------------

// The day `months` months after `day`; a day that month lacks (31 April,
// 29 February of a common year) is the month's last day.
absl::CivilDay AddMonths(absl::CivilDay day, int months);

// `day`, or the first working day after it when it is not one.
absl::StatusOr<absl::CivilDay> NextWorkingDayOnOrAfter(const WorkingDayCalendar& calendar,
                                                       absl::CivilDay day);

// --- Art. 36: the limitation period. ----------------------------------------

enum class LimitationKind {
  // Two years.
  kOrdinary,
  // Five years: citizens' life and health or financial security, with
  // harmful consequences.
  kLifeHealthOrFinancialSafety,
};

// The last day on which a violation that ended on `act_end` (the day of the
// act; for a continuing or continuous act, the day it ended) may still be
// discovered and penalised.
absl::CivilDay LimitationLastDay(absl::CivilDay act_end, LimitationKind kind);

// OK when `discovered` is within the period; FAILED_PRECONDITION otherwise,
// with the sentence that says so and the dates.
absl::Status CheckLimitation(absl::CivilDay act_end, absl::CivilDay discovered,
                             LimitationKind kind);

// --- Art. 60: deciding within 90 days of filing. -----------------------------

// The last day to decide a case filed on `filed`: 90 days, or the extended
// date the agency head approved (`extended_to`, when set, must lie after
// the 90 days: INVALID_ARGUMENT otherwise).
absl::StatusOr<absl::CivilDay> DecisionLastDay(absl::CivilDay filed,
                                               const absl::CivilDay* extended_to = nullptr);

// --- Art. 61: service of the decision. ---------------------------------------

// The last day to serve a decision made on `decided` (7 working days).
absl::StatusOr<absl::CivilDay> ServiceLastDay(const WorkingDayCalendar& calendar,
                                              absl::CivilDay decided);

// --- Art. 63-64: hearings. ---------------------------------------------------

// The last day a party told of the hearing right on `notified` may ask for
// a hearing (5 working days).
absl::StatusOr<absl::CivilDay> HearingRequestLastDay(const WorkingDayCalendar& calendar,
                                                     absl::CivilDay notified);

// The earliest day a hearing may be held when the party is notified of it
// on `notice_served`: 7 working days must pass in between (Art. 64(2): the
// notice comes "seven days before" the hearing), so the hearing comes on a
// working day after the seventh.
absl::StatusOr<absl::CivilDay> EarliestHearingDay(const WorkingDayCalendar& calendar,
                                                  absl::CivilDay notice_served);

// --- Art. 66-72: performance and payment. ------------------------------------

// The last day to pay a fine whose decision was served on `served`: 15
// days (Art. 67), moved to the next working day when it falls on a rest
// day; `deferred_to` (an approved deferral, Art. 66) replaces it.
absl::StatusOr<absl::CivilDay> PaymentLastDay(const WorkingDayCalendar& calendar,
                                              absl::CivilDay served,
                                              const absl::CivilDay* deferred_to = nullptr);

struct Payment {
  absl::CivilDay day;
  int64_t fen = 0;
};

struct SurchargeResult {
  // Days late on `as_of` (0 when not late).
  int64_t days_late = 0;
  // The surcharge accrued (Art. 72(1)), never more than the fine.
  int64_t surcharge_fen = 0;
  // Whether the cap was reached.
  bool capped = false;
  // Fine not yet paid on `as_of`.
  int64_t unpaid_fine_fen = 0;
};

// Art. 72(1): a party who does not pay by `last_day` owes, for each day
// after it, 3 % of the fine, in total never more than the fine. Palm counts
// each day's 3 % on the part of the fine still unpaid at the start of that
// day (a partial payment lowers it from the next day on), rounded down to
// the fen — the reading most favourable to the party of "每日按罚款数额的
// 百分之三". Payments are applied to the fine first. INVALID_ARGUMENT for a
// fine that is not positive or a payment that is not.
absl::StatusOr<SurchargeResult> LateSurcharge(int64_t fine_fen, absl::CivilDay last_day,
                                              const std::vector<Payment>& payments,
                                              absl::CivilDay as_of);

// Art. 68-69: when an officer may collect a fine on the spot.
enum class OnTheSpotGround {
  kNone,
  // Art. 68(1): a fine of 100 yuan or less imposed on the spot.
  kSmallFine,
  // Art. 68(2): not collecting it on the spot would make it hard to enforce.
  kHardToEnforceLater,
  // Art. 69: remote area, on the water or with poor transport, where paying
  // at a bank is truly hard, at the party's request.
  kRemoteAreaOnRequest,
};

// OK when on-the-spot collection of `fine_fen` on `ground` is lawful;
// FAILED_PRECONDITION naming the rule otherwise (e.g. 150 yuan in a city
// street: the party pays at the designated bank or electronically).
absl::Status CheckOnTheSpotCollection(int64_t fine_fen, OnTheSpotGround ground);

// Art. 71: the last day to hand money collected on the spot on `collected`
// to the agency (2 working days).
absl::StatusOr<absl::CivilDay> HandOverLastDay(const WorkingDayCalendar& calendar,
                                               absl::CivilDay collected);

// Art. 48(2): the last day to withdraw the publication of a decision that
// was revoked, changed or found invalid on `changed` (3 working days).
absl::StatusOr<absl::CivilDay> PublicationWithdrawalLastDay(const WorkingDayCalendar& calendar,
                                                            absl::CivilDay changed);

// Applying to the court for enforcement (Art. 72(1)(4); 行政强制法 Art. 53):
// once the party's remedy periods have run out — 60 days for
// reconsideration, 6 months for litigation, from service on `served` — the
// agency may apply within the following 3 months.
struct EnforcementWindow {
  absl::CivilDay first_day;
  absl::CivilDay last_day;
};
EnforcementWindow CourtEnforcementWindow(absl::CivilDay served);

// --- Alerts. -----------------------------------------------------------------

enum class ClockState {
  kRunning,   // more than `warn_days` calendar days left
  kDueSoon,   // due within `warn_days` days, not today
  kDueToday,  // today is the last day
  kOverdue,   // the last day has passed
};

struct ClockReading {
  ClockState state = ClockState::kRunning;
  // Calendar days from `today` to the last day (negative when overdue).
  int64_t days_left = 0;
};

ClockReading ReadClock(absl::CivilDay last_day, absl::CivilDay today, int64_t warn_days);

}  // namespace palm::sync

#endif  // PALM_SYNC_CLOCKS_H_
