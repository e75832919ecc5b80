#include "sync/lifecycle.h"

#include <catch2/catch.hpp>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
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
    {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED},
    {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NO_PENALTY},
    {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_TRANSFERRED},
    {v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_HEARING},
    {v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_LEGAL_REVIEW},
    {v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_DECIDED},
    {v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_INVESTIGATING},
    {v1::CASE_STATE_HEARING, v1::CASE_STATE_LEGAL_REVIEW},
    {v1::CASE_STATE_LEGAL_REVIEW, v1::CASE_STATE_DECIDED},
    {v1::CASE_STATE_LEGAL_REVIEW, v1::CASE_STATE_INVESTIGATING},
    {v1::CASE_STATE_LEGAL_REVIEW, v1::CASE_STATE_NOTIFIED},
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
        "a case in state INVESTIGATING cannot move to SERVED; next allowed: NOTIFIED, "
        "NO_PENALTY, TRANSFERRED");
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

v1::Officer Leader() {
  v1::Officer o;
  o.set_officer_id("leader-a");
  o.set_role(v1::ROLE_SQUAD_LEADER);
  o.set_sworn(true);
  o.set_active(true);
  return o;
}

// What ReviewDecision records when it approves `c`.
void Approve(v1::Case* c, const v1::Matter* matter) {
  v1::ReviewApproval* r = c->mutable_review_approval();
  r->set_reviewer_id("reviewer");
  r->set_decision_digest(DecisionDigest(*c, matter));
  r->set_proposed_fine_fen(c->proposed_fine_fen());
  r->set_matter_code(c->matter_code());
  c->set_review_approved(true);
}

TEST_CASE("a major case cannot be decided before legal review approval (Art. 58)", "[lifecycle]") {
  v1::Matter matter;
  matter.set_code("CG-0101");
  matter.set_major(true);
  v1::Case c = NotifiedCase();
  c.set_state(v1::CASE_STATE_LEGAL_REVIEW);
  const v1::Officer leader = Leader();
  const absl::Status status = CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &leader);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(status) == v1::REASON_REVIEW_REQUIRED);
  CHECK(status.message() ==
        "case 桐综执罚〔2026〕0123号 is a major case and needs legal review approval (Art. 58) "
        "before a decision");
  // The older flag alone is no approval: it names no decision.
  c.set_review_approved(true);
  CHECK(ReasonOf(CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &leader)) ==
        v1::REASON_REVIEW_REQUIRED);
  Approve(&c, &matter);
  CHECK(CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &leader).ok());
}

TEST_CASE("an approval is for the decision reviewed: a changed fine, basis or fact spends it",
          "[lifecycle]") {
  v1::Matter matter;
  matter.set_code("CG-0101");
  matter.set_major(true);
  matter.set_penalty_basis("《条例》第三十六条");
  v1::Case c = NotifiedCase();
  c.set_matter_code("CG-0101");
  c.set_state(v1::CASE_STATE_LEGAL_REVIEW);
  c.set_proposed_fine_fen(50000);
  c.set_description("占道经营");
  v1::Party* party = c.add_parties();
  party->set_party_id("p1");
  party->set_name("张三");
  Approve(&c, &matter);
  const v1::Officer leader = Leader();
  REQUIRE(CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &leader).ok());
  CHECK_FALSE(LapseStaleReview(&c, &matter));

  v1::Case raised = c;
  raised.set_proposed_fine_fen(80000);
  const absl::Status status = CheckCaseTransition(raised, &matter, v1::CASE_STATE_DECIDED, &leader);
  CHECK(ReasonOf(status) == v1::REASON_REVIEW_REQUIRED);
  CHECK(status.message() ==
        "case 桐综执罚〔2026〕0123号: the legal review by reviewer approved another decision "
        "(matter CG-0101, fine 50000 fen); the decision now proposed (matter CG-0101, fine 80000 "
        "fen, or changed facts or basis) needs a fresh review (Art. 58)");
  CHECK(LapseStaleReview(&raised, &matter));
  CHECK_FALSE(raised.has_review_approval());
  CHECK_FALSE(raised.review_approved());

  v1::Case renamed = c;
  renamed.mutable_parties(0)->set_name("李四");
  CHECK(DecisionDigest(renamed, &matter) != DecisionDigest(c, &matter));
  v1::Matter rebased = matter;
  rebased.set_penalty_basis("《条例》第三十七条");
  CHECK(DecisionDigest(c, &rebased) != DecisionDigest(c, &matter));
  v1::Case described = c;
  described.set_description("占道经营，拒不改正");
  CHECK(DecisionDigest(described, &matter) != DecisionDigest(c, &matter));
  // Party order does not change the facts.
  v1::Case two = c;
  v1::Party* second = two.add_parties();
  second->set_party_id("p0");
  second->set_name("王五");
  v1::Case swapped = two;
  swapped.mutable_parties()->SwapElements(0, 1);
  CHECK(DecisionDigest(two, &matter) == DecisionDigest(swapped, &matter));
}

