// The working-day calendar (Art. 85): the law's "two, three, five, seven
// days" are working days, not counting statutory holidays. The server owns
// the calendar (palm.v1.CalendarYear, carried in the catalogue) and devices
// sync it; both count with these functions, on Asia/Shanghai dates.
//
// A day is a working day when it is an adjusted working day (调休, a
// Saturday or Sunday worked) or a Monday to Friday that is not a statutory
// holiday. Counting follows the law's rule that the day an act happens is
// not counted: AddWorkingDays(d, n) is the n-th working day after d.
#ifndef PALM_SYNC_CALENDAR_H_
#define PALM_SYNC_CALENDAR_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "palm/v1/catalog.pb.h"

namespace palm::sync {

// "YYYY-MM-DD" as a civil day; INVALID_ARGUMENT naming `where` otherwise
// (a date that does not exist, e.g. 2026-02-30, is refused).
absl::StatusOr<absl::CivilDay> ParseCivilDay(absl::string_view text, absl::string_view where);

// "YYYY-MM-DD".
std::string FormatCivilDay(absl::CivilDay day);

// The Asia/Shanghai date (UTC+8 all year: China keeps no daylight saving)
// of Unix milliseconds `unix_ms`.
absl::CivilDay ShanghaiDay(int64_t unix_ms);

// Unix milliseconds of 00:00 Asia/Shanghai on `day`.
int64_t ShanghaiMidnightMs(absl::CivilDay day);

// Checks one year of the calendar: a year from 2000 to 2100, every date
// well formed and in that year, no date twice, every adjusted working day a
// Saturday or Sunday, no date both a holiday and an adjusted working day.
// INVALID_ARGUMENT naming `where` (e.g. "catalog.calendar[0]") otherwise.
absl::Status CheckCalendarYear(const palm::v1::CalendarYear& year, absl::string_view where);

// Checks every year (CheckCalendarYear) and that no year appears twice.
absl::Status CheckCalendar(const google::protobuf::RepeatedPtrField<palm::v1::CalendarYear>& years,
                           absl::string_view where);

class WorkingDayCalendar {
 public:
  // Builds the calendar from checked years (CheckCalendar first; From runs
  // it and returns its refusal).
  static absl::StatusOr<WorkingDayCalendar> From(
      const google::protobuf::RepeatedPtrField<palm::v1::CalendarYear>& years);

  // Whether the calendar covers `year`.
  bool Covers(int64_t year) const { return years_.count(year) > 0; }

  // Whether `day` is a working day; FAILED_PRECONDITION when the calendar
  // has no entry for its year ("the working-day calendar has no entry for
  // 2028"): a guess could shorten a party's time limit.
  absl::StatusOr<bool> IsWorkingDay(absl::CivilDay day) const;

  // The n-th working day after `start` (n >= 1; `start` itself is not
  // counted), e.g. 3 working days from 2026-09-30 is 2026-10-10 (the National
  // Day week is off; Saturday 10 October is worked). INVALID_ARGUMENT for
  // n < 1, FAILED_PRECONDITION when a year on the way is not covered.
  absl::StatusOr<absl::CivilDay> AddWorkingDays(absl::CivilDay start, int n) const;

  // How many working days lie after `from` up to and including `to` (0 when
  // to <= from). FAILED_PRECONDITION when a year on the way is not covered.
  absl::StatusOr<int> WorkingDaysBetween(absl::CivilDay from, absl::CivilDay to) const;

 private:
  struct Year {
    std::set<absl::CivilDay> holidays;
    std::set<absl::CivilDay> adjusted_working_days;
  };
  std::map<int64_t, Year> years_;
};

}  // namespace palm::sync

#endif  // PALM_SYNC_CALENDAR_H_
