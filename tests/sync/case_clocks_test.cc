// The clocks a case runs, read from its records: sync/case_clocks.h, which
// the server's ListDeadlines and the device's Client::ListDeadlines share.
#include "sync/case_clocks.h"

#include <algorithm>

#include <catch2/catch.hpp>

#include "sync/service.h"
#include "tests/sync/sample_calendar.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

absl::CivilDay Day(const char* text) {
  absl::StatusOr<absl::CivilDay> d = ParseCivilDay(text, "test");
  REQUIRE(d.ok());
  return *d;
}

int64_t At(const char* day, int hour = 10) {
  return ShanghaiMidnightMs(Day(day)) + int64_t{hour} * 3600 * 1000;
}

v1::Case Filed(const char* day) {
  v1::Case c;
  c.set_case_id("case-1");
  c.set_case_number("桐综执罚〔2026〕0123号");
  c.set_procedure(v1::PROCEDURE_ORDINARY);
  c.set_town_id("town-a");
  c.set_squad_id("sq-a");
  c.add_officer_ids("officer-1");
  c.set_proposed_fine_fen(50000);
  c.set_state(v1::CASE_STATE_FILED);
  StampMove(&c, v1::CASE_STATE_FILED, At(day));
  return c;
}

std::vector<v1::CaseClock> Read(const v1::Case& c, const char* today, int64_t warn = 7) {
  const WorkingDayCalendar calendar = testing::SampleWorkingDays();
  absl::StatusOr<std::vector<v1::CaseClock>> clocks = CaseClocks(c, &calendar, Day(today), warn);
  INFO(clocks.status());
  REQUIRE(clocks.ok());
  return *clocks;
}

v1::CaseClock Only(const v1::Case& c, const char* today, int64_t warn = 7) {
  std::vector<v1::CaseClock> clocks = Read(c, today, warn);
  REQUIRE(clocks.size() == 1);
  return clocks[0];
}

TEST_CASE("the 90 days to decide run from filing, across their last day (Art. 60)", "[clocks]") {
  v1::Case c = Filed("2026-07-01");
  v1::CaseClock k = Only(c, "2026-09-20");
  CHECK(k.kind() == v1::CLOCK_KIND_DECISION);
  CHECK(k.started_on() == "2026-07-01");
  CHECK(k.last_day() == "2026-09-29");
  CHECK(k.case_number() == "桐综执罚〔2026〕0123号");
  CHECK(k.town_id() == "town-a");
  CHECK(k.squad_id() == "sq-a");
  CHECK(k.officer_ids(0) == "officer-1");
  CHECK(k.state() == v1::CLOCK_STATE_RUNNING);
  CHECK(k.days_left() == 9);
  CHECK(Only(c, "2026-09-22").state() == v1::CLOCK_STATE_DUE_SOON);
  CHECK(Only(c, "2026-09-28").state() == v1::CLOCK_STATE_DUE_SOON);
  CHECK(Only(c, "2026-09-29").state() == v1::CLOCK_STATE_DUE_TODAY);
  k = Only(c, "2026-09-30");
  CHECK(k.state() == v1::CLOCK_STATE_OVERDUE);
  CHECK(k.days_left() == -1);
  // Every state before the decision keeps it running; the decision stops it.
  for (v1::CaseState s : {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED,
                          v1::CASE_STATE_HEARING, v1::CASE_STATE_LEGAL_REVIEW}) {
    c.set_state(s);
    CHECK(Only(c, "2026-09-30").kind() == v1::CLOCK_KIND_DECISION);
  }
  c.set_state(v1::CASE_STATE_TRANSFERRED);
  CHECK(Read(c, "2026-09-30").empty());
  // The approved extension replaces the last day.
  c.set_state(v1::CASE_STATE_INVESTIGATING);
  c.mutable_decision_extension()->set_extended_to("2026-10-30");
  k = Only(c, "2026-09-30");
  CHECK(k.last_day() == "2026-10-30");
  CHECK(k.state() == v1::CLOCK_STATE_RUNNING);
  // A summary case has no filing clock.
  v1::Case summary = Filed("2026-07-01");
  summary.set_procedure(v1::PROCEDURE_SUMMARY);
  summary.clear_filed_at_ms();
  CHECK(Read(summary, "2026-09-30").empty());
}

TEST_CASE("the 7 working days to serve run from the decision, over a holiday (Art. 61)",
          "[clocks]") {
  v1::Case c = Filed("2026-07-01");
  c.set_state(v1::CASE_STATE_DECIDED);
  StampMove(&c, v1::CASE_STATE_DECIDED, At("2026-09-30"));
  v1::CaseClock k = Only(c, "2026-10-01", 3);
  CHECK(k.kind() == v1::CLOCK_KIND_SERVICE);
  CHECK(k.started_on() == "2026-09-30");
  CHECK(k.last_day() == "2026-10-15");
  CHECK(k.state() == v1::CLOCK_STATE_RUNNING);
  CHECK(Only(c, "2026-10-14", 3).state() == v1::CLOCK_STATE_DUE_SOON);
  CHECK(Only(c, "2026-10-15", 3).state() == v1::CLOCK_STATE_DUE_TODAY);
  CHECK(Only(c, "2026-10-16", 3).state() == v1::CLOCK_STATE_OVERDUE);
  // Recording the service stops it.
  v1::CaseEvent e;
  e.set_event_id("ev-1");
  e.set_kind(v1::CASE_EVENT_KIND_SERVICE);
  e.mutable_service()->set_method(v1::SERVICE_METHOD_DIRECT);
  e.mutable_service()->set_served_at_ms(At("2026-10-09"));
  RecordService(&c, e);
  CHECK(Read(c, "2026-10-16").empty());
}

