// palm.v1.AdminService: the read methods squad leaders need for sync
// (conflicts, rejected mutations, cases, squad status) and the writes that set
// up reference data (catalogue, officers, devices), device revocation, the
// audit check and the legal-review gate. Every method is authorised by role
// and jurisdiction first (server/authz.h) and every write appends to the
// audit chain (server/audit.h) in its own transaction, including the squad
// leader's review (ResolveConflict, DismissRejected, ResubmitRejected,
// ShiftReport).
#include <algorithm>
#include <ctime>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "palm/v1/admin.grpc.pb.h"
#include "server/admin_lists.h"
#include "server/audit.h"
#include "server/audit_checkpoint.h"
#include "server/auth_credentials.h"
#include "server/authz.h"
#include "server/backup.h"
#include "server/deadlines.h"
#include "server/decision_document.h"
#include "server/pki/pki.h"
#include "server/rpc_util.h"
#include "server/services.h"
#include "server/shift_report.h"
#include "sync/calendar.h"
#include "sync/hlc.h"
#include "sync/lifecycle.h"
#include "sync/operations.h"
#include "sync/quote.h"
#include "sync/status_macros.h"
#include "sync/uuid.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

// Authorises the call for `rpc` or finishes it with the refusal.
#define AUTHORIZE_OR_FINISH(authority, rpc)                                 \
  auto authority##_or = Authorize(ctx, *context_, rpc);                     \
  if (!authority##_or.ok()) return FinishNow(ctx, authority##_or.status()); \
  const Authority authority = std::move(*authority##_or)

// The case `ref` names, by id or else by official number, in the caller's
// scope: NOT_FOUND when neither is on record, PERMISSION_DENIED outside it.
absl::StatusOr<CaseRecord> FindCaseInScope(ReadTxn& txn, const Authority& authority,
                                           const std::string& ref) {
  PALM_ASSIGN_OR_RETURN(std::optional<CaseRecord> record, txn.GetCase(ref));
  if (!record) {
    PALM_ASSIGN_OR_RETURN(record, txn.GetCaseByNumber(ref));
  }
  if (!record) {
    return absl::NotFoundError(
        absl::StrCat("no case with id or number \"", ref, "\" is on record"));
  }
  PALM_RETURN_IF_ERROR(CheckTown(authority, record->value.town_id(), absl::StrCat("case ", ref)));
  return *std::move(record);
}

// The towns in `cache` are stale once `txn` put one: forgotten now and after
// the commit (the writer thread owns the cache).
void ForgetTowns(WriteTxn& txn, const std::shared_ptr<MatterCache>& cache) {
  cache->InvalidateTowns();
  txn.OnCommit([cache] { cache->InvalidateTowns(); });
}

// A town's delegated matters, each once and sorted; INVALID_ARGUMENT for an
// empty code or a list on a town that is not delegated (their number is
// bounded with every request's fields, sync/limits.h).
absl::Status NormaliseDelegation(v1::Town* town) {
  std::vector<std::string> codes;
  for (int i = 0; i < town->delegated_matters_size(); ++i) {
    std::string code(absl::StripAsciiWhitespace(town->delegated_matters(i)));
    if (code.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("town.delegated_matters[", i, "] is empty"));
    }
    codes.push_back(std::move(code));
  }
  if (!codes.empty() && !town->delegated()) {
    return absl::InvalidArgumentError(
        "town.delegated_matters lists matters but town.delegated is false: only a delegated "
        "town (赋权镇街) has them");
  }
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  town->clear_delegated_matters();
  for (std::string& code : codes) town->add_delegated_matters(std::move(code));
  return absl::OkStatus();
}

// Every delegated matter of `town` is in the current catalogue.
absl::Status CheckDelegatedMattersKnown(WriteTxn& txn, const v1::Town& town) {
  if (town.delegated_matters().empty()) return absl::OkStatus();
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Catalog> catalog, txn.CurrentCatalog());
  if (!catalog) {
    return absl::FailedPreconditionError(
        "no catalogue is loaded: load it before delegating matters to a town");
  }
  std::set<std::string> known;
  for (const v1::Matter& m : catalog->matters()) known.insert(m.code());
  std::vector<std::string> unknown;
  for (const std::string& code : town.delegated_matters()) {
    if (!known.count(code)) unknown.push_back(code);
  }
  if (unknown.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("town.delegated_matters names matters not in catalogue version ",
                   catalog->version(), ": ", absl::StrJoin(unknown, ", ")));
}

// Makes sure town `town_id` (and squad `squad_id` of it, when set) exist,
// creating bare entries named by their ids. AdminService has no call to load
// the organisation yet (see docs/protocol.md); enrolment and officers name
// towns and squads by id. `towns` caches the towns on the writer thread.
absl::Status EnsureOrganisation(WriteTxn& txn, const std::shared_ptr<MatterCache>& towns,
                                const std::string& town_id, const std::string& squad_id) {
  PALM_ASSIGN_OR_RETURN(auto town, txn.GetTown(town_id));
  if (!town) {
    v1::Town t;
    t.set_town_id(town_id);
    t.set_name(town_id);
    if (auto s = txn.PutTown(t); !s.ok()) return s;
    ForgetTowns(txn, towns);
    PALM_ASSIGN_OR_RETURN(auto seq, txn.AppendChange(EntityKind::kTown, town_id, GlobalScope()));
    (void)seq;
  }
  if (squad_id.empty()) return absl::OkStatus();
  PALM_ASSIGN_OR_RETURN(auto squad, txn.GetSquad(squad_id));
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
  PALM_ASSIGN_OR_RETURN(auto seq, txn.AppendChange(EntityKind::kSquad, squad_id, GlobalScope()));
  (void)seq;
  return absl::OkStatus();
}

// The officer id of `a` for resolved_by / dismissed_by, or its principal
// (trusted harness calls carry no session).
std::string Officer(const Authority& a) { return a.session ? a.session->officer_id : a.actor(); }

