#include "sync/no_penalty.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sync/calendar.h"
#include "sync/clocks.h"
#include "sync/rules.h"
#include "sync/sha256.h"
#include "sync/status.h"
#include "sync/status_macros.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

bool Blank(absl::string_view text) { return absl::StripAsciiWhitespace(text).empty(); }

bool IsParagraphOne(v1::NoPenaltyGround ground) {
  return ground == v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM ||
         ground == v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM;
}

absl::Status CheckGround(const v1::NoPenaltyDecision& d, const v1::Matter& matter) {
  switch (d.ground()) {
    case v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM:
    case v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM:
      break;
    case v1::NO_PENALTY_GROUND_NO_FAULT:
      // ¶2 holds for every matter, list or not: the party's lack of fault is
      // shown by evidence, not by the matter.
      return absl::OkStatus();
    case v1::NO_PENALTY_GROUND_LEGACY:
      return InvalidArgument(
          v1::REASON_NO_PENALTY_GROUND,
          "the legacy ground is kept for decisions recorded before the grounds of Art. 33 were "
          "told apart; a new decision names its ground");
    default:
      return InvalidArgument(
          v1::REASON_NO_PENALTY_GROUND,
          "a no-penalty decision names its ground (Art. 33): ¶1 minor, corrected in time, no "
          "harm; ¶1 first violation, slight harm, corrected in time; or ¶2 no fault, shown by "
          "evidence");
  }
  if (!matter.no_penalty_list()) {
    return InvalidArgument(
        v1::REASON_NOT_ON_NO_PENALTY_LIST,
        absl::StrCat("matter ", MatterLabel(matter), " is not on the no-penalty list, which ",
                     GroundLabel(d.ground()), " needs; decide a penalty instead"));
  }
  const std::vector<v1::NoPenaltyGround> admitted = AdmittedGrounds(matter);
  if (std::find(admitted.begin(), admitted.end(), d.ground()) == admitted.end()) {
    std::vector<std::string> labels;
    for (v1::NoPenaltyGround g : admitted) labels.push_back(GroundLabel(g));
    return InvalidArgument(
        v1::REASON_NO_PENALTY_GROUND,
        absl::StrCat("the no-penalty list entry for ", MatterLabel(matter), " admits ",
                     absl::StrJoin(labels, " and "), ", not ", GroundLabel(d.ground())));
  }
  return absl::OkStatus();
}

absl::Status MissingCorrection(absl::string_view what, v1::NoPenaltyGround ground) {
  return InvalidArgument(
      v1::REASON_MISSING_CORRECTION,
      absl::StrCat("a no-penalty decision on ", GroundLabel(ground),
                   " records the party's timely correction: ", what, " is missing"));
}

absl::Status CheckCorrection(const v1::NoPenaltyDecision& d, const NoPenaltyFacts& facts) {
  const v1::NoPenaltyCorrection& fix = d.correction();
  if (Blank(fix.what()))
    return MissingCorrection("what was corrected (correction.what)", d.ground());
  if (fix.corrected_at_ms() <= 0) {
    return MissingCorrection("when (correction.corrected_at_ms)", d.ground());
  }
  if (Blank(fix.verified_by())) {
    return MissingCorrection("the officer who verified it (correction.verified_by)", d.ground());
  }
  if (facts.c->occurred_at_ms() > 0 && fix.corrected_at_ms() < facts.c->occurred_at_ms()) {
    return InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                           "the correction is dated before the violation it corrects");
  }
  if (d.decided_at_ms() > 0 && fix.corrected_at_ms() > d.decided_at_ms()) {
    return InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                           "the correction is dated after the decision that rests on it");
  }
  google::protobuf::RepeatedPtrField<std::string> verifier;
  verifier.Add()->assign(fix.verified_by());
  return CheckOfficersOnRoster(verifier, "record_no_penalty.decision.correction.verified_by",
                               *facts.roster);
}

