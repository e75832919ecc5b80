// A server interceptor that writes one structured log line per finished RPC:
// method, peer, gRPC status code and message, and duration.
#ifndef PALM_SERVER_REQUEST_LOG_H_
#define PALM_SERVER_REQUEST_LOG_H_

#include <memory>

#include <grpcpp/support/server_interceptor.h>

namespace palm::server {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRequestLogFactory();

}  // namespace palm::server

#endif  // PALM_SERVER_REQUEST_LOG_H_
