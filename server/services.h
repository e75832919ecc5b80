// The palm.v1 gRPC services, all on the callback API. Reactions never block:
// store work runs on the store's own threads.
#ifndef PALM_SERVER_SERVICES_H_
#define PALM_SERVER_SERVICES_H_

#include <memory>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include "server/apply.h"
#include "server/audit_checkpoint.h"
#include "server/auth_sessions.h"
#include "server/auth_token.h"
#include "server/config.h"
#include "server/store.h"

namespace palm::server {

// Largest request or response message the server accepts or sends. A larger
// message is refused by gRPC itself with RESOURCE_EXHAUSTED.
inline constexpr int kMaxMessageBytes = 8 * 1024 * 1024;

// Closest spacing of client keepalive pings the server accepts on a
// connection without data (GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS);
// handhelds ping every 60 s during a call (client-lib/src/channel.cc).
inline constexpr int kMinClientPingIntervalMs = 30 * 1000;

// Everything the services share. Outlives every service.
struct ServiceContext {
  const ServerConfig* config = nullptr;
  ServerStore* store = nullptr;
  // The catalogue's matters, cached for the writer thread; MakeServices
  // creates it when unset.
  std::shared_ptr<MatterCache> matters;
  // Security (issue 5): signs and verifies session tokens (server.cc opens
  // it from the data dir), and the PEM of --client-ca (empty without TLS).
  std::shared_ptr<TokenSigner> signer;
  // Sessions ended before their expiry (server.cc loads it from the store).
  std::shared_ptr<EndedSessions> sessions;
  std::string client_ca_pem;
  // Signs audit checkpoints (issue 18); null when the key is unusable.
  std::shared_ptr<AuditCheckpointer> audit;
};

// Makes one instance of every palm.v1 service, ready to register.
std::vector<std::unique_ptr<grpc::Service>> MakeServices(ServiceContext* context);

// The implemented services (sync_service.cc, admin_service.cc,
// auth_service.cc).
std::unique_ptr<grpc::Service> MakeSyncService(ServiceContext* context);
std::unique_ptr<grpc::Service> MakeAuthService(ServiceContext* context);
std::unique_ptr<grpc::Service> MakeAdminService(ServiceContext* context);
// Evidence uploads, receipts and tree heads (evidence_service.cc, issue 6).
std::unique_ptr<grpc::Service> MakeEvidenceService(ServiceContext* context);

}  // namespace palm::server

#endif  // PALM_SERVER_SERVICES_H_
