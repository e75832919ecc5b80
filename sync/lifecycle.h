// The case lifecycle (DESIGN.md §2): which state a case starts in and which
// moves it may make, for the summary and the ordinary procedure. Checked on
// the device before a transition is recorded and again on the server.
#ifndef PALM_SYNC_LIFECYCLE_H_
#define PALM_SYNC_LIFECYCLE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "palm/v1/case.pb.h"
#include "palm/v1/catalog.pb.h"

namespace palm::sync {

// Returns the state a new case of procedure `p` starts in: ISSUED for the
// summary procedure, REGISTERED for the ordinary one, UNSPECIFIED otherwise.
palm::v1::CaseState InitialState(palm::v1::Procedure p);

// Returns the states a case of procedure `p` may move to from `from`, in a
// stable order (empty for terminal or unknown states).
std::vector<palm::v1::CaseState> AllowedNext(palm::v1::Procedure p, palm::v1::CaseState from);

// Returns OK when a case of procedure `p` may move from `from` to `to`.
// Otherwise FAILED_PRECONDITION with REASON_ILLEGAL_TRANSITION and a message
// an officer can act on, e.g. "a case in state INVESTIGATING cannot move to
// SERVED; next allowed: LEGAL_REVIEW, NOTIFIED, NO_PENALTY, TRANSFERRED".
absl::Status CheckTransition(palm::v1::Procedure p, palm::v1::CaseState from,
                             palm::v1::CaseState to);

// Returns the short name of `s`, e.g. "FILED" for CASE_STATE_FILED.
std::string StateName(palm::v1::CaseState s);

// Returns true when a decision on `c` needs legal review (Art. 58): the
// matter is major, or the proposed fine is above the matter's threshold
// (when it has one), or the case was marked review_required. `matter` may
// be null (unknown matter): then only the case's own flag counts.
bool IsMajorCase(const palm::v1::Case& c, const palm::v1::Matter* matter);

// CheckTransition(c.procedure(), c.state(), to), plus the Art. 58 gate:
// moving a major case (IsMajorCase) to DECIDED without review_approved is
// FAILED_PRECONDITION with REASON_REVIEW_REQUIRED.
absl::Status CheckCaseTransition(const palm::v1::Case& c, const palm::v1::Matter* matter,
                                 palm::v1::CaseState to);

}  // namespace palm::sync

#endif  // PALM_SYNC_LIFECYCLE_H_
