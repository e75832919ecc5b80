#include "sync/lifecycle.h"

#include <catch2/catch.hpp>
#include <set>
#include <utility>

#include "sync/status.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;
using S = v1::CaseState;

using Edge = std::pair<S, S>;

const std::set<Edge> kSummaryEdges = {
    {v1::CASE_STATE_ISSUED, v1::CASE_STATE_FILED},
    {v1::CASE_STATE_FILED, v1::CASE_STATE_EXECUTING},
    {v1::CASE_STATE_EXECUTING, v1::CASE_STATE_CLOSED},
    {v1::CASE_STATE_CLOSED, v1::CASE_STATE_ARCHIVED},
};

const std::set<Edge> kOrdinaryEdges = {
    {v1::CASE_STATE_REGISTERED, v1::CASE_STATE_FILED},
    {v1::CASE_STATE_REGISTERED, v1::CASE_STATE_NOT_FILED},
    {v1::CASE_STATE_REGISTERED, v1::CASE_STATE_TRANSFERRED},
    {v1::CASE_STATE_REGISTERED, v1::CASE_STATE_NO_PENALTY},
    {v1::CASE_STATE_FILED, v1::CASE_STATE_INVESTIGATING},
    {v1::CASE_STATE_FILED, v1::CASE_STATE_TRANSFERRED},
    {v1::CASE_STATE_FILED, v1::CASE_STATE_NO_PENALTY},
    {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_LEGAL_REVIEW},
    {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED},
    {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NO_PENALTY},
    {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_TRANSFERRED},
    {v1::CASE_STATE_LEGAL_REVIEW, v1::CASE_STATE_NOTIFIED},
    {v1::CASE_STATE_LEGAL_REVIEW, v1::CASE_STATE_INVESTIGATING},
    {v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_HEARING},
    {v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_DECIDED},
    {v1::CASE_STATE_HEARING, v1::CASE_STATE_DECIDED},
    {v1::CASE_STATE_DECIDED, v1::CASE_STATE_SERVED},
    {v1::CASE_STATE_SERVED, v1::CASE_STATE_EXECUTING},
    {v1::CASE_STATE_EXECUTING, v1::CASE_STATE_CLOSED},
    {v1::CASE_STATE_CLOSED, v1::CASE_STATE_ARCHIVED},
    {v1::CASE_STATE_NOT_FILED, v1::CASE_STATE_ARCHIVED},
    {v1::CASE_STATE_TRANSFERRED, v1::CASE_STATE_ARCHIVED},
    {v1::CASE_STATE_NO_PENALTY, v1::CASE_STATE_ARCHIVED},
    {v1::CASE_STATE_NO_PENALTY, v1::CASE_STATE_CLOSED},
};

TEST_CASE("a summary case starts ISSUED and an ordinary case REGISTERED", "[lifecycle]") {
  CHECK(InitialState(v1::PROCEDURE_SUMMARY) == v1::CASE_STATE_ISSUED);
  CHECK(InitialState(v1::PROCEDURE_ORDINARY) == v1::CASE_STATE_REGISTERED);
  CHECK(InitialState(v1::PROCEDURE_UNSPECIFIED) == v1::CASE_STATE_UNSPECIFIED);
}

TEST_CASE("states are named without their prefix", "[lifecycle]") {
  CHECK(StateName(v1::CASE_STATE_FILED) == "FILED");
  CHECK(StateName(v1::CASE_STATE_NO_PENALTY) == "NO_PENALTY");
  CHECK(StateName(static_cast<S>(99)) == "UNKNOWN(99)");
}

TEST_CASE("every edge of the lifecycle graph is accepted and no other", "[lifecycle]") {
  for (auto [procedure, edges] : {std::pair{v1::PROCEDURE_SUMMARY, &kSummaryEdges},
                                  std::pair{v1::PROCEDURE_ORDINARY, &kOrdinaryEdges}}) {
    for (int from = v1::CaseState_MIN; from <= v1::CaseState_MAX; ++from) {
      for (int to = v1::CaseState_MIN; to <= v1::CaseState_MAX; ++to) {
        const Edge edge{static_cast<S>(from), static_cast<S>(to)};
        const absl::Status status = CheckTransition(procedure, edge.first, edge.second);
        INFO(v1::Procedure_Name(procedure)
             << " " << StateName(edge.first) << " -> " << StateName(edge.second) << ": " << status);
        if (edges->count(edge) != 0) {
          CHECK(status.ok());
        } else {
          CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
          CHECK(ReasonOf(status) == v1::REASON_ILLEGAL_TRANSITION);
        }
      }
    }
  }
}

