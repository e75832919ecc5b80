// Identity, sessions, authorisation, revocation, the audit chain and the
// legal-review gate, against a real palm-server child process under mutual
// TLS on 127.0.0.1 (docs/security.md lists which threat each case shows).
#include <grpcpp/grpcpp.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "palm/v1/admin.grpc.pb.h"
#include "palm/v1/auth.grpc.pb.h"
#include "palm/v1/sync.grpc.pb.h"
#include "security/bureau.h"
#include "server/sync_util.h"
#include "sync/ed25519.h"

namespace {

namespace v1 = palm::v1;
namespace pki = palm::pki;
using palm::security_test::Bureau;
using palm::security_test::Must;
using palm::security_test::TlsChannel;
using palm::testing::RunCommand;
using palm::testing::ServerProcess;
using namespace palm::testing;  // officer ids, towns and mutation builders

constexpr char kAdmin[] = "admin";
constexpr char kAdminSecret[] = "admin-pass-1";
constexpr char kReviewer[] = "reviewer";
constexpr char kAuditor[] = "auditor";
constexpr char kLeader[] = "leader-a";
constexpr char kAuxA4[] = "aux-a4";

std::string SecretOf(const std::string& officer) { return "pin-" + officer; }

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

#define REQUIRE_STATUS(status_, code_, message_)                                \
  do {                                                                          \
    const grpc::Status& palm_s_ = (status_);                                    \
    INFO("status " << palm_s_.error_code() << ": " << palm_s_.error_message()); \
    REQUIRE(palm_s_.error_code() == (code_));                                   \
    REQUIRE(palm_s_.error_message() == std::string(message_));                  \
  } while (false)

#define REQUIRE_OK(status_)                                                     \
  do {                                                                          \
    const grpc::Status& palm_s_ = (status_);                                    \
    INFO("status " << palm_s_.error_code() << ": " << palm_s_.error_message()); \
    REQUIRE(palm_s_.ok());                                                      \
  } while (false)

// A TLS channel and the stubs over it, for one client certificate.
struct Endpoint {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AuthService::Stub> auth;
  std::unique_ptr<v1::AdminService::Stub> admin;
  std::unique_ptr<v1::SyncService::Stub> sync;

  Endpoint(const std::string& address, const std::string& ca_pem, const pki::Credentials& creds)
      : channel(TlsChannel(address, ca_pem, &creds)),
        auth(v1::AuthService::NewStub(channel)),
        admin(v1::AdminService::NewStub(channel)),
        sync(v1::SyncService::NewStub(channel)) {}

  grpc::Status SignIn(const std::string& officer, const std::string& secret,
                      v1::SignInResponse* response) {
    v1::SignInRequest request;
    request.set_officer_id(officer);
    request.set_secret(secret);
    return auth->SignIn(Ctx("").get(), request, response);
  }

  std::string Token(const std::string& officer, const std::string& secret) {
    v1::SignInResponse response;
    REQUIRE_OK(SignIn(officer, secret, &response));
    return response.session().token();
  }

  // One push batch; the stream's status goes to *status.
  v1::PushResponse Push(const std::string& token, const std::vector<v1::Mutation>& batch,
                        grpc::Status* status) {
    auto ctx = Ctx(token);
    auto stream = sync->Push(ctx.get());
    v1::PushRequest request;
    for (const auto& m : batch) *request.add_mutations() = m;
    v1::PushResponse response;
    if (stream->Write(request)) stream->Read(&response);
    stream->WritesDone();
    *status = stream->Finish();
    return response;
  }

  v1::MutationResult PushOne(const std::string& token, const v1::Mutation& m) {
    grpc::Status status;
    v1::PushResponse response = Push(token, {m}, &status);
    REQUIRE_OK(status);
    REQUIRE(response.results_size() == 1);
    return response.results(0);
  }

  grpc::Status Pull(const std::string& token) {
    auto ctx = Ctx(token);
    auto reader = sync->Pull(ctx.get(), v1::PullRequest());
    v1::PullResponse response;
    while (reader->Read(&response)) {
    }
    return reader->Finish();
  }
};

// A bureau, a palm-server under mutual TLS bootstrapped with an admin
// officer, the admin's operator endpoint, and helpers to set up the county.
struct SecureCounty {
  Bureau bureau;
  std::unique_ptr<ServerProcess> server;
  pki::Credentials operator_creds;
  std::unique_ptr<Endpoint> op;  // operator certificate "admin"
  std::string admin_token;
  std::map<std::string, pki::Credentials> device_creds;

  SecureCounty() {
    const std::string secret_file = bureau.dir.File("admin.secret");
    std::ofstream(secret_file) << kAdminSecret << "\n";
    operator_creds = Must(pki::IssueOperatorCertificate(bureau.ca, {.name = "admin"}));
    Start();
    admin_token = op->Token(kAdmin, kAdminSecret);
  }

  std::vector<std::string> ServerArgs() const {
    std::vector<std::string> args = bureau.ServerTlsArgs();
    args.insert(args.end(), {"--bootstrap-admin", kAdmin, "--bootstrap-secret-file",
                             bureau.dir.File("admin.secret")});
    return args;
  }

  void Start() {
    server = std::make_unique<ServerProcess>(bureau.data_dir(), ServerArgs());
    op = std::make_unique<Endpoint>(server->address(), ca_pem(), operator_creds);
  }

  const std::string& ca_pem() const { return bureau.ca.credentials.certificate_pem; }

  void Enroll(const std::string& device, const std::string& town, const std::string& squad) {
    device_creds[device] =
        Must(pki::IssueDeviceCertificate(bureau.ca, {.device_id = device, .town_id = town}));
    v1::EnrollDeviceRequest request;
    request.set_device_id(device);
    request.set_town_id(town);
    request.set_squad_id(squad);
    request.set_certificate_pem(device_creds[device].certificate_pem);
    v1::EnrollDeviceResponse response;
    REQUIRE_OK(op->admin->EnrollDevice(Ctx(admin_token).get(), request, &response));
  }

