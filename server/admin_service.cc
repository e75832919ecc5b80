// palm.v1.AdminService: the read methods squad leaders need for sync
// (conflicts, rejected mutations, cases, squad status) and the writes that set
// up reference data (catalogue, officers, devices). Not yet authorised by role
// (the security issue adds that); methods not listed here answer
// UNIMPLEMENTED.
#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "palm/v1/admin.grpc.pb.h"
#include "server/rpc_util.h"
#include "server/services.h"
#include "sync/hlc.h"
#include "sync/uuid.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

constexpr uint32_t kDefaultCasePage = 100;
constexpr uint32_t kMaxCasePage = 1000;

#define ADMIN_ASSIGN_OR_RETURN_IMPL(var, tmp, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  var = std::move(*tmp)
#define ADMIN_CONCAT_INNER(a, b) a##b
#define ADMIN_CONCAT(a, b) ADMIN_CONCAT_INNER(a, b)
#define ASSIGN_OR_RETURN(var, expr) \
  ADMIN_ASSIGN_OR_RETURN_IMPL(var, ADMIN_CONCAT(admin_or_, __LINE__), expr)

v1::RejectedMutation ToRejected(const DeviceLogEntry& entry) {
  v1::RejectedMutation r;
  if (entry.mutation) *r.mutable_mutation() = *entry.mutation;
  *r.mutable_result() = entry.result;
  r.set_recorded_at_ms(entry.recorded_at_ms);
  r.set_dismissed(entry.dismissed);
  return r;
}

