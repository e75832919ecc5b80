// Authorisation of every RPC by role and jurisdiction (DESIGN.md §4), in one
// table (authz.cc, kRules). Each handler calls Authorize first; handlers that
// read or write a town's or a squad's data then narrow the request with
// ScopeTown / ScopeSquad (or check a stored entity with CheckTown /
// CheckSquad).
//
// Roles reach:  officer, auxiliary   their own town (devices: their device)
//               squad_leader         their town's cases, their squad's
//                                    devices, conflicts, rejections, report
//               legal_reviewer,      the whole county
//               admin, auditor
//
// A session token (server/auth_token.h) is required on every call when TLS is
// on (and with --require-session). In --insecure-loopback mode a call without
// a token is a trusted test harness call: identity from metadata, no role
// checks. A call with a token is always checked.
#ifndef PALM_SERVER_AUTHZ_H_
#define PALM_SERVER_AUTHZ_H_

#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "server/auth_token.h"
#include "server/identity.h"
#include "server/services.h"

namespace palm::server {

enum class Rpc {
  // SyncService
  kPush,
  kPull,
  kLeaseTicketNumbers,
  kReturnTicketLease,
  kRestoreTicketLeases,
  kGetReferenceData,
  kReportDeviceStatus,
  // AuthService (SignIn needs no session)
  kRefreshSession,
  kSignOut,
  // AdminService
  kSquadStatus,
  kListConflicts,
  kGetConflict,
  kResolveConflict,
  kListRejected,
  kGetRejected,
  kDismissRejected,
  kResubmitRejected,
  kListCases,
  kGetCase,
  kReviewQueue,
  kReviewDecision,
  kLoadCatalog,
  kGetCatalog,
  kEnrollDevice,
  kRevokeDevice,
  kListDevices,
  kAddOfficer,
  kListOfficers,
  kVerifyAudit,
  kGetAuditCheckpoint,
  kShiftReport,
  kUnlockOfficer,
  kPutTown,
  kPutSquad,
  kListOrganisation,
  kListDeadlines,
  kExtendDecisionDeadline,
  kGetDecisionDocument,
  kBackupServer,
  // EvidenceService
  kUpload,
  kGetUploadOffset,
  kGetReceipt,
  kGetTreeHead,
  kGetConsistencyProof,
};

// The full gRPC name of `rpc`, e.g. "AdminService.LoadCatalog".
const char* RpcName(Rpc rpc);

// Who may do what on this call.
struct Authority {
  Principal principal;
  // Absent only for a trusted loopback harness call (see above).
  std::optional<SessionClaims> session;

  bool harness() const { return !session.has_value(); }
  // The device, for RPCs that only devices call (Authorize checked it).
  const Caller& device() const { return *principal.device; }
  // For audit entries: "officer:ID" (with a session) or the principal.
  std::string actor() const;
};

// Identifies the caller of `ctx`, checks its session token and that its role
// may call `rpc` (and, for device RPCs, that it is a device of the officer's
// town). UNAUTHENTICATED for a missing, malformed, forged, expired, ended
// (server/auth_sessions.h) or misbound token or an unknown/revoked device;
// PERMISSION_DENIED for a role or caller that may not call `rpc`. Never
// blocks.
absl::StatusOr<Authority> Authorize(const grpc::CallbackServerContext* ctx,
                                    const ServiceContext& context, Rpc rpc);

// For AuthService.SignOut: as Authorize(ctx, context, Rpc::kSignOut), except
// that a token which verifies and is bound to the caller is accepted even
// when it has expired or ended; *live says whether it was still live.
absl::StatusOr<Authority> AuthorizeSignOut(const grpc::CallbackServerContext* ctx,
                                           const ServiceContext& context, bool* live);

// The town a request about `requested_town` (empty: "mine") may see: the
// same for county roles and the harness, the officer's own town for others
// (PERMISSION_DENIED naming both towns when `requested_town` is another).
absl::StatusOr<std::string> ScopeTown(const Authority& a, const std::string& requested_town);
// Likewise for squads: a squad leader is held to their squad.
absl::StatusOr<std::string> ScopeSquad(const Authority& a, const std::string& requested_squad);

// PERMISSION_DENIED unless `a` may reach data of `town_id` / `squad_id`
// (`what` names the data in the message, e.g. "case 桐综执罚〔2026〕0001号").
absl::Status CheckTown(const Authority& a, const std::string& town_id, const std::string& what);
absl::Status CheckSquad(const Authority& a, const std::string& squad_id, const std::string& what);

}  // namespace palm::server

#endif  // PALM_SERVER_AUTHZ_H_
