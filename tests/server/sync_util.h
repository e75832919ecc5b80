// Shared helpers for the server suites: an in-process palm-server on
// loopback, a raw gRPC client, organisation set-up and mutation builders.
#ifndef PALM_TESTS_SERVER_SYNC_UTIL_H_
#define PALM_TESTS_SERVER_SYNC_UTIL_H_

#include <grpcpp/grpcpp.h>
#include <time.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "palm/v1/admin.grpc.pb.h"
#include "palm/v1/auth.grpc.pb.h"
#include "palm/v1/sync.grpc.pb.h"
#include "server/server.h"
#include "support/temp_dir.h"
#include "sync/hlc.h"
#include "sync/uuid.h"

namespace palm::testing {

namespace v1 = palm::v1;

inline constexpr char kTownA[] = "town-a";
inline constexpr char kTownB[] = "town-b";
inline constexpr char kSquadA[] = "squad-a1";
inline constexpr char kSquadB[] = "squad-b1";
// Officers: two sworn in town A, one auxiliary in town A, two sworn in town
// B. Sworn officers hold a credential number ("ZJ-" + id), so any two of a
// town count as the two law-enforcement officers Art. 42 and 55 require.
inline constexpr char kOfficerA1[] = "officer-a1";
inline constexpr char kOfficerA2[] = "officer-a2";
inline constexpr char kAuxA3[] = "aux-a3";
inline constexpr char kOfficerB1[] = "officer-b1";
inline constexpr char kOfficerB2[] = "officer-b2";
// Matters of the sample catalogue (SAMPLE — not a bureau's real catalogue).
inline constexpr char kFastMatter[] = "CG-0101";   // fast track, no-penalty list, ≤ 200 yuan
inline constexpr char kMajorMatter[] = "CG-0901";  // ordinary only, major (Art. 58)

inline v1::Catalog SampleCatalog(int64_t version = 1) {
  v1::Catalog catalog;
  catalog.set_version(version);
  catalog.set_label("SAMPLE — not the bureau's real catalogue");
  v1::Matter* fast = catalog.add_matters();
  fast->set_code(kFastMatter);
  fast->set_category("市容环境");
  fast->set_name("占道经营");
  fast->set_legal_basis("《城市市容和环境卫生管理条例》第十四条");
  fast->set_penalty_basis("《城市市容和环境卫生管理条例》第三十六条");
  fast->set_fine_min_fen(0);
  fast->set_fine_max_fen(20000);
  fast->set_fast_track(true);
  fast->set_no_penalty_list(true);
  fast->set_delegated_to_towns(true);
  v1::Matter* major = catalog.add_matters();
  major->set_code(kMajorMatter);
  major->set_category("规划建设");
  major->set_name("违法建设");
  major->set_legal_basis("《城乡规划法》第四十条");
  major->set_penalty_basis("《城乡规划法》第六十四条");
  major->set_fine_max_fen(100000000);
  major->set_major(true);
  return catalog;
}

// Call context naming the calling device.
inline std::unique_ptr<grpc::ClientContext> DeviceContext(const std::string& device_id) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("x-palm-device-id", device_id);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return ctx;
}

// Call context naming the calling device (none when empty) and carrying the
// session `token` (AuthService.SignIn).
inline std::unique_ptr<grpc::ClientContext> SessionContext(const std::string& device,
                                                           const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!device.empty()) ctx->AddMetadata("x-palm-device-id", device);
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return ctx;
}

// A raw client of one server address.
struct Client {
  explicit Client(const std::string& address) : Client(address, Unchecked{}) { REQUIRE(connected); }

  // Catch2's macros may only run on the test's own thread. A Client made on
  // another thread is made this way, asserts nothing, and the thread calls
  // only the methods that return their status (Push with a status, TryLease).
  struct Unchecked {};
  Client(const std::string& address, Unchecked) {
    channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    connected =
        channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
    sync = v1::SyncService::NewStub(channel);
    admin = v1::AdminService::NewStub(channel);
    auth = v1::AuthService::NewStub(channel);
  }

  bool connected = false;

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::SyncService::Stub> sync;
  std::unique_ptr<v1::AdminService::Stub> admin;
  std::unique_ptr<v1::AuthService::Stub> auth;

