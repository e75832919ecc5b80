// Push: idempotent, ordered, gap-aware; identity and jurisdiction; case
// numbers; malformed and oversized input; concurrent devices.
#include <thread>

#include "absl/strings/str_format.h"
#include "server/apply.h"
#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

namespace {

std::string CaseNumber(int seq) {
  const int year = palm::server::BureauYear(palm::sync::SystemNowMs());
  return absl::StrFormat("桐综执罚〔%d〕%04d号", year, seq);
}

}  // namespace

TEST_CASE("pushed cases are applied and numbered gaplessly in the configured format") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string ids[3];
  auto response = client.PushBatch(
      "dev-a1", {RecordCase("dev-a1", 1, &ids[0]), RecordCase("dev-a1", 2, &ids[1]),
                 RecordCase("dev-a1", 3, &ids[2])});
  REQUIRE(response.results_size() == 3);
  REQUIRE(response.resend_from() == 0);
  REQUIRE(response.acknowledged_seq() == 3);
  for (int i = 0; i < 3; ++i) {
    REQUIRE_APPLIED(response.results(i));
    REQUIRE(response.results(i).device_seq() == static_cast<uint64_t>(i + 1));
    REQUIRE(response.results(i).case_number() == CaseNumber(i + 1));
    REQUIRE(response.results(i).server_seq() > 0);
  }
  // Another device continues the same counter.
  auto next = client.PushBatch("dev-b1", {RecordCase("dev-b1", 1, nullptr, kOfficerB1, kTownB)});
  REQUIRE(next.results(0).case_number() == CaseNumber(4));
  // The number is stored with the case and findable by it.
  auto detail = client.GetCase(CaseNumber(2));
  REQUIRE(detail.case_().case_id() == ids[1]);
  REQUIRE(detail.case_().created_by_device() == "dev-a1");
  REQUIRE(detail.timeline_size() == 1);
  REQUIRE(detail.timeline(0).kind() == v1::CASE_EVENT_KIND_CREATED);
}

TEST_CASE("a rejected RecordCase does not use up a case number") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  v1::Mutation bad = RecordCase("dev-a1", 1);
  bad.mutable_record_case()->mutable_case_()->set_matter_code("XX-9999");
  auto response = client.PushBatch("dev-a1", {bad, RecordCase("dev-a1", 2)});
  REQUIRE_REJECTED(response.results(0), v1::REASON_UNKNOWN_MATTER,
                   "matter code XX-9999 is not in the catalogue");
  REQUIRE(response.results(1).case_number() == CaseNumber(1));
}

TEST_CASE("a resent mutation is a DUPLICATE carrying its original outcome") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  v1::Mutation record = RecordCase("dev-a1", 1);
  v1::Mutation bad =
      UpdateField("dev-a1", 2, palm::sync::NewUuidV7(), v1::CASE_FIELD_DESCRIPTION, "x");
  auto first = client.PushBatch("dev-a1", {record, bad});
  REQUIRE_APPLIED(first.results(0));
  REQUIRE(first.results(1).outcome() == v1::OUTCOME_REJECTED);

  auto again = client.PushBatch("dev-a1", {record, bad});
  REQUIRE(again.results_size() == 2);
  REQUIRE(again.results(0).outcome() == v1::OUTCOME_DUPLICATE);
  REQUIRE(again.results(0).original() == v1::OUTCOME_APPLIED);
  REQUIRE(again.results(0).case_number() == first.results(0).case_number());
  REQUIRE(again.results(1).outcome() == v1::OUTCOME_DUPLICATE);
  REQUIRE(again.results(1).original() == v1::OUTCOME_REJECTED);
  REQUIRE(again.results(1).reason() == v1::REASON_UNKNOWN_CASE);
  REQUIRE(again.acknowledged_seq() == 2);
  // Nothing was applied twice: one case, numbered once.
  REQUIRE(client.GetCase(first.results(0).case_number()).timeline_size() == 1);
}

