#include "tools/palmctl/client_channel.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/pki/pki.h"

namespace palm::palmctl {
namespace {

// Long enough for a catalogue load over a slow link; a dead server fails far
// sooner (UNAVAILABLE, the channel does not wait for ready).
constexpr std::chrono::seconds kCallTimeout(30);

absl::StatusOr<std::string> ReadMaterial(const std::filesystem::path& dir, const char* name) {
  auto contents = pki::ReadFile((dir / name).string());
  if (!contents.ok() && absl::IsNotFound(contents.status())) {
    return absl::NotFoundError(absl::StrCat((dir / name).string(), " is missing"));
  }
  return contents;
}

// Why a call never reached the server, in words, from the status gRPC
// itself made; nullopt when the server answered.
std::optional<std::string> ConnectionProblem(const grpc::Status& status) {
  const std::string lower = absl::AsciiStrToLower(status.error_message());
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::StrCat("no answer within ", kCallTimeout.count(), " s");
  }
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return std::nullopt;
  if (absl::StrContains(lower, "connection refused")) {
    return "connection refused";
  }
  if (absl::StrContains(lower, "dns resolution failed") ||
      absl::StrContains(lower, "name or service not known")) {
    return "cannot resolve the host name";
  }
  if (absl::StrContains(lower, "handshake") || absl::StrContains(lower, "ssl") ||
      absl::StrContains(lower, "certificate")) {
    return "the TLS handshake failed (does --cert-dir hold a certificate of this server's bureau "
           "and its ca.crt?)";
  }
  if (absl::StrContains(lower, "failed to connect") || absl::StrContains(lower, "socket closed") ||
      absl::StrContains(lower, "connection reset") || absl::StrContains(lower, "timed out") ||
      absl::StrContains(lower, "unreachable")) {
    return status.error_message();
  }
  return std::nullopt;  // UNAVAILABLE from the server itself (shutting down)
}

}  // namespace

bool IsLoopbackTarget(absl::string_view server) {
  for (absl::string_view scheme : {"dns:///", "dns:", "ipv4:", "ipv6:"}) {
    if (absl::ConsumePrefix(&server, scheme)) break;
  }
  if (absl::StartsWith(server, "unix:") || absl::StartsWith(server, "unix-abstract:")) return true;
  std::string host;
  if (absl::StartsWith(server, "[")) {
    size_t close = server.find(']');
    if (close == absl::string_view::npos) return false;
    host = std::string(server.substr(1, close - 1));
  } else if (std::count(server.begin(), server.end(), ':') == 1) {
    host = std::string(server.substr(0, server.find(':')));
  } else {
    host = std::string(server);  // no port, or a bare IPv6 address
  }
  if (absl::AsciiStrToLower(host) == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeClientChannel(const GlobalOptions& global) {
  if (global.insecure) {
    if (!IsLoopbackTarget(global.server)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--insecure talks plaintext only to a loopback server, not ", global.server));
    }
    return grpc::CreateChannel(global.server, grpc::InsecureChannelCredentials());
  }
  if (global.cert_dir.empty()) {
    return absl::InvalidArgumentError(
        "give --cert-dir DIR with client.crt, client.key and ca.crt (see `palmctl operator "
        "cert`), or --insecure for a loopback server without TLS");
  }
  const std::filesystem::path dir(global.cert_dir);
  const bool device_dir = !std::filesystem::exists(dir / pki::kClientCertFile) &&
                          std::filesystem::exists(dir / pki::kDeviceCertFile);
  auto cert = ReadMaterial(dir, device_dir ? pki::kDeviceCertFile : pki::kClientCertFile);
  if (!cert.ok()) return cert.status();
  auto key = ReadMaterial(dir, device_dir ? pki::kDeviceKeyFile : pki::kClientKeyFile);
  if (!key.ok()) return key.status();
  auto ca = ReadMaterial(dir, pki::kCaCertFile);
  if (!ca.ok()) return ca.status();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = std::move(*ca);
  options.pem_private_key = std::move(*key);
  options.pem_cert_chain = std::move(*cert);
  return grpc::CreateChannel(global.server, grpc::SslCredentials(options));
}

void PrepareCall(const GlobalOptions& global, grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  if (std::string token = SessionToken(); !token.empty()) {
    context->AddMetadata("authorization", "Bearer " + token);
  }
}

std::string DefaultTokenFile() {
  if (const char* file = std::getenv(kTokenFileEnv); file != nullptr && *file != '\0') return file;
  const char* home = std::getenv("HOME");
  return (std::filesystem::path(home != nullptr ? home : ".") / ".palmctl" / "token").string();
}

std::string SessionToken() {
  if (const char* token = std::getenv(kTokenEnv); token != nullptr && *token != '\0') return token;
  std::ifstream in(DefaultTokenFile());
  std::string token;
  std::getline(in, token);
  return std::string(absl::StripAsciiWhitespace(token));
}

int FailRpc(const GlobalOptions& global, absl::string_view rpc, const grpc::Status& status) {
  const std::string& message = status.error_message();
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return Fail(absl::StrCat("the server does not support ", rpc, " yet"));
  }
  if (std::optional<std::string> why = ConnectionProblem(status)) {
    return Fail(absl::StrCat("cannot reach palm-server at ", global.server, ": ", *why));
  }
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED && rpc != "SignIn") {
    if (SessionToken().empty()) return Fail("not signed in: run palmctl auth login");
    if (absl::StrContains(message, "session")) {
      absl::string_view said = message;
      for (absl::string_view tail : {"; use the new token or sign in again", "; sign in again"}) {
        if (absl::ConsumeSuffix(&said, tail)) break;
      }
      return Fail(absl::StrCat(said, ": run palmctl auth login"));
    }
  }
  // gRPC's codes and absl's share their numbers (both follow google.rpc.Code).
  return Fail(absl::StrCat(
      rpc, " failed: ",
      absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())), ": ", message));
}

}  // namespace palm::palmctl
