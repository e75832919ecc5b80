// The device library syncing with palm-server under mutual TLS: the device
// certificate names the device and the officer's session token rides on
// every call (SyncOptions::session_token).
#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "palm/client.h"
#include "palm/v1/admin.grpc.pb.h"
#include "palm/v1/auth.grpc.pb.h"
#include "security/bureau.h"
#include "server/sync_util.h"

namespace {

namespace v1 = palm::v1;
namespace pki = palm::pki;
using palm::security_test::Bureau;
using palm::security_test::Must;
using palm::security_test::TlsChannel;
using palm::testing::ServerProcess;

std::unique_ptr<grpc::ClientContext> WithToken(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

std::string SignIn(const std::shared_ptr<grpc::Channel>& channel, const std::string& officer,
                   const std::string& secret) {
  auto auth = v1::AuthService::NewStub(channel);
  v1::SignInRequest request;
  request.set_officer_id(officer);
  request.set_secret(secret);
  v1::SignInResponse response;
  grpc::Status s = auth->SignIn(WithToken("").get(), request, &response);
  INFO(s.error_message());
  REQUIRE(s.ok());
  return response.session().token();
}

}  // namespace

TEST_CASE("a device syncs over mutual TLS with its officer's session token, and not without") {
  Bureau bureau;
  const std::string secret_file = bureau.dir.File("admin.secret");
  std::ofstream(secret_file) << "admin-pass-1\n";
  std::vector<std::string> args = bureau.ServerTlsArgs();
  args.insert(args.end(), {"--bootstrap-admin", "admin", "--bootstrap-secret-file", secret_file});
  ServerProcess server(bureau.data_dir(), args);
  const std::string& ca_pem = bureau.ca.credentials.certificate_pem;

  // The admin sets up the town, the officer and the device.
  auto op_creds = Must(pki::IssueOperatorCertificate(bureau.ca, {.name = "admin"}));
  auto op = TlsChannel(server.address(), ca_pem, &op_creds);
  const std::string admin = SignIn(op, "admin", "admin-pass-1");
  auto stub = v1::AdminService::NewStub(op);
  auto device =
      Must(pki::IssueDeviceCertificate(bureau.ca, {.device_id = "dev-a1", .town_id = "town-a"}));
  const std::string device_dir = bureau.dir.File("device");
  REQUIRE(pki::WriteDeviceDirectory(device_dir, "dev-a1", device, ca_pem).ok());
  {
    v1::EnrollDeviceRequest request;
    request.set_town_id("town-a");
    request.set_squad_id("squad-a1");
    request.set_certificate_pem(device.certificate_pem);
    v1::EnrollDeviceResponse response;
    grpc::Status s = stub->EnrollDevice(WithToken(admin).get(), request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
    CHECK(response.device().device_id() == "dev-a1");
    CHECK(response.device().certificate_sha256() ==
          Must(pki::CertificateSha256(device.certificate_pem)));
  }
  {
    v1::AddOfficerRequest request;
    v1::Officer* o = request.mutable_officer();
    o->set_officer_id("officer-a1");
    o->set_role(v1::ROLE_OFFICER);
    o->set_sworn(true);
    o->set_town_id("town-a");
    o->set_squad_id("squad-a1");
    request.set_secret("2468");
    v1::AddOfficerResponse response;
    REQUIRE(stub->AddOfficer(WithToken(admin).get(), request, &response).ok());
    v1::LoadCatalogRequest catalog;
    *catalog.mutable_catalog() = palm::testing::SampleCatalog();
    v1::LoadCatalogResponse loaded;
    REQUIRE(stub->LoadCatalog(WithToken(admin).get(), catalog, &loaded).ok());
  }

  // The officer signs in on the device (the app would do this).
  const std::string token =
      SignIn(TlsChannel(server.address(), ca_pem, &device), "officer-a1", "2468");

  palm::testing::TempDir dir;
  std::filesystem::create_directories(dir.File("data"));
  palm::ClientOptions options;
  options.db_path = dir.File("data") + "/palm.db";
  options.device_id = "dev-a1";
  options.key_provider = std::make_shared<palm::FileKeyProvider>(dir.File("keys"));
  auto client = palm::Client::Open(options);
  REQUIRE(client.ok());

  palm::SyncOptions sync;
  sync.server_address = server.address();
  sync.ca_cert_path = device_dir + "/" + pki::kCaCertFile;
  sync.client_cert_path = device_dir + "/" + pki::kDeviceCertFile;
  sync.client_key_path = device_dir + "/" + pki::kDeviceKeyFile;
  sync.tls_server_name = "localhost";
  auto refused = (*client)->Sync(sync);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == palm::StatusCode::kUnauthenticated);
  CHECK(refused.status().reason() == "sign_in_required");
  CHECK_THAT(refused.status().message(), Catch::Contains("sign in online"));

  sync.session_token = token;
  auto synced = (*client)->Sync(sync);
  INFO(synced.status().ToString());
  REQUIRE(synced.ok());
}
