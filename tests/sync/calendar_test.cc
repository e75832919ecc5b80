#include "sync/calendar.h"

#include <catch2/catch.hpp>

#include "tests/sync/refusal.h"
#include "tests/sync/sample_calendar.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// The sample calendar the repository ships (tools/data/sample-calendar.json).
v1::Catalog SampleCalendar() { return testing::SampleCalendarCatalog(); }

WorkingDayCalendar Sample() { return testing::SampleWorkingDays(); }

absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

TEST_CASE("the sample calendar covers 2026 and 2027 and is labelled a sample", "[calendar]") {
  const v1::Catalog catalog = SampleCalendar();
  REQUIRE(catalog.calendar_size() == 2);
  CHECK(catalog.calendar(0).year() == 2026);
  CHECK(catalog.calendar(1).year() == 2027);
  for (const v1::CalendarYear& y : catalog.calendar()) {
    CHECK(y.source().rfind("SAMPLE", 0) == 0);
  }
  CHECK(catalog.matters().empty());
  const WorkingDayCalendar calendar = Sample();
  CHECK(calendar.Covers(2026));
  CHECK(calendar.Covers(2027));
  CHECK_FALSE(calendar.Covers(2028));
}

TEST_CASE("working days skip the National Day week and count its adjusted Saturday", "[calendar]") {
  const WorkingDayCalendar calendar = Sample();
  // 1–7 October 2026 are off; Saturday 10 October is worked (调休).
  for (int d = 1; d <= 7; ++d) CHECK_FALSE(*calendar.IsWorkingDay(Day(2026, 10, d)));
  CHECK(*calendar.IsWorkingDay(Day(2026, 10, 10)));
  CHECK_FALSE(*calendar.IsWorkingDay(Day(2026, 10, 11)));  // an ordinary Sunday
  CHECK(*calendar.AddWorkingDays(Day(2026, 9, 30), 1) == Day(2026, 10, 8));
  CHECK(*calendar.AddWorkingDays(Day(2026, 9, 30), 2) == Day(2026, 10, 9));
  CHECK(*calendar.AddWorkingDays(Day(2026, 9, 30), 3) == Day(2026, 10, 10));
  CHECK(*calendar.AddWorkingDays(Day(2026, 9, 30), 5) == Day(2026, 10, 13));
  CHECK(*calendar.AddWorkingDays(Day(2026, 9, 30), 7) == Day(2026, 10, 15));
  CHECK(*calendar.WorkingDaysBetween(Day(2026, 9, 30), Day(2026, 10, 11)) == 3);
  CHECK(*calendar.WorkingDaysBetween(Day(2026, 10, 11), Day(2026, 9, 30)) == 0);
}

TEST_CASE("an adjusted Sunday is a working day", "[calendar]") {
  const WorkingDayCalendar calendar = Sample();
  // Sunday 20 September 2026 is worked before the National Day week, Sunday
  // 4 January 2026 after New Year's Day.
  CHECK(absl::GetWeekday(Day(2026, 9, 20)) == absl::Weekday::sunday);
  CHECK(*calendar.IsWorkingDay(Day(2026, 9, 20)));
  CHECK(*calendar.IsWorkingDay(Day(2026, 1, 4)));
  CHECK(*calendar.AddWorkingDays(Day(2026, 9, 18), 1) == Day(2026, 9, 20));
  CHECK(*calendar.AddWorkingDays(Day(2026, 9, 19), 2) == Day(2026, 9, 21));
  // Across a year end: 31 December 2026 (Thu) + 2 working days; 1–3 January
  // 2027 are off, Monday 4 January is the first working day.
  CHECK(*calendar.AddWorkingDays(Day(2026, 12, 30), 2) == Day(2027, 1, 4));
}

TEST_CASE("a year the calendar does not cover is refused, not guessed", "[calendar]") {
  const WorkingDayCalendar calendar = Sample();
  CHECK_REFUSED(calendar.IsWorkingDay(Day(2028, 1, 3)).status(),
                absl::StatusCode::kFailedPrecondition, v1::REASON_INVALID_ARGUMENT,
                "the working-day calendar has no entry for 2028 (Art. 85): load the year's "
                "holidays first");
  CHECK_REFUSED(calendar.AddWorkingDays(Day(2027, 12, 30), 3).status(),
                absl::StatusCode::kFailedPrecondition, v1::REASON_INVALID_ARGUMENT,
                "the working-day calendar has no entry for 2028 (Art. 85): load the year's "
                "holidays first");
  CHECK_REFUSED(calendar.AddWorkingDays(Day(2026, 1, 5), 0).status(), kInvalid,
                v1::REASON_INVALID_ARGUMENT, "a count of working days must be at least 1, not 0");
}

TEST_CASE("a malformed calendar year is refused naming the date", "[calendar]") {
  v1::CalendarYear y;
  y.set_year(2026);
  y.add_holidays("2026-02-30");
  CHECK_REFUSED(CheckCalendarYear(y, "calendar[0]"), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "calendar[0].holidays[0] \"2026-02-30\" is not a date that exists");
  y.set_holidays(0, "2026/10/01");
  CHECK_REFUSED(CheckCalendarYear(y, "calendar[0]"), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "calendar[0].holidays[0] \"2026/10/01\" is not a date (YYYY-MM-DD)");
  y.set_holidays(0, "2027-10-01");
  CHECK_REFUSED(CheckCalendarYear(y, "calendar[0]"), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "calendar[0].holidays[0] 2027-10-01 is not in 2026");
  y.set_holidays(0, "2026-10-01");
  y.add_adjusted_working_days("2026-10-09");  // a Friday
  CHECK_REFUSED(CheckCalendarYear(y, "calendar[0]"), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "calendar[0].adjusted_working_days[0] 2026-10-09 is a weekday: an adjusted "
                "working day is a Saturday or Sunday");
  y.set_adjusted_working_days(0, "2026-10-10");
  CHECK(CheckCalendarYear(y, "calendar[0]").ok());
  y.add_holidays("2026-10-10");
  CHECK_REFUSED(CheckCalendarYear(y, "calendar[0]"), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "calendar[0].adjusted_working_days[0] 2026-10-10 appears twice in the year");
}

TEST_CASE("Asia/Shanghai dates are UTC+8", "[calendar]") {
  // 2026-09-30 16:00 UTC is 1 October 00:00 in Shanghai.
  const int64_t ms = ShanghaiMidnightMs(Day(2026, 10, 1));
  CHECK(ms == 1790812800000 - 8 * 3600 * 1000);
  CHECK(ShanghaiDay(ms) == Day(2026, 10, 1));
  CHECK(ShanghaiDay(ms - 1) == Day(2026, 9, 30));
  CHECK(FormatCivilDay(Day(2026, 1, 4)) == "2026-01-04");
}

}  // namespace
}  // namespace palm::sync
