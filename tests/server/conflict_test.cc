// Conflicts: case fields merge last-writer-wins per field by (HLC, device);
// every losing value is a conflict row the squad leader can list; HLC stamps
// too far ahead are clamped and flagged.
#include <thread>

#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

namespace {

std::vector<v1::ConflictRecord> ListConflicts(Client& client, const std::string& case_id = "",
                                              const std::string& squad_id = "") {
  grpc::ClientContext ctx;
  v1::ListConflictsRequest request;
  request.set_case_id(case_id);
  request.set_squad_id(squad_id);
  v1::ListConflictsResponse response;
  grpc::Status s = client.admin->ListConflicts(&ctx, request, &response);
  REQUIRE(s.ok());
  return {response.conflicts().begin(), response.conflicts().end()};
}

}  // namespace

TEST_CASE("an older write loses: APPLIED_WITH_CONFLICT, the loser kept and listable") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
  const int64_t t = palm::sync::SystemNowMs();

  // dev-a1 edits at t+20; dev-a2, offline, edited at t+10 and syncs later.
  auto newer = client.PushBatch(
      "dev-a1", {UpdateField("dev-a1", 2, case_id, v1::CASE_FIELD_DESCRIPTION, "newer", t + 20)});
  REQUIRE_APPLIED(newer.results(0));
  v1::Mutation older =
      UpdateField("dev-a2", 1, case_id, v1::CASE_FIELD_DESCRIPTION, "older", t + 10, kOfficerA2);
  auto r = client.PushBatch("dev-a2", {older});
  const auto& result = r.results(0);
  REQUIRE(result.outcome() == v1::OUTCOME_APPLIED_WITH_CONFLICT);
  REQUIRE(result.conflicts_size() == 1);
  const v1::ConflictLoss& loss = result.conflicts(0);
  REQUIRE(loss.case_id() == case_id);
  REQUIRE(loss.field() == v1::CASE_FIELD_DESCRIPTION);
  REQUIRE(loss.losing_value() == "older");
  REQUIRE(loss.losing_device_id() == "dev-a2");
  REQUIRE(loss.losing_hlc().wall_ms() == t + 10);
  REQUIRE(loss.winning_value() == "newer");
  REQUIRE(loss.winning_device_id() == "dev-a1");
  REQUIRE(client.GetCase(case_id).case_().description() == "newer");

  auto listed = ListConflicts(client, case_id);
  REQUIRE(listed.size() == 1);
  REQUIRE(listed[0].loss().conflict_id() == loss.conflict_id());
  REQUIRE(listed[0].mutation_id() == older.mutation_id());
  REQUIRE_FALSE(listed[0].case_number().empty());
  REQUIRE(ListConflicts(client, "", kSquadA).size() == 1);
  REQUIRE(ListConflicts(client, "", kSquadB).empty());

  grpc::ClientContext ctx;
  v1::GetConflictRequest get;
  get.set_conflict_id(loss.conflict_id());
  v1::ConflictRecord record;
  REQUIRE(client.admin->GetConflict(&ctx, get, &record).ok());
  REQUIRE(record.loss().losing_value() == "older");
}

TEST_CASE("a newer write from another device overwrites, and the overwritten value is kept") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
  const int64_t t = palm::sync::SystemNowMs();
  client.PushBatch("dev-a1",
                   {UpdateField("dev-a1", 2, case_id, v1::CASE_FIELD_ADDRESS, "A street", t + 10)});
  auto r = client.PushBatch("dev-a2", {UpdateField("dev-a2", 1, case_id, v1::CASE_FIELD_ADDRESS,
                                                   "B street", t + 20, kOfficerA2)});
  REQUIRE(r.results(0).conflicts_size() == 1);
  REQUIRE(r.results(0).conflicts(0).losing_value() == "A street");
  REQUIRE(r.results(0).conflicts(0).losing_device_id() == "dev-a1");
  REQUIRE(client.GetCase(case_id).case_().place().address() == "B street");
  // The same device editing its own value again is an update, not a conflict.
  client.PushBatch("dev-a2", {UpdateField("dev-a2", 2, case_id, v1::CASE_FIELD_ADDRESS, "C street",
                                          t + 30, kOfficerA2)});
  REQUIRE(ListConflicts(client, case_id).size() == 1);
}

