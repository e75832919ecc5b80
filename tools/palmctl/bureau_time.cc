#include "tools/palmctl/bureau_time.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

absl::TimeZone& Zone() {
  static absl::TimeZone zone = absl::FixedTimeZone(8 * 3600);  // until set
  return zone;
}

// The zone's abbreviation when it is a name ("CST", "UTC"), else empty:
// zones without one show a number there ("+08").
std::string Abbreviation(absl::Time t) {
  std::string abbr = absl::FormatTime("%Z", t, Zone());
  for (char c : abbr) {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(c))) return "";
  }
  return abbr;
}

}  // namespace

absl::Status SetBureauTimeZone(const std::string& name) {
  absl::TimeZone zone;
  if (absl::LoadTimeZone(name, &zone)) {
    Zone() = zone;
    return absl::OkStatus();
  }
  if (name == kDefaultBureauTimeZone) {
    Zone() = absl::FixedTimeZone(8 * 3600);  // no zone files on this system
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown time zone \"", name,
                                                 "\" (--tz): give an IANA zone such as ",
                                                 kDefaultBureauTimeZone, " or UTC"));
}

std::string FormatBureauTime(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  const absl::Time t = absl::FromUnixMillis(unix_ms);
  std::string label = Abbreviation(t);
  if (label.empty()) label = absl::FormatTime("%Ez", t, Zone());
  return absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M", t, Zone()), " ", label);
}

absl::StatusOr<std::string> ResolveDate(absl::string_view text, int64_t now_ms) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "today" || lower == "yesterday") {
    absl::Time t = absl::FromUnixMillis(now_ms);
    if (lower == "yesterday") {
      const absl::CivilDay day = absl::ToCivilDay(t, Zone()) - 1;
      return absl::FormatCivilTime(day);
    }
    return absl::FormatCivilTime(absl::ToCivilDay(t, Zone()));
  }
  if (ShanghaiDayStartMs(text)) return std::string(text);  // checks the calendar
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text, "\" is not a date: give today, yesterday or YYYY-MM-DD"));
}

absl::StatusOr<int64_t> BureauDayStartMs(absl::string_view text, int64_t now_ms) {
  auto date = ResolveDate(text, now_ms);
  if (!date.ok()) return date.status();
  absl::CivilDay day;
  if (!absl::ParseCivilTime(*date, &day)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", *date, "\" is not a date"));
  }
  return absl::ToUnixMillis(absl::FromCivil(day, Zone()));
}

}  // namespace palm::palmctl
