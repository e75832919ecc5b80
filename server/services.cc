#include "server/services.h"

#include "palm/v1/auth.grpc.pb.h"
#include "palm/v1/evidence.grpc.pb.h"

namespace palm::server {

// Services whose methods are not built yet answer UNIMPLEMENTED (the gRPC
// default for a registered service with no handler override), and still show
// in reflection so that clients can discover the contract.
std::vector<std::unique_ptr<grpc::Service>> MakeServices(ServiceContext* context) {
  if (context->matters == nullptr) context->matters = std::make_shared<MatterCache>();
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(MakeSyncService(context));
  services.push_back(std::make_unique<palm::v1::EvidenceService::CallbackService>());
  services.push_back(std::make_unique<palm::v1::AuthService::CallbackService>());
  services.push_back(MakeAdminService(context));
  return services;
}

}  // namespace palm::server