TEST_CASE("the same mutation id with different content is refused and nothing of it applied") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  v1::Mutation record = RecordCase("dev-a1", 1, &case_id);
  client.PushBatch("dev-a1", {record});

  SECTION("resent at the same sequence number") {
    v1::Mutation changed = record;
    changed.mutable_record_case()->mutable_case_()->set_description("something else");
    auto response = client.PushBatch("dev-a1", {changed});
    REQUIRE_REJECTED(response.results(0), v1::REASON_MUTATION_ID_REUSED,
                     "mutation " + record.mutation_id() +
                         " was already received with different content; nothing of this one "
                         "was applied");
  }
  SECTION("reused for a new sequence number") {
    v1::Mutation reused = UpdateField("dev-a1", 2, case_id, v1::CASE_FIELD_DESCRIPTION, "changed");
    reused.set_mutation_id(record.mutation_id());
    auto response = client.PushBatch("dev-a1", {reused, AppendNote("dev-a1", 3, case_id)});
    REQUIRE_REJECTED(response.results(0), v1::REASON_MUTATION_ID_REUSED,
                     "mutation id " + record.mutation_id() +
                         " was already used with different content; nothing of this one was "
                         "applied");
    REQUIRE_APPLIED(response.results(1));
    REQUIRE(response.acknowledged_seq() == 3);
  }
  REQUIRE(client.GetCase(case_id).case_().description() == "street stall on the pavement");
}

TEST_CASE("a gap in sequence numbers asks for a resend from the first missing one") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  v1::Mutation m1 = RecordCase("dev-a1", 1, &case_id);
  v1::Mutation m2 = AppendNote("dev-a1", 2, case_id, "second");
  v1::Mutation m3 = AppendNote("dev-a1", 3, case_id, "third");
  v1::Mutation m4 = AppendNote("dev-a1", 4, case_id, "fourth");

  auto response = client.PushBatch("dev-a1", {m1, m3, m4});
  REQUIRE(response.results_size() == 1);
  REQUIRE_APPLIED(response.results(0));
  REQUIRE(response.resend_from() == 2);
  REQUIRE(response.acknowledged_seq() == 1);

  // A batch that starts past the acknowledged number gets no results at all.
  auto ahead = client.PushBatch("dev-a1", {m3, m4});
  REQUIRE(ahead.results_size() == 0);
  REQUIRE(ahead.resend_from() == 2);

  auto resent = client.PushBatch("dev-a1", {m2, m3, m4});
  REQUIRE(resent.results_size() == 3);
  REQUIRE(resent.resend_from() == 0);
  REQUIRE(resent.acknowledged_seq() == 4);
  REQUIRE(client.GetCase(case_id).timeline_size() == 4);
}

TEST_CASE("a rejected mutation consumes its sequence number and never blocks the next") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  v1::Mutation record = RecordCase("dev-a1", 1, &case_id);
  v1::Mutation illegal =
      Transition("dev-a1", 2, case_id, v1::CASE_STATE_ISSUED, v1::CASE_STATE_CLOSED);
  v1::Mutation note = AppendNote("dev-a1", 3, case_id);
  auto response = client.PushBatch("dev-a1", {record, illegal, note});
  REQUIRE(response.results_size() == 3);
  REQUIRE(response.results(1).outcome() == v1::OUTCOME_REJECTED);
  REQUIRE_APPLIED(response.results(2));
  REQUIRE(response.acknowledged_seq() == 3);

  // The rejected mutation is kept for the squad leader, whole.
  grpc::ClientContext ctx;
  v1::GetRejectedRequest request;
  request.set_mutation_id(illegal.mutation_id());
  v1::RejectedMutation rejected;
  REQUIRE(client.admin->GetRejected(&ctx, request, &rejected).ok());
  REQUIRE(rejected.mutation().SerializeAsString() == illegal.SerializeAsString());
  REQUIRE(rejected.result().reason() == v1::REASON_ILLEGAL_TRANSITION);
}

