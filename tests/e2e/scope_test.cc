// Scope: a device pulls its own town's cases and nothing of another town's;
// a mutation naming another device is refused.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

TEST_CASE("an officer's device in town A never receives town B's cases") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town ta = SetUpTown(admin, "town-a");
  Town tb = SetUpTown(admin, "town-b");
  Device a(admin, "device-a1", ta);
  Device b(admin, "device-b1", tb);
  std::set<std::string> a_ids, b_ids;
  for (auto [d, ids] : {std::pair{&a, &a_ids}, std::pair{&b, &b_ids}}) {
    d->SyncUntilOk(server.address());
    REQUIRE(d->client->SetActingOfficer(d->town.officers[0]).ok());
    for (int i = 0; i < 4; ++i) {
      Result<std::string> id = d->client->RecordCase(
          NewCase(d->town, Procedure::kOrdinary, "case " + std::to_string(i)));
      REQUIRE(id.ok());
      ids->insert(*id);
    }
  }
  for (int pass = 0; pass < 2; ++pass) {
    a.SyncUntilOk(server.address());
    b.SyncUntilOk(server.address());
  }
  // A fresh device of town A takes its first snapshot after both pushed.
  Device a2(admin, "device-a2", ta);
  a2.SyncUntilOk(server.address());

  for (Device* d : {&a, &a2}) {
    std::set<std::string> held;
    for (const auto& [id, c] : d->Cases()) {
      held.insert(id);
      CHECK(c.town_id == "town-a");
    }
    CHECK(held == a_ids);
    CHECK(DiffWithServer(*d, admin) == "");
  }
  std::set<std::string> held_b;
  for (const auto& [id, c] : b.Cases()) held_b.insert(id);
  CHECK(held_b == b_ids);
  // The roster follows the town too.
  REQUIRE(a2.client->SetActingOfficer(ta.officers[0]).ok());
  CHECK(a2.client->SetActingOfficer(tb.officers[0]).reason() == "unknown_officer");
}

TEST_CASE("a pushed mutation naming another device is rejected and nothing of it is stored") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town ta = SetUpTown(admin, "town-a");
  Device a(admin, "device-a1", ta);
  Device other(admin, "device-a2", ta);
  a.SyncUntilOk(server.address());
  REQUIRE(other.client->SetActingOfficer(ta.officers[0]).ok());
  other.SyncUntilOk(server.address());
  Result<std::string> id = other.client->RecordCase(NewCase(ta, Procedure::kOrdinary, "借用"));
  REQUIRE(id.ok());
  auto outbox = other.store().Outbox();
  REQUIRE(outbox.ok());
  v1::Mutation m = outbox->back().mutation;  // names device-a2, sequence 1

  // device-a1 pushes it as its own sequence 1.
  auto stub = v1::SyncService::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-palm-device-id", "device-a1");
  auto stream = stub->Push(&ctx);
  v1::PushRequest request;
  *request.add_mutations() = m;
  REQUIRE(stream->Write(request));
  v1::PushResponse response;
  REQUIRE(stream->Read(&response));
  stream->WritesDone();
  CHECK(stream->Finish().ok());
  REQUIRE(response.results_size() == 1);
  CHECK(response.results(0).outcome() == v1::OUTCOME_REJECTED);
  CHECK(response.results(0).reason() == v1::REASON_WRONG_DEVICE);
  CHECK(admin.ListCases("town-a").empty());
}

}  // namespace
}  // namespace palm::e2e
