// After the decision, through a real server: the service record (Art. 61)
// and the move to SERVED, the clocks ListDeadlines reads (Art. 60, 61, 67),
// the agency head's extension of the 90 days, and the shift report's
// deadlines. The clocks are read "as of" chosen days, so each boundary is
// crossed without waiting for it.
#include <catch2/catch.hpp>

#include "palm/v1/admin.grpc.pb.h"
#include "sync/calendar.h"
#include "tests/server/after_decision.h"

namespace palm::testing {
namespace {

TEST_CASE("a decision is served with its record in 7 working days before it is SERVED (Art. 61)") {
  AfterDecision f;
  const std::string id = f.Decide("2026-09-21", "2026-09-30");
  const v1::Case decided = f.client.GetCase(id).case_();
  CHECK(decided.filed_at_ms() == At("2026-09-21"));
  CHECK(decided.decision().decided_at_ms() == At("2026-09-30"));
  CHECK(decided.decision().fine_fen() == 10000);
  const std::string number = decided.case_number();

  // The service clock, across its last day (the holiday week not counted).
  v1::ListDeadlinesResponse d = f.Deadlines("2026-10-14", 3);
  REQUIRE(d.clocks_size() == 1);
  CHECK(d.total() == 1);
  CHECK(d.as_of() == "2026-10-14");
  CHECK(d.clocks(0).kind() == v1::CLOCK_KIND_SERVICE);
  CHECK(d.clocks(0).case_number() == number);
  CHECK(d.clocks(0).started_on() == "2026-09-30");
  CHECK(d.clocks(0).last_day() == "2026-10-15");
  CHECK(d.clocks(0).state() == v1::CLOCK_STATE_DUE_SOON);
  CHECK(d.clocks(0).squad_id() == kSquadA);
  CHECK(f.Deadlines("2026-10-15", 3).clocks(0).state() == v1::CLOCK_STATE_DUE_TODAY);
  d = f.Deadlines("2026-10-16", 3);
  CHECK(d.clocks(0).state() == v1::CLOCK_STATE_OVERDUE);
  CHECK(d.clocks(0).days_left() == -1);
  // Far from the day, it is not listed.
  CHECK(f.Deadlines("2026-10-01", 3).clocks().empty());

  // No SERVED without the record.
  v1::Mutation served =
      Dated(Transition("dev-a1", f.seq++, id, v1::CASE_STATE_DECIDED, v1::CASE_STATE_SERVED),
            At("2026-10-16", 16));
  REQUIRE_REJECTED(f.PushOne(served), v1::REASON_NOT_SERVED,
                   absl::StrCat("case ", number,
                                " has no service record: record how the decision was served, "
                                "with its proof (a SERVICE event with a service record, Art. "
                                "61), before the move to SERVED"));

  // Served a day late: refused until the reason is recorded.
  std::string proof;
  REQUIRE_APPLIED(f.PushOne(
      Dated(AddEvidence("dev-a1", f.seq++, id, "signed receipt", &proof), At("2026-10-16", 14))));
  v1::Mutation late = f.Service(id, proof, "2026-10-16");
  REQUIRE_REJECTED(f.PushOne(late), v1::REASON_SERVICE_LATE,
                   absl::StrCat("case ", number,
                                ": the decision of 2026-09-30 was to be served by 2026-10-15 (7 "
                                "working days, Art. 61); served on 2026-10-16 — record why it was "
                                "late (late_reason)"));
  v1::Mutation stranger = f.Service(id, "no-such-evidence", "2026-10-16");
  REQUIRE_REJECTED(f.PushOne(stranger), v1::REASON_SERVICE_PROOF,
                   "service record: evidence no-such-evidence cited as proof is not evidence of "
                   "this case");
  v1::Mutation reasoned = f.Service(id, proof, "2026-10-16");
  reasoned.mutable_append_case_event()->mutable_event()->mutable_service()->set_late_reason(
      "当事人外出，10月16日返回");
  REQUIRE_APPLIED(f.PushOne(reasoned));
  const v1::Case on_record = f.client.GetCase(id).case_();
  CHECK(on_record.service().record().method() == v1::SERVICE_METHOD_DIRECT);
  CHECK(on_record.service().effective_at_ms() == At("2026-10-16"));
  CHECK(on_record.service().event_id() == reasoned.append_case_event().event().event_id());
  // Service is recorded once.
  REQUIRE_REJECTED(f.PushOne(f.Service(id, proof, "2026-10-16")), v1::REASON_IMMUTABLE,
                   absl::StrCat("the decision of case ", number,
                                " was served on 2026-10-16 (直接送达); service is recorded once"));

  // SERVED now; the payment clock runs from service: 15 days is Saturday
  // 31 October, so the party has to Monday 2 November.
  served.set_device_seq(f.seq++);
  served.set_mutation_id(sync::NewUuidV7());
  REQUIRE_APPLIED(f.PushOne(served));
  d = f.Deadlines("2026-10-30", 3);
  REQUIRE(d.clocks_size() == 1);
  CHECK(d.clocks(0).kind() == v1::CLOCK_KIND_PAYMENT);
  CHECK(d.clocks(0).started_on() == "2026-10-16");
  CHECK(d.clocks(0).last_day() == "2026-11-02");
  CHECK(d.clocks(0).days_left() == 3);
}

TEST_CASE("the 90 days to decide and the agency head's extension (Art. 60)") {
  AfterDecision f;
  const std::string id = f.Decide("2026-09-21", nullptr);
  const std::string number = f.client.GetCase(id).case_().case_number();
  v1::ListDeadlinesResponse d = f.Deadlines("2026-12-18");
  REQUIRE(d.clocks_size() == 1);
  CHECK(d.clocks(0).kind() == v1::CLOCK_KIND_DECISION);
  CHECK(d.clocks(0).started_on() == "2026-09-21");
  CHECK(d.clocks(0).last_day() == "2026-12-20");
  CHECK(d.clocks(0).state() == v1::CLOCK_STATE_DUE_SOON);
  CHECK(f.Deadlines("2026-12-21").clocks(0).state() == v1::CLOCK_STATE_OVERDUE);

  v1::ExtendDecisionDeadlineRequest request;
  request.set_case_id(id);
  request.set_extended_to("2026-12-10");
  request.set_reason("案情复杂，需补充鉴定");
  v1::ExtendDecisionDeadlineResponse response;
  grpc::Status s = f.Extend(request, &response);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() ==
        "approved_by and approval_ref are required: an extension is approved by the agency head "
        "(Art. 60), and the approval's number is part of the record");
  request.set_approved_by("局长 王五");
  request.set_approval_ref("桐综执延〔2026〕7号");
  s = f.Extend(request, &response);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == absl::StrCat("case ", number,
                                          ": an extension must end after the 90 days of Art. 60 "
                                          "(2026-12-20), not on 2026-12-10"));
  request.set_extended_to("2027-01-31");
  s = f.Extend(request, &response);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(response.case_().decision_extension().extended_to() == "2027-01-31");
  CHECK(response.case_().decision_extension().approval_ref() == "桐综执延〔2026〕7号");
  d = f.Deadlines("2026-12-21");
  CHECK(d.clocks().empty());
  d = f.Deadlines("2027-01-30");
  REQUIRE(d.clocks_size() == 1);
  CHECK(d.clocks(0).last_day() == "2027-01-31");
  const v1::CaseDetail detail = f.client.GetCase(id);
  CHECK(detail.timeline(detail.timeline_size() - 1).text() ==
        "time to decide extended to 2027-01-31 (Art. 60): approved by 局长 王五, "
        "桐综执延〔2026〕7号: 案情复杂，需补充鉴定");

