// Bad input over a real server (issue 16): bytes that are not the RPC's
// message, strings that are not UTF-8 and unknown enum values are answered
// INVALID_ARGUMENT naming the RPC and the field, on every RPC and on every
// message of the Push and Upload streams (docs/protocol.md, "Bad input").
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <catch2/catch.hpp>

#include "palm/v1/admin.pb.h"
#include "palm/v1/auth.pb.h"
#include "palm/v1/evidence.pb.h"
#include "palm/v1/sync.pb.h"
#include "server/evidence_util.h"
#include "server/sync_util.h"

namespace {

using namespace palm::testing;  // NOLINT

// Bytes no palm.v1 message parses from: a field tag whose varint never ends.
const std::string kGarbage("\xff\xff\xff\xff", 4);

grpc::ByteBuffer Bytes(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string String(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  REQUIRE(buffer.Dump(&slices).ok());
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// Sends `messages` (raw bytes) on one call of `method` ("/palm.v1.X/Y") as
// device `device`, reading one answer after each message listed in
// `answered` (by index); returns the call's status and the answers.
struct CallResult {
  grpc::Status status;
  std::vector<std::string> answers;
};

CallResult RawCall(Client& client, const std::string& method,
                   const std::vector<std::string>& messages, const std::string& device,
                   const std::set<size_t>& answered = {}) {
  grpc::GenericStub stub(client.channel);
  grpc::CompletionQueue cq;
  auto ctx = DeviceContext(device);
  CallResult result;
  void* tag = nullptr;
  bool ok = false;
  auto call = stub.PrepareCall(ctx.get(), method, &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  REQUIRE(cq.Next(&tag, &ok));
  bool open = ok;
  for (size_t i = 0; i < messages.size() && open; ++i) {
    call->Write(Bytes(messages[i]), reinterpret_cast<void*>(2));
    REQUIRE(cq.Next(&tag, &ok));
    open = ok;
    if (open && answered.count(i) > 0) {
      grpc::ByteBuffer answer;
      call->Read(&answer, reinterpret_cast<void*>(3));
      REQUIRE(cq.Next(&tag, &ok));
      if (ok) result.answers.push_back(String(answer));
      open = ok;
    }
  }
  if (open) {
    call->WritesDone(reinterpret_cast<void*>(4));
    REQUIRE(cq.Next(&tag, &ok));
  }
  call->Finish(&result.status, reinterpret_cast<void*>(5));
  REQUIRE(cq.Next(&tag, &ok));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return result;
}

// Every RPC of every palm.v1 service, walked from the descriptors so that a
// new RPC is covered without editing this test.
std::vector<const google::protobuf::MethodDescriptor*> EveryRpc() {
  // Referencing one message of each file links its descriptor.
  const google::protobuf::FileDescriptor* files[] = {
      v1::PushRequest::descriptor()->file(), v1::UploadChunk::descriptor()->file(),
      v1::SignInRequest::descriptor()->file(), v1::ListCasesRequest::descriptor()->file()};
  std::vector<const google::protobuf::MethodDescriptor*> rpcs;
  for (const auto* file : files) {
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        rpcs.push_back(file->service(s)->method(m));
      }
    }
  }
  return rpcs;
}

std::string PathOf(const google::protobuf::MethodDescriptor* rpc) {
  return "/" + rpc->service()->full_name() + "/" + rpc->name();
}

}  // namespace

TEST_CASE("bytes that are not the request message answer INVALID_ARGUMENT on every RPC") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  const auto rpcs = EveryRpc();
  REQUIRE(rpcs.size() >= 39);
  for (const auto* rpc : rpcs) {
    INFO(rpc->full_name());
    CallResult r = RawCall(client, PathOf(rpc), {kGarbage}, "dev-a1");
    INFO(r.status.error_message());
    REQUIRE(r.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    REQUIRE(r.status.error_message() == rpc->service()->name() + "." + rpc->name() +
                                            ": malformed request (the bytes are not a " +
                                            rpc->input_type()->full_name() + ")");
  }
}

TEST_CASE("a malformed message after a good batch ends the Push stream INVALID_ARGUMENT") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  v1::PushRequest good;
  *good.add_mutations() = RecordCase("dev-a1", 1);
  CallResult r = RawCall(client, "/palm.v1.SyncService/Push", {good.SerializeAsString(), kGarbage},
                         "dev-a1", {0});
  REQUIRE(r.answers.size() == 1);
  v1::PushResponse answer;
  REQUIRE(answer.ParseFromString(r.answers[0]));
  REQUIRE(answer.results_size() == 1);
  REQUIRE(answer.results(0).outcome() == v1::OUTCOME_APPLIED);
  REQUIRE(r.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(r.status.error_message() ==
          "SyncService.Push: malformed request (the bytes are not a palm.v1.PushRequest)");
}

TEST_CASE("a malformed chunk after a good one ends the Upload stream INVALID_ARGUMENT") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  const std::string content = RandomBytes(8, 1);
  REQUIRE(client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)}).results(0).outcome() ==
          v1::OUTCOME_APPLIED);
  v1::Mutation evidence = AddEvidence("dev-a1", 2, case_id, content);
  REQUIRE(client.PushBatch("dev-a1", {evidence}).results(0).outcome() == v1::OUTCOME_APPLIED);
  v1::UploadChunk first;
  first.set_evidence_id(evidence.add_evidence().evidence().evidence_id());
  first.set_sha256(Sha256Hex(content));
  first.set_total_size(content.size());
  first.set_data(content.substr(0, 4));
  CallResult r = RawCall(client, "/palm.v1.EvidenceService/Upload",
                         {first.SerializeAsString(), kGarbage}, "dev-a1");
  INFO(r.status.error_message());
  REQUIRE(r.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(r.status.error_message() ==
          "EvidenceService.Upload: malformed request (the bytes are not a palm.v1.UploadChunk)");
}

