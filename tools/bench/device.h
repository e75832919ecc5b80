// A benchmark handheld: a palm::Client on a fresh SQLite file, seeded with
// the reference data a first sync would bring (catalogue, officers, a ticket
// lease), and realistic inputs for it.
#ifndef PALM_TOOLS_BENCH_DEVICE_H_
#define PALM_TOOLS_BENCH_DEVICE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "palm/client.h"

namespace palm::bench {

// Opens a new device store under `dir` (database in dir/data, key in
// dir/keys, as the client requires them apart) with `durability`, installs
// the catalogue at `catalog_path`, two officers (one sworn, one auxiliary)
// and a lease of `ticket_numbers` numbers, and logs the sworn officer in.
absl::StatusOr<std::unique_ptr<Client>> OpenSeededDevice(const std::string& dir,
                                                         const std::string& catalog_path,
                                                         Durability durability,
                                                         int64_t ticket_numbers);

// A summary-procedure case for a fast-track matter, with one citizen party.
CaseInput BenchCase(int64_t serial);

// Evidence metadata for `case_id`, content hashed elsewhere.
EvidenceInput BenchEvidence(const std::string& case_id, int64_t serial);

// A complete Art. 52 ticket of 100 yuan on `case_id`.
TicketInput BenchTicket(const std::string& case_id);

}  // namespace palm::bench

#endif  // PALM_TOOLS_BENCH_DEVICE_H_
