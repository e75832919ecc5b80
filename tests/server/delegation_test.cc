// Art. 24 and Art. 38 at the server, the authority: a crafted push cannot
// record a town's case under a matter not delegated to it, nor move a case
// to one, nor issue a ticket citing another basis than the catalogue's; and
// PutTown keeps a town's delegation well formed.
#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

namespace {

constexpr char kRefusal[] =
    "matter CG-0901 (违法建设) is not delegated to 梧桐街道 (town-a) (Art. 24): it is handled by "
    "局直属一中队 (county-1), 濮院镇 (town-b); hand the case over";

struct Delegation {
  Delegation() : client(server.address()) {
    client.SetUpOrganisation();
    REQUIRE(PutTown(TownOf(kTownA, "梧桐街道", true, {kFastMatter})).ok());
    REQUIRE(PutTown(TownOf("county-1", "局直属一中队", false, {})).ok());
    REQUIRE(PutTown(TownOf(kTownB, "濮院镇", false, {})).ok());
  }
  static v1::Town TownOf(const std::string& id, const std::string& name, bool delegated,
                         const std::vector<std::string>& matters) {
    v1::Town t;
    t.set_town_id(id);
    t.set_name(name);
    t.set_delegated(delegated);
    for (const std::string& code : matters) t.add_delegated_matters(code);
    return t;
  }
  grpc::Status PutTown(const v1::Town& town, v1::PutTownResponse* response = nullptr) {
    grpc::ClientContext ctx;
    v1::PutTownRequest request;
    *request.mutable_town() = town;
    v1::PutTownResponse ignored;
    return client.admin->PutTown(&ctx, request, response != nullptr ? response : &ignored);
  }
  v1::Town StoredTown(const std::string& id) {
    grpc::ClientContext ctx;
    v1::ListOrganisationResponse response;
    REQUIRE(client.admin->ListOrganisation(&ctx, v1::ListOrganisationRequest(), &response).ok());
    for (const v1::Town& t : response.towns()) {
      if (t.town_id() == id) return t;
    }
    FAIL("no town " << id);
    return {};
  }
  v1::MutationResult PushOne(const v1::Mutation& m) {
    const v1::PushResponse r = client.PushBatch("dev-a1", {m});
    REQUIRE(r.results_size() == 1);
    return r.results(0);
  }

  TestServer server;
  Client client;
};

}  // namespace

TEST_CASE("a crafted push cannot record a town's case under a matter not delegated to it") {
  Delegation f;
  std::string allowed;
  REQUIRE_APPLIED(f.PushOne(RecordCase("dev-a1", 1, &allowed)));
  std::string refused;
  REQUIRE_REJECTED(f.PushOne(RecordCase("dev-a1", 2, &refused, kOfficerA1, kTownA,
                                        v1::PROCEDURE_ORDINARY, kMajorMatter)),
                   v1::REASON_NOT_DELEGATED, kRefusal);
  grpc::ClientContext ctx;
  v1::GetCaseRequest request;
  request.set_case_ref(refused);
  v1::CaseDetail detail;
  CHECK(f.client.admin->GetCase(&ctx, request, &detail).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  // Nor move a case there.
  REQUIRE_REJECTED(
      f.PushOne(UpdateField("dev-a1", 3, allowed, v1::CASE_FIELD_MATTER_CODE, kMajorMatter)),
      v1::REASON_NOT_DELEGATED, kRefusal);
  CHECK(f.client.GetCase(allowed).case_().matter_code() == kFastMatter);
  // Town B, not delegated, records it.
  const v1::PushResponse town_b = f.client.PushBatch(
      "dev-b1",
      {RecordCase("dev-b1", 1, nullptr, kOfficerB1, kTownB, v1::PROCEDURE_ORDINARY, kMajorMatter)});
  REQUIRE_APPLIED(town_b.results(0));
}

TEST_CASE("a delegation put takes effect on the next push") {
  Delegation f;
  REQUIRE(
      f.PutTown(Delegation::TownOf(kTownA, "梧桐街道", true, {kFastMatter, kMajorMatter})).ok());
  REQUIRE_APPLIED(f.PushOne(
      RecordCase("dev-a1", 1, nullptr, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY, kMajorMatter)));
}

TEST_CASE("a crafted ticket citing another legal basis than the catalogue's is rejected") {
  Delegation f;
  std::string case_id;
  REQUIRE_APPLIED(f.PushOne(RecordCase("dev-a1", 1, &case_id)));
  const v1::TicketLease lease = f.client.Lease("dev-a1", 10);
  v1::Mutation ticket = IssueTicket("dev-a1", 2, case_id, lease.first_number());
  ticket.mutable_issue_ticket()->mutable_ticket()->set_penalty_basis("《条例》第三十七条");
  REQUIRE_REJECTED(f.PushOne(ticket), v1::REASON_LEGAL_BASIS_MISMATCH,
                   "the ticket's penalty basis \"《条例》第三十七条\" is not the catalogue's for "
                   "matter CG-0101 (占道经营), \"《城市市容和环境卫生管理条例》第三十六条\" "
                   "(Art. 38: a penalty needs its legal basis)");
  CHECK(f.client.GetCase(case_id).tickets_size() == 0);
}

TEST_CASE("PutTown keeps a delegation well formed and refuses one that is not") {
  Delegation f;
  v1::PutTownResponse response;
  REQUIRE(
      f.PutTown(Delegation::TownOf(kTownA, "梧桐街道", true,
                                   {kMajorMatter, " " + std::string(kFastMatter), kMajorMatter}),
                &response)
          .ok());
  CHECK(std::vector<std::string>(response.town().delegated_matters().begin(),
                                 response.town().delegated_matters().end()) ==
        std::vector<std::string>{kFastMatter, kMajorMatter});
  const v1::Town before = f.StoredTown(kTownA);

  struct Bad {
    v1::Town town;
    grpc::StatusCode code;
    std::string message;
  };
  const Bad bad[] = {
      {Delegation::TownOf(kTownA, "梧桐街道", false, {kFastMatter}),
       grpc::StatusCode::INVALID_ARGUMENT,
       "town.delegated_matters lists matters but town.delegated is false: only a delegated town "
       "(赋权镇街) has them"},
      {Delegation::TownOf(kTownA, "梧桐街道", true, {kFastMatter, ""}),
       grpc::StatusCode::INVALID_ARGUMENT, "town.delegated_matters[1] is empty"},
      {Delegation::TownOf(kTownA, "梧桐街道", true, {"XX-0001", kFastMatter, "XX-0002"}),
       grpc::StatusCode::INVALID_ARGUMENT,
       "town.delegated_matters names matters not in catalogue version 1: XX-0001, XX-0002"},
  };
  for (const Bad& b : bad) {
    const grpc::Status s = f.PutTown(b.town);
    CHECK(s.error_code() == b.code);
    CHECK(s.error_message() == b.message);
  }
  // Nothing refused changed the town.
  CHECK(f.StoredTown(kTownA).SerializeAsString() == before.SerializeAsString());
}
