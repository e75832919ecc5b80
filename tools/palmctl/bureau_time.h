// The bureau's time zone, for every time palmctl prints and every date it
// accepts: Asia/Shanghai unless --tz (PALMCTL_TZ, or `tz` in the config
// file) names another IANA zone. Times are always printed with their zone,
// "2026-12-02 15:04 CST", so that nobody mistakes them for UTC.
// Not thread-safe to set; palmctl sets it once, before any command runs.
#ifndef PALM_TOOLS_PALMCTL_BUREAU_TIME_H_
#define PALM_TOOLS_PALMCTL_BUREAU_TIME_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace palm::palmctl {

inline constexpr char kDefaultBureauTimeZone[] = "Asia/Shanghai";

// Makes `name` (an IANA zone such as "Asia/Shanghai" or "UTC") the bureau's
// zone. INVALID_ARGUMENT naming it when the system knows no such zone.
// Asia/Shanghai works without the system's zone files (UTC+8, labelled
// "+08:00").
absl::Status SetBureauTimeZone(const std::string& name);

// Unix milliseconds in the bureau's zone, to the minute and labelled with
// the zone's abbreviation or, when it has none, its offset:
// "2026-12-02 15:04 CST", "2026-12-02 07:04 UTC", "2026-12-02 15:04 +08:00".
// 0 (not set) as "-".
std::string FormatBureauTime(int64_t unix_ms);

// The bureau-local date (YYYY-MM-DD) that `text` names at `now_ms`: "today",
// "yesterday" or a date YYYY-MM-DD itself. INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> ResolveDate(absl::string_view text, int64_t now_ms);

// Unix milliseconds of 00:00 in the bureau's zone on the day `text` names
// at `now_ms` (as ResolveDate reads it).
absl::StatusOr<int64_t> BureauDayStartMs(absl::string_view text, int64_t now_ms);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_BUREAU_TIME_H_