TEST_CASE("every move before the decision spends an approval, and a hearing marks the case",
          "[lifecycle]") {
  v1::Matter matter;
  v1::Case c = NotifiedCase();
  c.set_state(v1::CASE_STATE_LEGAL_REVIEW);
  Approve(&c, &matter);
  v1::Case decided = c;
  CHECK_FALSE(EnterState(&decided, v1::CASE_STATE_DECIDED));
  CHECK(decided.has_review_approval());
  for (S to : {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_HEARING,
               v1::CASE_STATE_LEGAL_REVIEW}) {
    v1::Case moved = c;
    CHECK(EnterState(&moved, to));
    CHECK_FALSE(moved.has_review_approval());
    CHECK_FALSE(moved.review_approved());
    CHECK(moved.state() == to);
  }
  v1::Case heard = NotifiedCase();
  EnterState(&heard, v1::CASE_STATE_HEARING);
  CHECK(heard.heard());
  CHECK(NeedsLegalReview(heard, &matter));
}

TEST_CASE("a heard case is reviewed before its decision, whatever the matter (Art. 58 class 2)",
          "[lifecycle]") {
  v1::Matter matter;
  v1::Case c = NotifiedCase();
  c.set_heard(true);
  c.set_state(v1::CASE_STATE_LEGAL_REVIEW);
  const v1::Officer leader = Leader();
  const absl::Status status = CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &leader);
  CHECK(ReasonOf(status) == v1::REASON_REVIEW_REQUIRED);
  CHECK(status.message() ==
        "case 桐综执罚〔2026〕0123号 has had a hearing and needs legal review approval (Art. 58) "
        "before a decision");
  c.set_state(v1::CASE_STATE_HEARING);
  CHECK(ReasonOf(CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &leader)) ==
        v1::REASON_ILLEGAL_TRANSITION);
}

TEST_CASE("only an active, sworn squad leader decides a case", "[lifecycle]") {
  v1::Matter matter;
  const v1::Case c = NotifiedCase();
  v1::Officer leader = Leader();
  CHECK(CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &leader).ok());
  for (v1::Role role : {v1::ROLE_OFFICER, v1::ROLE_AUXILIARY, v1::ROLE_LEGAL_REVIEWER,
                        v1::ROLE_ADMIN, v1::ROLE_AUDITOR}) {
    v1::Officer o = Leader();
    o.set_role(role);
    const absl::Status status = CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &o);
    CHECK(status.code() == absl::StatusCode::kPermissionDenied);
    CHECK(ReasonOf(status) == v1::REASON_PERMISSION_DENIED);
    CHECK(status.message() ==
          absl::StrCat("officer leader-a (", v1::Role_Name(role),
                       ") may not decide case 桐综执罚〔2026〕0123号: a decision is made by an "
                       "active, sworn squad leader (ROLE_SQUAD_LEADER)"));
  }
  leader.set_sworn(false);
  CHECK(ReasonOf(CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &leader)) ==
        v1::REASON_PERMISSION_DENIED);
  leader = Leader();
  leader.set_active(false);
  CHECK(ReasonOf(CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &leader)) ==
        v1::REASON_PERMISSION_DENIED);
  const absl::Status unknown = CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, nullptr);
  CHECK(unknown.message() ==
        "the acting officer may not decide case 桐综执罚〔2026〕0123号: a decision is made by an "
        "active, sworn squad leader (ROLE_SQUAD_LEADER)");
  // Other moves need no decision authority.
  CHECK(CheckCaseTransition(c, &matter, v1::CASE_STATE_HEARING, nullptr).ok());
}

TEST_CASE("a case without a number is named by its id in the review message", "[lifecycle]") {
  v1::Case c = NotifiedCase();
  c.clear_case_number();
  c.set_review_required(true);
  const v1::Officer leader = Leader();
  const absl::Status status = CheckCaseTransition(c, nullptr, v1::CASE_STATE_DECIDED, &leader);
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
  const v1::Officer leader = Leader();
  CHECK(CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &leader).ok());
  c.set_state(v1::CASE_STATE_INVESTIGATING);
  c.set_review_required(true);
  const absl::Status status = CheckCaseTransition(c, &matter, v1::CASE_STATE_DECIDED, &leader);
  CHECK(ReasonOf(status) == v1::REASON_ILLEGAL_TRANSITION);
}

}  // namespace
}  // namespace palm::sync
