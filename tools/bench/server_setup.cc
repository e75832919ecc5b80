#include "tools/bench/server_setup.h"

#include <chrono>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client-lib/src/catalog_json.h"
#include "palm/v1/auth.grpc.pb.h"
#include "palm/v1/sync.grpc.pb.h"
#include "sync/hlc.h"
#include "sync/uuid.h"

namespace palm::bench {
namespace {

constexpr int kPushBatch = 2000;  // the server's limit per push batch

grpc::ChannelArguments OwnArguments() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(16 << 20);
  args.SetMaxSendMessageSize(16 << 20);
  return args;
}

absl::Status Check(const grpc::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.error_code(), " ", s.error_message()));
}

std::unique_ptr<grpc::ClientContext> ContextWith(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return ctx;
}

}  // namespace

std::shared_ptr<grpc::Channel> PlainChannel(const std::string& address) {
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), OwnArguments());
}

void DevicePushContext(grpc::ClientContext* ctx, const std::string& device_id) {
  ctx->AddMetadata("x-palm-device-id", device_id);
  ctx->set_wait_for_ready(true);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
}

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca_pem,
                                          const pki::Credentials& client) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca_pem;
  options.pem_private_key = client.key_pem;
  options.pem_cert_chain = client.certificate_pem;
  grpc::ChannelArguments args = OwnArguments();
  args.SetSslTargetNameOverride("localhost");
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(options), args);
}

absl::StatusOr<DevBureau> DevBureau::Create(const std::string& dir) {
  DevBureau bureau;
  bureau.dir = dir;
  auto ca = pki::CreateCertificateAuthority({.bureau = "Palm Bench Bureau"});
  if (!ca.ok()) return ca.status();
  bureau.ca = *std::move(ca);
  auto server = pki::IssueServerCertificate(bureau.ca, {});
  if (!server.ok()) return server.status();
  if (auto s = pki::WriteCertificateAuthority(bureau.ca, dir + "/ca"); !s.ok()) return s;
  if (auto s = pki::WriteServerDirectory(dir + "/server", *server,
                                         bureau.ca.credentials.certificate_pem);
      !s.ok()) {
    return s;
  }
  if (auto s = pki::WriteNewFile(dir + "/admin.secret", bureau.admin_secret + "\n", 0600);
      !s.ok()) {
    return s;
  }
  return bureau;
}

std::vector<std::string> DevBureau::ServerArgs() const {
  const std::string server = dir + "/server/";
  return {"--tls-cert",
          server + pki::kServerCertFile,
          "--tls-key",
          server + pki::kServerKeyFile,
          "--client-ca",
          server + pki::kCaCertFile,
          "--bootstrap-admin",
          admin_id,
          "--bootstrap-secret-file",
          dir + "/admin.secret"};
}

absl::StatusOr<pki::Credentials> DevBureau::Operator() const {
  return pki::IssueOperatorCertificate(ca, {.name = admin_id});
}

absl::StatusOr<pki::Credentials> DevBureau::Device(const std::string& device_id,
                                                   const std::string& town_id) const {
  return pki::IssueDeviceCertificate(ca, {.device_id = device_id, .town_id = town_id});
}

AdminClient::AdminClient(std::shared_ptr<grpc::Channel> channel, std::string token)
    : stub_(v1::AdminService::NewStub(std::move(channel))), token_(std::move(token)) {}

std::unique_ptr<grpc::ClientContext> AdminClient::Context() const { return ContextWith(token_); }

absl::Status AdminClient::LoadCatalog(const v1::Catalog& catalog) {
  v1::LoadCatalogRequest request;
  *request.mutable_catalog() = catalog;
  v1::LoadCatalogResponse response;
  return Check(stub_->LoadCatalog(Context().get(), request, &response), "LoadCatalog");
}

absl::Status AdminClient::EnrollDevice(const std::string& device_id, const std::string& town,
                                       const std::string& squad,
                                       const std::string& certificate_pem) {
  v1::EnrollDeviceRequest request;
  if (certificate_pem.empty()) {
    request.set_device_id(device_id);
  } else {
    request.set_certificate_pem(certificate_pem);
  }
  request.set_town_id(town);
  request.set_squad_id(squad);
  v1::EnrollDeviceResponse response;
  return Check(stub_->EnrollDevice(Context().get(), request, &response),
               "EnrollDevice " + device_id);
}

