// The gRPC channel every palmctl command that talks to palm-server uses,
// made from the global flags, and the handling of a failed call.
#ifndef PALM_TOOLS_PALMCTL_CLIENT_CHANNEL_H_
#define PALM_TOOLS_PALMCTL_CLIENT_CHANNEL_H_

#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/palmctl/command.h"

namespace palm::palmctl {

// Returns a channel to `global.server`:
//  - with --insecure, plaintext, and only when the server address is on
//    loopback (127.0.0.0/8, ::1, localhost); INVALID_ARGUMENT otherwise;
//  - else mutual TLS with the material in --cert-dir: the server must chain
//    to ca.crt, and palmctl presents client.crt/client.key (or, in a device
//    directory, device.crt/device.key). INVALID_ARGUMENT without --cert-dir,
//    NOT_FOUND when a file is missing.
// The channel connects lazily: nothing is sent until the first call.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeClientChannel(const GlobalOptions& global);

// Sets up `context` for one call: its deadline and the officer session
// token (SessionToken), if any, as `authorization: Bearer <token>`. Call
// before every RPC.
void PrepareCall(const GlobalOptions& global, grpc::ClientContext* context);

// Environment variables naming the session token: PALMCTL_TOKEN holds the
// token itself; else PALMCTL_TOKEN_FILE names a file holding it (as written
// by `palmctl auth login --out FILE`); else ~/.palmctl/token when it exists.
inline constexpr char kTokenEnv[] = "PALMCTL_TOKEN";
inline constexpr char kTokenFileEnv[] = "PALMCTL_TOKEN_FILE";

// The file `palmctl auth login` writes by default: $PALMCTL_TOKEN_FILE, else
// ~/.palmctl/token.
std::string DefaultTokenFile();

// The session token from the environment (see kTokenEnv), or empty.
std::string SessionToken();

// Prints why `rpc` (e.g. "EnrollDevice") failed, naming the fix where
// there is one, and returns kExitFailure:
//   "palmctl: cannot reach palm-server at HOST:PORT: connection refused"
//     (and the like for name resolution, TLS handshakes and timeouts);
//   "palmctl: not signed in: run palmctl auth login" when the server wants
//     a session and palmctl had none to send; a session the server refused
//     (expired, ended, forged) is named with the same fix;
//   "palmctl: the server does not support <rpc> yet" for UNIMPLEMENTED;
//   otherwise "palmctl: <rpc> failed: <CODE>: <server's message>".
int FailRpc(const GlobalOptions& global, absl::string_view rpc, const grpc::Status& status);

// Calls the unary `rpc` (e.g. &palm::v1::AdminService::Stub::ListDevices,
// named `rpc_name` in messages) on `channel` with a prepared context.
// Returns kExitOk, or prints why it failed (FailRpc) and returns its code.
template <typename Stub, typename Request, typename Response>
int CallUnary(const std::shared_ptr<grpc::Channel>& channel, const GlobalOptions& global,
              absl::string_view rpc_name,
              grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
              const Request& request, Response* response) {
  Stub stub(channel);
  grpc::ClientContext context;
  PrepareCall(global, &context);
  grpc::Status status = (stub.*rpc)(&context, request, response);
  return status.ok() ? kExitOk : FailRpc(global, rpc_name, status);
}

// CallUnary on a channel made by MakeClientChannel(global); a channel that
// cannot be made is reported with Fail().
template <typename Stub, typename Request, typename Response>
int CallUnary(const GlobalOptions& global, absl::string_view rpc_name,
              grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
              const Request& request, Response* response) {
  auto channel = MakeClientChannel(global);
  if (!channel.ok()) return Fail(channel.status());
  return CallUnary(*channel, global, rpc_name, rpc, request, response);
}

// True when the host part of the gRPC target `server` is a loopback address.
bool IsLoopbackTarget(absl::string_view server);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_CLIENT_CHANNEL_H_