  // A summary case has no 90 days to extend.
  request.set_case_id(f.case_id);
  s = f.Extend(request, &response);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message() ==
        absl::StrCat("case ", f.case_number,
                     " is in state CASE_STATE_ISSUED: the time to decide is extended for an "
                     "ordinary case filed and not yet decided"));
}

TEST_CASE("ListDeadlines filters by squad, officer and kind and refuses bad requests") {
  AfterDecision f;
  f.Decide("2026-09-21", nullptr);
  f.Decide("2026-09-21", "2026-09-30");
  v1::ListDeadlinesRequest request;
  request.set_as_of("2026-10-15");
  request.set_within_days(366);
  CHECK(f.Deadlines(request).clocks_size() == 2);
  request.add_kinds(v1::CLOCK_KIND_SERVICE);
  v1::ListDeadlinesResponse d = f.Deadlines(request);
  REQUIRE(d.clocks_size() == 1);
  CHECK(d.clocks(0).kind() == v1::CLOCK_KIND_SERVICE);
  request.clear_kinds();
  request.set_officer_id(kOfficerA2);
  CHECK(f.Deadlines(request).clocks_size() == 2);
  request.set_officer_id("officer-elsewhere");
  CHECK(f.Deadlines(request).clocks().empty());
  request.clear_officer_id();
  request.set_squad_id(kSquadB);
  CHECK(f.Deadlines(request).clocks().empty());
  request.set_squad_id(kSquadA);
  CHECK(f.Deadlines(request).clocks_size() == 2);

  request.set_within_days(367);
  grpc::Status s = f.TryDeadlines(request);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "within_days 367 is over the most, 366");
  request.set_within_days(7);
  request.set_as_of("2026-02-30");
  s = f.TryDeadlines(request);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "as_of \"2026-02-30\" is not a date that exists");
  request.set_as_of("2026-10-15");
  request.add_kinds(static_cast<v1::ClockKind>(9));
  s = f.TryDeadlines(request);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() ==
        "AdminService.ListDeadlines: kinds[0]: unknown enum value 9 for palm.v1.ClockKind");
  request.set_kinds(0, v1::CLOCK_KIND_UNSPECIFIED);
  s = f.TryDeadlines(request);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "kinds: 0 is not a clock kind");
}

TEST_CASE("the shift report lists the squad's clocks due within 3 days and overdue") {
  AfterDecision f;
  f.Decide("2026-09-21", "2026-09-30");
  grpc::ClientContext ctx;
  v1::ShiftReportRequest request;
  request.set_squad_id(kSquadA);
  request.set_date("2026-10-14");
  v1::ShiftReportResponse report;
  grpc::Status s = f.client.admin->ShiftReport(&ctx, request, &report);
  INFO(s.error_message());
  REQUIRE(s.ok());
  REQUIRE(report.deadlines_size() == 1);
  CHECK(report.deadlines_total() == 1);
  CHECK(report.deadlines(0).kind() == v1::CLOCK_KIND_SERVICE);
  CHECK(report.deadlines(0).last_day() == "2026-10-15");

  grpc::ClientContext early_ctx;
  request.set_date("2026-10-01");
  v1::ShiftReportResponse early;
  s = f.client.admin->ShiftReport(&early_ctx, request, &early);
  REQUIRE(s.ok());
  CHECK(early.deadlines().empty());
}

}  // namespace
}  // namespace palm::testing