  // Sets the sign-in secret of officer `id` (AddOfficer with the officer as
  // it stands) — officers of SetUpOrganisation have none.
  void SetSecret(const std::string& id, const std::string& town, const std::string& squad,
                 v1::Role role, bool sworn, const std::string& secret) {
    grpc::ClientContext ctx;
    v1::AddOfficerRequest request;
    v1::Officer* o = request.mutable_officer();
    o->set_officer_id(id);
    o->set_name(id);
    o->set_role(role);
    o->set_sworn(sworn);
    if (sworn) o->set_certificate_number("ZJ-" + id);
    o->set_town_id(town);
    o->set_squad_id(squad);
    o->set_active(true);
    request.set_secret(secret);
    v1::AddOfficerResponse response;
    grpc::Status s = admin->AddOfficer(&ctx, request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  // Signs officer `id` in on `device` (empty: as the loopback operator) and
  // returns the session token.
  std::string SignIn(const std::string& id, const std::string& secret,
                     const std::string& device = "") {
    grpc::ClientContext ctx;
    if (!device.empty()) ctx.AddMetadata("x-palm-device-id", device);
    v1::SignInRequest request;
    request.set_officer_id(id);
    request.set_secret(secret);
    v1::SignInResponse response;
    grpc::Status s = auth->SignIn(&ctx, request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return response.session().token();
  }

  void Enroll(const std::string& device, const std::string& town, const std::string& squad) {
    grpc::ClientContext ctx;
    v1::EnrollDeviceRequest request;
    request.set_device_id(device);
    request.set_town_id(town);
    request.set_squad_id(squad);
    v1::EnrollDeviceResponse response;
    grpc::Status s = admin->EnrollDevice(&ctx, request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  // A sworn officer is ROLE_OFFICER and an auxiliary ROLE_AUXILIARY unless
  // `role` says otherwise; `legal_reviewer` marks a qualified reviewer.
  void AddOfficer(const std::string& id, const std::string& town, const std::string& squad,
                  bool sworn, v1::Role role = v1::ROLE_UNSPECIFIED, bool legal_reviewer = false) {
    grpc::ClientContext ctx;
    v1::AddOfficerRequest request;
    v1::Officer* o = request.mutable_officer();
    o->set_officer_id(id);
    o->set_name(id);
    o->set_role(role != v1::ROLE_UNSPECIFIED ? role
                : sworn                      ? v1::ROLE_OFFICER
                                             : v1::ROLE_AUXILIARY);
    o->set_legal_reviewer(legal_reviewer);
    o->set_sworn(sworn);
    if (sworn) o->set_certificate_number("ZJ-" + id);
    o->set_town_id(town);
    o->set_squad_id(squad);
    v1::AddOfficerResponse response;
    grpc::Status s = admin->AddOfficer(&ctx, request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  void LoadCatalog(const v1::Catalog& catalog) {
    grpc::ClientContext ctx;
    v1::LoadCatalogRequest request;
    *request.mutable_catalog() = catalog;
    v1::LoadCatalogResponse response;
    grpc::Status s = admin->LoadCatalog(&ctx, request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  // Two towns with a squad each, the officers above, devices "dev-a1",
  // "dev-a2" (town A) and "dev-b1" (town B), and the sample catalogue.
  void SetUpOrganisation() {
    Enroll("dev-a1", kTownA, kSquadA);
    Enroll("dev-a2", kTownA, kSquadA);
    Enroll("dev-b1", kTownB, kSquadB);
    AddOfficer(kOfficerA1, kTownA, kSquadA, true);
    AddOfficer(kOfficerA2, kTownA, kSquadA, true);
    AddOfficer(kAuxA3, kTownA, kSquadA, false);
    AddOfficer(kOfficerB1, kTownB, kSquadB, true);
    AddOfficer(kOfficerB2, kTownB, kSquadB, true);
    LoadCatalog(SampleCatalog());
  }

  // Pushes `batches` on one stream, one response per batch; the stream's
  // final status goes to *status when given (else it must be OK).
  std::vector<v1::PushResponse> Push(const std::string& device,
                                     const std::vector<std::vector<v1::Mutation>>& batches,
                                     grpc::Status* status = nullptr) {
    auto ctx = DeviceContext(device);
    auto stream = sync->Push(ctx.get());
    std::vector<v1::PushResponse> responses;
    for (const auto& batch : batches) {
      v1::PushRequest request;
      for (const auto& m : batch) *request.add_mutations() = m;
      if (!stream->Write(request)) break;
      v1::PushResponse response;
      if (!stream->Read(&response)) break;
      responses.push_back(response);
    }
    stream->WritesDone();
    grpc::Status s = stream->Finish();
    if (status != nullptr) {
      *status = s;
    } else {
      INFO(s.error_code() << " " << s.error_message());
      REQUIRE(s.ok());
    }
    return responses;
  }

  // One batch; returns its response.
  v1::PushResponse PushBatch(const std::string& device, const std::vector<v1::Mutation>& batch) {
    auto responses = Push(device, {batch});
    REQUIRE(responses.size() == 1);
    return responses[0];
  }

  // Pulls from `cursor` to the last page (or a resync answer).
  std::vector<v1::PullResponse> Pull(const std::string& device, const std::string& cursor,
                                     uint32_t page_size = 0, grpc::Status* status = nullptr) {
    auto ctx = DeviceContext(device);
    v1::PullRequest request;
    request.set_cursor(cursor);
    request.set_page_size(page_size);
    auto reader = sync->Pull(ctx.get(), request);
    std::vector<v1::PullResponse> responses;
    v1::PullResponse response;
    while (reader->Read(&response)) responses.push_back(response);
    grpc::Status s = reader->Finish();
    if (status != nullptr) {
      *status = s;
    } else {
      INFO(s.error_code() << " " << s.error_message());
      REQUIRE(s.ok());
    }
    return responses;
  }

  v1::TicketLease Lease(const std::string& device, uint32_t count) {
    v1::TicketLease lease;
    grpc::Status s = TryLease(device, count, &lease);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return lease;
  }

  // Lease without assertions, safe on any thread.
  grpc::Status TryLease(const std::string& device, uint32_t count, v1::TicketLease* lease) {
    auto ctx = DeviceContext(device);
    v1::LeaseTicketNumbersRequest request;
    request.set_count(count);
    v1::LeaseTicketNumbersResponse response;
    grpc::Status s = sync->LeaseTicketNumbers(ctx.get(), request, &response);
    *lease = response.lease();
    return s;
  }

  v1::CaseDetail GetCase(const std::string& ref) {
    grpc::ClientContext ctx;
    v1::GetCaseRequest request;
    request.set_case_ref(ref);
    v1::CaseDetail detail;
    grpc::Status s = admin->GetCase(&ctx, request, &detail);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return detail;
  }
};

// An in-process palm-server on 127.0.0.1 with a fresh data dir.
struct TestServer {
  explicit TestServer(const std::string& data_dir = "", int64_t max_clock_skew_ms = -1,
                      bool new_epoch = false) {
    config.listen = "127.0.0.1:0";
    config.insecure_loopback = true;
    config.data_dir = data_dir.empty() ? dir.File("data") : data_dir;
    config.log_level = "error";
    config.new_epoch = new_epoch;
    if (max_clock_skew_ms >= 0) config.max_clock_skew_ms = max_clock_skew_ms;
    auto started = palm::server::PalmServer::Start(config);
    INFO(started.status().ToString());
    REQUIRE(started.ok());
    server = std::move(*started);
  }
  ~TestServer() {
    if (server) server->Shutdown(std::chrono::milliseconds(2000));
  }

  std::string address() const { return server->address(); }

  TempDir dir;
  palm::server::ServerConfig config;
  std::unique_ptr<palm::server::PalmServer> server;
};

// --- Mutation builders. ------------------------------------------------------

// A mutation of `device` with sequence `seq` by `officer`, stamped now.
inline v1::Mutation NewMutation(const std::string& device, uint64_t seq,
                                const std::string& officer = kOfficerA1, int64_t hlc_wall_ms = 0) {
  v1::Mutation m;
  m.set_mutation_id(sync::NewUuidV7());
  m.set_device_id(device);
  m.set_device_seq(seq);
  m.mutable_hlc()->set_wall_ms(hlc_wall_ms > 0 ? hlc_wall_ms : sync::SystemNowMs());
  m.set_officer_id(officer);
  return m;
}

inline v1::Party Citizen(const std::string& party_id, const std::string& id_number) {
  v1::Party p;
  p.set_party_id(party_id);
  p.set_kind(v1::PARTY_KIND_CITIZEN);
  p.set_name("张三");
  p.set_id_number(id_number);
  return p;
}

// The two credentialed officers of `town` in SetUpOrganisation.
inline std::vector<std::string> SwornOfficersOf(const std::string& town) {
  if (town == kTownB) return {kOfficerB1, kOfficerB2};
  return {kOfficerA1, kOfficerA2};
}

// RecordCase of a new summary-procedure case in `town` (case id returned in
// *case_id when given), recorded by `officer` with the town's two
// credentialed officers (Art. 55).
inline v1::Mutation RecordCase(const std::string& device, uint64_t seq,
                               std::string* case_id = nullptr,
                               const std::string& officer = kOfficerA1,
                               const std::string& town = kTownA,
                               v1::Procedure procedure = v1::PROCEDURE_SUMMARY,
                               const std::string& matter = kFastMatter) {
  v1::Mutation m = NewMutation(device, seq, officer);
  v1::Case* c = m.mutable_record_case()->mutable_case_();
  c->set_case_id(sync::NewUuidV7());
  c->set_matter_code(matter);
  c->set_procedure(procedure);
  c->set_state(procedure == v1::PROCEDURE_SUMMARY ? v1::CASE_STATE_ISSUED
                                                  : v1::CASE_STATE_REGISTERED);
  c->set_town_id(town);
  c->set_description("street stall on the pavement");
  c->mutable_place()->set_address("1 Main Street");
  c->set_occurred_at_ms(sync::SystemNowMs());
  c->add_officer_ids(officer);
  for (const std::string& sworn : SwornOfficersOf(town)) {
    if (sworn != officer) c->add_officer_ids(sworn);
  }
  *c->add_parties() = Citizen("party-1", "33010219900101123X");
  if (case_id != nullptr) *case_id = c->case_id();
  return m;
}

inline v1::Mutation UpdateField(const std::string& device, uint64_t seq, const std::string& case_id,
                                v1::CaseField field, const std::string& value,
                                int64_t hlc_wall_ms = 0, const std::string& officer = kOfficerA1) {
  v1::Mutation m = NewMutation(device, seq, officer, hlc_wall_ms);
  m.mutable_update_case_fields()->set_case_id(case_id);
  v1::CaseFieldChange* change = m.mutable_update_case_fields()->add_changes();
  change->set_field(field);
  change->set_value(value);
  return m;
}

inline v1::Mutation Transition(const std::string& device, uint64_t seq, const std::string& case_id,
                               v1::CaseState from, v1::CaseState to) {
  v1::Mutation m = NewMutation(device, seq);
  v1::TransitionCase* op = m.mutable_transition_case();
  op->set_case_id(case_id);
  op->set_from_state(from);
  op->set_to_state(to);
  return m;
}

inline v1::Mutation AppendNote(const std::string& device, uint64_t seq, const std::string& case_id,
                               const std::string& text = "note") {
  v1::Mutation m = NewMutation(device, seq);
  v1::CaseEvent* e = m.mutable_append_case_event()->mutable_event();
  e->set_event_id(sync::NewUuidV7());
  e->set_case_id(case_id);
  e->set_kind(v1::CASE_EVENT_KIND_NOTE);
  e->set_text(text);
  return m;
}

// The party waives statement and defence after the notice (Art. 45), so a
// decision need not wait for the notice's period.
inline v1::Mutation Waiver(const std::string& device, uint64_t seq, const std::string& case_id) {
  v1::Mutation m = AppendNote(device, seq, case_id, "当事人当场表示放弃陈述、申辩，笔录在卷");
  m.mutable_append_case_event()->mutable_event()->set_kind(v1::CASE_EVENT_KIND_STATEMENT_WAIVED);
  return m;
}

// A complete, lawful on-the-spot ticket (Art. 51–52) for party-1 of
// `case_id`, fine `fine_fen`, numbered `number`.
inline v1::Mutation IssueTicket(const std::string& device, uint64_t seq, const std::string& case_id,
                                int64_t number, int64_t fine_fen = 5000) {
  v1::Mutation m = NewMutation(device, seq);
  v1::Ticket* t = m.mutable_issue_ticket()->mutable_ticket();
  t->set_ticket_id(sync::NewUuidV7());
  t->set_case_id(case_id);
  t->set_ticket_number(number);
  t->set_matter_code(kFastMatter);
  t->set_party_id("party-1");
  t->set_party_kind(v1::PARTY_KIND_CITIZEN);
  t->set_violation("selling goods on the pavement");
  t->set_legal_basis("《城市市容和环境卫生管理条例》第十四条");
  t->set_penalty_basis("《城市市容和环境卫生管理条例》第三十六条");
  t->set_penalty(v1::PENALTY_KIND_FINE);
  t->set_fine_fen(fine_fen);
  t->set_issued_at_ms(sync::SystemNowMs());
  t->mutable_place()->set_address("1 Main Street");
  v1::Remedy* r = t->add_remedies();
  r->set_kind(v1::REMEDY_KIND_RECONSIDERATION);
  r->set_body("县人民政府");
  r->set_deadline_days(60);
  v1::Remedy* litigation = t->add_remedies();
  litigation->set_kind(v1::REMEDY_KIND_LITIGATION);
  litigation->set_body("县人民法院");
  litigation->set_deadline_months(6);
  t->set_agency("县综合行政执法局");
  t->add_officer_ids(kOfficerA1);
  t->add_officer_ids(kOfficerA2);
  t->set_party_signature(v1::PARTY_SIGNATURE_SIGNED);
  return m;
}

inline v1::Mutation RecordNoPenalty(const std::string& device, uint64_t seq,
                                    const std::string& case_id) {
  v1::Mutation m = NewMutation(device, seq);
  v1::NoPenaltyDecision* d = m.mutable_record_no_penalty()->mutable_decision();
  d->set_decision_id(sync::NewUuidV7());
  d->set_case_id(case_id);
  d->set_matter_code(kFastMatter);
  d->set_party_id("party-1");
  d->set_education_record("explained the rule; the stall was moved at once");
  d->add_officer_ids(kOfficerA1);
  d->add_officer_ids(kOfficerA2);
  d->set_decided_at_ms(m.hlc().wall_ms());
  d->set_ground(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM);
  d->mutable_correction()->set_what("the stall was moved off the pavement");
  d->mutable_correction()->set_corrected_at_ms(m.hlc().wall_ms());
  d->mutable_correction()->set_verified_by(kOfficerA2);
  return m;
}

// A case as large as the limits allow where the rules leave room: the
// longest description and address, the most parties, each with the longest
// name and address.
inline v1::Mutation LargestCase(const std::string& device, uint64_t seq,
                                std::string* case_id = nullptr) {
  v1::Mutation m = RecordCase(device, seq, case_id);
  v1::Case* c = m.mutable_record_case()->mutable_case_();
  c->set_description(std::string(4096, 'd'));
  c->mutable_place()->set_address(std::string(4096, 'a'));
  v1::Party party = c->parties(0);
  c->clear_parties();
  for (int i = 0; i < 20; ++i) {
    v1::Party* p = c->add_parties();
    *p = party;
    p->set_party_id("party-" + std::to_string(i + 1));
    p->set_name(std::string(256, 'n'));
    p->set_address(std::string(4096, 'a'));
  }
  return m;
}

// Today in the bureau's time zone (UTC+8), YYYY-MM-DD.
inline std::string BureauToday() {
  const time_t seconds = static_cast<time_t>(sync::SystemNowMs() / 1000 + 8 * 3600);
  struct tm parts;
  gmtime_r(&seconds, &parts);
  char text[16];
  strftime(text, sizeof text, "%Y-%m-%d", &parts);
  return text;
}

// Asserts that `r` was rejected with `reason` and exactly `message`.
// `r` is evaluated once.
#define REQUIRE_REJECTED(r, reason_, message_)                  \
  do {                                                          \
    const ::palm::v1::MutationResult& palm_r_ = (r);            \
    INFO("result: " << palm_r_.ShortDebugString());             \
    REQUIRE(palm_r_.outcome() == ::palm::v1::OUTCOME_REJECTED); \
    REQUIRE(::palm::v1::ReasonCode_Name(palm_r_.reason()) ==    \
            ::palm::v1::ReasonCode_Name(reason_));              \
    REQUIRE(palm_r_.message() == std::string(message_));        \
  } while (false)

#define REQUIRE_APPLIED(r)                                     \
  do {                                                         \
    const ::palm::v1::MutationResult& palm_r_ = (r);           \
    INFO("result: " << palm_r_.ShortDebugString());            \
    REQUIRE(palm_r_.outcome() == ::palm::v1::OUTCOME_APPLIED); \
  } while (false)

// A server with the organisation and one summary case of party-1 in town
// A (case_id, case_number), and a lease of 100 ticket numbers for dev-a1.
struct CaseFixture {
  CaseFixture() : client(server.address()) {
    client.SetUpOrganisation();
    auto r = client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
    REQUIRE_APPLIED(r.results(0));
    case_number = r.results(0).case_number();
    lease = client.Lease("dev-a1", 100);
  }
  v1::MutationResult PushOne(const v1::Mutation& m, const std::string& device = "dev-a1") {
    auto r = client.PushBatch(device, {m});
    REQUIRE(r.results_size() == 1);
    return r.results(0);
  }
  TestServer server;
  Client client;
  std::string case_id;
  std::string case_number;
  v1::TicketLease lease;
};

}  // namespace palm::testing

#endif  // PALM_TESTS_SERVER_SYNC_UTIL_H_
