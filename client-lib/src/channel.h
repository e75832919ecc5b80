// The gRPC channel a sync talks over, and the one place a call is given the
// device's identity. Internal to client-lib.
#ifndef PALM_CLIENT_CHANNEL_H_
#define PALM_CLIENT_CHANNEL_H_

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "palm/client.h"

namespace palm::internal {

// Largest message either way. The server accepts 8 MiB (server/services.h);
// push batches are cut well below it and pull pages are budgeted at 2 MiB.
inline constexpr int kMaxMessageBytes = 8 * 1024 * 1024;

// Returns true when `address` ("host:port", "[v6]:port") names a loopback
// host: 127.0.0.0/8, ::1 or localhost.
bool IsLoopbackAddress(absl::string_view address);

// Builds the channel for `options`: mutual TLS from the PEM files, or
// plaintext when options.insecure_loopback (refused for a non-loopback
// address). INVALID_ARGUMENT for unusable options, NOT_FOUND for a TLS file
// that cannot be read. Channel arguments are documented in channel.cc.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeSyncChannel(const SyncOptions& options);

// Prepares `ctx` for one call of device `device_id`: the identity metadata
// and the sync's deadline (none when `deadline` is max()).
//
// Until mutual TLS carries the device identity in its client certificate,
// the server reads it from the `x-palm-device-id` metadata (server/identity.h).
// This is the only place that sets it; with mTLS it goes away.
void PrepareCall(grpc::ClientContext* ctx, const std::string& device_id,
                 std::chrono::system_clock::time_point deadline);

}  // namespace palm::internal

#endif  // PALM_CLIENT_CHANNEL_H_
