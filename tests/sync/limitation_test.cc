// Art. 36 as a case is recorded (sync/limitation.h, both ends): the 2 years
// from the act or its end, across the last day; the 5 years where life,
// health or financial security was harmed; a law that provides otherwise.
#include "sync/limitation.h"

#include <catch2/catch.hpp>

#include "sync/calendar.h"
#include "tests/sync/refusal.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;
constexpr absl::StatusCode kPrecondition = absl::StatusCode::kFailedPrecondition;
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

int64_t At(const char* day, int hour = 10) {
  absl::StatusOr<absl::CivilDay> d = ParseCivilDay(day, "test");
  REQUIRE(d.ok());
  return ShanghaiMidnightMs(*d) + int64_t{hour} * 3600 * 1000;
}

v1::Case Occurred(const char* day) {
  v1::Case c;
  c.set_case_id("case-1");
  c.set_occurred_at_ms(At(day));
  return c;
}

constexpr char kTwoYears[] =
    "a violation not discovered within 2 years is not penalised (Art. 36): it ended on "
    "2024-03-15, the period ended on 2026-03-15, and it was discovered on 2026-03-16; the case is "
    "not recorded unless the exception that applies is: life, health or financial security "
    "harmed (5 years) or a law that provides otherwise (limitation_exception)";

TEST_CASE("Art. 36: a case is recorded within 2 years of the act and not the day after",
          "[limitation]") {
  const v1::Case c = Occurred("2024-03-15");
  CHECK(CheckCaseLimitation(c, At("2026-03-14")).ok());
  CHECK(CheckCaseLimitation(c, At("2026-03-15", 23)).ok());
  CHECK_REFUSED(CheckCaseLimitation(c, At("2026-03-16", 0)), kPrecondition,
                v1::REASON_LIMITATION_PERIOD, kTwoYears);
  // A leap day: the period ends on the last day of February.
  const v1::Case leap = Occurred("2024-02-29");
  CHECK(CheckCaseLimitation(leap, At("2026-02-28")).ok());
  CHECK_FALSE(CheckCaseLimitation(leap, At("2026-03-01")).ok());
  // A device clock behind the act: not this rule's to refuse.
  CHECK(CheckCaseLimitation(c, At("2024-03-14")).ok());
}

TEST_CASE("Art. 36: a continuing act counts from its end", "[limitation]") {
  v1::Case c = Occurred("2023-01-10");
  c.set_act_ended_at_ms(At("2024-03-15"));
  CHECK(CheckCaseLimitation(c, At("2026-03-15")).ok());
  CHECK_REFUSED(CheckCaseLimitation(c, At("2026-03-16")), kPrecondition,
                v1::REASON_LIMITATION_PERIOD, kTwoYears);
  c.set_act_ended_at_ms(At("2022-12-31"));
  CHECK_REFUSED(CheckCaseLimitation(c, At("2024-01-01")), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "record_case.case.act_ended_at_ms: a continuing act ends after it began "
                "(occurred_at_ms), not before");
  c.set_act_ended_at_ms(At("2024-03-15"));
  CHECK_REFUSED(CheckCaseLimitation(c, At("2024-03-14")), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "record_case.case.act_ended_at_ms: the act cannot have ended after the case is "
                "recorded; for an act still going on, give when it was found going on");
}

TEST_CASE("Art. 36: 5 years for harm to life health or finance and none where a law says so",
          "[limitation]") {
  v1::Case c = Occurred("2021-03-15");
  c.mutable_limitation_exception()->set_kind(v1::LIMITATION_EXCEPTION_KIND_LIFE_HEALTH_FINANCE);
  CHECK_REFUSED(CheckCaseLimitation(c, At("2026-03-15")), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "record_case.case.limitation_exception.basis: say how life, health or financial "
                "security was harmed");
  c.mutable_limitation_exception()->set_basis("违规燃气管道施工致三户居民一氧化碳中毒送医");
  CHECK(CheckCaseLimitation(c, At("2026-03-15")).ok());
  CHECK_REFUSED(CheckCaseLimitation(c, At("2026-03-16")), kPrecondition,
                v1::REASON_LIMITATION_PERIOD,
                "a violation not discovered within 5 years (life, health or financial safety) is "
                "not penalised (Art. 36): it ended on 2021-03-15, the period ended on 2026-03-15, "
                "and it was discovered on 2026-03-16; the case is not recorded unless a law "
                "provides otherwise (limitation_exception OTHER_LAW)");
  c.mutable_limitation_exception()->set_kind(v1::LIMITATION_EXCEPTION_KIND_OTHER_LAW);
  c.mutable_limitation_exception()->clear_basis();
  CHECK_REFUSED(CheckCaseLimitation(c, At("2026-03-16")), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "record_case.case.limitation_exception.basis: cite the law and article that "
                "provide otherwise");
  c.mutable_limitation_exception()->set_basis("《中华人民共和国税收征收管理法》第八十六条");
  CHECK(CheckCaseLimitation(c, At("2030-01-01")).ok());
  c.mutable_limitation_exception()->set_kind(static_cast<v1::LimitationExceptionKind>(9));
  CHECK_REFUSED(CheckCaseLimitation(c, At("2026-03-16")), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "record_case.case.limitation_exception.kind: 9 is not an exception of Art. 36");
}

}  // namespace
}  // namespace palm::sync