TEST_CASE("a mutation naming another device is rejected with REASON_WRONG_DEVICE") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  v1::Mutation foreign = RecordCase("dev-a2", 1);
  auto response = client.PushBatch("dev-a1", {foreign, RecordCase("dev-a1", 2)});
  REQUIRE_REJECTED(response.results(0), v1::REASON_WRONG_DEVICE,
                   "the mutation names device \"dev-a2\" but was pushed by device dev-a1; a "
                   "device pushes only its own mutations");
  REQUIRE_APPLIED(response.results(1));
  // dev-a2's own sequence is untouched.
  auto own = client.PushBatch("dev-a2", {RecordCase("dev-a2", 1)});
  REQUIRE_APPLIED(own.results(0));
}

TEST_CASE("the officer must be on the roster of the device's town") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  auto response = client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, nullptr, kOfficerB1),
                                              RecordCase("dev-a1", 2, nullptr, "nobody")});
  REQUIRE_REJECTED(response.results(0), v1::REASON_OUT_OF_JURISDICTION,
                   "officer officer-b1 does not serve town town-a of device dev-a1");
  REQUIRE_REJECTED(response.results(1), v1::REASON_UNKNOWN_OFFICER,
                   "officer nobody is not on the roster");
}

TEST_CASE("a device may not touch a case of another town") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_b;
  client.PushBatch("dev-b1", {RecordCase("dev-b1", 1, &case_b, kOfficerB1, kTownB)});
  auto response = client.PushBatch(
      "dev-a1",
      {AppendNote("dev-a1", 1, case_b), RecordCase("dev-a1", 2, nullptr, kOfficerA1, kTownB)});
  REQUIRE_REJECTED(
      response.results(0), v1::REASON_OUT_OF_JURISDICTION,
      "case " + case_b + " is outside the jurisdiction of device dev-a1 (town town-a)");
  REQUIRE(response.results(1).reason() == v1::REASON_OUT_OF_JURISDICTION);
}

TEST_CASE("an unenrolled or unnamed device is UNAUTHENTICATED") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  grpc::Status status;
  client.Push("dev-zz", {{RecordCase("dev-zz", 1)}}, &status);
  REQUIRE(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  REQUIRE(status.error_message() == "device dev-zz is not enrolled");

  grpc::ClientContext ctx;
  v1::LeaseTicketNumbersRequest request;
  request.set_count(10);
  v1::LeaseTicketNumbersResponse response;
  grpc::Status lease = client.sync->LeaseTicketNumbers(&ctx, request, &response);
  REQUIRE(lease.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  REQUIRE(lease.error_message() == "the call names no device (metadata x-palm-device-id)");
}

TEST_CASE("malformed mutations are rejected naming the field, nothing stored changes") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});

  v1::Mutation no_op = NewMutation("dev-a1", 2);
  v1::Mutation bad_id = AppendNote("dev-a1", 3, case_id);
  bad_id.set_mutation_id("not-a-uuid");
  v1::Mutation unknown_enum = NewMutation("dev-a1", 4);
  v1::Evidence* e = unknown_enum.mutable_add_evidence()->mutable_evidence();
  e->set_evidence_id(palm::sync::NewUuidV7());
  e->set_case_id(case_id);
  e->set_kind(static_cast<v1::EvidenceKind>(99));
  e->set_sha256(std::string(64, 'a'));
  e->set_size_bytes(10);
  v1::Mutation bad_value = UpdateField("dev-a1", 5, case_id, v1::CASE_FIELD_LOCATION, "north");
  v1::Mutation missing_party = UpdateField("dev-a1", 6, case_id, v1::CASE_FIELD_PARTY_NAME, "x");

  auto response =
      client.PushBatch("dev-a1", {no_op, bad_id, unknown_enum, bad_value, missing_party});
  REQUIRE(response.results_size() == 5);
  REQUIRE_REJECTED(response.results(0), v1::REASON_INVALID_ARGUMENT,
                   "the mutation carries no operation");
  REQUIRE_REJECTED(response.results(1), v1::REASON_INVALID_ARGUMENT,
                   "mutation_id \"not-a-uuid\" is not a UUID");
  REQUIRE_REJECTED(response.results(2), v1::REASON_INVALID_ARGUMENT,
                   "add_evidence.evidence.kind: unknown enum value 99 for palm.v1.EvidenceKind");
  REQUIRE_REJECTED(response.results(3), v1::REASON_INVALID_ARGUMENT,
                   "update_case_fields.changes[0].value \"north\" is not \"lat,lng[,accuracy]\" "
                   "with a valid position and accuracy >= 0");
  REQUIRE_REJECTED(response.results(4), v1::REASON_INVALID_ARGUMENT,
                   "update_case_fields.changes[0].party_id is missing for a party field");
  REQUIRE(response.acknowledged_seq() == 6);
  auto detail = client.GetCase(case_id);
  REQUIRE(detail.evidence_size() == 0);
  REQUIRE(detail.timeline_size() == 1);
  REQUIRE(detail.case_().description() == "street stall on the pavement");

  // A mutation without a sequence number cannot be placed: the request is malformed.
  v1::Mutation unplaced = AppendNote("dev-a1", 0, case_id);
  grpc::Status status;
  client.Push("dev-a1", {{unplaced}}, &status);
  REQUIRE(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(status.error_message() == "mutations[0].device_seq is missing (sequences start at 1)");
}

