#include "server/identity.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "sync/status.h"

namespace palm::server {

absl::StatusOr<Caller> IdentifyCaller(const grpc::CallbackServerContext* ctx,
                                      const ServerStore& store) {
  const auto& metadata = ctx->client_metadata();
  auto it = metadata.find(kDeviceIdMetadata);
  if (it == metadata.end() || it->second.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("the call names no device (metadata ", kDeviceIdMetadata, ")"));
  }
  const std::string device_id(it->second.data(), it->second.size());
  std::optional<palm::v1::Device> device = store.LookupDevice(device_id);
  if (!device) {
    return absl::UnauthenticatedError(absl::StrCat("device ", device_id, " is not enrolled"));
  }
  if (device->revoked()) {
    return sync::Refuse(
        absl::StatusCode::kUnauthenticated, palm::v1::REASON_DEVICE_REVOKED,
        absl::StrCat("device ", device_id, " was revoked: ", device->revoke_reason()));
  }
  return Caller{device->device_id(), device->town_id(), device->squad_id()};
}

}  // namespace palm::server
