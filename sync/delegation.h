// Delegation (赋权, Art. 24): a town acts only on the matters the county
// delegated to it; the bureau's own units, which are not delegated, act on
// every matter. Shared by the device (checked offline before a write) and
// the server (checked again at push, final).
#ifndef PALM_SYNC_DELEGATION_H_
#define PALM_SYNC_DELEGATION_H_

#include <vector>

#include "absl/status/status.h"
#include "palm/v1/catalog.pb.h"
#include "palm/v1/org.pb.h"

namespace palm::sync {

// Whether `town` may act on `matter`: every matter when the town is not
// delegated; else the matters it lists in delegated_matters, or, when it
// lists none, the catalogue's matters marked delegated_to_towns.
bool MayActOn(const palm::v1::Town& town, const palm::v1::Matter& matter);

// Checks that a case of `town` may be under `matter`. `town` is null when
// it is not on record (nothing then restricts it); `towns` are all towns on
// record, whose undelegated units the refusal names as the ones that handle
// the matter. OK, or PERMISSION_DENIED REASON_NOT_DELEGATED:
//   "matter SR-0105 (未经批准设置户外广告设施) is not delegated to 梧桐街道
//    (town-a) (Art. 24): it is handled by 局直属一中队 (county-1); hand the
//    case over"
absl::Status CheckDelegated(const palm::v1::Town* town, const palm::v1::Matter& matter,
                            const std::vector<palm::v1::Town>& towns);

// The town with `town_id` among `towns`, or null.
const palm::v1::Town* FindTown(const std::vector<palm::v1::Town>& towns,
                               const std::string& town_id);

}  // namespace palm::sync

#endif  // PALM_SYNC_DELEGATION_H_
