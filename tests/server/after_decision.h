// Test helper: a server with the sample catalogue and working-day calendar,
// and ordinary cases walked to their decision on chosen days, for the tests
// of what follows the decision (service, clocks, payment).
#ifndef PALM_TESTS_SERVER_AFTER_DECISION_H_
#define PALM_TESTS_SERVER_AFTER_DECISION_H_

#include <catch2/catch.hpp>
#include <string>

#include "palm/v1/admin.grpc.pb.h"
#include "sync/calendar.h"
#include "tests/server/evidence_util.h"
#include "tests/server/sync_util.h"
#include "tests/sync/sample_calendar.h"

namespace palm::testing {

inline constexpr char kLeader[] = "leader-a";

inline int64_t At(const char* day, int hour = 10) {
  absl::StatusOr<absl::CivilDay> d = sync::ParseCivilDay(day, "test");
  REQUIRE(d.ok());
  return sync::ShanghaiMidnightMs(*d) + int64_t{hour} * 3600 * 1000;
}

inline v1::Mutation Dated(v1::Mutation m, int64_t at_ms) {
  m.mutable_hlc()->set_wall_ms(at_ms);
  return m;
}

struct AfterDecision : CaseFixture {
  AfterDecision() {
    client.AddOfficer(kLeader, kTownA, kSquadA, true, v1::ROLE_SQUAD_LEADER);
    // The sample catalogue with the sample working-day calendar (2026:
    // National Day week off, Saturday 10 October worked).
    v1::Catalog catalog = SampleCatalog(2);
    *catalog.mutable_calendar() = sync::testing::SampleCalendarCatalog().calendar();
    client.LoadCatalog(catalog);
  }

  // An ordinary case filed on `filed` and decided (a 100-yuan fine) on
  // `decided` by the squad leader; returns its id.
  std::string Decide(const char* filed, const char* decided) {
    std::string id;
    v1::Mutation record =
        RecordCase("dev-a1", seq++, &id, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY);
    record.mutable_record_case()->mutable_case_()->set_proposed_fine_fen(10000);
    auto r = client.PushBatch(
        "dev-a1",
        {Dated(record, At(filed, 9)),
         Dated(Transition("dev-a1", seq++, id, v1::CASE_STATE_REGISTERED, v1::CASE_STATE_FILED),
               At(filed)),
         Dated(Transition("dev-a1", seq++, id, v1::CASE_STATE_FILED, v1::CASE_STATE_INVESTIGATING),
               At(filed, 11)),
         Dated(
             Transition("dev-a1", seq++, id, v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED),
             At(filed, 12)),
         Dated(Waiver("dev-a1", seq++, id), At(filed, 13))});
    for (int i = 0; i < r.results_size(); ++i) REQUIRE_APPLIED(r.results(i));
    if (decided != nullptr) {
      v1::Mutation decide =
          Transition("dev-a1", seq++, id, v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_DECIDED);
      decide.set_officer_id(kLeader);
      REQUIRE_APPLIED(PushOne(Dated(decide, At(decided))));
    }
    return id;
  }

  v1::ListDeadlinesResponse Deadlines(const char* as_of, uint32_t within = 7) {
    v1::ListDeadlinesRequest request;
    request.set_as_of(as_of);
    request.set_within_days(within);
    return Deadlines(request);
  }
  v1::ListDeadlinesResponse Deadlines(const v1::ListDeadlinesRequest& request) {
    grpc::ClientContext ctx;
    v1::ListDeadlinesResponse response;
    grpc::Status s = client.admin->ListDeadlines(&ctx, request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return response;
  }
  grpc::Status TryDeadlines(const v1::ListDeadlinesRequest& request) {
    grpc::ClientContext ctx;
    v1::ListDeadlinesResponse response;
    return client.admin->ListDeadlines(&ctx, request, &response);
  }
  grpc::Status Extend(const v1::ExtendDecisionDeadlineRequest& request,
                      v1::ExtendDecisionDeadlineResponse* response) {
    grpc::ClientContext ctx;
    return client.admin->ExtendDecisionDeadline(&ctx, request, response);
  }

  v1::Mutation Service(const std::string& id, const std::string& proof, const char* day) {
    v1::Mutation m = AppendNote("dev-a1", seq++, id, "");
    v1::CaseEvent* e = m.mutable_append_case_event()->mutable_event();
    e->set_kind(v1::CASE_EVENT_KIND_SERVICE);
    v1::ServiceRecord* r = e->mutable_service();
    r->set_method(v1::SERVICE_METHOD_DIRECT);
    r->set_served_at_ms(At(day));
    r->set_recipient("张三");
    r->add_proof_evidence_ids(proof);
    return Dated(m, At(day, 15));
  }

  uint64_t seq = 2;
};

}  // namespace palm::testing

#endif  // PALM_TESTS_SERVER_AFTER_DECISION_H_
