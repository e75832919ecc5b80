// Shared by the security tests: a bureau CA with server credentials in a
// temporary directory, a palm-server under mutual TLS on loopback, TLS
// clients, and the palmctl binary of this build.
#ifndef PALM_TESTS_SECURITY_BUREAU_H_
#define PALM_TESTS_SECURITY_BUREAU_H_

#include <sys/stat.h>

#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/pki/pki.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace palm::security_test {

// Unwraps a StatusOr in a test, failing with its status otherwise.
template <typename T>
T Must(absl::StatusOr<T> value) {
  INFO(value.status().ToString());
  REQUIRE(value.ok());
  return *std::move(value);
}

// palmctl of this build: <build>/tools/palmctl/palmctl next to
// <build>/server/palm-server.
inline std::string PalmctlBinary() {
  std::filesystem::path build =
      std::filesystem::path(palm::testing::PalmServerBinary()).parent_path().parent_path();
  std::string path = (build / "tools" / "palmctl" / "palmctl").string();
  INFO("palmctl is built by `ninja palmctl`; looked for " << path);
  REQUIRE(std::filesystem::exists(path));
  return path;
}

inline palm::testing::CommandResult Palmctl(std::vector<std::string> args) {
  args.insert(args.begin(), PalmctlBinary());
  return palm::testing::RunCommand(args);
}

// Permission bits of `path`.
inline int FileMode(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

// A bureau CA and server credentials, in memory and written under a temp dir:
// dir/ca (ca.key, ca.crt) and dir/server (server.key, server.crt, ca.crt).
struct Bureau {
  explicit Bureau(const std::string& bureau = "Test Bureau")
      : ca(Must(pki::CreateCertificateAuthority({.bureau = bureau}))),
        server(Must(pki::IssueServerCertificate(ca, {}))) {
    REQUIRE(pki::WriteCertificateAuthority(ca, ca_dir()).ok());
    REQUIRE(pki::WriteServerDirectory(server_dir(), server, ca.credentials.certificate_pem).ok());
  }

  std::string ca_dir() const { return dir.File("ca"); }
  std::string server_dir() const { return dir.File("server"); }
  std::string data_dir() const { return dir.File("data"); }

  // palm-server flags for mutual TLS with this bureau's material; gRPC's own
  // diagnostics (handshake failures) go to the log at debug level.
  std::vector<std::string> ServerTlsArgs() const {
    std::filesystem::path server(server_dir());
    return {"--tls-cert",  (server / pki::kServerCertFile).string(),
            "--tls-key",   (server / pki::kServerKeyFile).string(),
            "--client-ca", (server / pki::kCaCertFile).string(),
            "--log-level", "debug"};
  }

  pki::Credentials Device(const std::string& device_id, pki::Validity validity = {}) const {
    return Must(pki::IssueDeviceCertificate(
        ca, {.device_id = device_id, .town_id = "town-1", .validity = validity}));
  }

  palm::testing::TempDir dir;
  pki::CertificateAuthority ca;
  pki::Credentials server;
};

// A TLS channel to `address` that trusts `root_pem` and presents `client`
// (nothing when null).
inline std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address,
                                                 const std::string& root_pem,
                                                 const pki::Credentials* client) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = root_pem;
  if (client != nullptr) {
    options.pem_private_key = client->key_pem;
    options.pem_cert_chain = client->certificate_pem;
  }
  return grpc::CreateChannel(address, grpc::SslCredentials(options));
}

// The standard health check, with a deadline.
inline grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                                grpc::health::v1::HealthCheckResponse* response) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest request;
  return stub->Check(&context, request, response);
}

}  // namespace palm::security_test

#endif  // PALM_TESTS_SECURITY_BUREAU_H_
