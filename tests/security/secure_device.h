// Shared by the security tests that sync a device store: a county under
// mutual TLS (tests/security/bureau.h) with one enrolled handheld, one
// officer with a secret and the sample catalogue, and that handheld's
// palm::Client.
#ifndef PALM_TESTS_SECURITY_SECURE_DEVICE_H_
#define PALM_TESTS_SECURITY_SECURE_DEVICE_H_

#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "client-lib/src/client_internal.h"
#include "nlohmann/json.hpp"
#include "palm/client.h"
#include "palm/v1/admin.grpc.pb.h"
#include "palm/v1/auth.grpc.pb.h"
#include "security/bureau.h"
#include "server/sync_util.h"

namespace palm::security_test {

namespace v1 = palm::v1;

inline constexpr char kOfficer[] = "officer-a1";
inline constexpr char kPartner[] = "officer-a2";  // sworn, no secret
inline constexpr char kSecret[] = "2468-pin";

inline std::unique_ptr<grpc::ClientContext> WithToken(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

// A county under mutual TLS with one enrolled handheld "dev-a1" of town-a,
// one sworn officer with a secret and a second one without, both with
// credential numbers, and the sample catalogue; and the device
// store of that handheld.
struct SecureDevice {
  using ServerProcess = palm::testing::ServerProcess;
  Bureau bureau;
  std::unique_ptr<ServerProcess> server;
  std::shared_ptr<grpc::Channel> op;  // the admin's operator certificate
  pki::Credentials device;            // the handheld's certificate
  std::string admin_token;
  palm::testing::TempDir dir;
  std::string device_dir = dir.File("device");
  palm::ClientOptions options;
  std::unique_ptr<palm::Client> client;

  explicit SecureDevice(std::vector<std::string> server_flags = {}) {
    const std::string secret_file = bureau.dir.File("admin.secret");
    std::ofstream(secret_file) << "admin-pass-1\n";
    std::vector<std::string> args = bureau.ServerTlsArgs();
    args.insert(args.end(), {"--bootstrap-admin", "admin", "--bootstrap-secret-file", secret_file});
    args.insert(args.end(), server_flags.begin(), server_flags.end());
    server = std::make_unique<ServerProcess>(bureau.data_dir(), args);
    const std::string& ca_pem = bureau.ca.credentials.certificate_pem;
    auto op_creds = Must(pki::IssueOperatorCertificate(bureau.ca, {.name = "admin"}));
    op = TlsChannel(server->address(), ca_pem, &op_creds);
    {
      auto auth = v1::AuthService::NewStub(op);
      v1::SignInRequest request;
      request.set_officer_id("admin");
      request.set_secret("admin-pass-1");
      v1::SignInResponse response;
      REQUIRE(auth->SignIn(WithToken("").get(), request, &response).ok());
      admin_token = response.session().token();
    }
    auto admin = v1::AdminService::NewStub(op);
    device =
        Must(pki::IssueDeviceCertificate(bureau.ca, {.device_id = "dev-a1", .town_id = "town-a"}));
    REQUIRE(pki::WriteDeviceDirectory(device_dir, "dev-a1", device, ca_pem).ok());
    v1::EnrollDeviceRequest enroll;
    enroll.set_town_id("town-a");
    enroll.set_squad_id("squad-a1");
    enroll.set_certificate_pem(device.certificate_pem);
    v1::EnrollDeviceResponse enrolled;
    REQUIRE(admin->EnrollDevice(WithToken(admin_token).get(), enroll, &enrolled).ok());
    CHECK(enrolled.device().device_id() == "dev-a1");
    CHECK(enrolled.device().certificate_sha256() ==
          Must(pki::CertificateSha256(device.certificate_pem)));
    v1::AddOfficerRequest add;
    v1::Officer* o = add.mutable_officer();
    o->set_officer_id(kOfficer);
    o->set_name("张三");
    o->set_role(v1::ROLE_OFFICER);
    o->set_sworn(true);
    o->set_certificate_number(std::string("ZJ-") + kOfficer);
    o->set_town_id("town-a");
    o->set_squad_id("squad-a1");
    add.set_secret(kSecret);
    v1::AddOfficerResponse added;
    REQUIRE(admin->AddOfficer(WithToken(admin_token).get(), add, &added).ok());
    // The second credentialed officer a case record needs (Art. 55).
    o->set_officer_id(kPartner);
    o->set_name("李四");
    o->set_certificate_number(std::string("ZJ-") + kPartner);
    add.clear_secret();
    REQUIRE(admin->AddOfficer(WithToken(admin_token).get(), add, &added).ok());
    v1::LoadCatalogRequest catalog;
    *catalog.mutable_catalog() = palm::testing::SampleCatalog();
    v1::LoadCatalogResponse loaded;
    REQUIRE(admin->LoadCatalog(WithToken(admin_token).get(), catalog, &loaded).ok());

    std::filesystem::create_directories(dir.File("data"));
    options.db_path = dir.File("data") + "/palm.db";
    options.device_id = "dev-a1";
    options.key_provider = std::make_shared<palm::FileKeyProvider>(dir.File("keys"));
    Reopen();
  }

  // Opens the device store again, as the app does after a restart.
  void Reopen() {
    client.reset();
    auto opened = palm::Client::Open(options);
    INFO(opened.status().ToString());
    REQUIRE(opened.ok());
    client = std::move(*opened);
  }

  // The device's connection settings, as the app keeps them.
  palm::SyncOptions Connection() const {
    palm::SyncOptions sync;
    sync.server_address = server->address();
    sync.ca_cert_path = device_dir + "/" + pki::kCaCertFile;
    sync.client_cert_path = device_dir + "/" + pki::kDeviceCertFile;
    sync.client_key_path = device_dir + "/" + pki::kDeviceKeyFile;
    sync.tls_server_name = "localhost";
    return sync;
  }

  // The same, as the C API's connection JSON.
  std::string ConnectionJson() const {
    palm::SyncOptions c = Connection();
    return nlohmann::json{{"server_address", c.server_address},
                          {"ca_cert_path", c.ca_cert_path},
                          {"client_cert_path", c.client_cert_path},
                          {"client_key_path", c.client_key_path},
                          {"tls_server_name", c.tls_server_name}}
        .dump();
  }

  // The token the store keeps ("" when none).
  std::string KeptToken() {
    auto kept = palm::internal::ClientAccess::Store(*client).LoadSession();
    REQUIRE(kept.ok());
    return kept->has_value() ? (*kept)->session.token() : "";
  }

  // Signs `officer` in over the handheld's own channel and returns the
  // token, as a tool that handles sessions itself would.
  std::string RawSignIn(const std::string& officer, const std::string& secret) {
    auto auth = v1::AuthService::NewStub(
        TlsChannel(server->address(), bureau.ca.credentials.certificate_pem, &device));
    v1::SignInRequest request;
    request.set_officer_id(officer);
    request.set_secret(secret);
    v1::SignInResponse response;
    grpc::Status s = auth->SignIn(WithToken("").get(), request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return response.session().token();
  }

  void RevokeDevice() {
    auto admin = v1::AdminService::NewStub(op);
    v1::RevokeDeviceRequest request;
    request.set_device_id("dev-a1");
    request.set_reason("lost on patrol");
    v1::RevokeDeviceResponse response;
    REQUIRE(admin->RevokeDevice(WithToken(admin_token).get(), request, &response).ok());
  }
};

}  // namespace palm::security_test

#endif  // PALM_TESTS_SECURITY_SECURE_DEVICE_H_
