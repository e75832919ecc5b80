// Server-side validation: every device rule re-checked against authoritative
// state, each refusal with its exact reason and message.
#include "absl/strings/str_format.h"
#include "support/art33.h"
#include "sync/calendar.h"
#include "sync/notice.h"
#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

TEST_CASE("a lawful ticket inside the device's lease is applied and numbered from the lease") {
  CaseFixture f;
  auto r = f.PushOne(IssueTicket("dev-a1", 2, f.case_id, f.lease.first_number()));
  REQUIRE_APPLIED(r);
  auto detail = f.client.GetCase(f.case_id);
  REQUIRE(detail.tickets_size() == 1);
  REQUIRE(detail.tickets(0).device_id() == "dev-a1");
  REQUIRE(detail.tickets(0).ticket_number_text() ==
          absl::StrFormat("%s%06d", f.lease.prefix(), f.lease.first_number()));
}

TEST_CASE("a ticket over the on-the-spot limit is refused REASON_FINE_OVER_LIMIT") {
  CaseFixture f;
  auto r = f.PushOne(IssueTicket("dev-a1", 2, f.case_id, f.lease.first_number(), 25000));
  REQUIRE_REJECTED(r, v1::REASON_FINE_OVER_LIMIT,
                   "fine 250 yuan exceeds the on-the-spot limit of 200 yuan for a citizen "
                   "(Art. 51); use the ordinary procedure");
  REQUIRE(f.client.GetCase(f.case_id).tickets_size() == 0);
}

TEST_CASE("a ticket number outside the device's lease is refused REASON_TICKET_NUMBER_NOT_LEASED") {
  CaseFixture f;
  auto other = f.client.Lease("dev-a2", 10);
  SECTION("a number never leased") {
    auto r = f.PushOne(IssueTicket("dev-a1", 2, f.case_id, other.last_number() + 1));
    REQUIRE_REJECTED(r, v1::REASON_TICKET_NUMBER_NOT_LEASED,
                     "ticket number " + std::to_string(other.last_number() + 1) +
                         " is not in a block leased to device dev-a1");
  }
  SECTION("a number leased to another device") {
    auto r = f.PushOne(IssueTicket("dev-a1", 2, f.case_id, other.first_number()));
    REQUIRE_REJECTED(r, v1::REASON_TICKET_NUMBER_NOT_LEASED,
                     "ticket number " + std::to_string(other.first_number()) +
                         " is not in a block leased to device dev-a1");
  }
}

TEST_CASE("a ticket number used twice is refused REASON_TICKET_NUMBER_USED") {
  CaseFixture f;
  v1::Mutation first = IssueTicket("dev-a1", 2, f.case_id, f.lease.first_number());
  v1::Mutation second = IssueTicket("dev-a1", 3, f.case_id, f.lease.first_number());
  auto r = f.client.PushBatch("dev-a1", {first, second});
  REQUIRE_APPLIED(r.results(0));
  REQUIRE_REJECTED(r.results(1), v1::REASON_TICKET_NUMBER_USED,
                   "ticket number " + std::to_string(f.lease.first_number()) +
                       " was already used by ticket " + first.issue_ticket().ticket().ticket_id());
}

TEST_CASE("a ticket is immutable: the same ticket id again is refused REASON_IMMUTABLE") {
  CaseFixture f;
  v1::Mutation first = IssueTicket("dev-a1", 2, f.case_id, f.lease.first_number());
  v1::Mutation again = IssueTicket("dev-a1", 3, f.case_id, f.lease.first_number() + 1);
  again.mutable_issue_ticket()->mutable_ticket()->set_ticket_id(
      first.issue_ticket().ticket().ticket_id());
  auto r = f.client.PushBatch("dev-a1", {first, again});
  REQUIRE_REJECTED(
      r.results(1), v1::REASON_IMMUTABLE,
      "ticket " + first.issue_ticket().ticket().ticket_id() +
          " is already issued; a ticket is never edited (void it and issue a new one)");
}

TEST_CASE("an illegal transition is refused REASON_ILLEGAL_TRANSITION") {
  CaseFixture f;
  auto r =
      f.PushOne(Transition("dev-a1", 2, f.case_id, v1::CASE_STATE_ISSUED, v1::CASE_STATE_CLOSED));
  REQUIRE_REJECTED(r, v1::REASON_ILLEGAL_TRANSITION,
                   "a case in state ISSUED cannot move to CLOSED; next allowed: FILED");
  REQUIRE(f.client.GetCase(f.case_id).case_().state() == v1::CASE_STATE_ISSUED);
}

