// The evidence log across restores (issue 18; docs/evidence.md, "The log
// across a restore"). A restored store holds a prefix of the log's history;
// the old server may have appended and signed beyond it. Appending new
// leaves at those indexes under the same origin would be a second history
// for heads devices hold, so at every new epoch the log goes on under a new
// origin, "<configured origin>/<epoch>", with a signed LogTransition (see
// sync/log_transition.h) saying which head of the old log the new one holds.
//
// The transitions live in the store (with the epoch they belong to, in one
// transaction) and in <data dir>/evidence/log_lineage, outside the store, so
// a later restore to an older backup does not forget the history it
// abandons: GetTreeHead answers every transition the file holds.
#ifndef PALM_SERVER_LOG_LINEAGE_H_
#define PALM_SERVER_LOG_LINEAGE_H_

#include <openssl/evp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "palm/v1/evidence.pb.h"
#include "server/store.h"

namespace palm::server {

// At most this many transitions are answered by GetTreeHead (one per
// restore; the newest are kept).
inline constexpr size_t kMaxLogTransitions = 100;

// The origin the store's log is under: the to_origin of its last
// transition, else `configured` (a log that never went through a restore).
std::string CurrentLogOrigin(const std::vector<palm::v1::LogTransition>& store_transitions,
                             const std::string& configured);

// Run in the new-epoch transaction (ServerStore::AssignNewEpoch): signs the
// store's whole tree under the origin it was under (the transition's
// from_head), the transition to "<configured>/<epoch>", and a first head of
// the new log — publishing receipts against it for leaves the restored
// store had not yet given one — and records the transition. `reason` is
// "restored from backup NAME" or "new epoch".
absl::StatusOr<palm::v1::LogTransition> ContinueLogUnderNewOrigin(WriteTxn& txn, EVP_PKEY* key,
                                                                  const std::string& configured,
                                                                  const std::string& epoch,
                                                                  const std::string& reason,
                                                                  int64_t now_ms);

// Adds to the lineage file `path` every transition of `store_transitions`
// it lacks (durably: sync::ReplaceFileDurably) and returns all it holds,
// oldest first. A file that is not one: DATA_LOSS naming it.
absl::StatusOr<std::vector<palm::v1::LogTransition>> RecordLineage(
    const std::string& path, const std::vector<palm::v1::LogTransition>& store_transitions);

}  // namespace palm::server

#endif  // PALM_SERVER_LOG_LINEAGE_H_
