#include "sync/lifecycle.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
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
    case v1::CASE_STATE_INVESTIGATING:
      return {v1::CASE_STATE_LEGAL_REVIEW, v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_NO_PENALTY,
              v1::CASE_STATE_TRANSFERRED};
    case v1::CASE_STATE_LEGAL_REVIEW:
      // INVESTIGATING: the reviewer sent the case back.
      return {v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_INVESTIGATING};
    case v1::CASE_STATE_NOTIFIED:
      return {v1::CASE_STATE_HEARING, v1::CASE_STATE_DECIDED};
    case v1::CASE_STATE_HEARING:
      return {v1::CASE_STATE_DECIDED};
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

absl::Status CheckCaseTransition(const v1::Case& c, const v1::Matter* matter, v1::CaseState to) {
  if (absl::Status status = CheckTransition(c.procedure(), c.state(), to); !status.ok()) {
    return status;
  }
  if (to == v1::CASE_STATE_DECIDED && !c.review_approved() && IsMajorCase(c, matter)) {
    return FailedPrecondition(
        v1::REASON_REVIEW_REQUIRED,
        absl::StrCat("case ", CaseLabel(c),
                     " is a major case and needs legal review approval (Art. 58) before a "
                     "decision"));
  }
  return absl::OkStatus();
}

}  // namespace palm::sync