TEST_CASE("a stale transition is refused REASON_STALE_TRANSITION naming the current state") {
  CaseFixture f;
  // dev-a1 files the case; dev-a2, which saw it ISSUED, tries the same move.
  auto moved =
      f.PushOne(Transition("dev-a1", 2, f.case_id, v1::CASE_STATE_ISSUED, v1::CASE_STATE_FILED));
  REQUIRE_APPLIED(moved);
  v1::Mutation stale =
      Transition("dev-a2", 1, f.case_id, v1::CASE_STATE_ISSUED, v1::CASE_STATE_FILED);
  auto r = f.PushOne(stale, "dev-a2");
  REQUIRE_REJECTED(r, v1::REASON_STALE_TRANSITION,
                   "case " + f.case_number +
                       " is now in state FILED, not ISSUED as the device saw it; the move to "
                       "FILED was not made");
  auto detail = f.client.GetCase(f.case_id);
  REQUIRE(detail.case_().state() == v1::CASE_STATE_FILED);
  // A summary case's FILED is the report to the agency: no deadline.
  REQUIRE(detail.case_().deadline_ms() == 0);
  // The timeline holds CREATED and one TRANSITION whose id is the mutation id.
  REQUIRE(detail.timeline_size() == 2);
  REQUIRE(detail.timeline(1).event_id() == moved.mutation_id());
  REQUIRE(detail.timeline(1).to_state() == v1::CASE_STATE_FILED);
}

TEST_CASE("reporting a ticket to the agency is tracked with no deadline, filing starts 90 days") {
  CaseFixture f;
  REQUIRE_APPLIED(
      f.PushOne(Transition("dev-a1", 2, f.case_id, v1::CASE_STATE_ISSUED, v1::CASE_STATE_FILED)));
  auto detail = f.client.GetCase(f.case_id);
  CHECK(detail.case_().deadline_ms() == 0);
  REQUIRE(detail.timeline_size() == 2);
  CHECK(detail.timeline(1).kind() == v1::CASE_EVENT_KIND_TRANSITION);
  CHECK(detail.timeline(1).to_state() == v1::CASE_STATE_FILED);

  std::string ordinary;
  REQUIRE_APPLIED(
      f.PushOne(RecordCase("dev-a1", 3, &ordinary, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY)));
  auto filed =
      f.PushOne(Transition("dev-a1", 4, ordinary, v1::CASE_STATE_REGISTERED, v1::CASE_STATE_FILED));
  REQUIRE_APPLIED(filed);
  const v1::Case c = f.client.GetCase(ordinary).case_();
  CHECK(c.deadline_ms() == c.state_hlc().wall_ms() + int64_t{90} * 24 * 60 * 60 * 1000);
}

TEST_CASE("a crafted ticket stating 180 days for litigation is rejected (6 months, Art. 52)") {
  CaseFixture f;
  v1::Mutation m = IssueTicket("dev-a1", 2, f.case_id, f.lease.first_number());
  v1::Remedy* litigation = m.mutable_issue_ticket()->mutable_ticket()->mutable_remedies(1);
  litigation->clear_deadline_months();
  litigation->set_deadline_days(180);
  REQUIRE_REJECTED(f.PushOne(m), v1::REASON_INVALID_ARGUMENT,
                   "remedy 2 (litigation) states 180 days; the law gives 6 months "
                   "(deadline_months 6, deadline_days 0)");
  CHECK(f.client.GetCase(f.case_id).tickets_size() == 0);
}

TEST_CASE("a major case cannot be decided without legal review (Art. 58)") {
  CaseFixture f;
  f.client.AddOfficer("leader-a", kTownA, kSquadA, true, v1::ROLE_SQUAD_LEADER);
  std::string major;
  uint64_t seq = 2;
  std::vector<v1::Mutation> batch = {RecordCase("dev-a1", seq++, &major, kOfficerA1, kTownA,
                                                v1::PROCEDURE_ORDINARY, kMajorMatter)};
  const v1::CaseState path[] = {v1::CASE_STATE_REGISTERED, v1::CASE_STATE_FILED,
                                v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED};
  for (int i = 0; i + 1 < 4; ++i) {
    batch.push_back(Transition("dev-a1", seq++, major, path[i], path[i + 1]));
  }
  v1::Mutation decide =
      Transition("dev-a1", seq++, major, v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_DECIDED);
  decide.set_officer_id("leader-a");
  batch.push_back(decide);
  auto r = f.client.PushBatch("dev-a1", batch);
  for (int i = 0; i < 4; ++i) REQUIRE_APPLIED(r.results(i));
  REQUIRE_REJECTED(r.results(4), v1::REASON_REVIEW_REQUIRED,
                   absl::StrCat("case ", r.results(0).case_number(),
                                " is a major case and needs legal review approval (Art. 58) "
                                "before a decision"));
  CHECK(f.client.GetCase(major).case_().state() == v1::CASE_STATE_NOTIFIED);
}

