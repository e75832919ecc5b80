// The lists of AdminService, one page per call (server/list_pages.h,
// docs/protocol.md "Pages of the admin lists"). Each function runs inside a
// read transaction, after the service has authorised the call and narrowed
// its scope (`town`, `squad`: what ScopeTown / ScopeSquad gave); it checks
// the request's page_token (INVALID_ARGUMENT naming page_token), reads one
// page in the list's order and sets next_page_token when rows follow.
#ifndef PALM_SERVER_ADMIN_LISTS_H_
#define PALM_SERVER_ADMIN_LISTS_H_

#include <string>

#include "absl/status/status.h"
#include "palm/v1/admin.pb.h"
#include "server/store.h"

namespace palm::server {

// Open (or with include_resolved, all) conflicts of `squad` (all squads when
// empty), by (recorded_at_ms, conflict id).
absl::Status ListConflictsPage(ReadTxn& txn, const std::string& squad,
                               const palm::v1::ListConflictsRequest& request,
                               palm::v1::ListConflictsResponse* response);

// Rejected mutations of the devices of `squad`, by (recorded_at_ms, device,
// sequence number), each as RejectedOf shows it.
absl::Status ListRejectedPage(ReadTxn& txn, const std::string& squad,
                              const palm::v1::ListRejectedRequest& request,
                              palm::v1::ListRejectedResponse* response);

// Cases of `town` matching the request's filters, by (created_at_ms, case id).
absl::Status ListCasesPage(ReadTxn& txn, const std::string& town,
                           const palm::v1::ListCasesRequest& request,
                           palm::v1::ListCasesResponse* response);

// Cases in LEGAL_REVIEW, by (created_at_ms, case id).
absl::Status ReviewQueuePage(ReadTxn& txn, const palm::v1::ReviewQueueRequest& request,
                             palm::v1::ReviewQueueResponse* response);

// Devices of `town`, by device id.
absl::Status ListDevicesPage(ReadTxn& txn, const std::string& town,
                             const palm::v1::ListDevicesRequest& request,
                             palm::v1::ListDevicesResponse* response);

// Officers of `town`, narrowed to `squad` when set, by officer id.
absl::Status ListOfficersPage(ReadTxn& txn, const std::string& town, const std::string& squad,
                              const palm::v1::ListOfficersRequest& request,
                              palm::v1::ListOfficersResponse* response);

// The sync state of the devices of `squad` (all when empty), by device id.
absl::Status SquadStatusPage(ReadTxn& txn, const std::string& squad,
                             const palm::v1::SquadStatusRequest& request,
                             palm::v1::SquadStatusResponse* response);

// A recorded rejection as the admin calls show it, its mutation bounded
// (sync::BoundRefused) even when it was stored before the bound.
palm::v1::RejectedMutation RejectedOf(const DeviceLogEntry& entry);

}  // namespace palm::server

#endif  // PALM_SERVER_ADMIN_LISTS_H_