TEST_CASE("payment in 15 days of service moves off a rest day and then the court window opens",
          "[clocks]") {
  v1::Case c = Filed("2026-07-01");
  StampMove(&c, v1::CASE_STATE_DECIDED, At("2026-09-30"));
  c.set_state(v1::CASE_STATE_SERVED);
  v1::CaseEvent e;
  e.set_event_id("ev-1");
  e.set_kind(v1::CASE_EVENT_KIND_SERVICE);
  e.mutable_service()->set_method(v1::SERVICE_METHOD_DIRECT);
  // Served Friday 2 October (the post is delivered in the holiday); 15
  // days is Saturday 17 October, a rest day: the party has to Monday 19.
  e.mutable_service()->set_served_at_ms(At("2026-10-02"));
  RecordService(&c, e);
  v1::CaseClock k = Only(c, "2026-10-11");
  CHECK(k.kind() == v1::CLOCK_KIND_PAYMENT);
  CHECK(k.started_on() == "2026-10-02");
  CHECK(k.last_day() == "2026-10-19");
  CHECK(k.state() == v1::CLOCK_STATE_RUNNING);
  CHECK(Only(c, "2026-10-18").state() == v1::CLOCK_STATE_DUE_SOON);
  c.set_state(v1::CASE_STATE_EXECUTING);
  CHECK(Only(c, "2026-10-19").state() == v1::CLOCK_STATE_DUE_TODAY);
  // The day after: payment overdue, and the court-enforcement window shown
  // (it opens once 6 months of litigation have passed).
  std::vector<v1::CaseClock> clocks = Read(c, "2026-10-20");
  REQUIRE(clocks.size() == 2);
  CHECK(clocks[0].kind() == v1::CLOCK_KIND_PAYMENT);
  CHECK(clocks[0].state() == v1::CLOCK_STATE_OVERDUE);
  CHECK(clocks[1].kind() == v1::CLOCK_KIND_COURT_ENFORCEMENT);
  CHECK(clocks[1].opens_on() == "2027-04-03");
  CHECK(clocks[1].last_day() == "2027-07-02");
  // A warning, or a case closed: no payment clock.
  c.mutable_decision()->set_fine_fen(0);
  CHECK(Read(c, "2026-10-20").empty());
  c.mutable_decision()->set_fine_fen(50000);
  c.set_state(v1::CASE_STATE_CLOSED);
  CHECK(Read(c, "2026-10-20").empty());
}

TEST_CASE("a working-day clock with no calendar is refused, not guessed", "[clocks]") {
  v1::Case c = Filed("2026-07-01");
  c.set_state(v1::CASE_STATE_DECIDED);
  StampMove(&c, v1::CASE_STATE_DECIDED, At("2026-09-30"));
  absl::StatusOr<std::vector<v1::CaseClock>> clocks = CaseClocks(c, nullptr, Day("2026-10-01"), 7);
  REQUIRE_FALSE(clocks.ok());
  CHECK(clocks.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(clocks.status().message() ==
        "case 桐综执罚〔2026〕0123号: no working-day calendar is on record, so its clocks "
        "cannot be counted (Art. 85)");
  // The 90 days are calendar days: no calendar needed.
  c.set_state(v1::CASE_STATE_FILED);
  clocks = CaseClocks(c, nullptr, Day("2026-07-02"), 7);
  REQUIRE(clocks.ok());
  CHECK(clocks->size() == 1);
}

TEST_CASE("clocks list overdue first, then by last day", "[clocks]") {
  v1::CaseClock a, b, c;
  a.set_case_number("B");
  a.set_last_day("2026-10-05");
  a.set_state(v1::CLOCK_STATE_OVERDUE);
  b.set_case_number("A");
  b.set_last_day("2026-10-01");
  b.set_state(v1::CLOCK_STATE_DUE_SOON);
  c.set_case_number("A");
  c.set_last_day("2026-10-06");
  c.set_state(v1::CLOCK_STATE_OVERDUE);
  std::vector<v1::CaseClock> all = {b, c, a};
  std::sort(all.begin(), all.end(), ClockBefore);
  CHECK(all[0].last_day() == "2026-10-05");
  CHECK(all[1].last_day() == "2026-10-06");
  CHECK(all[2].last_day() == "2026-10-01");
  CHECK(std::string(ClockKindLabel(v1::CLOCK_KIND_SERVICE)) == "送达期限 (第61条)");
}

}  // namespace
}  // namespace palm::sync
