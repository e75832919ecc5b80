// Mutual TLS against a real palm-server on 127.0.0.1: only clients holding a
// current certificate from the bureau CA get in.
#include <catch2/catch.hpp>
#include <chrono>

#include "security/bureau.h"

using palm::security_test::Bureau;
using palm::security_test::HealthCheck;
using palm::security_test::Must;
using palm::security_test::TlsChannel;
using palm::testing::ServerProcess;
namespace pki = palm::pki;

namespace {

using std::chrono::hours;
using std::chrono::system_clock;

// A bureau and a palm-server that requires its client certificates.
struct TlsServer {
  Bureau bureau;
  ServerProcess server{bureau.data_dir(), bureau.ServerTlsArgs()};

  const std::string& ca_pem() const { return bureau.ca.credentials.certificate_pem; }

  // A health check presenting `client` (none when null) and trusting `root`.
  grpc::Status Check(const pki::Credentials* client, const std::string& root,
                     grpc::health::v1::HealthCheckResponse* response) {
    return HealthCheck(TlsChannel(server.address(), root, client), response);
  }
};

// The call failed the way a refused TLS handshake fails.
void RequireRefused(const grpc::Status& status) {
  INFO("status " << status.error_code() << ": " << status.error_message());
  REQUIRE(status.error_code() == grpc::StatusCode::UNAVAILABLE);
}

// The server's log, at debug level, records gRPC's handshake failure. Each
// gRPC logs "Handshake failed with fatal error ..." whatever the reason.
void RequireHandshakeFailureLogged(const ServerProcess& server) {
  std::string log = server.Log();
  INFO("server log:\n" << log);
  CHECK(absl::StrContains(log, "Handshake failed"));
}

}  // namespace

TEST_CASE("a device certificate from the bureau CA connects over mutual TLS") {
  TlsServer tls;
  pki::Credentials device = tls.bureau.Device("0190f3a2-7c4e-7b21-9a3d-5e6f7a8b9c0d");
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = tls.Check(&device, tls.ca_pem(), &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(response.status() == grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_CASE("an operator certificate from the bureau CA connects over mutual TLS") {
  TlsServer tls;
  auto op = Must(pki::IssueOperatorCertificate(tls.bureau.ca, {.name = "admin"}));
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = tls.Check(&op, tls.ca_pem(), &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(response.status() == grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_CASE("a client certificate from another CA is refused") {
  TlsServer tls;
  Bureau other("Other Bureau");
  pki::Credentials stranger = other.Device("stranger");
  grpc::health::v1::HealthCheckResponse response;
  RequireRefused(tls.Check(&stranger, tls.ca_pem(), &response));
  RequireHandshakeFailureLogged(tls.server);
}

TEST_CASE("an expired device certificate is refused") {
  TlsServer tls;
  auto now = system_clock::now();
  pki::Credentials expired =
      tls.bureau.Device("expired", {.not_before = now - hours(48), .not_after = now - hours(24)});
  grpc::health::v1::HealthCheckResponse response;
  RequireRefused(tls.Check(&expired, tls.ca_pem(), &response));
  RequireHandshakeFailureLogged(tls.server);
}

TEST_CASE("a client without a certificate is refused") {
  TlsServer tls;
  grpc::health::v1::HealthCheckResponse response;
  RequireRefused(tls.Check(nullptr, tls.ca_pem(), &response));
  RequireHandshakeFailureLogged(tls.server);
}

TEST_CASE("a client that does not trust the bureau CA refuses the server") {
  TlsServer tls;
  Bureau other("Other Bureau");
  pki::Credentials device = tls.bureau.Device("d1");
  grpc::health::v1::HealthCheckResponse response;
  RequireRefused(tls.Check(&device, other.ca.credentials.certificate_pem, &response));
}
