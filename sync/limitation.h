// Art. 36, the limitation period, as a case is recorded: a violation not
// discovered within 2 years of the act (or, for a continuous or continuing
// act, of its end) is not penalised; 5 years where citizens' life and
// health or financial security is involved with harmful consequences;
// unless a law provides otherwise. The device checks it before the case is
// written and the server again; both read the discovery as the recording
// (the record_case mutation's HLC time). docs/law.md, "Art. 36".
#ifndef PALM_SYNC_LIMITATION_H_
#define PALM_SYNC_LIMITATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "palm/v1/case.pb.h"

namespace palm::sync {

// Checks case `c`, recorded at `recorded_at_ms`, against Art. 36. In order:
//   INVALID_ARGUMENT    REASON_INVALID_ARGUMENT   an exception of unknown
//       kind, or one without its basis; act_ended_at_ms before
//       occurred_at_ms or after the recording;
//   FAILED_PRECONDITION REASON_LIMITATION_PERIOD  discovered after the
//       period with no exception that lifts it: the law's sentence, the
//       dates, and what to record.
// A case with a law that provides otherwise (OTHER_LAW) is not counted; one
// whose act ends after its recording (a device clock behind) passes.
absl::Status CheckCaseLimitation(const palm::v1::Case& c, int64_t recorded_at_ms);

}  // namespace palm::sync

#endif  // PALM_SYNC_LIMITATION_H_
