#include "sync/limitation.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "sync/calendar.h"
#include "sync/clocks.h"
#include "sync/status.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

bool Blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch == ' ' || ch == '\t'; });
}

absl::Status Malformed(absl::string_view field, absl::string_view message) {
  return InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                         absl::StrCat("record_case.case.", field, ": ", message));
}

}  // namespace

absl::Status CheckCaseLimitation(const v1::Case& c, int64_t recorded_at_ms) {
  const v1::LimitationException& x = c.limitation_exception();
  if (!v1::LimitationExceptionKind_IsValid(x.kind())) {
    return Malformed("limitation_exception.kind",
                     absl::StrCat(static_cast<int>(x.kind()), " is not an exception of Art. 36"));
  }
  if (x.kind() != v1::LIMITATION_EXCEPTION_KIND_UNSPECIFIED && Blank(x.basis())) {
    return Malformed("limitation_exception.basis",
                     x.kind() == v1::LIMITATION_EXCEPTION_KIND_OTHER_LAW
                         ? "cite the law and article that provide otherwise"
                         : "say how life, health or financial security was harmed");
  }
  if (c.act_ended_at_ms() != 0) {
    if (c.act_ended_at_ms() < c.occurred_at_ms()) {
      return Malformed("act_ended_at_ms",
                       "a continuing act ends after it began (occurred_at_ms), not before");
    }
    if (c.act_ended_at_ms() > recorded_at_ms) {
      return Malformed("act_ended_at_ms",
                       "the act cannot have ended after the case is recorded; for an act still "
                       "going on, give when it was found going on");
    }
  }
  if (x.kind() == v1::LIMITATION_EXCEPTION_KIND_OTHER_LAW) return absl::OkStatus();
  const int64_t end_ms = c.act_ended_at_ms() != 0 ? c.act_ended_at_ms() : c.occurred_at_ms();
  if (end_ms <= 0) return absl::OkStatus();
  const absl::CivilDay act_end = ShanghaiDay(end_ms);
  const absl::CivilDay discovered = ShanghaiDay(recorded_at_ms);
  if (discovered < act_end) return absl::OkStatus();
  const bool five = x.kind() == v1::LIMITATION_EXCEPTION_KIND_LIFE_HEALTH_FINANCE;
  const absl::Status within = CheckLimitation(
      act_end, discovered,
      five ? LimitationKind::kLifeHealthOrFinancialSafety : LimitationKind::kOrdinary);
  if (within.ok()) return within;
  return FailedPrecondition(
      v1::REASON_LIMITATION_PERIOD,
      absl::StrCat(within.message(),
                   five ? "; the case is not recorded unless a law provides otherwise "
                          "(limitation_exception OTHER_LAW)"
                        : "; the case is not recorded unless the exception that applies is: life, "
                          "health or financial security harmed (5 years) or a law that provides "
                          "otherwise (limitation_exception)"));
}

}  // namespace palm::sync
