#include "server/services.h"

#include <functional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "palm/v1/admin.grpc.pb.h"
#include "palm/v1/auth.grpc.pb.h"
#include "palm/v1/evidence.grpc.pb.h"
#include "palm/v1/sync.grpc.pb.h"
#include "server/rpc_util.h"
#include "sync/request_check.h"
#include "sync/status_macros.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;
using grpc::internal::RpcMethod;

const google::protobuf::ServiceDescriptor* ServiceNamed(const std::string& name) {
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
}

// A palm.v1 service as the server registers it: one method per RPC of the
// service's descriptor, each reading Checked requests and calling the
// typed implementation (`impl`, which this object owns and which is never
// registered itself).
class CheckedService final : public grpc::Service {
 public:
  CheckedService(const google::protobuf::ServiceDescriptor* service,
                 std::unique_ptr<grpc::Service> impl)
      : service_(service), impl_(std::move(impl)) {}

  grpc::Service* impl() { return impl_.get(); }
  const google::protobuf::ServiceDescriptor* descriptor() const { return service_; }

  // "SyncService.Push", as refusals name the RPC.
  std::string RpcName(const std::string& method) const {
    return absl::StrCat(service_->name(), ".", method);
  }

  // Adds `method` (a name in the descriptor) served by `handler`.
  void Add(const std::string& method, RpcMethod::RpcType type,
           grpc::internal::MethodHandler* handler) {
    paths_.push_back(
        std::make_unique<std::string>(absl::StrCat("/", service_->full_name(), "/", method)));
    AddMethod(new grpc::internal::RpcServiceMethod(paths_.back()->c_str(), type, nullptr));
    MarkMethodCallback(static_cast<int>(paths_.size()) - 1, handler);
    names_.insert(method);
  }

  // OK when every RPC of the descriptor has a handler and no handler names
  // an RPC the descriptor lacks.
  absl::Status Complete() const {
    for (int i = 0; i < service_->method_count(); ++i) {
      if (names_.count(service_->method(i)->name()) == 0) {
        return absl::InternalError(absl::StrCat("RPC ", service_->method(i)->full_name(),
                                                " has no handler in server/services.cc"));
      }
    }
    for (const std::string& name : names_) {
      if (service_->FindMethodByName(name) == nullptr) {
        return absl::InternalError(absl::StrCat("server/services.cc serves ", name, ", which ",
                                                service_->full_name(), " does not declare"));
      }
    }
    return absl::OkStatus();
  }

 private:
  const google::protobuf::ServiceDescriptor* service_;
  std::unique_ptr<grpc::Service> impl_;
  std::vector<std::unique_ptr<std::string>> paths_;
  std::set<std::string> names_;
};

// A unary RPC served by the typed method `method` of the implementation
// (a generated CallbackService, whose methods are virtual).
template <class Base, class Req, class Resp>
void Unary(CheckedService* service, const std::string& name,
           grpc::ServerUnaryReactor* (Base::*method)(grpc::CallbackServerContext*, const Req*,
                                                     Resp*)) {
  Base* impl = dynamic_cast<Base*>(service->impl());
  std::string rpc = service->RpcName(name);
  service->Add(name, RpcMethod::NORMAL_RPC,
               new grpc::internal::CallbackUnaryHandler<Checked<Req>, Resp>(
                   [impl, method, rpc](grpc::CallbackServerContext* ctx,
                                       const Checked<Req>* request, Resp* response) {
                     absl::Status checked = CheckRequest(rpc, *request);
                     if (!checked.ok()) return FinishNow(ctx, checked);
                     return (impl->*method)(ctx, &request->message, response);
                   }));
}