TEST_CASE("equal stamps are ordered by device id, the same on every replay") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
  const int64_t t = palm::sync::SystemNowMs() + 50;
  client.PushBatch("dev-a2", {UpdateField("dev-a2", 1, case_id, v1::CASE_FIELD_DESCRIPTION,
                                          "from a2", t, kOfficerA2)});
  auto r = client.PushBatch(
      "dev-a1", {UpdateField("dev-a1", 2, case_id, v1::CASE_FIELD_DESCRIPTION, "from a1", t)});
  // "dev-a2" > "dev-a1" bytewise, so dev-a2 wins the tie.
  REQUIRE(r.results(0).outcome() == v1::OUTCOME_APPLIED_WITH_CONFLICT);
  REQUIRE(r.results(0).conflicts(0).losing_value() == "from a1");
  REQUIRE(client.GetCase(case_id).case_().description() == "from a2");
}

TEST_CASE("party fields merge per party and per field") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
  v1::Mutation phone = UpdateField("dev-a1", 2, case_id, v1::CASE_FIELD_PARTY_PHONE, "13800000000");
  phone.mutable_update_case_fields()->mutable_changes(0)->set_party_id("party-1");
  v1::Mutation add = UpdateField("dev-a1", 3, case_id, v1::CASE_FIELD_PARTY_NAME, "李四");
  add.mutable_update_case_fields()->mutable_changes(0)->set_party_id("party-2");
  auto kind = add.mutable_update_case_fields()->add_changes();
  kind->set_field(v1::CASE_FIELD_PARTY_KIND);
  kind->set_party_id("party-2");
  kind->set_value("2");
  auto r = client.PushBatch("dev-a1", {phone, add});
  REQUIRE_APPLIED(r.results(0));
  REQUIRE_APPLIED(r.results(1));
  auto c = client.GetCase(case_id).case_();
  REQUIRE(c.parties_size() == 2);
  REQUIRE(c.parties(0).phone() == "13800000000");
  REQUIRE(c.parties(0).name() == "张三");
  REQUIRE(c.parties(1).name() == "李四");
  REQUIRE(c.parties(1).kind() == v1::PARTY_KIND_ORGANISATION);
}

TEST_CASE("an HLC stamp far ahead of server time is clamped and flagged, and cannot win forever") {
  TestServer server("", /*max_clock_skew_ms=*/500);
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
  const int64_t year_ms = 365LL * 24 * 3600 * 1000;
  auto ahead = client.PushBatch(
      "dev-a1", {UpdateField("dev-a1", 2, case_id, v1::CASE_FIELD_DESCRIPTION, "from the future",
                             palm::sync::SystemNowMs() + year_ms)});
  REQUIRE_APPLIED(ahead.results(0));
  REQUIRE(ahead.results(0).hlc_clamped());

  // A second later, an honest write from another device wins.
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  auto honest = client.PushBatch(
      "dev-a2",
      {UpdateField("dev-a2", 1, case_id, v1::CASE_FIELD_DESCRIPTION, "honest", 0, kOfficerA2)});
  REQUIRE_FALSE(honest.results(0).hlc_clamped());
  REQUIRE(honest.results(0).conflicts_size() == 1);
  REQUIRE(honest.results(0).conflicts(0).losing_value() == "from the future");
  REQUIRE(honest.results(0).conflicts(0).losing_hlc().wall_ms() <
          palm::sync::SystemNowMs() + year_ms / 2);
  REQUIRE(client.GetCase(case_id).case_().description() == "honest");
}
