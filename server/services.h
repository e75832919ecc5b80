// The palm.v1 gRPC services, all on the callback API. Reactions never block:
// store work runs on the store's own threads.
#ifndef PALM_SERVER_SERVICES_H_
#define PALM_SERVER_SERVICES_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "palm/v1/evidence.pb.h"
#include "palm/v1/sync.pb.h"

#include "server/apply.h"
#include "server/audit_checkpoint.h"
#include "server/auth_sessions.h"
#include "server/auth_token.h"
#include "server/config.h"
#include "server/numbering.h"
#include "server/store.h"
#include "sync/ed25519.h"
#include "sync/party_key.h"

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
  // The ticket-number fence and lease signatures (issue 18); server.cc
  // opens it from the data dir. Null in harnesses that lease nothing.
  std::shared_ptr<Numbering> numbering;
  // The evidence log's origin now, and every transition across restores
  // this data dir's server made (server/log_lineage.h); server.cc sets them.
  // An empty origin means config->log_origin.
  std::string log_origin;
  std::vector<palm::v1::LogTransition> log_lineage;
  // The evidence log's key, which signs tree heads, log transitions, leases,
  // case-number seals and audit checkpoints: server.cc loads it once from
  // <data dir>/evidence/log_key.pem. Null when it is unusable, with the
  // reason in log_key_status (EvidenceService then refuses what needs it).
  sync::UniqueEvpPkey log_key;
  absl::Status log_key_status = absl::FailedPreconditionError("no evidence log key was loaded");
  // The bureau's party-key secret (server/party_secret.h); server.cc opens
  // it from the data dir. Unset in harnesses (legacy keys, none handed out).
  std::optional<sync::PartyKeySecret> party_key;
};

// How this server applies mutations (its config and number fence).
ApplyOptions OptionsOf(const ServiceContext& context);

// A request message as read off the wire. gRPC's own parse failure answers
// UNIMPLEMENTED with an empty message (and ends a stream read as if the
// client had closed), so every palm.v1 RPC reads its requests as Checked<T>:
// the bytes are parsed here, and a failure is kept for the service to answer
// INVALID_ARGUMENT (docs/protocol.md, "Bad input").
template <class T>
struct Checked {
  T message;
  bool parsed = false;
  // The bytes, kept only when they did not parse (to name the field).
  std::string unparsed;
};

// OK when `request` parsed and passes sync::CheckMessage (no unknown enum
// value, every string UTF-8, every limit of sync/limits.h kept); otherwise
// INVALID_ARGUMENT naming the RPC `rpc` ("SyncService.Push") and the field.
absl::Status CheckRequest(const std::string& rpc, const google::protobuf::Message& message,
                          bool parsed, const std::string& unparsed);
template <class T>
absl::Status CheckRequest(const std::string& rpc, const Checked<T>& request) {
  return CheckRequest(rpc, request.message, request.parsed, request.unparsed);
}

// Makes one instance of every palm.v1 service, ready to register: every RPC
// of every service reads Checked requests (services.cc has the table). Fails
// when an RPC of a palm.v1 service has no handler (the server then refuses to
// start rather than answer UNIMPLEMENTED).
absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> MakeServices(ServiceContext* context);

// The implemented services (sync_service.cc, admin_service.cc,
// auth_service.cc).
std::unique_ptr<grpc::Service> MakeSyncService(ServiceContext* context);
std::unique_ptr<grpc::Service> MakeAuthService(ServiceContext* context);
std::unique_ptr<grpc::Service> MakeAdminService(ServiceContext* context);
// Evidence uploads, receipts and tree heads (evidence_service.cc, issue 6).
std::unique_ptr<grpc::Service> MakeEvidenceService(ServiceContext* context);

// The streams whose messages are read one by one (a failed parse of any
// message ends the stream INVALID_ARGUMENT): made by sync_service.cc and
// evidence_service.cc for the table in services.cc. `evidence` is the
// service MakeEvidenceService made.
grpc::ServerBidiReactor<Checked<palm::v1::PushRequest>, palm::v1::PushResponse>* StartPush(
    ServiceContext* context, grpc::CallbackServerContext* ctx);
grpc::ServerReadReactor<Checked<palm::v1::UploadChunk>>* StartUpload(
    grpc::Service* evidence, grpc::CallbackServerContext* ctx, palm::v1::UploadResponse* response);

}  // namespace palm::server

namespace grpc {

// Reads a Checked<T>: never fails, records whether the bytes parsed as T.
template <class T>
class SerializationTraits<palm::server::Checked<T>, void> {
 public:
  static Status Serialize(const palm::server::Checked<T>& msg, ByteBuffer* bb, bool* own_buffer) {
    return SerializationTraits<T>::Serialize(msg.message, bb, own_buffer);
  }
  static Status Deserialize(ByteBuffer* buffer, palm::server::Checked<T>* msg) {
    msg->unparsed.clear();
    if (buffer == nullptr) {
      msg->parsed = false;
      return Status::OK;
    }
    {
      ProtoBufferReader reader(buffer);
      msg->parsed = reader.status().ok() && msg->message.ParseFromZeroCopyStream(&reader);
    }
    if (!msg->parsed) {
      std::vector<Slice> slices;
      if (buffer->Dump(&slices).ok()) {
        for (const Slice& slice : slices) {
          msg->unparsed.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
        }
      }
    }
    buffer->Clear();
    return Status::OK;
  }
};

}  // namespace grpc

#endif  // PALM_SERVER_SERVICES_H_