  std::unique_ptr<Endpoint> Device(const std::string& device) {
    return std::make_unique<Endpoint>(server->address(), ca_pem(), device_creds.at(device));
  }

  // A legal reviewer is a qualified one (legal_reviewer) unless `qualified`
  // says otherwise.
  void AddOfficer(const std::string& id, const std::string& town, const std::string& squad,
                  v1::Role role, bool sworn, std::optional<bool> qualified = std::nullopt) {
    v1::AddOfficerRequest request;
    v1::Officer* o = request.mutable_officer();
    o->set_officer_id(id);
    o->set_name(id);
    o->set_role(role);
    o->set_legal_reviewer(qualified.value_or(role == v1::ROLE_LEGAL_REVIEWER));
    o->set_sworn(sworn);
    if (sworn) o->set_certificate_number("ZJ-" + id);
    o->set_town_id(town);
    o->set_squad_id(squad);
    request.set_secret(SecretOf(id));
    v1::AddOfficerResponse response;
    REQUIRE_OK(op->admin->AddOfficer(Ctx(admin_token).get(), request, &response));
  }

  // Devices dev-a1, dev-a2 (town A) and dev-b1 (town B); officers as in the
  // server suites plus the roles below; the sample catalogue.
  void SetUp() {
    Enroll("dev-a1", kTownA, kSquadA);
    Enroll("dev-a2", kTownA, kSquadA);
    Enroll("dev-b1", kTownB, kSquadB);
    AddOfficer(kOfficerA1, kTownA, kSquadA, v1::ROLE_OFFICER, true);
    AddOfficer(kOfficerA2, kTownA, kSquadA, v1::ROLE_OFFICER, true);
    AddOfficer(kAuxA3, kTownA, kSquadA, v1::ROLE_AUXILIARY, false);
    AddOfficer(kAuxA4, kTownA, kSquadA, v1::ROLE_AUXILIARY, false);
    AddOfficer(kOfficerB1, kTownB, kSquadB, v1::ROLE_OFFICER, true);
    AddOfficer(kOfficerB2, kTownB, kSquadB, v1::ROLE_OFFICER, true);
    AddOfficer(kReviewer, "county", "", v1::ROLE_LEGAL_REVIEWER, true);
    AddOfficer(kAuditor, "county", "", v1::ROLE_AUDITOR, false);
    v1::LoadCatalogRequest request;
    *request.mutable_catalog() = SampleCatalog();
    v1::LoadCatalogResponse response;
    REQUIRE_OK(op->admin->LoadCatalog(Ctx(admin_token).get(), request, &response));
  }

  v1::CaseDetail GetCase(const std::string& ref) {
    v1::GetCaseRequest request;
    request.set_case_ref(ref);
    v1::CaseDetail detail;
    REQUIRE_OK(op->admin->GetCase(Ctx(admin_token).get(), request, &detail));
    return detail;
  }

  std::vector<v1::Officer> Officers() {
    v1::ListOfficersResponse response;
    REQUIRE_OK(
        op->admin->ListOfficers(Ctx(admin_token).get(), v1::ListOfficersRequest(), &response));
    return {response.officers().begin(), response.officers().end()};
  }

  v1::VerifyAuditResponse VerifyAudit(const std::string& token) {
    v1::VerifyAuditResponse response;
    REQUIRE_OK(op->admin->VerifyAudit(Ctx(token).get(), v1::VerifyAuditRequest(), &response));
    return response;
  }
};

// A token in the server's format (docs/security.md) with `claims`, signed by
// `key`.
std::string MakeToken(EVP_PKEY* key, const nlohmann::json& claims) {
  std::string signed_part = "palm1." + absl::WebSafeBase64Escape(claims.dump());
  std::string signature = Must(palm::sync::Ed25519Sign(key, signed_part));
  return signed_part + "." + absl::WebSafeBase64Escape(signature);
}

nlohmann::json ClaimsOf(const std::string& token) {
  std::string middle = token.substr(6, token.rfind('.') - 6);
  std::string text;
  REQUIRE(absl::WebSafeBase64Unescape(middle, &text));
  return nlohmann::json::parse(text);
}

}  // namespace

TEST_CASE("a revoked device is refused on its next call and what it pushed stays") {
  SecureCounty county;
  county.SetUp();
  auto dev = county.Device("dev-a1");
  const std::string token = dev->Token(kOfficerA1, SecretOf(kOfficerA1));
  std::string case_id;
  REQUIRE_APPLIED(dev->PushOne(token, RecordCase("dev-a1", 1, &case_id)));
  const v1::CaseDetail before = county.GetCase(case_id);

  v1::RevokeDeviceRequest request;
  request.set_device_id("dev-a1");
  v1::RevokeDeviceResponse response;
  REQUIRE_STATUS(county.op->admin->RevokeDevice(Ctx(county.admin_token).get(), request, &response),
                 grpc::StatusCode::INVALID_ARGUMENT,
                 "reason is missing: say why the device is revoked");
  request.set_reason("lost on patrol");
  REQUIRE_OK(county.op->admin->RevokeDevice(Ctx(county.admin_token).get(), request, &response));
  CHECK(response.device().revoked());

  REQUIRE_STATUS(dev->Pull(token), grpc::StatusCode::UNAUTHENTICATED,
                 "device dev-a1 was revoked: lost on patrol [REASON_DEVICE_REVOKED]");
  grpc::Status push_status;
  dev->Push(token, {AppendNote("dev-a1", 2, case_id)}, &push_status);
  REQUIRE_STATUS(push_status, grpc::StatusCode::UNAUTHENTICATED,
                 "device dev-a1 was revoked: lost on patrol [REASON_DEVICE_REVOKED]");
  v1::SignInResponse again;
  REQUIRE_STATUS(dev->SignIn(kOfficerA1, SecretOf(kOfficerA1), &again),
                 grpc::StatusCode::UNAUTHENTICATED,
                 "device dev-a1 was revoked: lost on patrol [REASON_DEVICE_REVOKED]");
  CHECK(county.GetCase(case_id).SerializeAsString() == before.SerializeAsString());
}

