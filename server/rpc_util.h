// Small helpers shared by the palm.v1 service implementations: status
// conversion and running a unary call's work on the store's threads.
#ifndef PALM_SERVER_RPC_UTIL_H_
#define PALM_SERVER_RPC_UTIL_H_

#include <functional>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "server/store.h"

namespace palm::server {

// Converts `status` to a gRPC status with the same code and message. When
// the status carries a palm.v1.ReasonCode (sync::Refuse), the message ends in
// " [REASON_NAME]", e.g. "... is not enrolled [REASON_DEVICE_REVOKED]"
// (docs/protocol.md).
grpc::Status ToGrpc(const absl::Status& status);

// Runs `work` in a read transaction on a reader thread and finishes the
// unary call with its status. The response object `work` fills must live
// until Finish (gRPC's own response object does). Returns the reactor.
grpc::ServerUnaryReactor* FinishAfterRead(grpc::CallbackServerContext* ctx, ServerStore* store,
                                          ServerStore::ReadWork work);

// Same, for work that writes: it runs on the writer thread and the call
// finishes once the transaction is durable.
grpc::ServerUnaryReactor* FinishAfterWrite(grpc::CallbackServerContext* ctx, ServerStore* store,
                                           ServerStore::WriteWork work);

// Finishes the unary call at once with `status` (a request refused before
// any store work).
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& status);

}  // namespace palm::server

#endif  // PALM_SERVER_RPC_UTIL_H_