TEST_CASE("a crafted push deciding a case by an officer without decision authority is rejected") {
  CaseFixture f;
  std::string ordinary;
  uint64_t seq = 2;
  std::vector<v1::Mutation> batch = {
      RecordCase("dev-a1", seq++, &ordinary, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY)};
  const v1::CaseState path[] = {v1::CASE_STATE_REGISTERED, v1::CASE_STATE_FILED,
                                v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED,
                                v1::CASE_STATE_DECIDED};
  for (int i = 0; i + 1 < 5; ++i) {
    batch.push_back(Transition("dev-a1", seq++, ordinary, path[i], path[i + 1]));
  }
  auto r = f.client.PushBatch("dev-a1", batch);
  for (int i = 0; i < 4; ++i) REQUIRE_APPLIED(r.results(i));
  REQUIRE_REJECTED(r.results(4), v1::REASON_PERMISSION_DENIED,
                   absl::StrCat("officer ", kOfficerA1, " (ROLE_OFFICER) may not decide case ",
                                r.results(0).case_number(),
                                ": a decision is made by an active, sworn squad leader "
                                "(ROLE_SQUAD_LEADER)"));
  CHECK(f.client.GetCase(ordinary).case_().state() == v1::CASE_STATE_NOTIFIED);
}

TEST_CASE("a case under investigation no longer goes to legal review before its notice") {
  CaseFixture f;
  std::string ordinary;
  uint64_t seq = 2;
  std::vector<v1::Mutation> batch = {
      RecordCase("dev-a1", seq++, &ordinary, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY),
      Transition("dev-a1", seq++, ordinary, v1::CASE_STATE_REGISTERED, v1::CASE_STATE_FILED),
      Transition("dev-a1", seq++, ordinary, v1::CASE_STATE_FILED, v1::CASE_STATE_INVESTIGATING),
      Transition("dev-a1", seq++, ordinary, v1::CASE_STATE_INVESTIGATING,
                 v1::CASE_STATE_LEGAL_REVIEW)};
  auto r = f.client.PushBatch("dev-a1", batch);
  for (int i = 0; i < 3; ++i) REQUIRE_APPLIED(r.results(i));
  REQUIRE_REJECTED(r.results(3), v1::REASON_ILLEGAL_TRANSITION,
                   "a case in state INVESTIGATING cannot move to LEGAL_REVIEW; next allowed: "
                   "NOTIFIED, NO_PENALTY, TRANSFERRED");
}

