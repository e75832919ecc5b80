#include "sync/calendar.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "sync/status.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

constexpr int64_t kDayMs = int64_t{24} * 60 * 60 * 1000;
constexpr int64_t kShanghaiOffsetMs = int64_t{8} * 60 * 60 * 1000;
// Counting never walks further than this many days (about 3 years): a
// larger n is not a time limit of the law.
constexpr int kMaxDaysWalked = 1100;

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday w = absl::GetWeekday(day);
  return w == absl::Weekday::saturday || w == absl::Weekday::sunday;
}

absl::Status Malformed(std::string message) {
  return InvalidArgument(v1::REASON_INVALID_ARGUMENT, message);
}

absl::Status NotCovered(int64_t year) {
  return FailedPrecondition(v1::REASON_INVALID_ARGUMENT,
                            absl::StrCat("the working-day calendar has no entry for ", year,
                                         " (Art. 85): load the year's holidays first"));
}

}  // namespace

absl::StatusOr<absl::CivilDay> ParseCivilDay(absl::string_view text, absl::string_view where) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '-');
  int year = 0;
  int month = 0;
  int day = 0;
  if (parts.size() != 3 || parts[0].size() != 4 || parts[1].size() != 2 || parts[2].size() != 2 ||
      !absl::SimpleAtoi(parts[0], &year) || !absl::SimpleAtoi(parts[1], &month) ||
      !absl::SimpleAtoi(parts[2], &day)) {
    return Malformed(absl::StrCat(where, " \"", text, "\" is not a date (YYYY-MM-DD)"));
  }
  const absl::CivilDay civil(year, month, day);
  // CivilDay normalises 2026-02-30 to 2026-03-02: such a date does not exist.
  if (civil.year() != year || civil.month() != month || civil.day() != day) {
    return Malformed(absl::StrCat(where, " \"", text, "\" is not a date that exists"));
  }
  return civil;
}

std::string FormatCivilDay(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

absl::CivilDay ShanghaiDay(int64_t unix_ms) {
  const int64_t local = unix_ms + kShanghaiOffsetMs;
  int64_t days = local / kDayMs;
  if (local % kDayMs < 0) --days;  // floor for times before 1970
  return absl::CivilDay(1970, 1, 1) + days;
}

int64_t ShanghaiMidnightMs(absl::CivilDay day) {
  return (day - absl::CivilDay(1970, 1, 1)) * kDayMs - kShanghaiOffsetMs;
}

absl::Status CheckCalendarYear(const v1::CalendarYear& year, absl::string_view where) {
  if (year.year() < 2000 || year.year() > 2100) {
    return Malformed(absl::StrCat(where, ".year ", year.year(), " is not from 2000 to 2100"));
  }
  std::set<absl::CivilDay> seen;
  auto check = [&](const google::protobuf::RepeatedPtrField<std::string>& dates,
                   absl::string_view field, bool adjusted) -> absl::Status {
    for (int i = 0; i < dates.size(); ++i) {
      const std::string at = absl::StrCat(where, ".", field, "[", i, "]");
      absl::StatusOr<absl::CivilDay> day = ParseCivilDay(dates.Get(i), at);
      if (!day.ok()) return day.status();
      if (day->year() != year.year()) {
        return Malformed(absl::StrCat(at, " ", dates.Get(i), " is not in ", year.year()));
      }
      if (adjusted && !IsWeekend(*day)) {
        return Malformed(absl::StrCat(at, " ", dates.Get(i),
                                      " is a weekday: an adjusted working day is a Saturday or "
                                      "Sunday"));
      }
      if (!seen.insert(*day).second) {
        return Malformed(absl::StrCat(at, " ", dates.Get(i), " appears twice in the year"));
      }
    }
    return absl::OkStatus();
  };
  if (absl::Status s = check(year.holidays(), "holidays", false); !s.ok()) return s;
  return check(year.adjusted_working_days(), "adjusted_working_days", true);
}

absl::Status CheckCalendar(const google::protobuf::RepeatedPtrField<v1::CalendarYear>& years,
                           absl::string_view where) {
  std::set<int> seen;
  for (int i = 0; i < years.size(); ++i) {
    const std::string at = absl::StrCat(where, "[", i, "]");
    if (absl::Status s = CheckCalendarYear(years.Get(i), at); !s.ok()) return s;
    if (!seen.insert(years.Get(i).year()).second) {
      return Malformed(absl::StrCat(at, ".year ", years.Get(i).year(), " appears twice"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<WorkingDayCalendar> WorkingDayCalendar::From(
    const google::protobuf::RepeatedPtrField<v1::CalendarYear>& years) {
  if (absl::Status s = CheckCalendar(years, "calendar"); !s.ok()) return s;
  WorkingDayCalendar calendar;
  for (const v1::CalendarYear& y : years) {
    Year& year = calendar.years_[y.year()];
    for (const std::string& d : y.holidays()) year.holidays.insert(*ParseCivilDay(d, ""));
    for (const std::string& d : y.adjusted_working_days()) {
      year.adjusted_working_days.insert(*ParseCivilDay(d, ""));
    }
  }
  return calendar;
}

absl::StatusOr<bool> WorkingDayCalendar::IsWorkingDay(absl::CivilDay day) const {
  const auto year = years_.find(day.year());
  if (year == years_.end()) return NotCovered(day.year());
  if (year->second.adjusted_working_days.count(day) > 0) return true;
  if (IsWeekend(day)) return false;
  return year->second.holidays.count(day) == 0;
}

absl::StatusOr<absl::CivilDay> WorkingDayCalendar::AddWorkingDays(absl::CivilDay start,
                                                                  int n) const {
  if (n < 1) return Malformed(absl::StrCat("a count of working days must be at least 1, not ", n));
  absl::CivilDay day = start;
  int counted = 0;
  for (int walked = 0; walked < kMaxDaysWalked; ++walked) {
    ++day;
    absl::StatusOr<bool> working = IsWorkingDay(day);
    if (!working.ok()) return working.status();
    if (*working && ++counted == n) return day;
  }
  return Malformed(absl::StrCat(n, " working days is beyond any time limit of the law"));
}

absl::StatusOr<int> WorkingDayCalendar::WorkingDaysBetween(absl::CivilDay from,
                                                           absl::CivilDay to) const {
  if (to - from > kMaxDaysWalked) {
    return Malformed(absl::StrCat("from ", FormatCivilDay(from), " to ", FormatCivilDay(to),
                                  " is beyond any time limit of the law"));
  }
  int count = 0;
  for (absl::CivilDay day = from + 1; day <= to; ++day) {
    absl::StatusOr<bool> working = IsWorkingDay(day);
    if (!working.ok()) return working.status();
    if (*working) ++count;
  }
  return count;
}

}  // namespace palm::sync
