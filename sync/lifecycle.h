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
#include "palm/v1/org.pb.h"

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
// SERVED; next allowed: NOTIFIED, NO_PENALTY, TRANSFERRED".
absl::Status CheckTransition(palm::v1::Procedure p, palm::v1::CaseState from,
                             palm::v1::CaseState to);

// Returns the short name of `s`, e.g. "FILED" for CASE_STATE_FILED.
std::string StateName(palm::v1::CaseState s);

// Returns true when `c` is a major case (Art. 58 classes 1, 3, 4): the
// matter is major, or the proposed fine is above the matter's threshold
// (when it has one), or the case was marked review_required. `matter` may
// be null (unknown matter): then only the case's own flag counts.
bool IsMajorCase(const palm::v1::Case& c, const palm::v1::Matter* matter);

// Returns true when a decision on `c` needs legal review (Art. 58): a major
// case (IsMajorCase), or a case that has been to a hearing (class 2).
bool NeedsLegalReview(const palm::v1::Case& c, const palm::v1::Matter* matter);

// The digest a legal review approves (Art. 58): SHA-256, lowercase hex,
// over the matter code, its penalty basis in the catalogue (`matter`, or
// none), the proposed fine, and the facts: description, time of the
// violation, place, and the parties (kind, name, ID number, address) in
// party-id order. `c` must carry its parties.
std::string DecisionDigest(const palm::v1::Case& c, const palm::v1::Matter* matter);

// Whether `officer` may move a case to DECIDED: an active, sworn squad
// leader (中队长), who decides for the agency. Officers, auxiliaries, legal
// reviewers (who review, not decide), admins and auditors may not.
bool HasDecisionAuthority(const palm::v1::Officer& officer);

// CheckTransition(c.procedure(), c.state(), to), plus, for a move to
// DECIDED:
//   PERMISSION_DENIED  REASON_PERMISSION_DENIED  `actor` (the acting
//                      officer, null when not on the roster) has no decision
//                      authority (HasDecisionAuthority);
//   FAILED_PRECONDITION REASON_REVIEW_REQUIRED   the case needs legal review
//                      (NeedsLegalReview) and holds no approval, or its
//                      approval was for another decision (DecisionDigest
//                      differs: the fine, the basis or the facts changed).
// `c` must carry its parties.
absl::Status CheckCaseTransition(const palm::v1::Case& c, const palm::v1::Matter* matter,
                                 palm::v1::CaseState to, const palm::v1::Officer* actor);

// Moves `c` to `to` and applies what the move means, the same on the device
// and the server: HEARING marks the case heard; every move before the
// decision (to INVESTIGATING, NOTIFIED, HEARING, LEGAL_REVIEW) spends any
// review approval, so that an approval is only ever for the decision that
// immediately follows it. Returns true when an approval was cleared.
bool EnterState(palm::v1::Case* c, palm::v1::CaseState to);

// Clears the review approval of `c` when it no longer matches the decision
// the case now proposes (DecisionDigest differs); returns true when it did.
// Both ends call it after a field edit. `c` must carry its parties.
bool LapseStaleReview(palm::v1::Case* c, const palm::v1::Matter* matter);

}  // namespace palm::sync

#endif  // PALM_SYNC_LIFECYCLE_H_
