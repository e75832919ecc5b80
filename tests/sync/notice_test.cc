// The notice before a decision and the party's answer (Art. 44-45):
// sync/notice.h, which the device and the server both run.
#include "sync/notice.h"

#include <catch2/catch.hpp>

#include "tests/sync/refusal.h"
#include "tests/sync/sample_calendar.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;
constexpr absl::StatusCode kPrecondition = absl::StatusCode::kFailedPrecondition;

WorkingDayCalendar Sample() { return testing::SampleWorkingDays(); }

int64_t At(const char* day, int hour = 10) {
  absl::StatusOr<absl::CivilDay> d = ParseCivilDay(day, "test");
  REQUIRE(d.ok());
  return ShanghaiMidnightMs(*d) + int64_t{hour} * 3600 * 1000;
}

v1::TransitionCase ToNotified(int period = 0) {
  v1::TransitionCase op;
  op.set_from_state(v1::CASE_STATE_INVESTIGATING);
  op.set_to_state(v1::CASE_STATE_NOTIFIED);
  op.set_notice_period_working_days(period);
  return op;
}

// A case noticed on Wednesday 30 September 2026 with a 500-yuan fine: its
// three working days skip the National Day week and end on Saturday
// 10 October, an adjusted working day.
v1::Case Noticed(int period = 0) {
  v1::Case c;
  c.set_case_id("case-1");
  c.set_case_number("桐综执罚〔2026〕0123号");
  c.set_procedure(v1::PROCEDURE_ORDINARY);
  c.set_matter_code("CG-0101");
  c.set_proposed_fine_fen(50000);
  RecordNotice(&c, ToNotified(period), At("2026-09-30"));
  c.set_state(v1::CASE_STATE_NOTIFIED);
  return c;
}

TEST_CASE("a notice records the fine, the matter and the period, 3 working days by default",
          "[notice]") {
  const v1::Case c = Noticed();
  CHECK(c.notice().noticed_fine_fen() == 50000);
  CHECK(c.notice().noticed_matter_code() == "CG-0101");
  CHECK(c.notice().period_working_days() == kDefaultNoticePeriodWorkingDays);
  CHECK(c.notice().notified_at_ms() == At("2026-09-30"));
  absl::StatusOr<absl::CivilDay> last = NoticePeriodLastDay(c.notice(), Sample());
  REQUIRE(last.ok());
  CHECK(FormatCivilDay(*last) == "2026-10-10");
  CHECK(Noticed(5).notice().period_working_days() == 5);
  CHECK(CheckNoticeMove(ToNotified(30)).ok());
  CHECK_REFUSED(CheckNoticeMove(ToNotified(31)), absl::StatusCode::kInvalidArgument,
                v1::REASON_INVALID_ARGUMENT,
                "transition_case.notice_period_working_days 31 is out of range: 0 (the default, 3 "
                "working days) or 1 to 30");
  CHECK_REFUSED(CheckNoticeMove(ToNotified(-1)), absl::StatusCode::kInvalidArgument,
                v1::REASON_INVALID_ARGUMENT,
                "transition_case.notice_period_working_days -1 is out of range: 0 (the default, 3 "
                "working days) or 1 to 30");
}

TEST_CASE("the decision waits for the notice's period unless the party waived it (Art. 44-45)",
          "[notice]") {
  const WorkingDayCalendar calendar = Sample();
  v1::Case c = Noticed();
  CHECK_REFUSED(CheckDecisionAfterNotice(c, &calendar, At("2026-10-10", 23)), kPrecondition,
                v1::REASON_NOTICE_PERIOD_RUNNING,
                "case 桐综执罚〔2026〕0123号: the party's period to state and defend runs to "
                "2026-10-10 (3 working days from the notice of 2026-09-30, Art. 44-45); decide "
                "after it, or record the party's waiver");
  CHECK(CheckDecisionAfterNotice(c, &calendar, At("2026-10-11", 0)).ok());
  // A statement does not end the period; a waiver does.
  v1::CaseEvent statement;
  statement.set_kind(v1::CASE_EVENT_KIND_STATEMENT);
  RecordStatement(&c, statement);
  CHECK(c.notice().statement_recorded());
  CHECK(CheckDecisionAfterNotice(c, &calendar, At("2026-10-01")).code() == kPrecondition);
  v1::CaseEvent waiver;
  waiver.set_kind(v1::CASE_EVENT_KIND_STATEMENT_WAIVED);
  RecordStatement(&c, waiver);
  CHECK(c.notice().waived());
  CHECK(CheckDecisionAfterNotice(c, &calendar, At("2026-09-30", 11)).ok());
  CHECK(CheckDecisionAfterNotice(c, nullptr, At("2026-09-30", 11)).ok());
  // Without a calendar the period cannot be counted: no guess.
  const absl::Status none = CheckDecisionAfterNotice(Noticed(), nullptr, At("2026-12-01"));
  CHECK(none.code() == kPrecondition);
  CHECK(none.message() ==
        "case 桐综执罚〔2026〕0123号: no working-day calendar is on record, so the notice's "
        "period cannot be counted (Art. 85); load a catalogue with the calendar");
}