TEST_CASE("an oversized push is refused by message size and nothing is stored") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  v1::Mutation huge = RecordCase("dev-a1", 1);
  huge.mutable_record_case()->mutable_case_()->set_description(std::string(9 * 1024 * 1024, 'x'));
  grpc::Status status;
  auto responses = client.Push("dev-a1", {{huge}}, &status);
  REQUIRE(responses.empty());
  REQUIRE(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The device's sequence is untouched: seq 1 is still expected.
  auto response = client.PushBatch("dev-a1", {RecordCase("dev-a1", 1)});
  REQUIRE_APPLIED(response.results(0));
  REQUIRE(response.results(0).case_number() == CaseNumber(1));
}

TEST_CASE("concurrent pushes from several devices all apply, case numbers stay gapless") {
  TestServer server;
  Client setup(server.address());
  setup.SetUpOrganisation();
  constexpr int kDevices = 6;
  constexpr int kBatches = 10;
  constexpr int kPerBatch = 20;
  for (int d = 0; d < kDevices; ++d) setup.Enroll("dev-c" + std::to_string(d), kTownA, kSquadA);

  std::vector<std::vector<std::string>> numbers(kDevices);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int d = 0; d < kDevices; ++d) {
    threads.emplace_back([&, d] {
      const std::string device = "dev-c" + std::to_string(d);
      // No Catch2 macro on these threads: failures are counted, checked after join.
      Client client(server.address(), Client::Unchecked{});
      if (!client.connected) ++failures;
      std::vector<std::vector<v1::Mutation>> batches;
      uint64_t seq = 0;
      for (int b = 0; b < kBatches; ++b) {
        std::vector<v1::Mutation> batch;
        for (int i = 0; i < kPerBatch; ++i) batch.push_back(RecordCase(device, ++seq));
        batches.push_back(std::move(batch));
      }
      grpc::Status status;
      auto responses = client.Push(device, batches, &status);
      if (!status.ok() || responses.size() != kBatches) ++failures;
      for (const auto& response : responses) {
        for (const auto& r : response.results()) {
          if (r.outcome() != v1::OUTCOME_APPLIED) ++failures;
          numbers[d].push_back(r.case_number());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(failures == 0);
  std::set<std::string> all;
  for (const auto& list : numbers) all.insert(list.begin(), list.end());
  REQUIRE(all.size() == kDevices * kBatches * kPerBatch);
  for (int i = 1; i <= kDevices * kBatches * kPerBatch; ++i) REQUIRE(all.count(CaseNumber(i)) == 1);
}
