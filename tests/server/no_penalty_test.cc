// Art. 33 on the server (issue 19 item 2): every ground re-checked on a
// crafted push, a voided ticket's violation lapsing and reaching devices,
// and a store from before the grounds carried forward at start-up.
#include <sqlite3.h>

#include "support/art33.h"
#include "sync/no_penalty.h"
#include "sync/sha256.h"
#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

namespace {

v1::NoPenaltyDecision* Decision(v1::Mutation& m) {
  return m.mutable_record_no_penalty()->mutable_decision();
}

v1::Mutation Evidence(uint64_t seq, const std::string& case_id, std::string* evidence_id) {
  v1::Mutation m = NewMutation("dev-a1", seq);
  v1::Evidence* e = m.mutable_add_evidence()->mutable_evidence();
  *evidence_id = palm::sync::NewUuidV7();
  e->set_evidence_id(*evidence_id);
  e->set_case_id(case_id);
  e->set_kind(v1::EVIDENCE_KIND_PHOTO);
  e->set_sha256(std::string(64, 'c'));
  e->set_size_bytes(1000);
  return m;
}

v1::Mutation Void(uint64_t seq, const std::string& case_id, const std::string& ticket_id) {
  v1::Mutation m = NewMutation("dev-a1", seq);
  m.mutable_void_ticket()->set_case_id(case_id);
  m.mutable_void_ticket()->set_ticket_id(ticket_id);
  m.mutable_void_ticket()->set_reason("当事人身份录入错误");
  return m;
}

// The prior violations a pull brings to `device` from the start.
std::vector<v1::PriorViolation> Priors(Client& client, const std::string& device) {
  std::vector<v1::PriorViolation> priors;
  for (const v1::PullResponse& r : client.Pull(device, "")) {
    for (const v1::Change& c : r.page().changes()) {
      if (c.has_prior_violation()) priors.push_back(c.prior_violation());
    }
  }
  return priors;
}

void Exec(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("the server re-checks the ground of a crafted no-penalty decision (Art. 33)") {
  CaseFixture f;
  std::string ordinary;
  REQUIRE_APPLIED(
      f.PushOne(RecordCase("dev-a1", 2, &ordinary, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY)));
  std::string other;
  REQUIRE_APPLIED(
      f.PushOne(RecordCase("dev-a1", 3, &other, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY)));
  std::string other_evidence;
  REQUIRE_APPLIED(f.PushOne(Evidence(4, other, &other_evidence)));
  uint64_t seq = 5;

  v1::Mutation m = RecordNoPenalty("dev-a1", seq, ordinary);
  Decision(m)->clear_ground();
  REQUIRE_REJECTED(f.PushOne(m), v1::REASON_NO_PENALTY_GROUND,
                   "a no-penalty decision names its ground (Art. 33): ¶1 minor, corrected in "
                   "time, no harm; ¶1 first violation, slight harm, corrected in time; or ¶2 no "
                   "fault, shown by evidence");
  m = RecordNoPenalty("dev-a1", ++seq, ordinary);
  Decision(m)->set_ground(v1::NO_PENALTY_GROUND_LEGACY);
  REQUIRE_REJECTED(f.PushOne(m), v1::REASON_NO_PENALTY_GROUND,
                   "the legacy ground is kept for decisions recorded before the grounds of Art. "
                   "33 were told apart; a new decision names its ground");
  m = RecordNoPenalty("dev-a1", ++seq, ordinary);
  Decision(m)->clear_correction();
  REQUIRE_REJECTED(f.PushOne(m), v1::REASON_MISSING_CORRECTION,
                   "a no-penalty decision on Art. 33 ¶1 (first violation, slight harm, corrected "
                   "in time) records the party's timely correction: what was corrected "
                   "(correction.what) is missing");
  m = RecordNoPenalty("dev-a1", ++seq, ordinary);
  Decision(m)->mutable_correction()->set_verified_by(kOfficerB1);
  REQUIRE_REJECTED(f.PushOne(m), v1::REASON_UNKNOWN_OFFICER,
                   "record_no_penalty.decision.correction.verified_by names officer " +
                       std::string(kOfficerB1) + ", who is not on this town's roster");
  m = RecordNoPenalty("dev-a1", ++seq, ordinary);
  Decision(m)->set_ground(v1::NO_PENALTY_GROUND_NO_FAULT);
  Decision(m)->add_no_fault_evidence_ids(other_evidence);
  REQUIRE_REJECTED(
      f.PushOne(m), v1::REASON_MISSING_NO_FAULT_EVIDENCE,
      "evidence " + other_evidence + " cited for no fault is not evidence of this case");
  CHECK(f.client.GetCase(ordinary).no_penalty_size() == 0);

  // No fault, with the case's own evidence: decided, and no violation is
  // recorded for the party.
  std::string own;
  REQUIRE_APPLIED(f.PushOne(Evidence(++seq, ordinary, &own)));
  m = RecordNoPenalty("dev-a1", ++seq, ordinary);
  Decision(m)->set_ground(v1::NO_PENALTY_GROUND_NO_FAULT);
  Decision(m)->clear_correction();
  Decision(m)->add_no_fault_evidence_ids(own);
  REQUIRE_APPLIED(f.PushOne(m));
  const v1::CaseDetail detail = f.client.GetCase(ordinary);
  REQUIRE(detail.no_penalty_size() == 1);
  CHECK(detail.no_penalty(0).ground() == v1::NO_PENALTY_GROUND_NO_FAULT);
  CHECK(detail.case_().state() == v1::CASE_STATE_NO_PENALTY);
  CHECK(Priors(f.client, "dev-a1").empty());
}

TEST_CASE("a voided ticket's violation lapses on the server and reaches devices voided") {
  CaseFixture f;  // f.case_id: a summary case of party-1
  const v1::MutationResult issued =
      f.PushOne(IssueTicket("dev-a1", 2, f.case_id, f.lease.first_number()));
  REQUIRE_APPLIED(issued);
  const v1::Ticket ticket = f.client.GetCase(f.case_id).tickets(0);
  std::string second;
  REQUIRE_APPLIED(
      f.PushOne(RecordCase("dev-a1", 3, &second, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY)));
  REQUIRE_REJECTED(f.PushOne(RecordNoPenalty("dev-a1", 4, second)), v1::REASON_NOT_FIRST_VIOLATION,
                   NotFirstViolationMessage("CG-0101", ticket.issued_at_ms(), f.case_number));

  REQUIRE_APPLIED(f.PushOne(Void(5, f.case_id, ticket.ticket_id())));
  const std::vector<v1::PriorViolation> priors = Priors(f.client, "dev-b1");
  REQUIRE(priors.size() == 1);
  CHECK(priors[0].voided());
  CHECK(priors[0].violation_id() == palm::sync::PriorViolationId(f.case_id, "party-1", "CG-0101"));
  REQUIRE_APPLIED(f.PushOne(RecordNoPenalty("dev-a1", 6, second)));
}

TEST_CASE("a store from before the grounds is carried forward at start") {
  TempDir dir;
  const std::string data = dir.File("data");
  std::string summary;
  std::string ordinary;
  {
    TestServer server(data);
    Client client(server.address());
    client.SetUpOrganisation();
    auto r = client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &summary)});
    REQUIRE_APPLIED(r.results(0));
    const v1::TicketLease lease = client.Lease("dev-a1", 10);
    r = client.PushBatch("dev-a1", {IssueTicket("dev-a1", 2, summary, lease.first_number())});
    REQUIRE_APPLIED(r.results(0));
    const std::string ticket_id = client.GetCase(summary).tickets(0).ticket_id();
    r = client.PushBatch("dev-a1", {Void(3, summary, ticket_id)});
    REQUIRE_APPLIED(r.results(0));
    r = client.PushBatch(
        "dev-a1", {RecordCase("dev-a1", 4, &ordinary, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY)});
    REQUIRE_APPLIED(r.results(0));
  }
  // What an older server left: its voided ticket's violation standing, no
  // recheck table, a decision with no ground (written here as it wrote them).
  const std::string db = data + "/palm.db";
  v1::NoPenaltyDecision old;
  old.set_decision_id("0190c4e8-7a00-7000-8000-00000000aaaa");
  old.set_case_id(ordinary);
  old.set_matter_code(kFastMatter);
  old.set_party_id("party-1");
  old.set_education_record("批评教育");
  Exec(db,
       "UPDATE prior_violations SET body = substr(body, 1, length(body) - 2);"
       "DROP INDEX prior_by_case; DROP TABLE prior_rechecks; DROP INDEX cases_by_state;"
       "INSERT INTO no_penalty(decision_id, case_id, body) VALUES ('" +
           old.decision_id() + "', '" + ordinary + "', x'" +
           palm::sync::HexEncode(reinterpret_cast<const uint8_t*>(old.SerializeAsString().data()),
                                 old.ByteSizeLong()) +
           "');"
           "DELETE FROM schema_migrations WHERE version >= (SELECT max(version) - 1 FROM "
           "schema_migrations);");

  TestServer server(data);
  Client client(server.address());
  const v1::CaseDetail detail = client.GetCase(ordinary);
  REQUIRE(detail.no_penalty_size() == 1);
  CHECK(detail.no_penalty(0).ground() == v1::NO_PENALTY_GROUND_LEGACY);
  CHECK(detail.no_penalty(0).education_record() == "批评教育");
  const std::vector<v1::PriorViolation> priors = Priors(client, "dev-b1");
  REQUIRE(priors.size() == 1);
  CHECK(priors[0].voided());
}