TEST_CASE("a call without a session token, with an expired one or a forged one is refused") {
  SecureCounty county;
  county.SetUp();
  auto dev = county.Device("dev-a1");
  const std::string token = dev->Token(kOfficerA1, SecretOf(kOfficerA1));
  const size_t officers = county.Officers().size();

  REQUIRE_STATUS(dev->Pull(""), grpc::StatusCode::UNAUTHENTICATED,
                 "SyncService.Pull needs a session token (metadata `authorization: Bearer "
                 "<token>`); sign in with AuthService.SignIn");

  // Expired: the server's own key, a past expiry.
  std::string pem = Must(pki::ReadFile(county.bureau.dir.File("data/session-signing.key")));
  auto server_key = Must(palm::sync::LoadPrivateKeyPem(pem));
  nlohmann::json claims = ClaimsOf(token);
  claims["exp"] = 1700000000000;
  REQUIRE_STATUS(dev->Pull(MakeToken(server_key.get(), claims)), grpc::StatusCode::UNAUTHENTICATED,
                 "the session token of officer officer-a1 expired at 1700000000000 (unix ms); "
                 "sign in again");

  // Forged: another key, claiming the admin role; and a real token altered.
  auto other_key = Must(palm::sync::GenerateEd25519Key());
  nlohmann::json admin_claims = ClaimsOf(county.admin_token);
  const std::string forged = MakeToken(other_key.get(), admin_claims);
  v1::AddOfficerRequest add;
  add.mutable_officer()->set_officer_id("intruder");
  add.mutable_officer()->set_town_id(kTownA);
  add.mutable_officer()->set_role(v1::ROLE_ADMIN);
  add.set_secret("x");
  v1::AddOfficerResponse added;
  const char* kForged =
      "the session token's signature does not verify (forged, altered or issued by another "
      "server); sign in again";
  REQUIRE_STATUS(county.op->admin->AddOfficer(Ctx(forged).get(), add, &added),
                 grpc::StatusCode::UNAUTHENTICATED, kForged);
  std::string altered = token;
  nlohmann::json raised = ClaimsOf(token);
  raised["role"] = static_cast<int>(v1::ROLE_ADMIN);
  altered = "palm1." + absl::WebSafeBase64Escape(raised.dump()) + token.substr(token.rfind('.'));
  REQUIRE_STATUS(dev->Pull(altered), grpc::StatusCode::UNAUTHENTICATED, kForged);
  REQUIRE_STATUS(dev->Pull("not-a-token"), grpc::StatusCode::UNAUTHENTICATED,
                 "the session token is malformed; sign in again");

  // A live session can be refreshed; the fresh token works the same way.
  v1::RefreshSessionResponse refreshed;
  REQUIRE_OK(dev->auth->RefreshSession(Ctx(token).get(), v1::RefreshSessionRequest(), &refreshed));
  CHECK(refreshed.session().officer().officer_id() == kOfficerA1);
  REQUIRE_OK(dev->Pull(refreshed.session().token()));
  CHECK(county.Officers().size() == officers);
}

TEST_CASE("a session token works only on the device it was issued to") {
  SecureCounty county;
  county.SetUp();
  auto dev1 = county.Device("dev-a1");
  auto dev2 = county.Device("dev-a2");
  const std::string token2 = dev2->Token(kOfficerA2, SecretOf(kOfficerA2));
  REQUIRE_STATUS(dev1->Pull(token2), grpc::StatusCode::UNAUTHENTICATED,
                 "the session token was issued to dev-a2, not to dev-a1; sign in on this device");
}

TEST_CASE("an officer of town A can neither read nor write town B") {
  SecureCounty county;
  county.SetUp();
  auto dev_b = county.Device("dev-b1");
  const std::string token_b = dev_b->Token(kOfficerB1, SecretOf(kOfficerB1));
  std::string case_b;
  REQUIRE_APPLIED(dev_b->PushOne(token_b, RecordCase("dev-b1", 1, &case_b, kOfficerB1, kTownB)));
  const v1::CaseDetail before = county.GetCase(case_b);

  auto dev = county.Device("dev-a1");
  v1::SignInResponse refused;
  REQUIRE_STATUS(dev->SignIn(kOfficerB1, SecretOf(kOfficerB1), &refused),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "officer officer-b1 of town town-b may not sign in on device dev-a1 of town "
                 "town-a");
  const std::string token = dev->Token(kOfficerA1, SecretOf(kOfficerA1));

  v1::ListCasesRequest list;
  list.set_town_id(kTownB);
  v1::ListCasesResponse cases;
  REQUIRE_STATUS(dev->admin->ListCases(Ctx(token).get(), list, &cases),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "officer officer-a1 (ROLE_OFFICER) of town town-a may not reach town town-b");
  v1::GetCaseRequest get;
  get.set_case_ref(case_b);
  v1::CaseDetail detail;
  REQUIRE_STATUS(
      dev->admin->GetCase(Ctx(token).get(), get, &detail), grpc::StatusCode::PERMISSION_DENIED,
      absl::StrCat("officer officer-a1 (ROLE_OFFICER) of town town-a may not reach case ", case_b,
                   " of town town-b"));

  // Writing: a new case for town B, and a note on town B's case.
  v1::Mutation record = RecordCase("dev-a1", 1, nullptr, kOfficerA1, kTownB);
  REQUIRE_REJECTED(dev->PushOne(token, record), v1::REASON_OUT_OF_JURISDICTION,
                   absl::StrCat("case ", record.record_case().case_().case_id(),
                                " is for town town-b; device dev-a1 serves town town-a"));
  REQUIRE_REJECTED(
      dev->PushOne(token, AppendNote("dev-a1", 2, case_b)), v1::REASON_OUT_OF_JURISDICTION,
      absl::StrCat("case ", case_b, " is outside the jurisdiction of device dev-a1 (town town-a)"));
  CHECK(county.GetCase(case_b).SerializeAsString() == before.SerializeAsString());
}

