#include "server/authz.h"

#include <initializer_list>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "server/auth_sessions.h"
#include "sync/hlc.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

using RoleSet = std::initializer_list<v1::Role>;

// Where a caller must stand.
enum class Reach {
  // Only a handheld, and only one of the signed-in officer's town.
  kDevice,
  // Any principal (a handheld or an operator certificate).
  kAny,
};

struct Rule {
  Rpc rpc;
  const char* name;
  RoleSet roles;
  Reach reach;
};

constexpr v1::Role kOfficer = v1::ROLE_OFFICER;
constexpr v1::Role kAux = v1::ROLE_AUXILIARY;
constexpr v1::Role kLeader = v1::ROLE_SQUAD_LEADER;
constexpr v1::Role kReviewer = v1::ROLE_LEGAL_REVIEWER;
constexpr v1::Role kAdmin = v1::ROLE_ADMIN;
constexpr v1::Role kAuditor = v1::ROLE_AUDITOR;

// THE policy. Jurisdiction inside a call is narrowed with ScopeTown /
// ScopeSquad by the handler.
const Rule kRules[] = {
    {Rpc::kPush, "SyncService.Push", {kOfficer, kAux, kLeader}, Reach::kDevice},
    {Rpc::kPull, "SyncService.Pull", {kOfficer, kAux, kLeader}, Reach::kDevice},
    {Rpc::kLeaseTicketNumbers,
     "SyncService.LeaseTicketNumbers",
     {kOfficer, kAux, kLeader},
     Reach::kDevice},
    {Rpc::kReturnTicketLease,
     "SyncService.ReturnTicketLease",
     {kOfficer, kAux, kLeader},
     Reach::kDevice},
    {Rpc::kRestoreTicketLeases,
     "SyncService.RestoreTicketLeases",
     {kOfficer, kAux, kLeader},
     Reach::kDevice},
    {Rpc::kGetReferenceData,
     "SyncService.GetReferenceData",
     {kOfficer, kAux, kLeader},
     Reach::kDevice},
    {Rpc::kReportDeviceStatus,
     "SyncService.ReportDeviceStatus",
     {kOfficer, kAux, kLeader},
     Reach::kDevice},
    {Rpc::kRefreshSession,
     "AuthService.RefreshSession",
     {kOfficer, kAux, kLeader, kReviewer, kAdmin, kAuditor},
     Reach::kAny},
    {Rpc::kSignOut,
     "AuthService.SignOut",
     {kOfficer, kAux, kLeader, kReviewer, kAdmin, kAuditor},
     Reach::kAny},
    {Rpc::kSquadStatus, "AdminService.SquadStatus", {kLeader, kAdmin, kAuditor}, Reach::kAny},
    {Rpc::kListConflicts, "AdminService.ListConflicts", {kLeader, kAdmin, kAuditor}, Reach::kAny},
    {Rpc::kGetConflict, "AdminService.GetConflict", {kLeader, kAdmin, kAuditor}, Reach::kAny},
    {Rpc::kResolveConflict, "AdminService.ResolveConflict", {kLeader, kAdmin}, Reach::kAny},
    {Rpc::kListRejected, "AdminService.ListRejected", {kLeader, kAdmin, kAuditor}, Reach::kAny},
    {Rpc::kGetRejected, "AdminService.GetRejected", {kLeader, kAdmin, kAuditor}, Reach::kAny},
    {Rpc::kDismissRejected, "AdminService.DismissRejected", {kLeader, kAdmin}, Reach::kAny},
    {Rpc::kResubmitRejected, "AdminService.ResubmitRejected", {kLeader, kAdmin}, Reach::kAny},
    {Rpc::kListCases,
     "AdminService.ListCases",
     {kOfficer, kAux, kLeader, kReviewer, kAdmin, kAuditor},
     Reach::kAny},
    {Rpc::kGetCase,
     "AdminService.GetCase",
     {kOfficer, kAux, kLeader, kReviewer, kAdmin, kAuditor},
     Reach::kAny},
    {Rpc::kReviewQueue, "AdminService.ReviewQueue", {kReviewer, kAdmin, kAuditor}, Reach::kAny},
    {Rpc::kReviewDecision, "AdminService.ReviewDecision", {kReviewer}, Reach::kAny},
    {Rpc::kLoadCatalog, "AdminService.LoadCatalog", {kAdmin}, Reach::kAny},
    {Rpc::kGetCatalog,
     "AdminService.GetCatalog",
     {kOfficer, kAux, kLeader, kReviewer, kAdmin, kAuditor},
     Reach::kAny},
    {Rpc::kEnrollDevice, "AdminService.EnrollDevice", {kAdmin}, Reach::kAny},
    {Rpc::kRevokeDevice, "AdminService.RevokeDevice", {kAdmin}, Reach::kAny},
    {Rpc::kListDevices, "AdminService.ListDevices", {kLeader, kAdmin, kAuditor}, Reach::kAny},
    {Rpc::kAddOfficer, "AdminService.AddOfficer", {kAdmin}, Reach::kAny},
    {Rpc::kListOfficers, "AdminService.ListOfficers", {kLeader, kAdmin, kAuditor}, Reach::kAny},
    {Rpc::kVerifyAudit, "AdminService.VerifyAudit", {kAuditor, kAdmin}, Reach::kAny},
    // A checkpoint is a count and a hash, signed: anyone may keep one.
    {Rpc::kGetAuditCheckpoint,
     "AdminService.GetAuditCheckpoint",
     {kOfficer, kAux, kLeader, kReviewer, kAdmin, kAuditor},
     Reach::kAny},
    {Rpc::kShiftReport, "AdminService.ShiftReport", {kLeader, kAdmin, kAuditor}, Reach::kAny},
    {Rpc::kUnlockOfficer, "AdminService.UnlockOfficer", {kAdmin}, Reach::kAny},
    {Rpc::kPutTown, "AdminService.PutTown", {kAdmin}, Reach::kAny},
    {Rpc::kPutSquad, "AdminService.PutSquad", {kAdmin}, Reach::kAny},
    {Rpc::kListOrganisation,
     "AdminService.ListOrganisation",
     {kOfficer, kAux, kLeader, kReviewer, kAdmin, kAuditor},
     Reach::kAny},
    {Rpc::kListDeadlines,
     "AdminService.ListDeadlines",
     {kLeader, kReviewer, kAdmin, kAuditor},
     Reach::kAny},
    // The agency head approves; the squad leader or the office records it.
    {Rpc::kExtendDecisionDeadline,
     "AdminService.ExtendDecisionDeadline",
     {kLeader, kAdmin},
     Reach::kAny},
    // Printed by the officers who serve it, their leaders, the reviewers;
    // it carries the parties' identity numbers, so not auxiliaries.
    {Rpc::kGetDecisionDocument,
     "AdminService.GetDecisionDocument",
     {kOfficer, kLeader, kReviewer, kAdmin},
     Reach::kAny},
    // A copy of the whole store: personal data of every town.
    {Rpc::kBackupServer, "AdminService.BackupServer", {kAdmin}, Reach::kAny},
    {Rpc::kUpload, "EvidenceService.Upload", {kOfficer, kAux, kLeader}, Reach::kDevice},
    {Rpc::kGetUploadOffset,
     "EvidenceService.GetUploadOffset",
     {kOfficer, kAux, kLeader},
     Reach::kDevice},
    // Receipts are proof for whoever checks the evidence later (reviewers,
    // auditors through palmctl), not only for the capturing device; the
    // handler holds town roles to the evidence's town (CheckTown).
    {Rpc::kGetReceipt,
     "EvidenceService.GetReceipt",
     {kOfficer, kAux, kLeader, kReviewer, kAdmin, kAuditor},
     Reach::kAny},
    {Rpc::kGetTreeHead,
     "EvidenceService.GetTreeHead",
     {kOfficer, kAux, kLeader, kReviewer, kAdmin, kAuditor},
     Reach::kAny},
    {Rpc::kGetConsistencyProof,
     "EvidenceService.GetConsistencyProof",
     {kOfficer, kAux, kLeader, kReviewer, kAdmin, kAuditor},
     Reach::kAny},
};