TEST_CASE(
    "a decision heavier than its notice, or inside the notice's period, is rejected "
    "through the server (Art. 44-45)") {
  CaseFixture f;
  f.client.AddOfficer("leader-a", kTownA, kSquadA, true, v1::ROLE_SQUAD_LEADER);
  // A catalogue with a working-day calendar (weekdays only, a test's) for
  // this year and the next, so the period can be counted.
  v1::Catalog catalog = SampleCatalog(2);
  const absl::CivilDay today = palm::sync::ShanghaiDay(palm::sync::SystemNowMs());
  for (int64_t year : {today.year(), today.year() + 1}) {
    catalog.add_calendar()->set_year(static_cast<int32_t>(year));
  }
  f.client.LoadCatalog(catalog);
  std::string id;
  uint64_t seq = 2;
  v1::Mutation record =
      RecordCase("dev-a1", seq++, &id, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY);
  record.mutable_record_case()->mutable_case_()->set_proposed_fine_fen(10000);
  auto r = f.client.PushBatch(
      "dev-a1",
      {record, Transition("dev-a1", seq++, id, v1::CASE_STATE_REGISTERED, v1::CASE_STATE_FILED),
       Transition("dev-a1", seq++, id, v1::CASE_STATE_FILED, v1::CASE_STATE_INVESTIGATING),
       Transition("dev-a1", seq++, id, v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED)});
  for (int i = 0; i < 4; ++i) REQUIRE_APPLIED(r.results(i));
  const std::string number = r.results(0).case_number();
  const v1::Case noticed = f.client.GetCase(id).case_();
  REQUIRE(noticed.notice().noticed_fine_fen() == 10000);
  REQUIRE(noticed.notice().period_working_days() == 3);
  auto decide = [&] {
    v1::Mutation m =
        Transition("dev-a1", seq++, id, v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_DECIDED);
    m.set_officer_id("leader-a");
    return f.PushOne(m);
  };

  // The fine is raised after the notice: a crafted push cannot decide it.
  REQUIRE_APPLIED(
      f.PushOne(UpdateField("dev-a1", seq++, id, v1::CASE_FIELD_PROPOSED_FINE, "15000")));
  REQUIRE_REJECTED(decide(), v1::REASON_HEAVIER_THAN_NOTICED,
                   absl::StrCat("case ", number,
                                ": the fine now proposed (150 yuan) is heavier than the 100 yuan "
                                "the notice stated; a heavier penalty needs a fresh notice (Art. "
                                "44-45)"));
  REQUIRE_APPLIED(
      f.PushOne(UpdateField("dev-a1", seq++, id, v1::CASE_FIELD_PROPOSED_FINE, "10000")));

  // The party's three working days have not run out.
  absl::StatusOr<palm::sync::WorkingDayCalendar> calendar =
      palm::sync::WorkingDayCalendar::From(catalog.calendar());
  REQUIRE(calendar.ok());
  absl::StatusOr<absl::CivilDay> last =
      palm::sync::NoticePeriodLastDay(noticed.notice(), *calendar);
  REQUIRE(last.ok());
  REQUIRE_REJECTED(
      decide(), v1::REASON_NOTICE_PERIOD_RUNNING,
      absl::StrCat(
          "case ", number, ": the party's period to state and defend runs to ",
          palm::sync::FormatCivilDay(*last), " (3 working days from the notice of ",
          palm::sync::FormatCivilDay(palm::sync::ShanghaiDay(noticed.notice().notified_at_ms())),
          ", Art. 44-45); decide after it, or record the party's waiver"));
  // The party waives it; the decision goes through; a statement after the
  // decision is refused.
  REQUIRE_APPLIED(f.PushOne(Waiver("dev-a1", seq++, id)));
  CHECK(f.client.GetCase(id).case_().notice().waived());
  REQUIRE_APPLIED(decide());
  v1::Mutation late = Waiver("dev-a1", seq++, id);
  late.mutable_append_case_event()->mutable_event()->set_kind(v1::CASE_EVENT_KIND_STATEMENT);
  REQUIRE_REJECTED(f.PushOne(late), v1::REASON_ILLEGAL_TRANSITION,
                   absl::StrCat("case ", number,
                                " is in state DECIDED: the party's statement or waiver is recorded "
                                "after the notice and before the decision (NOTIFIED, HEARING or "
                                "LEGAL_REVIEW)"));
}

TEST_CASE("a no-penalty decision for a party with a prior violation is refused") {
  CaseFixture f;
  auto ticket = f.PushOne(IssueTicket("dev-a1", 2, f.case_id, f.lease.first_number()));
  REQUIRE_APPLIED(ticket);
  // A second case against the same person (same ID number, different party id is fine).
  std::string second;
  v1::Mutation record =
      RecordCase("dev-a1", 3, &second, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY);
  auto r = f.client.PushBatch("dev-a1", {record, RecordNoPenalty("dev-a1", 4, second)});
  REQUIRE_APPLIED(r.results(0));
  const v1::Ticket issued = f.client.GetCase(f.case_id).tickets(0);
  REQUIRE_REJECTED(r.results(1), v1::REASON_NOT_FIRST_VIOLATION,
                   NotFirstViolationMessage("CG-0101", issued.issued_at_ms(), f.case_number));
}

TEST_CASE("a first violation may get a no-penalty decision, once") {
  CaseFixture f;
  std::string first;
  v1::Mutation decision = RecordNoPenalty("dev-a1", 3, first);
  auto r = f.client.PushBatch(
      "dev-a1", {RecordCase("dev-a1", 2, &first, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY)});
  REQUIRE_APPLIED(r.results(0));
  decision = RecordNoPenalty("dev-a1", 3, first);
  REQUIRE_APPLIED(f.PushOne(decision));
  std::string second;
  auto again = f.client.PushBatch(
      "dev-a1", {RecordCase("dev-a1", 4, &second, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY),
                 RecordNoPenalty("dev-a1", 5, second)});
  REQUIRE(again.results(1).reason() == v1::REASON_NOT_FIRST_VIOLATION);
}