TEST_CASE("a crafted push needs two credentialed officers and an auxiliary never counts") {
  SecureCounty county;
  county.SetUp();
  auto dev = county.Device("dev-a2");
  const std::string token = dev->Token(kAuxA3, SecretOf(kAuxA3));
  // A case record with one officer, or a sworn officer and an auxiliary
  // (Art. 55): rejected.
  v1::Mutation alone = RecordCase("dev-a2", 1, nullptr, kAuxA3);
  alone.mutable_record_case()->mutable_case_()->clear_officer_ids();
  alone.mutable_record_case()->mutable_case_()->add_officer_ids(kOfficerA1);
  REQUIRE_REJECTED(dev->PushOne(token, alone), v1::REASON_TOO_FEW_OFFICERS,
                   "an inspection or investigation record needs at least two law-enforcement "
                   "officers holding credentials (Art. 55); only 1 officer is named");
  v1::Mutation assisted = RecordCase("dev-a2", 2, nullptr, kAuxA3);
  assisted.mutable_record_case()->mutable_case_()->clear_officer_ids();
  assisted.mutable_record_case()->mutable_case_()->add_officer_ids(kOfficerA1);
  assisted.mutable_record_case()->mutable_case_()->add_officer_ids(kAuxA3);
  REQUIRE_REJECTED(dev->PushOne(token, assisted), v1::REASON_TOO_FEW_OFFICERS,
                   "an inspection or investigation record needs at least two law-enforcement "
                   "officers holding credentials (Art. 55); aux-a3 is an auxiliary and does not "
                   "count");
  // Two credentialed officers with the auxiliary assisting: applied.
  std::string case_id;
  REQUIRE_APPLIED(dev->PushOne(token, RecordCase("dev-a2", 3, &case_id, kAuxA3)));

  v1::LeaseTicketNumbersRequest lease_request;
  lease_request.set_count(5);
  v1::LeaseTicketNumbersResponse lease;
  REQUIRE_OK(dev->sync->LeaseTicketNumbers(Ctx(token).get(), lease_request, &lease));
  const int64_t number = lease.lease().first_number();
  struct Crafted {
    std::vector<std::string> officers;
    const char* message;
  };
  const Crafted crafted[] = {
      {{kOfficerA1},
       "a ticket needs at least two law-enforcement officers holding credentials (Art. 42); "
       "only 1 officer is named"},
      {{kOfficerA1, kAuxA3},
       "a ticket needs at least two law-enforcement officers holding credentials (Art. 42); "
       "aux-a3 is an auxiliary and does not count"},
      {{kAuxA3, kAuxA4},
       "a ticket needs at least two law-enforcement officers holding credentials (Art. 42); "
       "aux-a3 is an auxiliary and does not count; aux-a4 is an auxiliary and does not count"},
  };
  uint64_t seq = 4;
  for (const Crafted& c : crafted) {
    v1::Mutation ticket = IssueTicket("dev-a2", seq++, case_id, number);
    ticket.set_officer_id(kAuxA3);
    ticket.mutable_issue_ticket()->mutable_ticket()->clear_officer_ids();
    for (const std::string& id : c.officers) {
      ticket.mutable_issue_ticket()->mutable_ticket()->add_officer_ids(id);
    }
    REQUIRE_REJECTED(dev->PushOne(token, ticket), v1::REASON_TOO_FEW_OFFICERS, c.message);
  }
  CHECK(county.GetCase(case_id).tickets_size() == 0);

  v1::Mutation decision = RecordNoPenalty("dev-a2", seq++, case_id);
  decision.set_officer_id(kAuxA3);
  decision.mutable_record_no_penalty()->mutable_decision()->clear_officer_ids();
  decision.mutable_record_no_penalty()->mutable_decision()->add_officer_ids(kOfficerA2);
  decision.mutable_record_no_penalty()->mutable_decision()->add_officer_ids(kAuxA4);
  REQUIRE_REJECTED(dev->PushOne(token, decision), v1::REASON_TOO_FEW_OFFICERS,
                   "a no-penalty decision needs at least two law-enforcement officers holding "
                   "credentials (Art. 42); aux-a4 is an auxiliary and does not count");
  CHECK(county.GetCase(case_id).no_penalty_size() == 0);

  v1::Mutation lawful = IssueTicket("dev-a2", seq++, case_id, number);
  lawful.set_officer_id(kAuxA3);
  lawful.mutable_issue_ticket()->mutable_ticket()->add_officer_ids(kAuxA3);
  REQUIRE_APPLIED(dev->PushOne(token, lawful));
  CHECK(county.GetCase(case_id).tickets_size() == 1);
}

