#include "server/services.h"

#include "palm/v1/evidence.grpc.pb.h"

namespace palm::server {

// Services whose methods are not built yet answer UNIMPLEMENTED (the gRPC
// default for a registered service with no handler override), and still show
// in reflection so that clients can discover the contract.
std::vector<std::unique_ptr<grpc::Service>> MakeServices(ServiceContext* context) {
  if (context->matters == nullptr) context->matters = std::make_shared<MatterCache>();
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(MakeSyncService(context));
  services.push_back(MakeEvidenceService(context));
  services.push_back(MakeAuthService(context));
  services.push_back(MakeAdminService(context));
  return services;
}

}  // namespace palm::server
