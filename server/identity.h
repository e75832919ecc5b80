// Who is calling: the one place that turns a connection into an identity.
// With TLS the identity comes from the client certificate that the TLS
// handshake verified against the bureau CA (never from a request field):
// palm:device:<id> is a handheld, palm:operator:<name> a palmctl user. Only
// with --insecure-loopback (tests, development) is a device named by the
// `x-palm-device-id` metadata.
#ifndef PALM_SERVER_IDENTITY_H_
#define PALM_SERVER_IDENTITY_H_

#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "server/apply.h"
#include "server/store.h"

namespace palm::server {

// Metadata naming the calling device, honoured only in insecure-loopback mode.
inline constexpr char kDeviceIdMetadata[] = "x-palm-device-id";
// The operator a loopback caller without a device is taken for.
inline constexpr char kLoopbackOperator[] = "loopback";

// The verified party at the other end of the connection.
struct Principal {
  // Set for an enrolled, unrevoked handheld.
  std::optional<Caller> device;
  // Set for an operator certificate (or the loopback operator).
  std::string operator_name;

  // The device id, or "operator:NAME": what a session token is bound to.
  std::string name() const { return device ? device->device_id : "operator:" + operator_name; }
};

// Returns the caller of `ctx`. Never blocks (devices are served from the
// store's memory), so it may run in a reaction. With `tls`, fails with
// UNAUTHENTICATED when the peer is not verified, its certificate names
// neither a device nor an operator, the device is not enrolled, is revoked
// ("device X was revoked: REASON" with REASON_DEVICE_REVOKED) or presents a
// certificate other than the one it was (last) enrolled with.
absl::StatusOr<Principal> IdentifyPrincipal(const grpc::CallbackServerContext* ctx,
                                            const ServerStore& store, bool tls);

}  // namespace palm::server

#endif  // PALM_SERVER_IDENTITY_H_
