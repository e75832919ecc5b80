#include "sync/lifecycle.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "sync/sha256.h"
#include "sync/status.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

std::vector<v1::CaseState> SummaryNext(v1::CaseState from) {
  switch (from) {
    case v1::CASE_STATE_ISSUED:
      return {v1::CASE_STATE_FILED};
    case v1::CASE_STATE_FILED:
      return {v1::CASE_STATE_EXECUTING};
    case v1::CASE_STATE_EXECUTING:
      return {v1::CASE_STATE_CLOSED};
    case v1::CASE_STATE_CLOSED:
      return {v1::CASE_STATE_ARCHIVED};
    default:
      return {};
  }
}

std::vector<v1::CaseState> OrdinaryNext(v1::CaseState from) {
  switch (from) {
    case v1::CASE_STATE_REGISTERED:
      return {v1::CASE_STATE_FILED, v1::CASE_STATE_NOT_FILED, v1::CASE_STATE_TRANSFERRED,
              v1::CASE_STATE_NO_PENALTY};
    case v1::CASE_STATE_FILED:
      return {v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_TRANSFERRED, v1::CASE_STATE_NO_PENALTY};
    // Legal review comes after the notice and any hearing, right before the
    // decision (Art. 58): INVESTIGATING no longer moves to LEGAL_REVIEW.
    case v1::CASE_STATE_INVESTIGATING:
      return {v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_NO_PENALTY, v1::CASE_STATE_TRANSFERRED};
    case v1::CASE_STATE_NOTIFIED:
      // DECIDED directly only when no review is needed (CheckCaseTransition).
      // INVESTIGATING: further investigation after the party's statement,
      // and the way to a fresh notice (sync/notice.h).
      return {v1::CASE_STATE_HEARING, v1::CASE_STATE_LEGAL_REVIEW, v1::CASE_STATE_DECIDED,
              v1::CASE_STATE_INVESTIGATING};
    case v1::CASE_STATE_HEARING:
      // A heard case is always reviewed (Art. 58 class 2).
      return {v1::CASE_STATE_LEGAL_REVIEW};
    case v1::CASE_STATE_LEGAL_REVIEW:
      // INVESTIGATING: the reviewer sent the case back. NOTIFIED: a case
      // reviewed before its notice under the older order (before this
      // version) goes on to its notice; the approval lapses on the way.
      return {v1::CASE_STATE_DECIDED, v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED};
    case v1::CASE_STATE_DECIDED:
      return {v1::CASE_STATE_SERVED};
    case v1::CASE_STATE_SERVED:
      return {v1::CASE_STATE_EXECUTING};
    case v1::CASE_STATE_EXECUTING:
      return {v1::CASE_STATE_CLOSED};
    case v1::CASE_STATE_CLOSED:
    case v1::CASE_STATE_NOT_FILED:
    case v1::CASE_STATE_TRANSFERRED:
      return {v1::CASE_STATE_ARCHIVED};
    case v1::CASE_STATE_NO_PENALTY:
      return {v1::CASE_STATE_ARCHIVED, v1::CASE_STATE_CLOSED};
    default:
      return {};
  }
}

std::string CaseLabel(const v1::Case& c) {
  return c.case_number().empty() ? c.case_id() : c.case_number();
}

}  // namespace

v1::CaseState InitialState(v1::Procedure p) {
  switch (p) {
    case v1::PROCEDURE_SUMMARY:
      return v1::CASE_STATE_ISSUED;
    case v1::PROCEDURE_ORDINARY:
      return v1::CASE_STATE_REGISTERED;
    default:
      return v1::CASE_STATE_UNSPECIFIED;
  }
}

std::vector<v1::CaseState> AllowedNext(v1::Procedure p, v1::CaseState from) {
  switch (p) {
    case v1::PROCEDURE_SUMMARY:
      return SummaryNext(from);
    case v1::PROCEDURE_ORDINARY:
      return OrdinaryNext(from);
    default:
      return {};
  }
}

std::string StateName(v1::CaseState s) {
  if (!v1::CaseState_IsValid(s)) return absl::StrCat("UNKNOWN(", static_cast<int>(s), ")");
  absl::string_view name = v1::CaseState_Name(s);
  absl::ConsumePrefix(&name, "CASE_STATE_");
  return std::string(name);
}

absl::Status CheckTransition(v1::Procedure p, v1::CaseState from, v1::CaseState to) {
  if (p != v1::PROCEDURE_SUMMARY && p != v1::PROCEDURE_ORDINARY) {
    return FailedPrecondition(v1::REASON_ILLEGAL_TRANSITION,
                              "the case has no procedure (summary or ordinary), so it cannot move");
  }
  const std::vector<v1::CaseState> next = AllowedNext(p, from);
  if (std::find(next.begin(), next.end(), to) != next.end()) return absl::OkStatus();
  std::string message =
      absl::StrCat("a case in state ", StateName(from), " cannot move to ", StateName(to));
  if (next.empty()) {
    absl::StrAppend(&message, "; ", StateName(from), " is final for the ",
                    p == v1::PROCEDURE_SUMMARY ? "summary" : "ordinary", " procedure");
  } else {
    absl::StrAppend(&message, "; next allowed: ",
                    absl::StrJoin(next, ", ", [](std::string* out, v1::CaseState s) {
                      out->append(StateName(s));
                    }));
  }
  return FailedPrecondition(v1::REASON_ILLEGAL_TRANSITION, message);
}