absl::Status CheckNoFaultEvidence(const v1::NoPenaltyDecision& d, const NoPenaltyFacts& facts) {
  if (d.no_fault_evidence_ids().empty()) {
    return InvalidArgument(v1::REASON_MISSING_NO_FAULT_EVIDENCE,
                           "a no-penalty decision on the no-fault ground (Art. 33 ¶2) cites the "
                           "evidence that shows it (no_fault_evidence_ids)");
  }
  for (const std::string& id : d.no_fault_evidence_ids()) {
    auto it = std::find_if(facts.cited_evidence->begin(), facts.cited_evidence->end(),
                           [&](const v1::Evidence& e) { return e.evidence_id() == id; });
    if (it == facts.cited_evidence->end() || it->case_id() != facts.c->case_id()) {
      return InvalidArgument(v1::REASON_MISSING_NO_FAULT_EVIDENCE,
                             absl::StrCat("evidence ", id,
                                          " cited for no fault is not evidence of "
                                          "this case"));
    }
    if (it->withdrawn()) {
      return InvalidArgument(
          v1::REASON_MISSING_NO_FAULT_EVIDENCE,
          absl::StrCat("evidence ", id, " cited for no fault was withdrawn and shows nothing"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string GroundLabel(v1::NoPenaltyGround ground) {
  switch (ground) {
    case v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM:
      return "Art. 33 ¶1 (minor, corrected in time, no harm)";
    case v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM:
      return "Art. 33 ¶1 (first violation, slight harm, corrected in time)";
    case v1::NO_PENALTY_GROUND_NO_FAULT:
      return "Art. 33 ¶2 (no fault, shown by evidence)";
    case v1::NO_PENALTY_GROUND_LEGACY:
      return "the legacy ground (recorded before grounds were told apart)";
    default:
      return "no ground";
  }
}

std::vector<v1::NoPenaltyGround> AdmittedGrounds(const v1::Matter& matter) {
  if (!matter.no_penalty_list()) return {};
  std::vector<v1::NoPenaltyGround> admitted;
  for (int g : matter.no_penalty_grounds()) {
    const auto ground = static_cast<v1::NoPenaltyGround>(g);
    if (IsParagraphOne(ground) &&
        std::find(admitted.begin(), admitted.end(), ground) == admitted.end()) {
      admitted.push_back(ground);
    }
  }
  if (admitted.empty()) admitted.push_back(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM);
  std::sort(admitted.begin(), admitted.end());
  return admitted;
}

absl::Status CheckNoPenalty(const v1::NoPenaltyDecision& d, const NoPenaltyFacts& facts) {
  if (facts.matter == nullptr) {
    return InvalidArgument(v1::REASON_UNKNOWN_MATTER, absl::StrCat("matter code ", d.matter_code(),
                                                                   " is not in the catalogue"));
  }
  const v1::Matter& matter = *facts.matter;
  PALM_RETURN_IF_ERROR(CheckGround(d, matter));
  if (Blank(d.education_record())) {
    return InvalidArgument(v1::REASON_MISSING_EDUCATION,
                           "a no-penalty decision needs a record of the education given to the "
                           "party (Art. 33 ¶3)");
  }
  if (IsParagraphOne(d.ground())) {
    PALM_RETURN_IF_ERROR(CheckCorrection(d, facts));
  } else {
    PALM_RETURN_IF_ERROR(CheckNoFaultEvidence(d, facts));
  }
  if (d.ground() != v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM) return absl::OkStatus();
  const v1::PriorViolation* prior = CountingPriorViolation(
      *facts.priors, matter, std::min(d.decided_at_ms(), facts.written_at_ms));
  if (prior == nullptr) return absl::OkStatus();
  const std::string window = matter.no_penalty_lookback_months() > 0
                                 ? absl::StrCat(" within the ", matter.no_penalty_lookback_months(),
                                                " months the list entry looks back")
                                 : "";
  return FailedPrecondition(
      v1::REASON_NOT_FIRST_VIOLATION,
      absl::StrCat(
          "the party already violated matter ", matter.code(), " on ",
          FormatCivilDay(ShanghaiDay(prior->decided_at_ms())),
          prior->case_number().empty() ? "" : absl::StrCat(" (case ", prior->case_number(), ")"),
          window, ": ", GroundLabel(d.ground()), " is only for a first violation"));
}

const v1::PriorViolation* CountingPriorViolation(const std::vector<v1::PriorViolation>& priors,
                                                 const v1::Matter& matter, int64_t at_ms) {
  const int months = matter.no_penalty_lookback_months();
  const absl::CivilDay from = AddMonths(ShanghaiDay(at_ms), -months);
  const v1::PriorViolation* newest = nullptr;
  for (const v1::PriorViolation& v : priors) {
    if (v.voided() || v.matter_code() != matter.code()) continue;
    if (months > 0 && ShanghaiDay(v.decided_at_ms()) < from) continue;
    if (newest == nullptr || v.decided_at_ms() > newest->decided_at_ms()) newest = &v;
  }
  return newest;
}

google::protobuf::RepeatedPtrField<std::string> NamedOfficers(const v1::NoPenaltyDecision& d) {
  google::protobuf::RepeatedPtrField<std::string> named = d.officer_ids();
  if (!d.correction().verified_by().empty()) named.Add()->assign(d.correction().verified_by());
  return named;
}

bool RecordsViolation(const v1::NoPenaltyDecision& d) {
  return d.ground() != v1::NO_PENALTY_GROUND_NO_FAULT;
}

std::string PriorViolationId(absl::string_view case_id, absl::string_view party_id,
                             absl::string_view matter_code) {
  Sha256 h;
  h.Update("palm prior violation id v1\n");
  for (absl::string_view part : {case_id, party_id, matter_code}) {
    h.Update(absl::StrCat(part.size(), ":"));
    h.Update(part);
  }
  return HexEncode(h.Final()).substr(0, 32);
}

std::string StoredViolationId(absl::string_view store_key) {
  return absl::StrCat(
      "s-",
      HexEncode(Sha256::Of(absl::StrCat("palm stored violation v1\n", store_key))).substr(0, 32));
}

bool ViolationStands(const v1::Case& c, const std::vector<v1::Ticket>& tickets,
                     const std::vector<v1::NoPenaltyDecision>& decisions,
                     absl::string_view party_id, absl::string_view matter_code) {
  // An ordinary case's violation is its decision's, which nothing in Palm
  // overturns yet.
  if (c.procedure() != v1::PROCEDURE_SUMMARY) return true;
  for (const v1::Ticket& t : tickets) {
    if (!t.voided() && t.party_id() == party_id && t.matter_code() == matter_code) return true;
  }
  for (const v1::NoPenaltyDecision& d : decisions) {
    if (RecordsViolation(d) && d.party_id() == party_id && d.matter_code() == matter_code) {
      return true;
    }
  }
  return false;
}

}  // namespace palm::sync