// Makes sure town `town_id` (and squad `squad_id` of it, when set) exist,
// creating bare entries named by their ids. AdminService has no call to load
// the organisation yet (see docs/protocol.md); enrolment and officers name
// towns and squads by id.
absl::Status EnsureOrganisation(WriteTxn& txn, const std::string& town_id,
                                const std::string& squad_id) {
  ASSIGN_OR_RETURN(auto town, txn.GetTown(town_id));
  if (!town) {
    v1::Town t;
    t.set_town_id(town_id);
    t.set_name(town_id);
    if (auto s = txn.PutTown(t); !s.ok()) return s;
    ASSIGN_OR_RETURN(auto seq, txn.AppendChange(EntityKind::kTown, town_id, GlobalScope()));
    (void)seq;
  }
  if (squad_id.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto squad, txn.GetSquad(squad_id));
  if (squad) {
    if (squad->town_id() != town_id) {
      return absl::FailedPreconditionError(absl::StrCat("squad ", squad_id, " belongs to town ",
                                                        squad->town_id(), ", not to ", town_id));
    }
    return absl::OkStatus();
  }
  v1::Squad s;
  s.set_squad_id(squad_id);
  s.set_town_id(town_id);
  s.set_name(squad_id);
  if (auto status = txn.PutSquad(s); !status.ok()) return status;
  ASSIGN_OR_RETURN(auto seq, txn.AppendChange(EntityKind::kSquad, squad_id, GlobalScope()));
  (void)seq;
  return absl::OkStatus();
}

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(ServiceContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* SquadStatus(grpc::CallbackServerContext* ctx,
                                        const v1::SquadStatusRequest* request,
                                        v1::SquadStatusResponse* response) override {
    return FinishAfterRead(ctx, store(), [request, response](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto devices, txn.ListDevices(""));
      for (const v1::Device& device : devices) {
        if (!request->squad_id().empty() && device.squad_id() != request->squad_id()) continue;
        v1::DeviceStatus* status = response->add_devices();
        *status->mutable_device() = device;
        ASSIGN_OR_RETURN(uint64_t acked, txn.AcknowledgedSeq(device.device_id()));
        ASSIGN_OR_RETURN(int64_t last_push, txn.LastPushMs(device.device_id()));
        ASSIGN_OR_RETURN(auto report, txn.GetDeviceReport(device.device_id()));
        status->set_acknowledged_seq(acked);
        status->set_last_sync_ms(last_push);
        if (report) {
          status->set_pending_mutations(report->pending_mutations);
          status->set_pending_uploads(report->pending_uploads);
          status->set_ticket_numbers_left(report->ticket_numbers_left);
        }
        if (device.revoked()) {
          status->set_state(v1::DEVICE_SYNC_STATE_REVOKED);
        } else if (last_push == 0 && !report) {
          status->set_state(v1::DEVICE_SYNC_STATE_NEVER_SYNCED);
        } else if (report && (report->pending_mutations > 0 || report->pending_uploads > 0)) {
          status->set_state(v1::DEVICE_SYNC_STATE_BEHIND);
        } else {
          status->set_state(v1::DEVICE_SYNC_STATE_OK);
        }
      }
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListConflicts(grpc::CallbackServerContext* ctx,
                                          const v1::ListConflictsRequest* request,
                                          v1::ListConflictsResponse* response) override {
    return FinishAfterRead(ctx, store(), [request, response](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto conflicts,
                       txn.ListConflicts({.squad_id = request->squad_id(),
                                          .case_id = request->case_id(),
                                          .include_resolved = request->include_resolved()}));
      for (auto& c : conflicts) *response->add_conflicts() = std::move(c);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetConflict(grpc::CallbackServerContext* ctx,
                                        const v1::GetConflictRequest* request,
                                        v1::ConflictRecord* response) override {
    return FinishAfterRead(ctx, store(), [request, response](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto conflict, txn.GetConflict(request->conflict_id()));
      if (!conflict) {
        return absl::NotFoundError(
            absl::StrCat("conflict \"", request->conflict_id(), "\" is not on record"));
      }
      *response = std::move(*conflict);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListRejected(grpc::CallbackServerContext* ctx,
                                         const v1::ListRejectedRequest* request,
                                         v1::ListRejectedResponse* response) override {
    return FinishAfterRead(ctx, store(), [request, response](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto entries,
                       txn.ListRejected({.squad_id = request->squad_id(),
                                         .include_dismissed = request->include_dismissed()}));
      for (const auto& e : entries) *response->add_rejected() = ToRejected(e);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetRejected(grpc::CallbackServerContext* ctx,
                                        const v1::GetRejectedRequest* request,
                                        v1::RejectedMutation* response) override {
    return FinishAfterRead(ctx, store(), [request, response](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto entry, txn.GetRejected(request->mutation_id()));
      if (!entry) {
        return absl::NotFoundError(
            absl::StrCat("no rejected mutation \"", request->mutation_id(), "\" is on record"));
      }
      *response = ToRejected(*entry);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* ctx,
                                      const v1::ListCasesRequest* request,
                                      v1::ListCasesResponse* response) override {
    CaseFilter filter;
    filter.town_id = request->town_id();
    filter.squad_id = request->squad_id();
    filter.state = request->state();
    filter.from_ms = request->from_ms();
    filter.to_ms = request->to_ms();
    filter.limit =
        request->page_size() == 0 ? kDefaultCasePage : std::min(request->page_size(), kMaxCasePage);
    if (!request->page_token().empty()) {
      std::vector<std::string> parts = absl::StrSplit(request->page_token(), '/');
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &filter.after_created_ms) ||
          !sync::IsValidUuid(parts[1])) {
        return FinishNow(ctx, absl::InvalidArgumentError(
                                  "page_token is malformed; pass next_page_token as received"));
      }
      filter.after_case_id = parts[1];
    }
    return FinishAfterRead(ctx, store(), [filter, response](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto cases, txn.ListCases(filter));
      if (cases.size() == filter.limit) {
        response->set_next_page_token(
            absl::StrCat(cases.back().created_at_ms(), "/", cases.back().case_id()));
      }
      for (auto& c : cases) *response->add_cases() = std::move(c);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* ctx,
                                    const v1::GetCaseRequest* request,
                                    v1::CaseDetail* response) override {
    if (request->case_ref().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("case_ref is missing"));
    }
    return FinishAfterRead(ctx, store(), [request, response](ReadTxn& txn) -> absl::Status {
      std::string case_id = request->case_ref();
      ASSIGN_OR_RETURN(auto record, txn.GetCase(case_id));
      if (!record) {
        ASSIGN_OR_RETURN(record, txn.GetCaseByNumber(request->case_ref()));
      }
      if (!record) {
        return absl::NotFoundError(
            absl::StrCat("no case with id or number \"", request->case_ref(), "\" is on record"));
      }
      ASSIGN_OR_RETURN(*response, txn.GetCaseDetail(record->value.case_id()));
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* LoadCatalog(grpc::CallbackServerContext* ctx,
                                        const v1::LoadCatalogRequest* request,
                                        v1::LoadCatalogResponse* response) override {
    const v1::Catalog& catalog = request->catalog();
    if (catalog.version() <= 0) {
      return FinishNow(ctx, absl::InvalidArgumentError("catalog.version must be positive"));
    }
    if (catalog.matters().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("catalog.matters is empty"));
    }
    std::set<std::string> codes;
    for (int i = 0; i < catalog.matters_size(); ++i) {
      const std::string& code = catalog.matters(i).code();
      if (code.empty()) {
        return FinishNow(ctx, absl::InvalidArgumentError(
                                  absl::StrCat("catalog.matters[", i, "].code is missing")));
      }
      if (!codes.insert(code).second) {
        return FinishNow(ctx, absl::InvalidArgumentError(absl::StrCat(
                                  "catalog.matters[", i, "].code ", code, " appears twice")));
      }
    }
    auto matters = context_->matters;
    return FinishAfterWrite(
        ctx, store(),
        [catalog = v1::Catalog(catalog), matters, response](WriteTxn& txn) mutable -> absl::Status {
          ASSIGN_OR_RETURN(auto current, txn.CurrentCatalog());
          if (current && current->version() >= catalog.version()) {
            return absl::FailedPreconditionError(
                absl::StrCat("catalogue version ", catalog.version(),
                             " is not newer than the current version ", current->version()));
          }
          if (catalog.published_at_ms() == 0) catalog.set_published_at_ms(sync::SystemNowMs());
          if (auto s = txn.PutCatalog(catalog); !s.ok()) return s;
          ASSIGN_OR_RETURN(auto seq,
                           txn.AppendChange(EntityKind::kCatalog, "current", GlobalScope()));
          (void)seq;
          // The writer thread owns the cache; forget it now and after commit.
          matters->Invalidate();
          txn.OnCommit([matters] { matters->Invalidate(); });
          response->set_version(catalog.version());
          return absl::OkStatus();
        });
  }

  grpc::ServerUnaryReactor* GetCatalog(grpc::CallbackServerContext* ctx,
                                       const v1::GetCatalogRequest*,
                                       v1::Catalog* response) override {
    return FinishAfterRead(ctx, store(), [response](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto catalog, txn.CurrentCatalog());
      if (!catalog) return absl::NotFoundError("no catalogue has been loaded");
      *response = std::move(*catalog);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* AddOfficer(grpc::CallbackServerContext* ctx,
                                       const v1::AddOfficerRequest* request,
                                       v1::AddOfficerResponse* response) override {
    const v1::Officer& officer = request->officer();
    if (officer.officer_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("officer.officer_id is missing"));
    }
    if (officer.town_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("officer.town_id is missing"));
    }
    if (!v1::Role_IsValid(officer.role())) {
      return FinishNow(ctx, absl::InvalidArgumentError(
                                absl::StrCat("officer.role ", officer.role(), " is not a role")));
    }
    return FinishAfterWrite(
        ctx, store(),
        [officer = v1::Officer(officer), response](WriteTxn& txn) mutable -> absl::Status {
          if (auto s = EnsureOrganisation(txn, officer.town_id(), officer.squad_id()); !s.ok()) {
            return s;
          }
          ASSIGN_OR_RETURN(auto existing, txn.GetOfficer(officer.officer_id()));
          // A new officer starts active; an update says what it means.
          if (!existing) officer.set_active(true);
          if (auto s = txn.PutOfficer(officer); !s.ok()) return s;
          ASSIGN_OR_RETURN(auto seq, txn.AppendChange(EntityKind::kOfficer, officer.officer_id(),
                                                      TownScope(officer.town_id())));
          (void)seq;
          *response->mutable_officer() = officer;
          return absl::OkStatus();
        });
  }

  grpc::ServerUnaryReactor* ListOfficers(grpc::CallbackServerContext* ctx,
                                         const v1::ListOfficersRequest* request,
                                         v1::ListOfficersResponse* response) override {
    return FinishAfterRead(ctx, store(), [request, response](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto officers, txn.ListOfficers(request->town_id(), request->squad_id()));
      for (auto& o : officers) *response->add_officers() = std::move(o);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* EnrollDevice(grpc::CallbackServerContext* ctx,
                                         const v1::EnrollDeviceRequest* request,
                                         v1::EnrollDeviceResponse* response) override {
    if (request->town_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("town_id is missing"));
    }
    v1::Device device;
    device.set_device_id(request->device_id().empty() ? sync::NewUuidV7() : request->device_id());
    device.set_town_id(request->town_id());
    device.set_squad_id(request->squad_id());
    device.set_enrolled_at_ms(sync::SystemNowMs());
    return FinishAfterWrite(
        ctx, store(), [device, response](WriteTxn& txn) mutable -> absl::Status {
          if (auto s = EnsureOrganisation(txn, device.town_id(), device.squad_id()); !s.ok()) {
            return s;
          }
          ASSIGN_OR_RETURN(auto existing, txn.GetDevice(device.device_id()));
          if (existing) {
            if (existing->revoked()) {
              return absl::FailedPreconditionError(absl::StrCat(
                  "device ", device.device_id(), " was revoked and cannot be enrolled again"));
            }
            device.set_enrolled_at_ms(existing->enrolled_at_ms());
          }
          if (auto s = txn.PutDevice(device); !s.ok()) return s;
          *response->mutable_device() = device;
          return absl::OkStatus();
        });
  }

  grpc::ServerUnaryReactor* ListDevices(grpc::CallbackServerContext* ctx,
                                        const v1::ListDevicesRequest* request,
                                        v1::ListDevicesResponse* response) override {
    return FinishAfterRead(ctx, store(), [request, response](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto devices, txn.ListDevices(request->town_id()));
      for (auto& d : devices) *response->add_devices() = std::move(d);
      return absl::OkStatus();
    });
  }

 private:
  ServerStore* store() const { return context_->store; }

  ServiceContext* context_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAdminService(ServiceContext* context) {
  return std::make_unique<AdminServiceImpl>(context);
}

}  // namespace palm::server