bool IsMajorCase(const v1::Case& c, const v1::Matter* matter) {
  if (c.review_required()) return true;
  if (matter == nullptr) return false;
  if (matter->major()) return true;
  return matter->major_fine_threshold_fen() > 0 &&
         c.proposed_fine_fen() > matter->major_fine_threshold_fen();
}

bool NeedsLegalReview(const v1::Case& c, const v1::Matter* matter) {
  return c.heard() || IsMajorCase(c, matter);
}

std::string DecisionDigest(const v1::Case& c, const v1::Matter* matter) {
  // Each value length-prefixed, so that no two different decisions feed the
  // same bytes.
  Sha256 hash;
  auto put = [&hash](absl::string_view value) {
    hash.Update(absl::StrCat(value.size(), ":"));
    hash.Update(value);
  };
  put("palm decision v1");
  put(c.matter_code());
  put(matter == nullptr ? "" : matter->penalty_basis());
  put(absl::StrCat(c.proposed_fine_fen()));
  put(c.description());
  put(absl::StrCat(c.occurred_at_ms()));
  put(c.place().address());
  put(absl::StrFormat("%.7f,%.7f", c.place().location().latitude(),
                      c.place().location().longitude()));
  std::vector<const v1::Party*> parties;
  for (const v1::Party& p : c.parties()) parties.push_back(&p);
  std::sort(parties.begin(), parties.end(),
            [](const v1::Party* a, const v1::Party* b) { return a->party_id() < b->party_id(); });
  put(absl::StrCat(parties.size()));
  for (const v1::Party* p : parties) {
    put(p->party_id());
    put(absl::StrCat(static_cast<int>(p->kind())));
    put(p->name());
    put(p->id_number());
    put(p->address());
  }
  return HexEncode(hash.Final());
}

bool HasDecisionAuthority(const v1::Officer& officer) {
  return officer.role() == v1::ROLE_SQUAD_LEADER && officer.sworn() && officer.active();
}

absl::Status CheckCaseTransition(const v1::Case& c, const v1::Matter* matter, v1::CaseState to,
                                 const v1::Officer* actor) {
  if (absl::Status status = CheckTransition(c.procedure(), c.state(), to); !status.ok()) {
    return status;
  }
  if (to != v1::CASE_STATE_DECIDED) return absl::OkStatus();
  if (actor == nullptr || !HasDecisionAuthority(*actor)) {
    return Refuse(
        absl::StatusCode::kPermissionDenied, v1::REASON_PERMISSION_DENIED,
        absl::StrCat(actor == nullptr ? "the acting officer"
                                      : absl::StrCat("officer ", actor->officer_id(), " (",
                                                     v1::Role_Name(actor->role()), ")"),
                     " may not decide case ", CaseLabel(c),
                     ": a decision is made by an active, sworn squad leader (ROLE_SQUAD_LEADER)"));
  }
  if (!NeedsLegalReview(c, matter)) return absl::OkStatus();
  const std::string why = c.heard() && !IsMajorCase(c, matter) ? "has had a hearing" : "is a major case";
  if (!c.has_review_approval()) {
    return FailedPrecondition(
        v1::REASON_REVIEW_REQUIRED,
        absl::StrCat("case ", CaseLabel(c), " ", why,
                     " and needs legal review approval (Art. 58) before a decision"));
  }
  if (c.review_approval().decision_digest() != DecisionDigest(c, matter)) {
    const v1::ReviewApproval& r = c.review_approval();
    return FailedPrecondition(
        v1::REASON_REVIEW_REQUIRED,
        absl::StrCat("case ", CaseLabel(c), ": the legal review by ", r.reviewer_id(),
                     " approved another decision (matter ", r.matter_code(), ", fine ",
                     r.proposed_fine_fen(), " fen); the decision now proposed (matter ",
                     c.matter_code(), ", fine ", c.proposed_fine_fen(),
                     " fen, or changed facts or basis) needs a fresh review (Art. 58)"));
  }
  return absl::OkStatus();
}

bool EnterState(v1::Case* c, v1::CaseState to) {
  c->set_state(to);
  if (to == v1::CASE_STATE_HEARING) c->set_heard(true);
  const bool before_decision = to == v1::CASE_STATE_INVESTIGATING ||
                               to == v1::CASE_STATE_NOTIFIED || to == v1::CASE_STATE_HEARING ||
                               to == v1::CASE_STATE_LEGAL_REVIEW;
  if (!before_decision || !c->has_review_approval()) return false;
  c->clear_review_approval();
  c->set_review_approved(false);
  return true;
}

bool LapseStaleReview(v1::Case* c, const v1::Matter* matter) {
  if (!c->has_review_approval()) return false;
  if (c->review_approval().decision_digest() == DecisionDigest(*c, matter)) return false;
  c->clear_review_approval();
  c->set_review_approved(false);
  return true;
}

}  // namespace palm::sync
