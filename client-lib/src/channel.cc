#include "client-lib/src/channel.h"

#include <arpa/inet.h>

#include <fstream>
#include <iterator>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "sync/status.h"

namespace palm::internal {
namespace {

constexpr char kDeviceIdMetadata[] = "x-palm-device-id";

absl::StatusOr<std::string> ReadPem(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("the ", what, " file ", path, " cannot be read"));
  }
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (pem.empty()) {
    return sync::InvalidArgument(palm::v1::REASON_INVALID_ARGUMENT,
                                 absl::StrCat("the ", what, " file ", path, " is empty"));
  }
  return pem;
}

grpc::ChannelArguments ChannelArgs() {
  grpc::ChannelArguments args;
  // Keepalive: a handheld moves between cells and Wi-Fi, and a dead TCP
  // connection can otherwise hang a stream until the deadline. Ping every
  // 60 s while a call is open, give up on the connection after 20 s without
  // an answer. No pings without calls: a sync is a short session, and the
  // server (gRPC's defaults: pings no closer than 5 min without data, two
  // strikes) would answer idle pings with GOAWAY "too_many_pings".
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Message size limits on both directions, matching the server's.
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // gRPC's transparent retries only (a call that never left this device);
  // on by default in this gRPC, set so that it does not depend on the
  // build. Every other retry is the sync's own (link.h: with backoff inside
  // the sync's deadline, resuming from what was kept, counted in the
  // report), so no service config retries a call a second time over.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  // Reconnection backoff: first retry after 0.5 s, then exponential up to
  // 10 s. A sync's own deadline bounds the wait; the defaults (1 s .. 120 s)
  // would let one bad moment eat a whole shift-end sync.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 10 * 1000);
  // Each Sync makes its own channel; do not share a subchannel (and its
  // backoff state) with an earlier, failed one.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return args;
}

}  // namespace

bool IsLoopbackAddress(absl::string_view address) {
  std::string host;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == absl::string_view::npos) return false;
    host = std::string(address.substr(1, close - 1));
  } else {
    size_t colon = address.rfind(':');
    host = std::string(colon == absl::string_view::npos ? address : address.substr(0, colon));
  }
  if (absl::AsciiStrToLower(host) == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

namespace {

// Adds `authorization: Bearer <token>` to every call of a TLS channel.
class BearerToken final : public grpc::MetadataCredentialsPlugin {
 public:
  explicit BearerToken(const std::string& token) : value_("Bearer " + token) {}
  grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
                           std::multimap<grpc::string, grpc::string>* metadata) override {
    metadata->insert({"authorization", value_});
    return grpc::Status::OK;
  }
  bool IsBlocking() const override { return false; }

 private:
  std::string value_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeSyncChannel(const SyncOptions& options) {
  auto invalid = [](const std::string& message) {
    return sync::InvalidArgument(palm::v1::REASON_INVALID_ARGUMENT, message);
  };
  if (options.server_address.empty()) return invalid("a server address (host:port) is required");
  const bool any_tls = !options.ca_cert_path.empty() || !options.client_cert_path.empty() ||
                       !options.client_key_path.empty();
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.insecure_loopback) {
    if (any_tls) return invalid("insecure_loopback cannot be combined with TLS files");
    if (!IsLoopbackAddress(options.server_address)) {
      return invalid(absl::StrCat("insecure_loopback only talks to a loopback address, not ",
                                  options.server_address, "; give the TLS files"));
    }
    credentials = grpc::InsecureChannelCredentials();
  } else {
    if (options.ca_cert_path.empty()) {
      return invalid(
          "TLS needs the CA certificate (ca_cert_path); plaintext is for loopback tests only");
    }
    if (options.client_cert_path.empty() != options.client_key_path.empty()) {
      return invalid("give both the client certificate and its key, or neither");
    }
    grpc::SslCredentialsOptions ssl;
    auto ca = ReadPem("CA certificate", options.ca_cert_path);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = std::move(*ca);
    if (!options.client_cert_path.empty()) {
      auto cert = ReadPem("client certificate", options.client_cert_path);
      if (!cert.ok()) return cert.status();
      auto key = ReadPem("client key", options.client_key_path);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = std::move(*cert);
      ssl.pem_private_key = std::move(*key);
    }
    credentials = grpc::SslCredentials(ssl);
    if (!options.session_token.empty()) {
      // Security (issue 5): the officer session rides on every call.
      credentials = grpc::CompositeChannelCredentials(
          credentials, grpc::MetadataCredentialsFromPlugin(
                           std::make_unique<BearerToken>(options.session_token)));
    }
  }
  grpc::ChannelArguments args = ChannelArgs();
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::CreateCustomChannel(options.server_address, credentials, args);
}

void PrepareCall(grpc::ClientContext* ctx, const std::string& device_id,
                 std::chrono::system_clock::time_point deadline) {
  ctx->AddMetadata(kDeviceIdMetadata, device_id);
  if (deadline != std::chrono::system_clock::time_point::max()) ctx->set_deadline(deadline);
}

}  // namespace palm::internal