// A server-streaming RPC: the request is read whole before the reactor.
template <class Base, class Req, class Resp>
void ServerStreaming(CheckedService* service, const std::string& name,
                     grpc::ServerWriteReactor<Resp>* (Base::*method)(grpc::CallbackServerContext*,
                                                                     const Req*)) {
  Base* impl = dynamic_cast<Base*>(service->impl());
  std::string rpc = service->RpcName(name);
  service->Add(
      name, RpcMethod::SERVER_STREAMING,
      new grpc::internal::CallbackServerStreamingHandler<Checked<Req>, Resp>(
          [impl, method, rpc](grpc::CallbackServerContext* ctx,
                              const Checked<Req>* request) -> grpc::ServerWriteReactor<Resp>* {
            absl::Status checked = CheckRequest(rpc, *request);
            if (checked.ok()) return (impl->*method)(ctx, &request->message);
            // A reactor that only answers the refusal.
            class Refused : public grpc::ServerWriteReactor<Resp> {
             public:
              explicit Refused(const absl::Status& s) { this->Finish(ToGrpc(s)); }
              void OnDone() override { delete this; }
            };
            return new Refused(checked);
          }));
}

std::unique_ptr<CheckedService> Sync(ServiceContext* context) {
  using S = v1::SyncService::CallbackService;
  auto service = std::make_unique<CheckedService>(ServiceNamed("palm.v1.SyncService"),
                                                  MakeSyncService(context));
  CheckedService* s = service.get();
  s->Add("Push", RpcMethod::BIDI_STREAMING,
         new grpc::internal::CallbackBidiHandler<Checked<v1::PushRequest>, v1::PushResponse>(
             [context](grpc::CallbackServerContext* ctx) { return StartPush(context, ctx); }));
  ServerStreaming(s, "Pull", &S::Pull);
  Unary(s, "LeaseTicketNumbers", &S::LeaseTicketNumbers);
  Unary(s, "ReturnTicketLease", &S::ReturnTicketLease);
  Unary(s, "RestoreTicketLeases", &S::RestoreTicketLeases);
  Unary(s, "GetReferenceData", &S::GetReferenceData);
  Unary(s, "ReportDeviceStatus", &S::ReportDeviceStatus);
  return service;
}

std::unique_ptr<CheckedService> Evidence(ServiceContext* context) {
  using S = v1::EvidenceService::CallbackService;
  auto service = std::make_unique<CheckedService>(ServiceNamed("palm.v1.EvidenceService"),
                                                  MakeEvidenceService(context));
  CheckedService* s = service.get();
  grpc::Service* impl = s->impl();
  s->Add("Upload", RpcMethod::CLIENT_STREAMING,
         new grpc::internal::CallbackClientStreamingHandler<Checked<v1::UploadChunk>,
                                                            v1::UploadResponse>(
             [impl](grpc::CallbackServerContext* ctx, v1::UploadResponse* response) {
               return StartUpload(impl, ctx, response);
             }));
  Unary(s, "GetUploadOffset", &S::GetUploadOffset);
  Unary(s, "GetReceipt", &S::GetReceipt);
  Unary(s, "GetTreeHead", &S::GetTreeHead);
  Unary(s, "GetConsistencyProof", &S::GetConsistencyProof);
  return service;
}

std::unique_ptr<CheckedService> Auth(ServiceContext* context) {
  using S = v1::AuthService::CallbackService;
  auto service = std::make_unique<CheckedService>(ServiceNamed("palm.v1.AuthService"),
                                                  MakeAuthService(context));
  CheckedService* s = service.get();
  Unary(s, "SignIn", &S::SignIn);
  Unary(s, "RefreshSession", &S::RefreshSession);
  Unary(s, "SignOut", &S::SignOut);
  return service;
}