TEST_CASE("a no-penalty decision ends the case in NO_PENALTY with the device's own event") {
  CaseFixture f;
  std::string ordinary;
  REQUIRE_APPLIED(
      f.PushOne(RecordCase("dev-a1", 2, &ordinary, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY)));
  v1::Mutation decision = RecordNoPenalty("dev-a1", 3, ordinary);
  REQUIRE_APPLIED(f.PushOne(decision));
  v1::CaseDetail detail = f.client.GetCase(ordinary);
  REQUIRE(detail.case_().state() == v1::CASE_STATE_NO_PENALTY);
  REQUIRE(detail.no_penalty_size() == 1);
  // CREATED, then the transition the device also wrote, under the same id.
  REQUIRE(detail.timeline_size() == 2);
  CHECK(detail.timeline(1).event_id() == decision.mutation_id());
  CHECK(detail.timeline(1).kind() == v1::CASE_EVENT_KIND_TRANSITION);
  CHECK(detail.timeline(1).from_state() == v1::CASE_STATE_REGISTERED);
  CHECK(detail.timeline(1).to_state() == v1::CASE_STATE_NO_PENALTY);
  CHECK(detail.timeline(1).text() == "no-penalty decision (Art. 33)");
}

TEST_CASE("a no-penalty decision on a case whose lifecycle cannot end there is refused") {
  CaseFixture f;  // f.case_id is a summary case, ISSUED: a penalty was already decided
  auto r = f.PushOne(RecordNoPenalty("dev-a1", 2, f.case_id));
  REQUIRE(r.outcome() == v1::OUTCOME_REJECTED);
  REQUIRE(r.reason() == v1::REASON_ILLEGAL_TRANSITION);
  INFO(r.message());
  REQUIRE(r.message().find("cannot move to NO_PENALTY") != std::string::npos);
  REQUIRE(f.client.GetCase(f.case_id).no_penalty_size() == 0);
  REQUIRE(f.client.GetCase(f.case_id).case_().state() == v1::CASE_STATE_ISSUED);
}

TEST_CASE("evidence is append-only and withdrawn once, with a reason") {
  CaseFixture f;
  v1::Mutation add = NewMutation("dev-a1", 2);
  v1::Evidence* e = add.mutable_add_evidence()->mutable_evidence();
  e->set_evidence_id(palm::sync::NewUuidV7());
  e->set_case_id(f.case_id);
  e->set_kind(v1::EVIDENCE_KIND_PHOTO);
  e->set_sha256(std::string(64, 'b'));
  e->set_size_bytes(1234);
  e->set_uploaded(true);  // server-owned: ignored
  v1::Mutation again = add;
  again.set_mutation_id(palm::sync::NewUuidV7());
  again.set_device_seq(3);
  auto withdraw = [&](uint64_t seq) {
    v1::Mutation m = NewMutation("dev-a1", seq);
    m.mutable_withdraw_evidence()->set_case_id(f.case_id);
    m.mutable_withdraw_evidence()->set_evidence_id(e->evidence_id());
    m.mutable_withdraw_evidence()->set_reason("wrong street");
    return m;
  };
  auto r = f.client.PushBatch("dev-a1", {add, again, withdraw(4), withdraw(5)});
  REQUIRE_APPLIED(r.results(0));
  REQUIRE_REJECTED(r.results(1), v1::REASON_IMMUTABLE,
                   "evidence " + e->evidence_id() +
                       " is already on record; evidence is never edited (withdraw it and add new "
                       "evidence)");
  REQUIRE_APPLIED(r.results(2));
  REQUIRE_REJECTED(r.results(3), v1::REASON_ALREADY_WITHDRAWN,
                   "evidence " + e->evidence_id() + " was already withdrawn: wrong street");
  auto detail = f.client.GetCase(f.case_id);
  REQUIRE(detail.evidence_size() == 1);
  REQUIRE(detail.evidence(0).withdrawn());
  REQUIRE_FALSE(detail.evidence(0).uploaded());
}

TEST_CASE("a mutation on an unknown case is refused REASON_UNKNOWN_CASE") {
  CaseFixture f;
  const std::string unknown = palm::sync::NewUuidV7();
  auto r = f.PushOne(AppendNote("dev-a1", 2, unknown));
  REQUIRE_REJECTED(r, v1::REASON_UNKNOWN_CASE,
                   "case " + unknown + " is not on record (record_case must come first)");
}