TEST_CASE("an illegal move names the allowed next states", "[lifecycle]") {
  const absl::Status status =
      CheckTransition(v1::PROCEDURE_ORDINARY, v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_SERVED);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(status) == v1::REASON_ILLEGAL_TRANSITION);
  CHECK(status.message() ==
        "a case in state INVESTIGATING cannot move to SERVED; next allowed: LEGAL_REVIEW, "
        "NOTIFIED, NO_PENALTY, TRANSFERRED");
}

TEST_CASE("a summary case cannot take the ordinary path", "[lifecycle]") {
  const absl::Status status =
      CheckTransition(v1::PROCEDURE_SUMMARY, v1::CASE_STATE_FILED, v1::CASE_STATE_INVESTIGATING);
  CHECK(status.message() ==
        "a case in state FILED cannot move to INVESTIGATING; next allowed: EXECUTING");
  CHECK(AllowedNext(v1::PROCEDURE_SUMMARY, v1::CASE_STATE_REGISTERED).empty());
}

TEST_CASE("an archived case cannot move at all", "[lifecycle]") {
  const absl::Status status =
      CheckTransition(v1::PROCEDURE_ORDINARY, v1::CASE_STATE_ARCHIVED, v1::CASE_STATE_CLOSED);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(status) == v1::REASON_ILLEGAL_TRANSITION);
  CHECK(status.message() ==
        "a case in state ARCHIVED cannot move to CLOSED; ARCHIVED is final for the ordinary "
        "procedure");
}

TEST_CASE("a case without a procedure cannot move", "[lifecycle]") {
  const absl::Status status =
      CheckTransition(v1::PROCEDURE_UNSPECIFIED, v1::CASE_STATE_FILED, v1::CASE_STATE_CLOSED);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(status) == v1::REASON_ILLEGAL_TRANSITION);
  CHECK(status.message() == "the case has no procedure (summary or ordinary), so it cannot move");
}

v1::Case NotifiedCase() {
  v1::Case c;
  c.set_case_id("0190c4e8-7a00-7000-8000-000000000001");
  c.set_case_number("桐综执罚〔2026〕0123号");
  c.set_procedure(v1::PROCEDURE_ORDINARY);
  c.set_state(v1::CASE_STATE_NOTIFIED);
  return c;
}

TEST_CASE("a major case cannot be decided before legal review approval (Art. 58)", "[lifecycle]") {
  v1::Matter matter;
  matter.set_code("CG-0101");
  matter.set_major(true);
  v1::Case c = NotifiedCase();
  const absl::Status status = CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(status) == v1::REASON_REVIEW_REQUIRED);
  CHECK(status.message() ==
        "case 桐综执罚〔2026〕0123号 is a major case and needs legal review approval (Art. 58) "
        "before a decision");
  c.set_review_approved(true);
  CHECK(CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED).ok());
}

TEST_CASE("a case without a number is named by its id in the review message", "[lifecycle]") {
  v1::Case c = NotifiedCase();
  c.clear_case_number();
  c.set_review_required(true);
  const absl::Status status = CheckCaseTransition(c, nullptr, v1::CASE_STATE_DECIDED);
  CHECK(ReasonOf(status) == v1::REASON_REVIEW_REQUIRED);
  CHECK(status.message() ==
        "case 0190c4e8-7a00-7000-8000-000000000001 is a major case and needs legal review "
        "approval (Art. 58) before a decision");
}

TEST_CASE("a case is major by matter, by fine over the threshold, or by flag", "[lifecycle]") {
  v1::Matter matter;
  v1::Case c = NotifiedCase();
  CHECK_FALSE(IsMajorCase(c, &matter));
  CHECK_FALSE(IsMajorCase(c, nullptr));
  matter.set_major_fine_threshold_fen(1000000);
  c.set_proposed_fine_fen(1000000);
  CHECK_FALSE(IsMajorCase(c, &matter));
  c.set_proposed_fine_fen(1000001);
  CHECK(IsMajorCase(c, &matter));
  matter.set_major_fine_threshold_fen(0);
  CHECK_FALSE(IsMajorCase(c, &matter));
  matter.set_major(true);
  CHECK(IsMajorCase(c, &matter));
  matter.set_major(false);
  c.set_review_required(true);
  CHECK(IsMajorCase(c, &matter));
}

TEST_CASE("a minor case is decided without review, and illegal moves win over review",
          "[lifecycle]") {
  v1::Matter matter;
  v1::Case c = NotifiedCase();
  CHECK(CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED).ok());
  c.set_state(v1::CASE_STATE_INVESTIGATING);
  c.set_review_required(true);
  const absl::Status status = CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED);
  CHECK(ReasonOf(status) == v1::REASON_ILLEGAL_TRANSITION);
}

}  // namespace
}  // namespace palm::sync