std::unique_ptr<CheckedService> Admin(ServiceContext* context) {
  using S = v1::AdminService::CallbackService;
  auto service = std::make_unique<CheckedService>(ServiceNamed("palm.v1.AdminService"),
                                                  MakeAdminService(context));
  CheckedService* s = service.get();
  Unary(s, "SquadStatus", &S::SquadStatus);
  Unary(s, "ListConflicts", &S::ListConflicts);
  Unary(s, "GetConflict", &S::GetConflict);
  Unary(s, "ResolveConflict", &S::ResolveConflict);
  Unary(s, "ListRejected", &S::ListRejected);
  Unary(s, "GetRejected", &S::GetRejected);
  Unary(s, "DismissRejected", &S::DismissRejected);
  Unary(s, "ResubmitRejected", &S::ResubmitRejected);
  Unary(s, "ListCases", &S::ListCases);
  Unary(s, "GetCase", &S::GetCase);
  Unary(s, "ReviewQueue", &S::ReviewQueue);
  Unary(s, "ReviewDecision", &S::ReviewDecision);
  Unary(s, "LoadCatalog", &S::LoadCatalog);
  Unary(s, "GetCatalog", &S::GetCatalog);
  Unary(s, "EnrollDevice", &S::EnrollDevice);
  Unary(s, "RevokeDevice", &S::RevokeDevice);
  Unary(s, "ListDevices", &S::ListDevices);
  Unary(s, "AddOfficer", &S::AddOfficer);
  Unary(s, "ListOfficers", &S::ListOfficers);
  Unary(s, "VerifyAudit", &S::VerifyAudit);
  Unary(s, "ShiftReport", &S::ShiftReport);
  Unary(s, "UnlockOfficer", &S::UnlockOfficer);
  Unary(s, "PutTown", &S::PutTown);
  Unary(s, "PutSquad", &S::PutSquad);
  Unary(s, "ListOrganisation", &S::ListOrganisation);
  Unary(s, "ListDeadlines", &S::ListDeadlines);
  Unary(s, "ExtendDecisionDeadline", &S::ExtendDecisionDeadline);
  Unary(s, "GetDecisionDocument", &S::GetDecisionDocument);
  Unary(s, "GetAuditCheckpoint", &S::GetAuditCheckpoint);
  Unary(s, "BackupServer", &S::BackupServer);
  return service;
}

}  // namespace

absl::Status CheckRequest(const std::string& rpc, const google::protobuf::Message& message,
                          bool parsed, const std::string& unparsed) {
  if (!parsed) {
    const std::string field = sync::FindInvalidUtf8(message.GetDescriptor(), unparsed);
    if (!field.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(rpc, ": ", field, ": not valid UTF-8"));
    }
    return absl::InvalidArgumentError(absl::StrCat(rpc, ": malformed request (the bytes are not a ",
                                                   message.GetDescriptor()->full_name(), ")"));
  }
  absl::Status checked = sync::CheckMessage(message);
  if (!checked.ok()) return absl::InvalidArgumentError(absl::StrCat(rpc, ": ", checked.message()));
  return absl::OkStatus();
}

ApplyOptions OptionsOf(const ServiceContext& context) {
  return {.case_number_format = context.config->case_number_format,
          .max_clock_skew_ms = context.config->max_clock_skew_ms,
          .numbering = context.numbering.get(),
          .party_key = context.party_key ? &*context.party_key : nullptr};
}

absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> MakeServices(ServiceContext* context) {
  if (context->matters == nullptr) context->matters = std::make_shared<MatterCache>();
  for (const char* name : {"palm.v1.SyncService", "palm.v1.EvidenceService", "palm.v1.AuthService",
                           "palm.v1.AdminService"}) {
    if (ServiceNamed(name) == nullptr) {
      return absl::InternalError(absl::StrCat("service ", name, " is not in this build"));
    }
  }
  std::vector<std::unique_ptr<CheckedService>> made;
  made.push_back(Sync(context));
  made.push_back(Evidence(context));
  made.push_back(Auth(context));
  made.push_back(Admin(context));
  // Every service of proto/palm/v1 is served.
  std::set<std::string> served;
  for (const auto& service : made) {
    PALM_RETURN_IF_ERROR(service->Complete());
    served.insert(service->descriptor()->full_name());
  }
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const char* name :
       {"palm/v1/admin.proto", "palm/v1/auth.proto", "palm/v1/case.proto", "palm/v1/catalog.proto",
        "palm/v1/common.proto", "palm/v1/evidence.proto", "palm/v1/mutation.proto",
        "palm/v1/org.proto", "palm/v1/sync.proto"}) {
    const google::protobuf::FileDescriptor* file = pool->FindFileByName(name);
    if (file == nullptr) continue;
    for (int i = 0; i < file->service_count(); ++i) {
      if (served.count(file->service(i)->full_name()) == 0) {
        return absl::InternalError(absl::StrCat("service ", file->service(i)->full_name(),
                                                " has no table in server/services.cc"));
      }
    }
  }
  std::vector<std::unique_ptr<grpc::Service>> services;
  for (auto& service : made) services.push_back(std::move(service));
  return services;
}

}  // namespace palm::server
