// The palm.v1 gRPC services, all on the callback API. Reactions never block:
// store work runs on the store's own threads.
#ifndef PALM_SERVER_SERVICES_H_
#define PALM_SERVER_SERVICES_H_

#include <memory>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include "server/config.h"
#include "server/store.h"

namespace palm::server {

// Everything the services share. Outlives every service.
struct ServiceContext {
  const ServerConfig* config = nullptr;
  ServerStore* store = nullptr;
};

// Makes one instance of every palm.v1 service, ready to register.
std::vector<std::unique_ptr<grpc::Service>> MakeServices(ServiceContext* context);

}  // namespace palm::server

#endif  // PALM_SERVER_SERVICES_H_