// The open (not dismissed) rejected mutation `mutation_id`, which `a` may
// reach: NOT_FOUND, PERMISSION_DENIED or FAILED_PRECONDITION (already
// dismissed) otherwise.
absl::StatusOr<DeviceLogEntry> OpenRejected(ReadTxn& txn, const Authority& a,
                                            const std::string& mutation_id) {
  PALM_ASSIGN_OR_RETURN(auto entry, txn.GetRejected(mutation_id));
  if (!entry) {
    return absl::NotFoundError(
        absl::StrCat("no rejected mutation \"", mutation_id, "\" is on record"));
  }
  PALM_ASSIGN_OR_RETURN(auto device, txn.GetDevice(entry->device_id));
  if (device) {
    const std::string what = absl::StrCat("rejected mutation ", mutation_id);
    if (auto s = CheckTown(a, device->town_id(), what); !s.ok()) return s;
    if (auto s = CheckSquad(a, device->squad_id(), what); !s.ok()) return s;
  }
  if (entry->dismissed) {
    return absl::FailedPreconditionError(absl::StrCat("rejected mutation ", mutation_id,
                                                      " was already closed by ",
                                                      entry->dismissed_by, ": ", entry->note));
  }
  return std::move(*entry);
}

// [start, end) in Unix ms of the local day `date` (YYYY-MM-DD) in
// Asia/Shanghai (UTC+8, no daylight saving); INVALID_ARGUMENT otherwise.
absl::StatusOr<std::pair<int64_t, int64_t>> LocalDay(const std::string& date) {
  int year = 0, month = 0, day = 0;
  std::vector<std::string> parts = absl::StrSplit(date, '-');
  if (date.size() != 10 || parts.size() != 3 || !absl::SimpleAtoi(parts[0], &year) ||
      !absl::SimpleAtoi(parts[1], &month) || !absl::SimpleAtoi(parts[2], &day) || year < 1970 ||
      month < 1 || month > 12 || day < 1 || day > 31) {
    return absl::InvalidArgumentError(
        absl::StrCat("date \"", date, "\" is not a date of the form YYYY-MM-DD"));
  }
  struct tm parts_tm = {};
  parts_tm.tm_year = year - 1900;
  parts_tm.tm_mon = month - 1;
  parts_tm.tm_mday = day;
  const time_t utc_midnight = timegm(&parts_tm);
  // timegm normalises 2026-02-30 to March 2; such a date does not exist.
  if (parts_tm.tm_mday != day || parts_tm.tm_mon != month - 1) {
    return absl::InvalidArgumentError(absl::StrCat("date \"", date, "\" does not exist"));
  }
  constexpr int64_t kShanghaiOffsetMs = 8LL * 3600 * 1000;
  constexpr int64_t kDayMs = 24LL * 3600 * 1000;
  const int64_t start = static_cast<int64_t>(utc_midnight) * 1000 - kShanghaiOffsetMs;
  return std::make_pair(start, start + kDayMs);
}

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(ServiceContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* SquadStatus(grpc::CallbackServerContext* ctx,
                                        const v1::SquadStatusRequest* request,
                                        v1::SquadStatusResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kSquadStatus);
    auto squad = ScopeSquad(authority, request->squad_id());
    if (!squad.ok()) return FinishNow(ctx, squad.status());
    return FinishAfterRead(ctx, store(),
                           [squad = *squad, request, response](ReadTxn& txn) -> absl::Status {
                             return SquadStatusPage(txn, squad, *request, response);
                           });
  }

  grpc::ServerUnaryReactor* ListConflicts(grpc::CallbackServerContext* ctx,
                                          const v1::ListConflictsRequest* request,
                                          v1::ListConflictsResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kListConflicts);
    auto squad = ScopeSquad(authority, request->squad_id());
    if (!squad.ok()) return FinishNow(ctx, squad.status());
    return FinishAfterRead(ctx, store(),
                           [squad = *squad, request, response](ReadTxn& txn) -> absl::Status {
                             return ListConflictsPage(txn, squad, *request, response);
                           });
  }

  grpc::ServerUnaryReactor* GetConflict(grpc::CallbackServerContext* ctx,
                                        const v1::GetConflictRequest* request,
                                        v1::ConflictRecord* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kGetConflict);
    return FinishAfterRead(
        ctx, store(), [authority, request, response](ReadTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto conflict, txn.GetConflict(request->conflict_id()));
          if (!conflict) {
            return absl::NotFoundError(
                absl::StrCat("conflict \"", request->conflict_id(), "\" is not on record"));
          }
          PALM_ASSIGN_OR_RETURN(auto record, txn.GetCase(conflict->loss().case_id()));
          if (record) {
            const std::string what = absl::StrCat("conflict ", request->conflict_id());
            if (auto s = CheckTown(authority, record->value.town_id(), what); !s.ok()) return s;
            if (auto s = CheckSquad(authority, record->value.squad_id(), what); !s.ok()) return s;
          }
          *response = std::move(*conflict);
          return absl::OkStatus();
        });
  }

  grpc::ServerUnaryReactor* ListRejected(grpc::CallbackServerContext* ctx,
                                         const v1::ListRejectedRequest* request,
                                         v1::ListRejectedResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kListRejected);
    auto squad = ScopeSquad(authority, request->squad_id());
    if (!squad.ok()) return FinishNow(ctx, squad.status());
    return FinishAfterRead(ctx, store(),
                           [squad = *squad, request, response](ReadTxn& txn) -> absl::Status {
                             return ListRejectedPage(txn, squad, *request, response);
                           });
  }

  grpc::ServerUnaryReactor* GetRejected(grpc::CallbackServerContext* ctx,
                                        const v1::GetRejectedRequest* request,
                                        v1::RejectedMutation* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kGetRejected);
    return FinishAfterRead(
        ctx, store(), [authority, request, response](ReadTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto entry, txn.GetRejected(request->mutation_id()));
          if (!entry) {
            return absl::NotFoundError(
                absl::StrCat("no rejected mutation \"", request->mutation_id(), "\" is on record"));
          }
          PALM_ASSIGN_OR_RETURN(auto device, txn.GetDevice(entry->device_id));
          if (device) {
            const std::string what = absl::StrCat("rejected mutation ", request->mutation_id());
            if (auto s = CheckTown(authority, device->town_id(), what); !s.ok()) return s;
            if (auto s = CheckSquad(authority, device->squad_id(), what); !s.ok()) return s;
          }
          *response = RejectedOf(*entry);
          return absl::OkStatus();
        });
  }

  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* ctx,
                                      const v1::ListCasesRequest* request,
                                      v1::ListCasesResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kListCases);
    auto town = ScopeTown(authority, request->town_id());
    if (!town.ok()) return FinishNow(ctx, town.status());
    return FinishAfterRead(ctx, store(),
                           [town = *town, request, response](ReadTxn& txn) -> absl::Status {
                             return ListCasesPage(txn, town, *request, response);
                           });
  }

  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* ctx,
                                    const v1::GetCaseRequest* request,
                                    v1::CaseDetail* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kGetCase);
    if (request->case_ref().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("case_ref is missing"));
    }
    return FinishAfterRead(
        ctx, store(), [authority, request, response](ReadTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(CaseRecord record,
                                FindCaseInScope(txn, authority, request->case_ref()));
          PALM_ASSIGN_OR_RETURN(*response, txn.GetCaseDetail(record.value.case_id()));
          return absl::OkStatus();
        });
  }

  grpc::ServerUnaryReactor* LoadCatalog(grpc::CallbackServerContext* ctx,
                                        const v1::LoadCatalogRequest* request,
                                        v1::LoadCatalogResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kLoadCatalog);
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
    // The working-day calendar (Art. 85) rides with the catalogue.
    if (absl::Status s = sync::CheckCalendar(catalog.calendar(), "catalog.calendar"); !s.ok()) {
      return FinishNow(ctx, absl::InvalidArgumentError(s.message()));
    }
    auto matters = context_->matters;
    return FinishAfterWrite(
        ctx, store(),
        [catalog = v1::Catalog(catalog), matters, response,
         actor = authority.actor()](WriteTxn& txn) mutable -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto current, txn.CurrentCatalog());
          if (current && current->version() >= catalog.version()) {
            return absl::FailedPreconditionError(
                absl::StrCat("catalogue version ", catalog.version(),
                             " is not newer than the current version ", current->version()));
          }
          if (catalog.published_at_ms() == 0) catalog.set_published_at_ms(sync::SystemNowMs());
          if (auto s = txn.PutCatalog(catalog); !s.ok()) return s;
          PALM_ASSIGN_OR_RETURN(auto seq,
                                txn.AppendChange(EntityKind::kCatalog, "current", GlobalScope()));
          (void)seq;
          // The writer thread owns the cache; forget it now and after commit.
          matters->Invalidate();
          txn.OnCommit([matters] { matters->Invalidate(); });
          response->set_version(catalog.version());
          return AppendAudit(txn, sync::SystemNowMs(), actor, "catalog.loaded",
                             absl::StrCat(catalog.version()),
                             {{"matters", catalog.matters_size()}, {"label", catalog.label()}});
        });
  }

  grpc::ServerUnaryReactor* GetCatalog(grpc::CallbackServerContext* ctx,
                                       const v1::GetCatalogRequest*,
                                       v1::Catalog* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kGetCatalog);
    return FinishAfterRead(ctx, store(), [response](ReadTxn& txn) -> absl::Status {
      PALM_ASSIGN_OR_RETURN(auto catalog, txn.CurrentCatalog());
      if (!catalog) return absl::NotFoundError("no catalogue has been loaded");
      *response = std::move(*catalog);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* UnlockOfficer(grpc::CallbackServerContext* ctx,
                                          const v1::UnlockOfficerRequest* request,
                                          v1::UnlockOfficerResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kUnlockOfficer);
    if (request->officer_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("officer_id is missing"));
    }
    return FinishAfterWrite(
        ctx, store(),
        [id = request->officer_id(), response,
         actor = authority.actor()](WriteTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto credential, txn.GetCredential(id));
          if (!credential) {
            return absl::NotFoundError(absl::StrCat("officer ", sync::QuotePrefix(id),
                                                    " has no secret set (or is not on record)"));
          }
          const int64_t now = sync::SystemNowMs();
          response->set_officer_id(id);
          response->set_was_locked(credential->locked_until_ms > now);
          response->set_locked_until_ms(response->was_locked() ? credential->locked_until_ms : 0);
          const int failures = credential->failed_attempts;
          credential->failed_attempts = 0;
          credential->locked_until_ms = 0;
          if (auto s = txn.PutCredential(*credential); !s.ok()) return s;
          return AppendAudit(txn, now, actor, "officer.unlocked", id,
                             nlohmann::json{{"was_locked", response->was_locked()},
                                            {"failed_attempts", failures}});
        });
  }

  // --- The organisation: towns and squads with their display names. --------

  grpc::ServerUnaryReactor* PutTown(grpc::CallbackServerContext* ctx,
                                    const v1::PutTownRequest* request,
                                    v1::PutTownResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kPutTown);
    v1::Town town = request->town();
    town.set_name(std::string(absl::StripAsciiWhitespace(town.name())));
    if (town.town_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("town.town_id is missing"));
    }
    if (town.name().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError(
                                "town.name is missing (the display name, e.g. 梧桐街道)"));
    }
    if (auto s = NormaliseDelegation(&town); !s.ok()) return FinishNow(ctx, s);
    return FinishAfterWrite(
        ctx, store(),
        [town, response, actor = authority.actor(),
         towns = context_->matters](WriteTxn& txn) -> absl::Status {
          PALM_RETURN_IF_ERROR(CheckDelegatedMattersKnown(txn, town));
          PALM_ASSIGN_OR_RETURN(auto existing, txn.GetTown(town.town_id()));
          if (auto s = txn.PutTown(town); !s.ok()) return s;
          ForgetTowns(txn, towns);
          PALM_ASSIGN_OR_RETURN(auto seq,
                                txn.AppendChange(EntityKind::kTown, town.town_id(), GlobalScope()));
          (void)seq;
          *response->mutable_town() = town;
          response->set_created(!existing);
          return AppendAudit(
              txn, sync::SystemNowMs(), actor, existing ? "town.updated" : "town.added",
              town.town_id(),
              {{"name", town.name()},
               {"delegated", town.delegated()},
               {"delegated_matters", std::vector<std::string>(town.delegated_matters().begin(),
                                                              town.delegated_matters().end())}});
        });
  }

  grpc::ServerUnaryReactor* PutSquad(grpc::CallbackServerContext* ctx,
                                     const v1::PutSquadRequest* request,
                                     v1::PutSquadResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kPutSquad);
    v1::Squad squad = request->squad();
    squad.set_name(std::string(absl::StripAsciiWhitespace(squad.name())));
    if (squad.squad_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("squad.squad_id is missing"));
    }
    if (squad.town_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("squad.town_id is missing"));
    }
    if (squad.name().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError(
                                "squad.name is missing (the display name, e.g. 梧桐中队)"));
    }
    return FinishAfterWrite(
        ctx, store(), [squad, response, actor = authority.actor()](WriteTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto town, txn.GetTown(squad.town_id()));
          if (!town) {
            return absl::FailedPreconditionError(
                absl::StrCat("town ", sync::QuotePrefix(squad.town_id()),
                             " is not on record; add it first (palmctl town add)"));
          }
          PALM_ASSIGN_OR_RETURN(auto existing, txn.GetSquad(squad.squad_id()));
          if (existing && existing->town_id() != squad.town_id()) {
            return absl::FailedPreconditionError(
                absl::StrCat("squad ", sync::QuotePrefix(squad.squad_id()), " belongs to town ",
                             existing->town_id(), "; a squad never moves to another town"));
          }
          if (auto s = txn.PutSquad(squad); !s.ok()) return s;
          PALM_ASSIGN_OR_RETURN(
              auto seq, txn.AppendChange(EntityKind::kSquad, squad.squad_id(), GlobalScope()));
          (void)seq;
          *response->mutable_squad() = squad;
          response->set_created(!existing);
          return AppendAudit(txn, sync::SystemNowMs(), actor,
                             existing ? "squad.updated" : "squad.added", squad.squad_id(),
                             {{"name", squad.name()}, {"town", squad.town_id()}});
        });
  }

  grpc::ServerUnaryReactor* ListOrganisation(grpc::CallbackServerContext* ctx,
                                             const v1::ListOrganisationRequest*,
                                             v1::ListOrganisationResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kListOrganisation);
    return FinishAfterRead(ctx, store(), [response](ReadTxn& txn) -> absl::Status {
      PALM_ASSIGN_OR_RETURN(auto towns, txn.ListTowns());
      for (auto& t : towns) *response->add_towns() = std::move(t);
      PALM_ASSIGN_OR_RETURN(auto squads, txn.ListSquads(""));
      for (auto& s : squads) *response->add_squads() = std::move(s);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* AddOfficer(grpc::CallbackServerContext* ctx,
                                       const v1::AddOfficerRequest* request,
                                       v1::AddOfficerResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kAddOfficer);
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
    if (!officer.sworn() && !officer.certificate_number().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError(absl::StrCat(
                                "officer.certificate_number is set for ", officer.officer_id(),
                                ", who is not sworn: only sworn officers hold enforcement "
                                "credentials (Art. 42)")));
    }
    // The scrypt hash is made on a store reader thread (it takes ~0.1 s),
    // then the officer and credential are written together.
    auto* reactor = ctx->DefaultReactor();
    auto credential = std::make_shared<std::optional<OfficerCredential>>();
    ServerStore* store = this->store();
    store->SubmitRead(
        [credential, id = officer.officer_id(), secret = request->secret()](ReadTxn&) {
          if (secret.empty()) return absl::OkStatus();
          auto made = NewCredential(id, secret);
          if (!made.ok()) return made.status();
          *credential = std::move(*made);
          return absl::OkStatus();
        },
        [reactor, store, credential, officer = v1::Officer(officer), response,
         actor = authority.actor(), towns = context_->matters](absl::Status hashed) {
          if (!hashed.ok()) {
            reactor->Finish(ToGrpc(hashed));
            return;
          }
          store->SubmitWrite(
              [officer, credential, response, actor, towns](WriteTxn& txn) mutable -> absl::Status {
                if (auto s = EnsureOrganisation(txn, towns, officer.town_id(), officer.squad_id());
                    !s.ok()) {
                  return s;
                }
                PALM_ASSIGN_OR_RETURN(auto existing, txn.GetOfficer(officer.officer_id()));
                // A new officer starts active; an update says what it means.
                if (!existing) officer.set_active(true);
                if (auto s = txn.PutOfficer(officer); !s.ok()) return s;
                PALM_ASSIGN_OR_RETURN(auto seq,
                                      txn.AppendChange(EntityKind::kOfficer, officer.officer_id(),
                                                       TownScope(officer.town_id())));
                (void)seq;
                if (*credential) {
                  if (auto s = txn.PutCredential(**credential); !s.ok()) return s;
                }
                *response->mutable_officer() = officer;
                return AppendAudit(txn, sync::SystemNowMs(), actor,
                                   existing ? "officer.updated" : "officer.added",
                                   officer.officer_id(),
                                   {{"role", v1::Role_Name(officer.role())},
                                    {"credentialed", sync::HoldsCredential(officer)},
                                    {"legal_reviewer", officer.legal_reviewer()},
                                    {"town", officer.town_id()},
                                    {"squad", officer.squad_id()},
                                    {"active", officer.active()},
                                    {"secret_set", credential->has_value()}});
              },
              [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* ListOfficers(grpc::CallbackServerContext* ctx,
                                         const v1::ListOfficersRequest* request,
                                         v1::ListOfficersResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kListOfficers);
    auto town = ScopeTown(authority, request->town_id());
    if (!town.ok()) return FinishNow(ctx, town.status());
    auto squad = ScopeSquad(authority, request->squad_id());
    if (!squad.ok()) return FinishNow(ctx, squad.status());
    return FinishAfterRead(
        ctx, store(),
        [town = *town, squad = *squad, request, response](ReadTxn& txn) -> absl::Status {
          return ListOfficersPage(txn, town, squad, *request, response);
        });
  }

  grpc::ServerUnaryReactor* EnrollDevice(grpc::CallbackServerContext* ctx,
                                         const v1::EnrollDeviceRequest* request,
                                         v1::EnrollDeviceResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kEnrollDevice);
    if (request->town_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("town_id is missing"));
    }
    if (request->device_id() == kServerWriter) {
      return FinishNow(ctx, absl::InvalidArgumentError(absl::StrCat(
                                "device_id \"", kServerWriter, "\" is reserved for the server")));
    }
    v1::Device device;
    device.set_device_id(request->device_id().empty() ? sync::NewUuidV7() : request->device_id());
    device.set_town_id(request->town_id());
    device.set_squad_id(request->squad_id());
    device.set_enrolled_at_ms(sync::SystemNowMs());
    if (auto s = CheckDeviceCertificate(*request, &device); !s.ok()) return FinishNow(ctx, s);
    return FinishAfterWrite(
        ctx, store(),
        [device, response, actor = authority.actor(),
         towns = context_->matters](WriteTxn& txn) mutable -> absl::Status {
          if (auto s = EnsureOrganisation(txn, towns, device.town_id(), device.squad_id());
              !s.ok()) {
            return s;
          }
          PALM_ASSIGN_OR_RETURN(auto existing, txn.GetDevice(device.device_id()));
          if (existing) {
            if (existing->revoked()) {
              return absl::FailedPreconditionError(absl::StrCat(
                  "device ", device.device_id(), " was revoked and cannot be enrolled again"));
            }
            device.set_enrolled_at_ms(existing->enrolled_at_ms());
          }
          if (auto s = txn.PutDevice(device); !s.ok()) return s;
          *response->mutable_device() = device;
          return AppendAudit(txn, sync::SystemNowMs(), actor,
                             existing ? "device.re_enrolled" : "device.enrolled",
                             device.device_id(),
                             {{"town", device.town_id()},
                              {"squad", device.squad_id()},
                              {"certificate_sha256", device.certificate_sha256()}});
        });
  }

  grpc::ServerUnaryReactor* ListDevices(grpc::CallbackServerContext* ctx,
                                        const v1::ListDevicesRequest* request,
                                        v1::ListDevicesResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kListDevices);
    auto town = ScopeTown(authority, request->town_id());
    if (!town.ok()) return FinishNow(ctx, town.status());
    return FinishAfterRead(ctx, store(),
                           [town = *town, request, response](ReadTxn& txn) -> absl::Status {
                             return ListDevicesPage(txn, town, *request, response);
                           });
  }

  // --- Squad leader's review: conflicts, rejected mutations, shift report. --

  grpc::ServerUnaryReactor* ResolveConflict(grpc::CallbackServerContext* ctx,
                                            const v1::ResolveConflictRequest* request,
                                            v1::ConflictRecord* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kResolveConflict);
    if (request->conflict_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("conflict_id is missing"));
    }
    const ApplyOptions options = OptionsOf(*context_);
    return FinishAfterWrite(
        ctx, store(),
        [authority, request, response, options, matters = context_->matters,
         who = Officer(authority)](WriteTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto conflict, txn.GetConflict(request->conflict_id()));
          if (!conflict) {
            return absl::NotFoundError(
                absl::StrCat("conflict \"", request->conflict_id(), "\" is not on record"));
          }
          PALM_ASSIGN_OR_RETURN(auto record, txn.GetCase(conflict->loss().case_id()));
          if (record) {
            const std::string what = absl::StrCat("conflict ", request->conflict_id());
            if (auto s = CheckTown(authority, record->value.town_id(), what); !s.ok()) return s;
            if (auto s = CheckSquad(authority, record->value.squad_id(), what); !s.ok()) return s;
          }
          if (conflict->resolved()) {
            return absl::FailedPreconditionError(
                absl::StrCat("conflict ", request->conflict_id(), " was already resolved by ",
                             conflict->resolved_by(), ": ", conflict->resolution()));
          }
          const int64_t now = sync::SystemNowMs();
          nlohmann::json details = {{"case", conflict->loss().case_id()},
                                    {"field", v1::CaseField_Name(conflict->loss().field())},
                                    {"restore_losing_value", request->restore_losing_value()},
                                    {"note", request->note()}};
          std::string resolution =
              request->restore_losing_value() ? "restored the losing value" : "kept the winner";
          if (request->restore_losing_value()) {
            PALM_ASSIGN_OR_RETURN(uint64_t seq, RestoreLosingValue(txn, *matters, conflict->loss(),
                                                                   who, options, now));
            details["server_seq"] = seq;
          }
          if (!request->note().empty()) absl::StrAppend(&resolution, ": ", request->note());
          conflict->set_resolved(true);
          conflict->set_resolved_by(who);
          conflict->set_resolution(resolution);
          if (auto s = txn.PutConflict(*conflict); !s.ok()) return s;
          *response = *conflict;
          return AppendAudit(txn, now, authority.actor(), "conflict.resolved",
                             request->conflict_id(), details);
        });
  }

  grpc::ServerUnaryReactor* DismissRejected(grpc::CallbackServerContext* ctx,
                                            const v1::DismissRejectedRequest* request,
                                            v1::RejectedMutation* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kDismissRejected);
    if (request->mutation_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("mutation_id is missing"));
    }
    if (request->note().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError(
                                "note is missing: say why the rejected mutation is dismissed"));
    }
    return FinishAfterWrite(
        ctx, store(),
        [authority, request, response, who = Officer(authority)](WriteTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(DeviceLogEntry entry,
                                OpenRejected(txn, authority, request->mutation_id()));
          entry.dismissed = true;
          entry.dismissed_by = who;
          entry.note = request->note();
          if (auto s = txn.PutRejectedReview(entry); !s.ok()) return s;
          *response = RejectedOf(entry);
          return AppendAudit(txn, sync::SystemNowMs(), authority.actor(), "rejected.dismissed",
                             entry.mutation_id,
                             {{"device", entry.device_id},
                              {"device_seq", entry.device_seq},
                              {"note", entry.note}});
        });
  }

  grpc::ServerUnaryReactor* ResubmitRejected(grpc::CallbackServerContext* ctx,
                                             const v1::ResubmitRejectedRequest* request,
                                             v1::ResubmitRejectedResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kResubmitRejected);
    if (request->mutation_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("mutation_id is missing"));
    }
    const ApplyOptions options = OptionsOf(*context_);
    return FinishAfterWrite(
        ctx, store(),
        [authority, request, response, options, matters = context_->matters,
         who = Officer(authority)](WriteTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(DeviceLogEntry entry,
                                OpenRejected(txn, authority, request->mutation_id()));
          PALM_ASSIGN_OR_RETURN(auto device, txn.GetDevice(entry.device_id));
          if (!device) {
            return absl::FailedPreconditionError(
                absl::StrCat("device ", entry.device_id, " of rejected mutation ",
                             entry.mutation_id, " is no longer enrolled"));
          }
          const Caller caller{device->device_id(), device->town_id(), device->squad_id(),
                              authority.actor()};
          v1::MutationResult* result = response->mutable_result();
          if (auto s = palm::server::ResubmitRejected(txn, *matters, caller, entry, options,
                                                      sync::SystemNowMs(), result);
              !s.ok()) {
            return s;
          }
          if (result->outcome() == v1::OUTCOME_REJECTED) return absl::OkStatus();
          // Applied now: the rejection is closed.
          entry.dismissed = true;
          entry.dismissed_by = who;
          entry.note = absl::StrCat("resubmitted: ", v1::Outcome_Name(result->outcome()));
          return txn.PutRejectedReview(entry);
        });
  }

  grpc::ServerUnaryReactor* ListDeadlines(grpc::CallbackServerContext* ctx,
                                          const v1::ListDeadlinesRequest* request,
                                          v1::ListDeadlinesResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kListDeadlines);
    auto town = ScopeTown(authority, request->town_id());
    if (!town.ok()) return FinishNow(ctx, town.status());
    auto query = DeadlineQueryOf(*request, *town, sync::ShanghaiDay(sync::SystemNowMs()));
    if (!query.ok()) return FinishNow(ctx, query.status());
    return FinishAfterRead(ctx, store(),
                           [query = *std::move(query), response](ReadTxn& txn) -> absl::Status {
                             return FillDeadlines(txn, query, response);
                           });
  }

  grpc::ServerUnaryReactor* ExtendDecisionDeadline(
      grpc::CallbackServerContext* ctx, const v1::ExtendDecisionDeadlineRequest* request,
      v1::ExtendDecisionDeadlineResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kExtendDecisionDeadline);
    if (request->case_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("case_id is missing"));
    }
    return FinishAfterWrite(
        ctx, store(),
        [authority, request, response, actor = authority.actor()](WriteTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto record, txn.GetCase(request->case_id()));
          if (!record) {
            return absl::NotFoundError(
                absl::StrCat("case ", request->case_id(), " is not on record"));
          }
          PALM_RETURN_IF_ERROR(CheckTown(authority, record->value.town_id(),
                                         absl::StrCat("case ", request->case_id())));
          return server::ExtendDecisionDeadline(txn, *std::move(record), *request, actor,
                                                sync::SystemNowMs(), response->mutable_case_());
        });
  }

  grpc::ServerUnaryReactor* GetDecisionDocument(grpc::CallbackServerContext* ctx,
                                                const v1::GetDecisionDocumentRequest* request,
                                                v1::DecisionDocument* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kGetDecisionDocument);
    if (request->case_ref().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("case_ref is missing"));
    }
    return FinishAfterRead(
        ctx, store(), [authority, request, response](ReadTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(CaseRecord record,
                                FindCaseInScope(txn, authority, request->case_ref()));
          return FillDecisionDocument(txn, record.value.case_id(), response);
        });
  }

  grpc::ServerUnaryReactor* ShiftReport(grpc::CallbackServerContext* ctx,
                                        const v1::ShiftReportRequest* request,
                                        v1::ShiftReportResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kShiftReport);
    auto squad = ScopeSquad(authority, request->squad_id());
    if (!squad.ok()) return FinishNow(ctx, squad.status());
    if (squad->empty()) return FinishNow(ctx, absl::InvalidArgumentError("squad_id is missing"));
    auto day = LocalDay(request->date());
    if (!day.ok()) return FinishNow(ctx, day.status());
    response->set_squad_id(*squad);
    response->set_date(request->date());
    auto* reactor = ctx->DefaultReactor();
    ServerStore* store = this->store();
    store->SubmitRead(
        [authority, squad = *squad, day = *day, response](ReadTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto squad_record, txn.GetSquad(squad));
          if (!squad_record) {
            return absl::NotFoundError(absl::StrCat("squad ", squad, " is not on record"));
          }
          if (auto s = CheckTown(authority, squad_record->town_id(), absl::StrCat("squad ", squad));
              !s.ok()) {
            return s;
          }
          return FillShiftReport(txn, squad, day.first, day.second, response);
        },
        [reactor, store, response, request, actor = authority.actor()](absl::Status read) {
          if (!read.ok()) {
            reactor->Finish(ToGrpc(read));
            return;
          }
          // Who looked at which report is part of the record, like every
          // other admin action.
          store->SubmitWrite(
              [response, request, actor](WriteTxn& txn) -> absl::Status {
                return AppendAudit(txn, sync::SystemNowMs(), actor, "report.shift",
                                   response->squad_id(),
                                   {{"date", request->date()},
                                    {"cases_opened", response->totals().cases_opened()},
                                    {"tickets", response->totals().tickets()},
                                    {"tickets_total_fen", response->tickets_total_fen()}});
              },
              [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
        });
    return reactor;
  }

  // --- Security (issue 5): revocation, the audit check, legal review. -------

  grpc::ServerUnaryReactor* RevokeDevice(grpc::CallbackServerContext* ctx,
                                         const v1::RevokeDeviceRequest* request,
                                         v1::RevokeDeviceResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kRevokeDevice);
    if (request->device_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("device_id is missing"));
    }
    if (request->reason().empty()) {
      return FinishNow(
          ctx, absl::InvalidArgumentError("reason is missing: say why the device is revoked"));
    }
    return FinishAfterWrite(
        ctx, store(),
        [request, response, actor = authority.actor()](WriteTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto device, txn.GetDevice(request->device_id()));
          if (!device) {
            return absl::NotFoundError(
                absl::StrCat("device ", request->device_id(), " is not enrolled"));
          }
          if (device->revoked()) {
            return absl::FailedPreconditionError(
                absl::StrCat("device ", request->device_id(),
                             " was already revoked: ", device->revoke_reason()));
          }
          const int64_t now = sync::SystemNowMs();
          device->set_revoked(true);
          device->set_revoke_reason(request->reason());
          device->set_revoked_at_ms(now);
          if (auto s = txn.PutDevice(*device); !s.ok()) return s;
          *response->mutable_device() = *device;
          return AppendAudit(txn, now, actor, "device.revoked", device->device_id(),
                             {{"reason", request->reason()}, {"town", device->town_id()}});
        });
  }

  grpc::ServerUnaryReactor* VerifyAudit(grpc::CallbackServerContext* ctx,
                                        const v1::VerifyAuditRequest* request,
                                        v1::VerifyAuditResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kVerifyAudit);
    // The chain, then signed checkpoints (server/audit_checkpoint.h).
    AuditCheckpointer* audit = context_->audit.get();
    const v1::AuditCheckpoint* kept = request->has_checkpoint() ? &request->checkpoint() : nullptr;
    if (kept != nullptr) {
      if (auto s = CheckKeptCheckpoint(audit ? audit->key() : nullptr, audit ? audit->origin() : "",
                                       *kept);
          !s.ok()) {
        return FinishNow(ctx, s);
      }
    }
    return FinishAfterRead(ctx, store(), [audit, kept, response](ReadTxn& txn) {
      return VerifyAuditLog(txn, audit ? audit->key() : nullptr, kept, response);
    });
  }

  grpc::ServerUnaryReactor* GetAuditCheckpoint(grpc::CallbackServerContext* ctx,
                                               const v1::GetAuditCheckpointRequest*,
                                               v1::GetAuditCheckpointResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kGetAuditCheckpoint);
    AuditCheckpointer* audit = context_->audit.get();
    if (audit == nullptr) {
      return FinishNow(ctx, absl::FailedPreconditionError(
                                "this server has no usable audit key (see its log, event "
                                "log_key_unusable), so it signs no checkpoints"));
    }
    response->set_public_key_pem(audit->public_key_pem());
    // A fresh one when the log grew since the newest (never per entry:
    // only per call).
    return FinishAfterWrite(ctx, store(), [audit, response](WriteTxn& txn) -> absl::Status {
      PALM_ASSIGN_OR_RETURN(auto checkpoint, audit->Checkpoint(txn, sync::SystemNowMs(), 0));
      if (!checkpoint) {
        return absl::FailedPreconditionError(
            "the audit log is empty: there is nothing to checkpoint yet");
      }
      *response->mutable_checkpoint() = std::move(*checkpoint);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* BackupServer(grpc::CallbackServerContext* ctx,
                                         const v1::BackupServerRequest* request,
                                         v1::BackupServerResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kBackupServer);
    const int64_t now = sync::SystemNowMs();
    BackupParams params;
    params.name = request->name().empty() ? DefaultBackupName(now) : request->name();
    if (auto s = ValidateBackupName(params.name); !s.ok()) return FinishNow(ctx, s);
    params.backup_root = context_->config->effective_backup_dir();
    params.evidence_root = context_->config->data_dir + "/evidence";
    if (context_->audit) params.log_public_key_pem = context_->audit->public_key_pem();
    params.server_version = PALM_VERSION;
    params.now_ms = now;
    // The copy runs on a store reader thread (seconds for a large store;
    // writers go on), then the backup is audited.
    auto* reactor = ctx->DefaultReactor();
    ServerStore* store = this->store();
    store->SubmitRead(
        [store, params, response](ReadTxn&) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(*response, WriteBackup(*store, params));
          return absl::OkStatus();
        },
        [reactor, store, response, name = params.name,
         actor = authority.actor()](absl::Status written) {
          if (!written.ok()) {
            reactor->Finish(ToGrpc(written));
            return;
          }
          store->SubmitWrite(
              [response, name, actor](WriteTxn& txn) {
                return AppendAudit(txn, sync::SystemNowMs(), actor, "server.backup", name,
                                   {{"directory", response->directory()},
                                    {"store_bytes", response->store_bytes()},
                                    {"store_sha256", response->store_sha256()}});
              },
              [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* ReviewQueue(grpc::CallbackServerContext* ctx,
                                        const v1::ReviewQueueRequest* request,
                                        v1::ReviewQueueResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kReviewQueue);
    return FinishAfterRead(ctx, store(), [request, response](ReadTxn& txn) -> absl::Status {
      return ReviewQueuePage(txn, *request, response);
    });
  }

  grpc::ServerUnaryReactor* ReviewDecision(grpc::CallbackServerContext* ctx,
                                           const v1::ReviewDecisionRequest* request,
                                           v1::ReviewDecisionResponse* response) override {
    AUTHORIZE_OR_FINISH(authority, Rpc::kReviewDecision);
    if (request->case_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("case_id is missing"));
    }
    if (request->reason().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError(
                                "reason is missing: a review decision states its reason"));
    }
    // Without a session (only the test harness, where sessions are not
    // required) no reviewer is identified, and the checks of who reviews
    // cannot run; with sessions required every review names its reviewer.
    const std::string reviewer = authority.session ? authority.session->officer_id : "";
    return FinishAfterWrite(
        ctx, store(),
        [request, response, reviewer, actor = authority.actor(),
         matters = context_->matters](WriteTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto record, txn.GetCase(request->case_id()));
          if (!record) {
            return absl::NotFoundError(
                absl::StrCat("case ", request->case_id(), " is not on record"));
          }
          v1::Case& c = record->value;
          const std::string label = c.case_number().empty() ? c.case_id() : c.case_number();
          if (c.state() != v1::CASE_STATE_LEGAL_REVIEW) {
            return absl::FailedPreconditionError(
                absl::StrCat("case ", label, " is in state ", v1::CaseState_Name(c.state()),
                             ", not CASE_STATE_LEGAL_REVIEW; only a case under legal review "
                             "can be approved or sent back"));
          }
          // The reviewer is qualified and did not work on the case (Art. 58).
          std::optional<v1::Officer> who;
          if (!reviewer.empty()) {
            PALM_ASSIGN_OR_RETURN(who, txn.GetOfficer(reviewer));
          }
          if (!reviewer.empty() && (!who || !who->legal_reviewer() || !who->active())) {
            return absl::PermissionDeniedError(absl::StrCat(
                "officer ", reviewer,
                " is not an active qualified legal reviewer (legal_reviewer on the roster); only "
                "one may review a decision (Art. 58)"));
          }
          const bool on_case =
              !reviewer.empty() && (c.created_by_officer() == reviewer ||
                                    std::find(c.officer_ids().begin(), c.officer_ids().end(),
                                              reviewer) != c.officer_ids().end());
          if (on_case) {
            return absl::FailedPreconditionError(absl::StrCat(
                "officer ", reviewer, " works on case ", label,
                " and may not review its decision; another qualified reviewer must (Art. 58)"));
          }
          const int64_t now = sync::SystemNowMs();
          v1::CaseEvent event;
          event.set_event_id(sync::NewUuidV7(now));
          event.set_case_id(c.case_id());
          event.set_kind(v1::CASE_EVENT_KIND_REVIEW);
          event.set_at_ms(now);
          event.set_officer_id(reviewer);
          if (request->approve()) {
            // The approval is bound to the decision reviewed: the matter, its
            // basis, the fine and the facts (sync::DecisionDigest).
            PALM_ASSIGN_OR_RETURN(const v1::Matter* matter, matters->Find(txn, c.matter_code()));
            v1::ReviewApproval* approval = c.mutable_review_approval();
            approval->set_reviewer_id(reviewer);
            approval->set_approved_at_ms(now);
            approval->set_decision_digest(sync::DecisionDigest(c, matter));
            approval->set_proposed_fine_fen(c.proposed_fine_fen());
            approval->set_matter_code(c.matter_code());
            c.set_review_approved(true);
            event.set_text(
                absl::StrCat("legal review approved by ", reviewer, ": ", request->reason()));
          } else {
            sync::EnterState(&c, v1::CASE_STATE_INVESTIGATING);
            c.set_review_approved(false);
            *c.mutable_state_hlc() = sync::HlcStamp{now, 0}.ToProto();
            event.set_from_state(v1::CASE_STATE_LEGAL_REVIEW);
            event.set_to_state(v1::CASE_STATE_INVESTIGATING);
            event.set_text(absl::StrCat("legal review rejected by ", reviewer,
                                        ", sent back to investigation: ", request->reason()));
          }
          if (auto s = txn.PutCase(*record); !s.ok()) return s;
          if (auto s = txn.PutEvent(event); !s.ok()) return s;
          PALM_ASSIGN_OR_RETURN(
              auto seq, txn.AppendChange(EntityKind::kCase, c.case_id(), TownScope(c.town_id())));
          PALM_ASSIGN_OR_RETURN(
              seq, txn.AppendChange(EntityKind::kEvent, event.event_id(), TownScope(c.town_id())));
          (void)seq;
          *response->mutable_case_() = c;
          return AppendAudit(txn, now, actor,
                             request->approve() ? "review.approved" : "review.rejected",
                             c.case_id(),
                             {{"case_number", c.case_number()},
                              {"reviewer", reviewer},
                              {"reason", request->reason()},
                              {"event", event.event_id()}});
        });
  }

 private:
  ServerStore* store() const { return context_->store; }

  // With a certificate (always, when TLS is on): it must chain to the bureau
  // CA, name `request.device_id` (or give the id when that is empty) and
  // carry the request's town as its OU. Sets the device id and fingerprint.
  absl::Status CheckDeviceCertificate(const v1::EnrollDeviceRequest& request,
                                      v1::Device* device) const {
    if (!request.csr_pem().empty()) {
      return absl::InvalidArgumentError(
          "csr_pem is not supported; issue the certificate with `palmctl device enroll` and send "
          "certificate_pem");
    }
    if (request.certificate_pem().empty()) {
      if (context_->config->tls_enabled()) {
        return absl::InvalidArgumentError(
            "certificate_pem is missing: with TLS a device is enrolled with its certificate");
      }
      return absl::OkStatus();
    }
    if (!context_->client_ca_pem.empty()) {
      if (auto s = pki::VerifyCertificate(request.certificate_pem(), context_->client_ca_pem);
          !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("certificate_pem does not verify against the bureau CA: ", s.message()));
      }
    }
    auto id = pki::DeviceIdFromCertificatePem(request.certificate_pem());
    if (!id.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("certificate_pem is not a device certificate: ", id.status().message()));
    }
    if (!request.device_id().empty() && *id != request.device_id()) {
      return absl::InvalidArgumentError(absl::StrCat("certificate_pem is for device ", *id,
                                                     ", not for device ", request.device_id()));
    }
    auto info = pki::InspectCertificatePem(request.certificate_pem());
    if (!info.ok()) return absl::InvalidArgumentError(info.status().message());
    if (info->organizational_unit != request.town_id()) {
      return absl::InvalidArgumentError(absl::StrCat("certificate_pem is for town ",
                                                     info->organizational_unit, ", not for town ",
                                                     request.town_id()));
    }
    device->set_device_id(*id);
    device->set_certificate_sha256(info->sha256);
    return absl::OkStatus();
  }

  ServiceContext* context_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAdminService(ServiceContext* context) {
  return std::make_unique<AdminServiceImpl>(context);
}

}  // namespace palm::server