TEST_CASE("no decision is heavier than the notice: a raised fine or another matter needs a fresh "
          "notice", "[notice]") {
  const WorkingDayCalendar calendar = Sample();
  const int64_t later = At("2026-10-20");
  v1::Case c = Noticed();
  c.set_proposed_fine_fen(50001);
  CHECK_REFUSED(CheckDecisionAfterNotice(c, &calendar, later), kPrecondition,
                v1::REASON_HEAVIER_THAN_NOTICED,
                "case 桐综执罚〔2026〕0123号: the fine now proposed (500.01 yuan) is heavier than "
                "the 500 yuan the notice stated; a heavier penalty needs a fresh notice (Art. "
                "44-45)");
  c.set_proposed_fine_fen(30000);
  CHECK(CheckDecisionAfterNotice(c, &calendar, later).ok());
  c.set_matter_code("CG-0102");
  CHECK_REFUSED(CheckDecisionAfterNotice(c, &calendar, later), kPrecondition,
                v1::REASON_HEAVIER_THAN_NOTICED,
                "case 桐综执罚〔2026〕0123号: the matter is now CG-0102 but the notice named "
                "CG-0101; a decision on another matter needs a fresh notice (Art. 44)");
  // A fresh notice states the new penalty and restarts the period.
  c.set_proposed_fine_fen(80000);
  RecordNotice(&c, ToNotified(), At("2026-10-20"));
  CHECK(c.notice().noticed_fine_fen() == 80000);
  CHECK_FALSE(c.notice().waived());
  CHECK(CheckDecisionAfterNotice(c, &calendar, At("2026-10-26")).ok());
  CHECK(ReasonOf(CheckDecisionAfterNotice(c, &calendar, At("2026-10-23"))) ==
        v1::REASON_NOTICE_PERIOD_RUNNING);
}

TEST_CASE("a case with no notice on record is noticed again before its decision", "[notice]") {
  v1::Case c = Noticed();
  c.clear_notice();
  const WorkingDayCalendar calendar = Sample();
  CHECK_REFUSED(CheckDecisionAfterNotice(c, &calendar, At("2026-12-01")), kPrecondition,
                v1::REASON_ILLEGAL_TRANSITION,
                "case 桐综执罚〔2026〕0123号 has no notice on record (Art. 44; cases notified "
                "before notices were recorded): give the notice again (back to INVESTIGATING, "
                "then NOTIFIED) before the decision");
}

TEST_CASE("the party's statement or waiver is recorded between the notice and the decision",
          "[notice]") {
  v1::CaseEvent waiver;
  waiver.set_kind(v1::CASE_EVENT_KIND_STATEMENT_WAIVED);
  for (v1::CaseState s :
       {v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_HEARING, v1::CASE_STATE_LEGAL_REVIEW}) {
    v1::Case c = Noticed();
    c.set_state(s);
    CHECK(CheckStatementEvent(c, waiver).ok());
  }
  v1::Case decided = Noticed();
  decided.set_state(v1::CASE_STATE_DECIDED);
  CHECK_REFUSED(CheckStatementEvent(decided, waiver), kPrecondition, v1::REASON_ILLEGAL_TRANSITION,
                "case 桐综执罚〔2026〕0123号 is in state DECIDED: the party's statement or waiver "
                "is recorded after the notice and before the decision (NOTIFIED, HEARING or "
                "LEGAL_REVIEW)");
  v1::Case unnoticed = Noticed();
  unnoticed.clear_notice();
  CHECK_REFUSED(CheckStatementEvent(unnoticed, waiver), kPrecondition,
                v1::REASON_ILLEGAL_TRANSITION,
                "case 桐综执罚〔2026〕0123号 is in state NOTIFIED with no notice on record: the "
                "party's statement or waiver is recorded after the notice and before the decision "
                "(NOTIFIED, HEARING or LEGAL_REVIEW)");
  CHECK(IsStatementKind(v1::CASE_EVENT_KIND_STATEMENT));
  CHECK_FALSE(IsStatementKind(v1::CASE_EVENT_KIND_NOTIFICATION));
}

}  // namespace
}  // namespace palm::sync
