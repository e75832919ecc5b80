#include "server/rpc_util.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "sync/status.h"

namespace palm::server {

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string message(status.message());
  const palm::v1::ReasonCode reason = sync::ReasonOf(status);
  if (reason != palm::v1::REASON_UNSPECIFIED) {
    absl::StrAppend(&message, " [", palm::v1::ReasonCode_Name(reason), "]");
  }
  // absl and gRPC share the canonical code numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message);
}

grpc::ServerUnaryReactor* FinishAfterRead(grpc::CallbackServerContext* ctx, ServerStore* store,
                                          ServerStore::ReadWork work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  store->SubmitRead(std::move(work), [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
  return reactor;
}

grpc::ServerUnaryReactor* FinishAfterWrite(grpc::CallbackServerContext* ctx, ServerStore* store,
                                           ServerStore::WriteWork work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  store->SubmitWrite(std::move(work), [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
  return reactor;
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

}  // namespace palm::server