const Rule& RuleOf(Rpc rpc) {
  for (const Rule& r : kRules) {
    if (r.rpc == rpc) return r;
  }
  // Every Rpc has a rule (authz_test would catch a missing one); fail closed.
  static const Rule kNone{rpc, "unknown RPC", {}, Reach::kDevice};
  return kNone;
}

bool IsCountyRole(v1::Role role) { return role == kReviewer || role == kAdmin || role == kAuditor; }

std::string RoleName(v1::Role role) {
  std::string name = v1::Role_Name(role);
  return name.empty() ? absl::StrCat(static_cast<int>(role)) : name;
}

std::string Who(const SessionClaims& s) {
  return absl::StrCat("officer ", s.officer_id, " (", RoleName(s.role), ")");
}

// The bearer token of `ctx`, or empty.
std::string BearerToken(const grpc::CallbackServerContext* ctx) {
  const auto& metadata = ctx->client_metadata();
  auto it = metadata.find(kAuthorizationMetadata);
  if (it == metadata.end()) return "";
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ")) return "-";
  return std::string(value.empty() ? "-" : value);
}

// Authorize, and AuthorizeSignOut when `live` is set.
absl::StatusOr<Authority> AuthorizeCall(const grpc::CallbackServerContext* ctx,
                                        const ServiceContext& context, Rpc rpc, bool* live);

}  // namespace

const char* RpcName(Rpc rpc) { return RuleOf(rpc).name; }

std::string Authority::actor() const {
  if (session) return absl::StrCat("officer:", session->officer_id);
  return principal.device ? absl::StrCat("device:", principal.device->device_id) : principal.name();
}

absl::StatusOr<Authority> Authorize(const grpc::CallbackServerContext* ctx,
                                    const ServiceContext& context, Rpc rpc) {
  return AuthorizeCall(ctx, context, rpc, nullptr);
}