absl::Status AdminClient::AddOfficer(const std::string& officer_id, const std::string& town,
                                     const std::string& squad, bool sworn,
                                     const std::string& secret) {
  v1::AddOfficerRequest request;
  v1::Officer* o = request.mutable_officer();
  o->set_officer_id(officer_id);
  o->set_name(officer_id);
  o->set_role(sworn ? v1::ROLE_OFFICER : v1::ROLE_AUXILIARY);
  o->set_sworn(sworn);
  if (sworn) o->set_certificate_number("ZJ-" + officer_id);
  o->set_town_id(town);
  o->set_squad_id(squad);
  request.set_secret(secret);
  v1::AddOfficerResponse response;
  return Check(stub_->AddOfficer(Context().get(), request, &response), "AddOfficer " + officer_id);
}

absl::StatusOr<std::string> SignIn(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& officer_id, const std::string& secret) {
  auto auth = v1::AuthService::NewStub(channel);
  v1::SignInRequest request;
  request.set_officer_id(officer_id);
  request.set_secret(secret);
  v1::SignInResponse response;
  if (auto s =
          Check(auth->SignIn(ContextWith("").get(), request, &response), "SignIn " + officer_id);
      !s.ok()) {
    return s;
  }
  return response.session().token();
}

absl::StatusOr<v1::Catalog> CatalogFromFile(const std::string& path) {
  return internal::LoadCatalogFile(path);
}

absl::Status PushCases(const std::string& address, const std::string& device_id,
                       const std::string& officer_id, const std::string& town,
                       const std::string& matter, int64_t count) {
  auto stub = v1::SyncService::NewStub(PlainChannel(address));
  grpc::ClientContext ctx;
  DevicePushContext(&ctx, device_id);
  auto stream = stub->Push(&ctx);
  sync::HybridClock clock;
  int64_t applied = 0;
  int64_t seq = 0;
  while (seq < count) {
    v1::PushRequest request;
    for (int i = 0; i < kPushBatch && seq < count; ++i) {
      ++seq;
      v1::Mutation* m = request.add_mutations();
      m->set_mutation_id(sync::NewUuidV7());
      m->set_device_id(device_id);
      m->set_device_seq(seq);
      *m->mutable_hlc() = clock.Now().ToProto();
      m->set_officer_id(officer_id);
      v1::Case* c = m->mutable_record_case()->mutable_case_();
      c->set_case_id(sync::NewUuidV7());
      c->set_matter_code(matter);
      c->set_procedure(v1::PROCEDURE_SUMMARY);
      c->set_state(v1::CASE_STATE_ISSUED);
      c->set_town_id(town);
      c->set_description(absl::StrCat("占道经营，当场责令改正（", device_id, " #", seq, "）"));
      c->mutable_place()->set_address("梧桐街道庆丰路 88 号");
      c->mutable_place()->mutable_location()->set_latitude(30.63);
      c->mutable_place()->mutable_location()->set_longitude(120.56);
      c->set_occurred_at_ms(sync::SystemNowMs());
      c->add_officer_ids(officer_id);
      c->add_officer_ids(kPartnerOfficer);  // the second credentialed officer (Art. 55)
      v1::Party* p = c->add_parties();
      p->set_party_id("party-1");
      p->set_kind(v1::PARTY_KIND_CITIZEN);
      p->set_name("张三");
      p->set_id_number(absl::StrCat("3304831990", 10000000 + seq % 90000000));
    }
    if (!stream->Write(request)) break;
    v1::PushResponse response;
    if (!stream->Read(&response)) break;
    for (const auto& r : response.results()) {
      if (r.outcome() == v1::OUTCOME_APPLIED) {
        ++applied;
      } else {
        stream->WritesDone();
        (void)stream->Finish();
        return absl::InternalError(absl::StrCat("seeding ", device_id, ": mutation ",
                                                r.device_seq(), " came back ", r.outcome(), " ",
                                                r.message()));
      }
    }
  }
  stream->WritesDone();
  if (auto s = Check(stream->Finish(), "Push " + device_id); !s.ok()) return s;
  if (applied != count) {
    return absl::InternalError(
        absl::StrCat("seeding ", device_id, ": ", applied, " of ", count, " applied"));
  }
  return absl::OkStatus();
}

}  // namespace palm::bench