TEST_CASE("a device cannot push another device's mutation") {
  SecureCounty county;
  county.SetUp();
  auto dev = county.Device("dev-a1");
  const std::string token = dev->Token(kOfficerA1, SecretOf(kOfficerA1));
  std::string case_id;
  v1::Mutation foreign = RecordCase("dev-a2", 1, &case_id);
  REQUIRE_REJECTED(dev->PushOne(token, foreign), v1::REASON_WRONG_DEVICE,
                   "the mutation names device \"dev-a2\" but was pushed by device dev-a1; a "
                   "device pushes only its own mutations");
  v1::GetCaseRequest get;
  get.set_case_ref(case_id);
  v1::CaseDetail detail;
  REQUIRE(county.op->admin->GetCase(Ctx(county.admin_token).get(), get, &detail).error_code() ==
          grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("a major case cannot be decided before legal review, and can after approval") {
  SecureCounty county;
  county.SetUp();
  county.AddOfficer(kLeader, kTownA, kSquadA, v1::ROLE_SQUAD_LEADER, true);
  auto dev = county.Device("dev-a1");
  const std::string token = dev->Token(kOfficerA1, SecretOf(kOfficerA1));
  const std::string leader = dev->Token(kLeader, SecretOf(kLeader));
  std::string case_id;
  uint64_t seq = 0;
  auto record = dev->PushOne(token, RecordCase("dev-a1", ++seq, &case_id, kOfficerA1, kTownA,
                                               v1::PROCEDURE_ORDINARY, kMajorMatter));
  REQUIRE_APPLIED(record);
  const std::string number = record.case_number();
  // Review comes after the notice, right before the decision (Art. 58).
  const std::vector<std::pair<v1::CaseState, v1::CaseState>> path = {
      {v1::CASE_STATE_REGISTERED, v1::CASE_STATE_FILED},
      {v1::CASE_STATE_FILED, v1::CASE_STATE_INVESTIGATING},
      {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED},
      {v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_LEGAL_REVIEW}};
  for (const auto& [from, to] : path) {
    REQUIRE_APPLIED(dev->PushOne(token, Transition("dev-a1", ++seq, case_id, from, to)));
  }
  CHECK(county.GetCase(case_id).case_().escalated());

  const std::string reviewer = county.op->Token(kReviewer, SecretOf(kReviewer));
  v1::ReviewQueueResponse queue;
  REQUIRE_OK(county.op->admin->ReviewQueue(Ctx(reviewer).get(), v1::ReviewQueueRequest(), &queue));
  REQUIRE(queue.cases_size() == 1);
  CHECK(queue.cases(0).case_id() == case_id);

  auto decide = [&](const std::string& officer) {
    v1::Mutation m = Transition("dev-a1", ++seq, case_id, v1::CASE_STATE_LEGAL_REVIEW,
                                v1::CASE_STATE_DECIDED);
    m.set_officer_id(officer);
    return dev->PushOne(officer == kLeader ? leader : token, m);
  };
  const v1::CaseDetail before = county.GetCase(case_id);
  REQUIRE_REJECTED(decide(kLeader), v1::REASON_REVIEW_REQUIRED,
                   absl::StrCat("case ", number,
                                " is a major case and needs legal review approval (Art. 58) "
                                "before a decision"));
  CHECK(county.GetCase(case_id).SerializeAsString() == before.SerializeAsString());

  // Only a legal reviewer reviews, with a reason.
  v1::ReviewDecisionRequest decision;
  decision.set_case_id(case_id);
  decision.set_approve(true);
  v1::ReviewDecisionResponse decided;
  REQUIRE_STATUS(county.op->admin->ReviewDecision(Ctx(reviewer).get(), decision, &decided),
                 grpc::StatusCode::INVALID_ARGUMENT,
                 "reason is missing: a review decision states its reason");
  decision.set_reason("facts and basis verified");
  REQUIRE_STATUS(dev->admin->ReviewDecision(Ctx(token).get(), decision, &decided),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "officer officer-a1 (ROLE_OFFICER) may not call AdminService.ReviewDecision "
                 "(allowed: ROLE_LEGAL_REVIEWER)");
  REQUIRE_OK(county.op->admin->ReviewDecision(Ctx(reviewer).get(), decision, &decided));
  CHECK(decided.case_().review_approved());
  CHECK(decided.case_().review_approval().reviewer_id() == kReviewer);
  CHECK(decided.case_().review_approval().matter_code() == kMajorMatter);

  // An officer without decision authority may not decide, approved or not.
  REQUIRE_REJECTED(decide(kOfficerA1), v1::REASON_PERMISSION_DENIED,
                   absl::StrCat("officer officer-a1 (ROLE_OFFICER) may not decide case ", number,
                                ": a decision is made by an active, sworn squad leader "
                                "(ROLE_SQUAD_LEADER)"));
  // The notice's period to state and defend still runs: the decision waits
  // unless the party waives it (Art. 44-45).
  REQUIRE_APPLIED(dev->PushOne(token, Waiver("dev-a1", ++seq, case_id)));
  REQUIRE_APPLIED(decide(kLeader));
  bool review_event = false;
  const v1::CaseDetail decided_case = county.GetCase(case_id);
  CHECK(decided_case.case_().state() == v1::CASE_STATE_DECIDED);
  for (const v1::CaseEvent& e : decided_case.timeline()) {
    review_event =
        review_event || (e.kind() == v1::CASE_EVENT_KIND_REVIEW && e.officer_id() == kReviewer &&
                         e.text() == "legal review approved by reviewer: facts and basis verified");
  }
  CHECK(review_event);
}

TEST_CASE("an approval lapses when the reviewed fine changes, and is refused to the unqualified "
          "and to an officer on the case") {
  SecureCounty county;
  county.SetUp();
  county.AddOfficer(kLeader, kTownA, kSquadA, v1::ROLE_SQUAD_LEADER, true);
  // A qualified reviewer of town A who works on the case, and a reviewer
  // whose qualification is not on the roster.
  county.AddOfficer("reviewer-a", kTownA, kSquadA, v1::ROLE_LEGAL_REVIEWER, true);
  county.AddOfficer("reviewer-u", "county", "", v1::ROLE_LEGAL_REVIEWER, true, false);
  auto dev = county.Device("dev-a1");
  const std::string token = dev->Token(kOfficerA1, SecretOf(kOfficerA1));
  const std::string leader = dev->Token(kLeader, SecretOf(kLeader));
  std::string case_id;
  uint64_t seq = 0;
  v1::Mutation record = RecordCase("dev-a1", ++seq, &case_id, kOfficerA1, kTownA,
                                   v1::PROCEDURE_ORDINARY, kMajorMatter);
  record.mutable_record_case()->mutable_case_()->add_officer_ids("reviewer-a");
  record.mutable_record_case()->mutable_case_()->set_proposed_fine_fen(500000);
  auto recorded = dev->PushOne(token, record);
  REQUIRE_APPLIED(recorded);
  const std::string number = recorded.case_number();
  for (const auto& [from, to] : std::vector<std::pair<v1::CaseState, v1::CaseState>>{
           {v1::CASE_STATE_REGISTERED, v1::CASE_STATE_FILED},
           {v1::CASE_STATE_FILED, v1::CASE_STATE_INVESTIGATING},
           {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED},
           {v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_LEGAL_REVIEW}}) {
    REQUIRE_APPLIED(dev->PushOne(token, Transition("dev-a1", ++seq, case_id, from, to)));
  }
  v1::ReviewDecisionRequest decision;
  decision.set_case_id(case_id);
  decision.set_approve(true);
  decision.set_reason("facts and basis verified");
  v1::ReviewDecisionResponse decided;
  REQUIRE_STATUS(county.op->admin->ReviewDecision(
                     Ctx(county.op->Token("reviewer-u", SecretOf("reviewer-u"))).get(), decision,
                     &decided),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "officer reviewer-u is not an active qualified legal reviewer (legal_reviewer on "
                 "the roster); only one may review a decision (Art. 58)");
  REQUIRE_STATUS(county.op->admin->ReviewDecision(
                     Ctx(county.op->Token("reviewer-a", SecretOf("reviewer-a"))).get(), decision,
                     &decided),
                 grpc::StatusCode::FAILED_PRECONDITION,
                 absl::StrCat("officer reviewer-a works on case ", number,
                              " and may not review its decision; another qualified reviewer must "
                              "(Art. 58)"));
  const std::string reviewer = county.op->Token(kReviewer, SecretOf(kReviewer));
  REQUIRE_OK(county.op->admin->ReviewDecision(Ctx(reviewer).get(), decision, &decided));
  REQUIRE(decided.case_().review_approved());

  // The fine is changed after the approval (lowered here: a raised one would
  // need a fresh notice as well): the approval is spent.
  REQUIRE_APPLIED(dev->PushOne(token, UpdateField("dev-a1", ++seq, case_id,
                                                  v1::CASE_FIELD_PROPOSED_FINE, "300000")));
  const v1::CaseDetail raised = county.GetCase(case_id);
  CHECK_FALSE(raised.case_().review_approved());
  CHECK_FALSE(raised.case_().has_review_approval());
  bool lapsed_event = false;
  for (const v1::CaseEvent& e : raised.timeline()) {
    lapsed_event = lapsed_event ||
                   (e.kind() == v1::CASE_EVENT_KIND_REVIEW &&
                    e.text() == "legal review approval lapsed: the decision it approved changed "
                                "(Art. 58)");
  }
  CHECK(lapsed_event);
  v1::Mutation decide = Transition("dev-a1", ++seq, case_id, v1::CASE_STATE_LEGAL_REVIEW,
                                   v1::CASE_STATE_DECIDED);
  decide.set_officer_id(kLeader);
  REQUIRE_REJECTED(dev->PushOne(leader, decide), v1::REASON_REVIEW_REQUIRED,
                   absl::StrCat("case ", number,
                                " is a major case and needs legal review approval (Art. 58) "
                                "before a decision"));
  // A fresh review of the decision now proposed lets it through, once the
  // party has waived the rest of the notice's period.
  REQUIRE_OK(county.op->admin->ReviewDecision(Ctx(reviewer).get(), decision, &decided));
  REQUIRE_APPLIED(dev->PushOne(token, Waiver("dev-a1", ++seq, case_id)));
  decide = Transition("dev-a1", ++seq, case_id, v1::CASE_STATE_LEGAL_REVIEW,
                      v1::CASE_STATE_DECIDED);
  decide.set_officer_id(kLeader);
  REQUIRE_APPLIED(dev->PushOne(leader, decide));
}

TEST_CASE("repeated wrong secrets lock an officer and every attempt is audited") {
  SecureCounty county;
  county.SetUp();
  auto dev = county.Device("dev-a1");
  v1::SignInResponse response;
  for (int i = 0; i < 5; ++i) {
    REQUIRE_STATUS(dev->SignIn(kOfficerA1, "wrong", &response), grpc::StatusCode::UNAUTHENTICATED,
                   "sign-in of officer officer-a1 refused: unknown officer or wrong secret");
  }
  grpc::Status locked = dev->SignIn(kOfficerA1, SecretOf(kOfficerA1), &response);
  INFO(locked.error_message());
  REQUIRE(locked.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  REQUIRE(absl::StartsWith(locked.error_message(),
                           "officer officer-a1 is locked after 5 failed sign-ins until "));
  const std::string auditor = county.op->Token(kAuditor, SecretOf(kAuditor));
  v1::VerifyAuditResponse verdict = county.VerifyAudit(auditor);
  CHECK(verdict.ok());
}

TEST_CASE("an audit row edited with the sqlite3 shell is caught at that entry") {
  SecureCounty county;
  county.SetUp();
  auto dev = county.Device("dev-a1");
  const std::string token = dev->Token(kOfficerA1, SecretOf(kOfficerA1));
  std::string case_id;
  REQUIRE_APPLIED(dev->PushOne(token, RecordCase("dev-a1", 1, &case_id)));
  REQUIRE_APPLIED(dev->PushOne(token, AppendNote("dev-a1", 2, case_id)));
  const std::string auditor = county.op->Token(kAuditor, SecretOf(kAuditor));
  v1::VerifyAuditResponse clean = county.VerifyAudit(auditor);
  REQUIRE(clean.ok());
  REQUIRE(clean.entries() >= 10);

  // An officer may not run the check.
  v1::VerifyAuditResponse denied;
  REQUIRE_STATUS(dev->admin->VerifyAudit(Ctx(token).get(), v1::VerifyAuditRequest(), &denied),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "officer officer-a1 (ROLE_OFFICER) may not call AdminService.VerifyAudit "
                 "(allowed: ROLE_AUDITOR, ROLE_ADMIN)");

  dev.reset();
  county.op.reset();
  REQUIRE(county.server->Stop(SIGTERM) == 0);
  const std::string db = county.bureau.dir.File("data/palm.db");
  const uint64_t k = clean.entries() - 3;
  const std::string update =
      absl::StrCat("UPDATE audit_log SET details = '{\"tampered\":true}' WHERE seq = ", k, ";");
  // The table refuses edits; whoever drops the trigger is caught by the chain.
  auto refused = RunCommand({"/usr/bin/sqlite3", db, update});
  REQUIRE(refused.exit_code != 0);
  CHECK(absl::StrContains(refused.err, "audit_log is append-only"));
  auto edited = RunCommand({"/usr/bin/sqlite3", db, "DROP TRIGGER audit_log_no_update; " + update});
  INFO(edited.err);
  REQUIRE(edited.exit_code == 0);

  county.server.reset();
  county.Start();
  county.admin_token = county.op->Token(kAdmin, kAdminSecret);
  const std::string auditor2 = county.op->Token(kAuditor, SecretOf(kAuditor));
  v1::VerifyAuditResponse verdict = county.VerifyAudit(auditor2);
  CHECK_FALSE(verdict.ok());
  CHECK(verdict.first_bad_entry() == k);
  CHECK(verdict.entries() > clean.entries());  // counted to the end
  CHECK(verdict.problem() ==
        absl::StrCat("entry ", k, " was altered (its hash does not match its content)"));
  CHECK(county.GetCase(case_id).timeline_size() == 2);

  // The same through palmctl, as an auditor with an operator certificate.
  const std::string op_dir = county.bureau.dir.File("operator");
  REQUIRE(pki::WriteOperatorDirectory(op_dir, county.operator_creds, county.ca_pem()).ok());
  const std::string secret_file = county.bureau.dir.File("auditor.secret");
  REQUIRE(pki::WriteNewFile(secret_file, SecretOf(kAuditor) + "\n", 0600).ok());
  const std::string token_file = county.bureau.dir.File("auditor.token");
  auto login = RunCommand(
      {"/bin/sh", "-c",
       absl::StrCat(palm::security_test::PalmctlBinary(), " --server ", county.server->address(),
                    " --cert-dir ", op_dir, " auth login --officer ", kAuditor, " --out ",
                    token_file, " < ", secret_file)});
  INFO(login.out << login.err);
  REQUIRE(login.exit_code == 0);
  ::setenv("PALMCTL_TOKEN_FILE", token_file.c_str(), 1);
  auto verify = palm::security_test::Palmctl(
      {"--server", county.server->address(), "--cert-dir", op_dir, "audit", "verify"});
  ::unsetenv("PALMCTL_TOKEN_FILE");
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 1);
  // The auditor's palmctl sign-in added one entry to the log.
  CHECK(verify.err == absl::StrCat("palmctl: the audit log is broken at entry ", k, " of ",
                                   verdict.entries() + 1, ": entry ", k,
                                   " was altered (its hash does not match its content)\n"));
}

TEST_CASE("palmctl signs an admin in and revokes a device end to end") {
  SecureCounty county;
  county.SetUp();
  const std::string op_dir = county.bureau.dir.File("operator");
  REQUIRE(pki::WriteOperatorDirectory(op_dir, county.operator_creds, county.ca_pem()).ok());
  const std::string token_file = county.bureau.dir.File("token");
  const std::string secret_file = county.bureau.dir.File("admin.secret");
  // `auth login` reads the secret from stdin; RunCommand gives /dev/null, so
  // go through a shell redirect.
  auto login = RunCommand(
      {"/bin/sh", "-c",
       absl::StrCat(palm::security_test::PalmctlBinary(), " --server ", county.server->address(),
                    " --cert-dir ", op_dir, " auth login --officer admin --out ", token_file, " < ",
                    secret_file)});
  INFO(login.out << login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(palm::security_test::FileMode(token_file) == 0600);

  ::setenv("PALMCTL_TOKEN_FILE", token_file.c_str(), 1);
  auto revoke =
      palm::security_test::Palmctl({"--server", county.server->address(), "--cert-dir", op_dir,
                                    "device", "revoke", "dev-b1", "--reason", "reported stolen"});
  ::unsetenv("PALMCTL_TOKEN_FILE");
  INFO(revoke.out << revoke.err);
  REQUIRE(revoke.exit_code == 0);
  CHECK(revoke.out == "revoked device dev-b1: reported stolen\n");

  auto dev = county.Device("dev-b1");
  v1::SignInResponse response;
  REQUIRE_STATUS(dev->SignIn(kOfficerB1, SecretOf(kOfficerB1), &response),
                 grpc::StatusCode::UNAUTHENTICATED,
                 "device dev-b1 was revoked: reported stolen [REASON_DEVICE_REVOKED]");
}

TEST_CASE("RefreshSession ends the token it replaces at once, also after a restart") {
  SecureCounty county;
  county.SetUp();
  auto dev = county.Device("dev-a1");
  const std::string old_token = dev->Token(kOfficerA1, SecretOf(kOfficerA1));
  REQUIRE_OK(dev->Pull(old_token));
  v1::RefreshSessionResponse refreshed;
  REQUIRE_OK(
      dev->auth->RefreshSession(Ctx(old_token).get(), v1::RefreshSessionRequest(), &refreshed));
  const std::string new_token = refreshed.session().token();
  REQUIRE(new_token != old_token);

  const char* kReplaced =
      "the session token of officer officer-a1 was replaced by RefreshSession and has ended; use "
      "the new token or sign in again";
  REQUIRE_STATUS(dev->Pull(old_token), grpc::StatusCode::UNAUTHENTICATED, kReplaced);
  v1::RefreshSessionResponse again;
  REQUIRE_STATUS(
      dev->auth->RefreshSession(Ctx(old_token).get(), v1::RefreshSessionRequest(), &again),
      grpc::StatusCode::UNAUTHENTICATED, kReplaced);
  REQUIRE_OK(dev->Pull(new_token));

  // The end is stored, not only remembered.
  county.server.reset();
  county.Start();
  dev = county.Device("dev-a1");
  REQUIRE_STATUS(dev->Pull(old_token), grpc::StatusCode::UNAUTHENTICATED, kReplaced);
  REQUIRE_OK(dev->Pull(new_token));
  CHECK(county.VerifyAudit(county.admin_token).ok());
}

TEST_CASE("SignOut ends the session at once, and signing out again is OK") {
  SecureCounty county;
  county.SetUp();
  auto dev = county.Device("dev-a1");
  const std::string token = dev->Token(kOfficerA1, SecretOf(kOfficerA1));
  const std::string other = dev->Token(kOfficerA2, SecretOf(kOfficerA2));
  v1::SignOutResponse out;
  REQUIRE_OK(dev->auth->SignOut(Ctx(token).get(), v1::SignOutRequest(), &out));

  const char* kSignedOut =
      "the session of officer officer-a1 has ended (signed out); sign in again";
  REQUIRE_STATUS(dev->Pull(token), grpc::StatusCode::UNAUTHENTICATED, kSignedOut);
  v1::RefreshSessionResponse refreshed;
  REQUIRE_STATUS(
      dev->auth->RefreshSession(Ctx(token).get(), v1::RefreshSessionRequest(), &refreshed),
      grpc::StatusCode::UNAUTHENTICATED, kSignedOut);
  REQUIRE_OK(dev->auth->SignOut(Ctx(token).get(), v1::SignOutRequest(), &out));
  // Another officer's session on the same device goes on.
  REQUIRE_OK(dev->Pull(other));

  // An expired token may sign out too; a forged one or none may not.
  std::string pem = Must(pki::ReadFile(county.bureau.dir.File("data/session-signing.key")));
  auto server_key = Must(palm::sync::LoadPrivateKeyPem(pem));
  nlohmann::json claims = ClaimsOf(other);
  claims["exp"] = 1700000000000;
  claims["jti"] = "expired-session";
  REQUIRE_OK(dev->auth->SignOut(Ctx(MakeToken(server_key.get(), claims)).get(),
                                v1::SignOutRequest(), &out));
  auto other_key = Must(palm::sync::GenerateEd25519Key());
  REQUIRE_STATUS(
      dev->auth->SignOut(Ctx(MakeToken(other_key.get(), ClaimsOf(other))).get(),
                         v1::SignOutRequest(), &out),
      grpc::StatusCode::UNAUTHENTICATED,
      "the session token's signature does not verify (forged, altered or issued by another "
      "server); sign in again");
  REQUIRE_STATUS(dev->auth->SignOut(Ctx("").get(), v1::SignOutRequest(), &out),
                 grpc::StatusCode::UNAUTHENTICATED,
                 "AuthService.SignOut needs a session token (metadata `authorization: Bearer "
                 "<token>`); sign in with AuthService.SignIn");
  REQUIRE_OK(dev->Pull(other));
  CHECK(county.VerifyAudit(county.admin_token).ok());
}

TEST_CASE("a sign-in with a 1 MiB officer id is refused quoting only a short prefix of it") {
  SecureCounty county;
  // 3-byte characters, so that 64 bytes end inside the 22nd.
  std::string huge;
  while (huge.size() < (1u << 20)) huge += "桐";
  v1::SignInResponse response;
  // Over the 128-byte limit of an id (sync/limits.h): refused before any
  // lookup, quoting a 16-byte prefix (5 characters of 3 bytes).
  REQUIRE_STATUS(county.op->SignIn(huge, "x", &response), grpc::StatusCode::INVALID_ARGUMENT,
                 "AuthService.SignIn: officer_id: at most 128 bytes, this one has 1048578 "
                 "(\"桐桐桐桐桐…\")");
  size_t longest = 0;
  for (absl::string_view line : absl::StrSplit(county.server->Log(), '\n')) {
    longest = std::max(longest, line.size());
  }
  CHECK(longest < 4096);
}

TEST_CASE("only an admin may back up the server, and a refused backup writes nothing") {
  SecureCounty county;
  county.SetUp();
  const std::string backups = county.bureau.dir.File("data/backups");
  const std::string auditor = county.op->Token(kAuditor, SecretOf(kAuditor));
  v1::BackupServerRequest request;
  request.set_name("by-auditor");
  v1::BackupServerResponse response;
  REQUIRE_STATUS(county.op->admin->BackupServer(Ctx(auditor).get(), request, &response),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "officer auditor (ROLE_AUDITOR) may not call AdminService.BackupServer "
                 "(allowed: ROLE_ADMIN)");
  auto dev = county.Device("dev-a1");
  const std::string officer = dev->Token(kOfficerA1, SecretOf(kOfficerA1));
  REQUIRE_STATUS(dev->admin->BackupServer(Ctx(officer).get(), request, &response),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "officer officer-a1 (ROLE_OFFICER) may not call AdminService.BackupServer "
                 "(allowed: ROLE_ADMIN)");
  CHECK_FALSE(std::filesystem::exists(backups));

  request.set_name("by-admin");
  REQUIRE_OK(county.op->admin->BackupServer(Ctx(county.admin_token).get(), request, &response));
  CHECK(response.directory() ==
        std::filesystem::absolute(backups + "/by-admin").lexically_normal().string());
  CHECK(std::filesystem::exists(backups + "/by-admin/palm.db"));
  const nlohmann::json manifest = nlohmann::json::parse(response.manifest_json());
  CHECK(manifest.at("format") == "palm-backup/1");
  CHECK(manifest.at("name") == "by-admin");
  // The audit chain records who took it, and still verifies.
  const v1::VerifyAuditResponse audit = county.VerifyAudit(county.admin_token);
  CHECK(audit.ok());
  CHECK(audit.entries() == manifest.at("audit_entries").get<uint64_t>() + 1);
}