TEST_CASE("a string that is not UTF-8 is refused naming the field") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  const std::string bad("\xc3\x28", 2);

  SECTION("SignIn officer_id") {
    v1::SignInRequest request;
    request.set_officer_id(bad);
    request.set_secret("1234");
    CallResult r =
        RawCall(client, "/palm.v1.AuthService/SignIn", {request.SerializeAsString()}, "dev-a1");
    REQUIRE(r.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    REQUIRE(r.status.error_message() == "AuthService.SignIn: officer_id: not valid UTF-8");
  }
  SECTION("a party's name deep in a pushed mutation") {
    v1::PushRequest request;
    *request.add_mutations() = RecordCase("dev-a1", 1);
    *request.add_mutations() = RecordCase("dev-a1", 2);
    request.mutable_mutations(1)
        ->mutable_record_case()
        ->mutable_case_()
        ->mutable_parties(0)
        ->set_name(bad);
    CallResult r =
        RawCall(client, "/palm.v1.SyncService/Push", {request.SerializeAsString()}, "dev-a1");
    REQUIRE(r.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    REQUIRE(r.status.error_message() ==
            "SyncService.Push: mutations[1].record_case.case.parties[0].name: not valid UTF-8");
  }
}

TEST_CASE("an unknown enum value is refused naming the field") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();

  SECTION("ListCases with state 99") {
    grpc::ClientContext ctx;
    v1::ListCasesRequest request;
    request.set_state(static_cast<v1::CaseState>(99));
    v1::ListCasesResponse response;
    grpc::Status s = client.admin->ListCases(&ctx, request, &response);
    REQUIRE(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    REQUIRE(s.error_message() ==
            "AdminService.ListCases: state: unknown enum value 99 for palm.v1.CaseState");
  }
  SECTION("a ticket remedy of kind 99 is rejected and nothing is stored") {
    std::string case_id;
    v1::PushResponse recorded = client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
    REQUIRE(recorded.results(0).outcome() == v1::OUTCOME_APPLIED);
    v1::Mutation ticket = IssueTicket("dev-a1", 2, case_id, 1);
    ticket.mutable_issue_ticket()->mutable_ticket()->mutable_remedies(0)->set_kind(
        static_cast<v1::RemedyKind>(99));
    v1::PushResponse answer = client.PushBatch("dev-a1", {ticket});
    REQUIRE_REJECTED(answer.results(0), v1::REASON_INVALID_ARGUMENT,
                     "issue_ticket.ticket.remedies[0].kind: unknown enum value 99 for "
                     "palm.v1.RemedyKind");
    REQUIRE(client.GetCase(case_id).tickets_size() == 0);
  }
}
