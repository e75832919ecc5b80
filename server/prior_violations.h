// Violations that no longer stand (Art. 33's first-violation check,
// sync/no_penalty.h): a voided ticket's violation is marked voided in the
// store and sent again to every device, which then no longer counts it.
#ifndef PALM_SERVER_PRIOR_VIOLATIONS_H_
#define PALM_SERVER_PRIOR_VIOLATIONS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "server/store.h"
#include "sync/party_key.h"

namespace palm::server {

// Called with the entity id of each prior violation marked voided, to log
// the change (the caller's own AppendChange, e.g. a push's Apply::Changed).
using PriorViolationChanged = std::function<absl::Status(const std::string& entity_id)>;

// Marks voided, in `txn`, every violation case `case_id` recorded that no
// longer stands (sync::ViolationStands over the case's tickets and
// decisions), calling `changed` for each. A record is matched to its party
// by its violation id, or, for records of older servers that carry none, by
// the party's key under `secret` (null: the legacy key). Returns how many it
// marked; NOT_FOUND when the case is not on record.
absl::StatusOr<int64_t> LapseViolationsOfCase(WriteTxn& txn, const sync::PartyKeySecret* secret,
                                              const std::string& case_id,
                                              const PriorViolationChanged& changed);

// At start-up, once after the migration that made voiding lapse a
// violation: LapseViolationsOfCase for every case PendingPriorRechecks
// names (tickets voided before), appending each change to the change log,
// and clears them. Returns how many records it marked.
absl::StatusOr<int64_t> RecheckPendingViolations(WriteTxn& txn, const sync::PartyKeySecret* secret);

}  // namespace palm::server

#endif  // PALM_SERVER_PRIOR_VIOLATIONS_H_
