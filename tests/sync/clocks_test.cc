// The law's clocks around a decision (sync/clocks.h), each crossed at its
// boundaries: the day before, the day, the day after, and for working-day
// clocks a holiday in between (the sample calendar: the National Day week
// 2026-10-01..07 is off, Saturday 2026-10-10 is worked).
#include "sync/clocks.h"

#include <catch2/catch.hpp>

#include "tests/sync/sample_calendar.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

WorkingDayCalendar Sample() { return testing::SampleWorkingDays(); }

absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

absl::CivilDay Must(const absl::StatusOr<absl::CivilDay>& day) {
  INFO(day.status());
  REQUIRE(day.ok());
  return *day;
}

}  // namespace

TEST_CASE("months run to the same day, or the month's last where it has none", "[clocks]") {
  CHECK(AddMonths(Day(2026, 1, 31), 1) == Day(2026, 2, 28));
  CHECK(AddMonths(Day(2024, 2, 29), 12) == Day(2025, 2, 28));
  CHECK(AddMonths(Day(2026, 8, 31), 6) == Day(2027, 2, 28));
  CHECK(AddMonths(Day(2026, 3, 15), 24) == Day(2028, 3, 15));
}

TEST_CASE("Art. 36: a violation is penalised only if discovered within 2 years (5 for safety)",
          "[clocks]") {
  const absl::CivilDay ended = Day(2024, 3, 1);
  CHECK(LimitationLastDay(ended, LimitationKind::kOrdinary) == Day(2026, 3, 1));
  CHECK(CheckLimitation(ended, Day(2026, 2, 28), LimitationKind::kOrdinary).ok());
  CHECK(CheckLimitation(ended, Day(2026, 3, 1), LimitationKind::kOrdinary).ok());
  absl::Status late = CheckLimitation(ended, Day(2026, 3, 2), LimitationKind::kOrdinary);
  CHECK(late.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(late.message() ==
        "a violation not discovered within 2 years is not penalised (Art. 36): it ended on "
        "2024-03-01, the period ended on 2026-03-01, and it was discovered on 2026-03-02");
  // Life, health or financial safety with harmful consequences: 5 years.
  CHECK(CheckLimitation(ended, Day(2029, 3, 1), LimitationKind::kLifeHealthOrFinancialSafety).ok());
  CHECK(CheckLimitation(ended, Day(2029, 3, 2), LimitationKind::kLifeHealthOrFinancialSafety)
            .message() ==
        "a violation not discovered within 5 years (life, health or financial safety) is not "
        "penalised (Art. 36): it ended on 2024-03-01, the period ended on 2029-03-01, and it was "
        "discovered on 2029-03-02");
  // A continuing act counts from its end, not its start.
  CHECK(CheckLimitation(Day(2025, 6, 30), Day(2026, 3, 2), LimitationKind::kOrdinary).ok());
  CHECK(CheckLimitation(ended, Day(2024, 2, 29), LimitationKind::kOrdinary).message() ==
        "the violation cannot be discovered on 2024-02-29, before it ended on 2024-03-01");
}

TEST_CASE("Art. 60: 90 days from filing, or the approved extension", "[clocks]") {
  CHECK(Must(DecisionLastDay(Day(2026, 1, 10))) == Day(2026, 4, 10));
  const absl::CivilDay extended = Day(2026, 5, 10);
  CHECK(Must(DecisionLastDay(Day(2026, 1, 10), &extended)) == extended);
  const absl::CivilDay too_short = Day(2026, 4, 10);
  absl::StatusOr<absl::CivilDay> refused = DecisionLastDay(Day(2026, 1, 10), &too_short);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(refused.status().message() ==
        "an extension must end after the 90 days of Art. 60 (2026-04-10), not on 2026-04-10");
}

TEST_CASE("Art. 61: service within 7 working days, across the National Day week", "[clocks]") {
  const WorkingDayCalendar calendar = Sample();
  // An ordinary week: decided Monday 2026-06-01 → the 7th working day is
  // Wednesday 2026-06-10.
  CHECK(Must(ServiceLastDay(calendar, Day(2026, 6, 1))) == Day(2026, 6, 10));
  // Decided Tuesday 2026-09-29: 30 Sep, then the holiday week, then Thu 8,
  // Fri 9, Sat 10 (worked), Mon 12, Tue 13, Wed 14.
  CHECK(Must(ServiceLastDay(calendar, Day(2026, 9, 29))) == Day(2026, 10, 14));
  const absl::CivilDay last = Day(2026, 10, 14);
  CHECK(ReadClock(last, Day(2026, 10, 13), 2).state == ClockState::kDueSoon);
  CHECK(ReadClock(last, Day(2026, 10, 14), 2).state == ClockState::kDueToday);
  CHECK(ReadClock(last, Day(2026, 10, 15), 2).state == ClockState::kOverdue);
  CHECK(ReadClock(last, Day(2026, 10, 15), 2).days_left == -1);
  CHECK(ReadClock(last, Day(2026, 10, 1), 2).state == ClockState::kRunning);
}

TEST_CASE("Art. 64: a hearing is asked for within 5 working days and noticed 7 ahead", "[clocks]") {
  const WorkingDayCalendar calendar = Sample();
  // Told on Wednesday 2026-09-30: Thu 8, Fri 9, Sat 10, Mon 12, Tue 13.
  CHECK(Must(HearingRequestLastDay(calendar, Day(2026, 9, 30))) == Day(2026, 10, 13));
  // Noticed Monday 2026-06-01: seven working days (2..10 June) pass, the
  // hearing comes on Thursday 11 June at the earliest.
  CHECK(Must(EarliestHearingDay(calendar, Day(2026, 6, 1))) == Day(2026, 6, 11));
}

TEST_CASE("Art. 67: payment within 15 days of service, a last day on a rest day moves on",
          "[clocks]") {
  const WorkingDayCalendar calendar = Sample();
  // Served Monday 2026-06-01: 16 June, a Tuesday.
  CHECK(Must(PaymentLastDay(calendar, Day(2026, 6, 1))) == Day(2026, 6, 16));
  // Served 2026-09-20 (an adjusted working Sunday): 5 October is in the
  // holiday week; the period ends on Thursday 8 October.
  CHECK(Must(PaymentLastDay(calendar, Day(2026, 9, 20))) == Day(2026, 10, 8));
  // An approved deferral (Art. 66) replaces the 15 days.
  const absl::CivilDay deferred = Day(2026, 8, 3);
  CHECK(Must(PaymentLastDay(calendar, Day(2026, 6, 1), &deferred)) == deferred);
  const absl::CivilDay backwards = Day(2026, 5, 31);
  CHECK(PaymentLastDay(calendar, Day(2026, 6, 1), &backwards).status().message() ==
        "a deferral (Art. 66) must end after service on 2026-06-01, not on 2026-05-31");
}

TEST_CASE("Art. 72: 3 % of the fine a day once late, never more than the fine", "[clocks]") {
  const absl::CivilDay last = Day(2026, 6, 16);
  const int64_t fine = 100000;  // 1,000 yuan
  SECTION("not late on the last day") {
    SurchargeResult r = *LateSurcharge(fine, last, {}, last);
    CHECK(r.days_late == 0);
    CHECK(r.surcharge_fen == 0);
    CHECK(r.unpaid_fine_fen == fine);
  }
  SECTION("day 1") {
    SurchargeResult r = *LateSurcharge(fine, last, {}, last + 1);
    CHECK(r.days_late == 1);
    CHECK(r.surcharge_fen == 3000);
    CHECK_FALSE(r.capped);
  }
  SECTION("the day before the cap, the day it is reached, and after") {
    // 3 % a day: 33 days make 99 %, the 34th reaches the cap.
    CHECK(LateSurcharge(fine, last, {}, last + 33)->surcharge_fen == 99000);
    CHECK_FALSE(LateSurcharge(fine, last, {}, last + 33)->capped);
    SurchargeResult at = *LateSurcharge(fine, last, {}, last + 34);
    CHECK(at.surcharge_fen == fine);
    CHECK(at.capped);
    CHECK(LateSurcharge(fine, last, {}, last + 400)->surcharge_fen == fine);
  }
  SECTION("a partial payment lowers the base from the next day") {
    // 600 yuan paid on day 2: days 1 and 2 on 1,000 yuan, day 3 on 400.
    SurchargeResult r = *LateSurcharge(fine, last, {{last + 2, 60000}}, last + 3);
    CHECK(r.surcharge_fen == 3000 + 3000 + 1200);
    CHECK(r.unpaid_fine_fen == 40000);
    // Paid in full on time: nothing accrues.
    CHECK(LateSurcharge(fine, last, {{last, fine}}, last + 10)->surcharge_fen == 0);
    // Paid in full late: accrual stops the day after.
    CHECK(LateSurcharge(fine, last, {{last + 1, fine}}, last + 10)->surcharge_fen == 3000);
  }
  SECTION("rounded down to the fen") {
    CHECK(LateSurcharge(1001, last, {}, last + 1)->surcharge_fen == 30);
  }
  SECTION("bad amounts are refused") {
    CHECK(LateSurcharge(0, last, {}, last + 1).status().message() ==
          "the fine must be positive to accrue a surcharge, not 0 fen");
    CHECK(LateSurcharge(fine, last, {{last, -5}}, last + 1).status().message() ==
          "a payment on 2026-06-16 must be positive, not -5 fen");
  }
}

TEST_CASE("Art. 68-69: an officer collects on the spot only where the law allows", "[clocks]") {
  CHECK(CheckOnTheSpotCollection(10000, OnTheSpotGround::kSmallFine).ok());
  absl::Status city = CheckOnTheSpotCollection(15000, OnTheSpotGround::kSmallFine);
  CHECK(city.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(city.message() ==
        "a fine of 150 yuan is over the 100 yuan an officer may collect on the spot (Art. "
        "68(1)): the party pays at the designated bank or electronically (Art. 67)");
  CHECK(CheckOnTheSpotCollection(10001, OnTheSpotGround::kSmallFine).message() ==
        "a fine of 100.01 yuan is over the 100 yuan an officer may collect on the spot (Art. "
        "68(1)): the party pays at the designated bank or electronically (Art. 67)");
  CHECK(CheckOnTheSpotCollection(15000, OnTheSpotGround::kRemoteAreaOnRequest).ok());
  CHECK(CheckOnTheSpotCollection(15000, OnTheSpotGround::kHardToEnforceLater).ok());
  CHECK(CheckOnTheSpotCollection(5000, OnTheSpotGround::kNone).message() ==
        "collecting a fine of 50 yuan on the spot needs a ground of Art. 68 or 69 (100 yuan or "
        "less, hard to enforce later, or a remote area at the party's request): the party pays "
        "at the designated bank or electronically (Art. 67)");
}

TEST_CASE("Art. 71 and 48: hand-over in 2 working days, withdrawal in 3", "[clocks]") {
  const WorkingDayCalendar calendar = Sample();
  // Collected Wednesday 2026-09-30: Thu 8 and Fri 9 October.
  CHECK(Must(HandOverLastDay(calendar, Day(2026, 9, 30))) == Day(2026, 10, 9));
  CHECK(Must(HandOverLastDay(calendar, Day(2026, 6, 1))) == Day(2026, 6, 3));
  // Revoked Friday 2026-10-09: Sat 10 (worked), Mon 12, Tue 13.
  CHECK(Must(PublicationWithdrawalLastDay(calendar, Day(2026, 10, 9))) == Day(2026, 10, 13));
}

TEST_CASE("the court is applied to in the 3 months after the remedy periods", "[clocks]") {
  EnforcementWindow w = CourtEnforcementWindow(Day(2026, 6, 16));
  CHECK(w.first_day == Day(2026, 12, 17));
  CHECK(w.last_day == Day(2027, 3, 16));
}

TEST_CASE("a working-day clock in a year the calendar lacks is refused, not guessed", "[clocks]") {
  const WorkingDayCalendar calendar = Sample();
  absl::StatusOr<absl::CivilDay> far = ServiceLastDay(calendar, Day(2030, 1, 7));
  CHECK(far.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(far.status().message() ==
        "the working-day calendar has no entry for 2030 (Art. 85): load the year's holidays "
        "first");
}

}  // namespace palm::sync
