// The convergence check: every device's cases equal what the server holds
// for the device's town (AdminService.ListCases/GetCase with the admin token),
// compared by client-lib/src/convergence.h as the end-to-end tests compare
// them, and every evidence file has gone up.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client-lib/src/convergence.h"
#include "tools/sim/sim.h"

namespace palm::sim {

absl::StatusOr<TownOnServer> FetchTown(const Connection& conn, const std::string& town_id) {
  auto admin = v1::AdminService::NewStub(conn.Channel(&conn.operator_creds));
  TownOnServer town;
  v1::ListCasesRequest request;
  request.set_town_id(town_id);
  request.set_page_size(500);
  std::vector<std::string> ids;
  for (;;) {
    v1::ListCasesResponse response;
    grpc::Status s = admin->ListCases(conn.Context(conn.admin_token).get(), request, &response);
    if (!s.ok()) return absl::UnavailableError(absl::StrCat("ListCases: ", s.error_message()));
    for (const auto& c : response.cases()) ids.push_back(c.case_id());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  for (const std::string& id : ids) {
    v1::GetCaseRequest get;
    get.set_case_ref(id);
    v1::CaseDetail detail;
    grpc::Status s = admin->GetCase(conn.Context(conn.admin_token).get(), get, &detail);
    if (!s.ok())
      return absl::UnavailableError(absl::StrCat("GetCase ", id, ": ", s.error_message()));
    town.cases.push_back(std::move(detail));
  }
  return town;
}

std::string DiffWithServer(SimDevice& device, const TownOnServer& town) {
  // Evidence whose file never reached the server is work not done.
  Result<PendingSyncCounts> pending = device.client->PendingCounts();
  if (!pending.ok()) return "PendingCounts: " + pending.status().ToString();
  std::string diff;
  if (pending->uploads > 0)
    diff = absl::StrCat(pending->uploads, " evidence file(s) not uploaded; ");
  return diff + internal::DiffWithServer(*device.client, town.cases);
}

}  // namespace palm::sim