absl::StatusOr<Authority> AuthorizeSignOut(const grpc::CallbackServerContext* ctx,
                                           const ServiceContext& context, bool* live) {
  *live = false;
  return AuthorizeCall(ctx, context, Rpc::kSignOut, live);
}

namespace {

absl::StatusOr<Authority> AuthorizeCall(const grpc::CallbackServerContext* ctx,
                                        const ServiceContext& context, Rpc rpc, bool* live) {
  const Rule& rule = RuleOf(rpc);
  const bool tls = context.config->tls_enabled();
  auto principal = IdentifyPrincipal(ctx, *context.store, tls);
  if (!principal.ok()) return principal.status();
  Authority a{std::move(*principal), std::nullopt};

  const std::string token = BearerToken(ctx);
  if (token.empty()) {
    if (context.config->sessions_required()) {
      return absl::UnauthenticatedError(
          absl::StrCat(rule.name,
                       " needs a session token (metadata `authorization: Bearer <token>`); sign in "
                       "with AuthService.SignIn"));
    }
    if (rule.reach == Reach::kDevice && !a.principal.device) {
      return absl::UnauthenticatedError(
          absl::StrCat("the call names no device (metadata ", kDeviceIdMetadata, ")"));
    }
    return a;  // trusted loopback harness
  }
  if (context.signer == nullptr) return absl::InternalError("no session signer configured");
  const int64_t now = sync::SystemNowMs();
  auto claims =
      live != nullptr ? context.signer->VerifySignature(token) : context.signer->Verify(token, now);
  if (!claims.ok()) return claims.status();
  absl::Status ended =
      context.sessions != nullptr ? context.sessions->Check(*claims) : absl::OkStatus();
  if (live != nullptr) {
    *live = ended.ok() && now < claims->expires_at_ms;
  } else if (!ended.ok()) {
    return ended;
  }
  if (claims->principal != a.principal.name()) {
    return absl::UnauthenticatedError(absl::StrCat("the session token was issued to ",
                                                   claims->principal, ", not to ",
                                                   a.principal.name(), "; sign in on this device"));
  }
  bool allowed = false;
  for (v1::Role role : rule.roles) allowed = allowed || role == claims->role;
  if (!allowed) {
    std::vector<std::string> names;
    for (v1::Role role : rule.roles) names.push_back(RoleName(role));
    return absl::PermissionDeniedError(absl::StrCat(
        Who(*claims), " may not call ", rule.name, " (allowed: ", absl::StrJoin(names, ", "), ")"));
  }
  if (rule.reach == Reach::kDevice) {
    if (!a.principal.device) {
      return absl::PermissionDeniedError(
          absl::StrCat(rule.name, " is for enrolled devices; ", a.principal.name(), " is not one"));
    }
    if (a.principal.device->town_id != claims->town_id) {
      return absl::PermissionDeniedError(
          absl::StrCat(Who(*claims), " of town ", claims->town_id, " may not use device ",
                       a.principal.device->device_id, " of town ", a.principal.device->town_id));
    }
  }
  a.session = std::move(*claims);
  return a;
}

}  // namespace

absl::StatusOr<std::string> ScopeTown(const Authority& a, const std::string& requested_town) {
  if (a.harness() || IsCountyRole(a.session->role)) return requested_town;
  if (requested_town.empty()) return a.session->town_id;
  if (requested_town != a.session->town_id) {
    return absl::PermissionDeniedError(absl::StrCat(
        Who(*a.session), " of town ", a.session->town_id, " may not reach town ", requested_town));
  }
  return requested_town;
}

absl::StatusOr<std::string> ScopeSquad(const Authority& a, const std::string& requested_squad) {
  if (a.harness() || IsCountyRole(a.session->role)) return requested_squad;
  // Officers and auxiliaries reach their town; only squad leaders are held
  // to a squad.
  if (a.session->role != v1::ROLE_SQUAD_LEADER) return requested_squad;
  if (requested_squad.empty()) return a.session->squad_id;
  if (requested_squad != a.session->squad_id) {
    return absl::PermissionDeniedError(absl::StrCat(Who(*a.session), " of squad ",
                                                    a.session->squad_id, " may not reach squad ",
                                                    requested_squad));
  }
  return requested_squad;
}

absl::Status CheckTown(const Authority& a, const std::string& town_id, const std::string& what) {
  if (a.harness() || IsCountyRole(a.session->role) || town_id == a.session->town_id) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(Who(*a.session), " of town ", a.session->town_id,
                                                  " may not reach ", what, " of town ", town_id));
}

absl::Status CheckSquad(const Authority& a, const std::string& squad_id, const std::string& what) {
  if (a.harness() || IsCountyRole(a.session->role) || a.session->role != v1::ROLE_SQUAD_LEADER ||
      squad_id == a.session->squad_id) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(Who(*a.session), " of squad ",
                                                  a.session->squad_id, " may not reach ", what,
                                                  " of squad ", squad_id));
}

}  // namespace palm::server
