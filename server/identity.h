// Who is calling. The one place that turns a call into a device identity:
// the security issue replaces its body with the identity of the mutual-TLS
// client certificate, and nothing else changes.
#ifndef PALM_SERVER_IDENTITY_H_
#define PALM_SERVER_IDENTITY_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "server/apply.h"
#include "server/store.h"

namespace palm::server {

// Metadata key naming the calling device, until certificates carry it.
inline constexpr char kDeviceIdMetadata[] = "x-palm-device-id";

// Returns the enrolled device making the call, with its town and squad.
// Never blocks (the store serves devices from memory), so it may run in a
// reaction. Fails with UNAUTHENTICATED "the call names no device ..." or
// "device X is not enrolled", or "device X was revoked: ..." (with
// REASON_DEVICE_REVOKED).
absl::StatusOr<Caller> IdentifyCaller(const grpc::CallbackServerContext* ctx,
                                      const ServerStore& store);

}  // namespace palm::server

#endif  // PALM_SERVER_IDENTITY_H_
