// The convergence check the end-to-end tests and palm-sim share: what a
// device holds against what the server holds for the device's town. Not part
// of the shipped client libraries (its own target, palm_convergence); it
// reads the device only through the public palm::Client API, and the server
// side is whatever the caller fetched through AdminService.
#ifndef PALM_CLIENT_CONVERGENCE_H_
#define PALM_CLIENT_CONVERGENCE_H_

#include <string>
#include <vector>

#include "palm/client.h"
#include "palm/v1/admin.pb.h"

namespace palm::internal {

// Differences between what `device` holds and `server_cases` (every case the
// server holds for the device's town, as AdminService.GetCase answers it);
// empty when they agree. Compares the case set and, per case, number, state,
// fields, parties, evidence records, tickets, decisions and timeline, naming
// the events only one side has; each difference ends with "; ". Whether
// evidence files have gone up is the caller's to check (palm-sim does; the
// e2e tests record evidence without files). A device read that fails is
// reported in the result, never thrown.
std::string DiffWithServer(Client& device, const std::vector<v1::CaseDetail>& server_cases);

}  // namespace palm::internal

#endif  // PALM_CLIENT_CONVERGENCE_H_
