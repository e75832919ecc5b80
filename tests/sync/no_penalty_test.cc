#include "sync/no_penalty.h"

#include <catch2/catch.hpp>

#include "sync/calendar.h"
#include "sync/status.h"
#include "tests/sync/refusal.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kPrecondition = absl::StatusCode::kFailedPrecondition;

constexpr int64_t kHourMs = 3600 * 1000;

int64_t At(int year, int month, int day, int hour = 10) {
  return ShanghaiMidnightMs(absl::CivilDay(year, month, day)) + hour * kHourMs;
}

v1::Matter ListedMatter() {
  v1::Matter m;
  m.set_code("CG-0101");
  m.set_name("Spreading goods outside a shop");
  m.set_no_penalty_list(true);
  m.add_no_penalty_grounds(v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM);
  m.add_no_penalty_grounds(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM);
  m.set_no_penalty_lookback_months(12);
  return m;
}

// What CheckNoPenalty reads, owned by the test.
struct Facts {
  v1::Case c;
  v1::Matter matter = ListedMatter();
  std::vector<v1::Officer> officers;
  OfficerLookup roster;
  std::vector<v1::Evidence> evidence;
  std::vector<v1::PriorViolation> priors;
  int64_t at_ms = At(2026, 6, 1, 12);

  Facts() {
    c.set_case_id("case-1");
    c.set_matter_code("CG-0101");
    c.set_occurred_at_ms(At(2026, 6, 1, 9));
    officers.resize(2);
    officers[0].set_officer_id("off-1");
    officers[1].set_officer_id("off-inactive");
    officers[0].set_active(true);
    roster = [this](const std::string& id) -> const v1::Officer* {
      for (const v1::Officer& o : officers) {
        if (o.officer_id() == id) return &o;
      }
      return nullptr;
    };
    v1::Evidence& e = evidence.emplace_back();
    e.set_evidence_id("ev-1");
    e.set_case_id("case-1");
  }

  NoPenaltyFacts Get(const v1::Matter* m) const {
    NoPenaltyFacts f;
    f.c = &c;
    f.matter = m;
    f.roster = &roster;
    f.cited_evidence = &evidence;
    f.priors = &priors;
    f.written_at_ms = at_ms;
    return f;
  }
  NoPenaltyFacts Get() const { return Get(&matter); }

  void AddPrior(int64_t at, bool voided = false) {
    v1::PriorViolation& v = priors.emplace_back();
    v.set_matter_code("CG-0101");
    v.set_decided_at_ms(at);
    v.set_voided(voided);
  }
};

v1::NoPenaltyDecision Decision(v1::NoPenaltyGround ground) {
  v1::NoPenaltyDecision d;
  d.set_decision_id("0190c4e8-7a00-7000-8000-0000000000d1");
  d.set_case_id("case-1");
  d.set_matter_code("CG-0101");
  d.set_education_record("explained the rule; the party moved the goods inside at once");
  d.set_decided_at_ms(At(2026, 6, 1, 12));
  d.set_ground(ground);
  if (ground != v1::NO_PENALTY_GROUND_NO_FAULT) {
    d.mutable_correction()->set_what("goods moved inside the shop");
    d.mutable_correction()->set_corrected_at_ms(At(2026, 6, 1, 10));
    d.mutable_correction()->set_verified_by("off-1");
  } else {
    d.add_no_fault_evidence_ids("ev-1");
  }
  return d;
}

TEST_CASE("a first minor violation on the no-penalty list gets no penalty", "[rules][art33]") {
  const Facts f;
  CHECK(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM), f.Get()).ok());
  CHECK(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM), f.Get()).ok());
}

TEST_CASE("a no-penalty decision names its ground and the legacy ground is not for new ones",
          "[rules][art33]") {
  const Facts f;
  CHECK_REFUSED(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_UNSPECIFIED), f.Get()), kInvalid,
                v1::REASON_NO_PENALTY_GROUND,
                "a no-penalty decision names its ground (Art. 33): ¶1 minor, corrected in time, no "
                "harm; ¶1 first violation, slight harm, corrected in time; or ¶2 no fault, shown "
                "by evidence");
  CHECK_REFUSED(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_LEGACY), f.Get()), kInvalid,
                v1::REASON_NO_PENALTY_GROUND,
                "the legacy ground is kept for decisions recorded before the grounds of Art. 33 "
                "were told apart; a new decision names its ground");
}

TEST_CASE("a no-penalty decision for an unknown matter is refused", "[rules][art33]") {
  const Facts f;
  CHECK_REFUSED(
      CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM), f.Get(nullptr)),
      kInvalid, v1::REASON_UNKNOWN_MATTER, "matter code CG-0101 is not in the catalogue");
}

TEST_CASE("a no-penalty decision for a matter off the list is refused", "[rules][art33]") {
  Facts f;
  f.matter.set_no_penalty_list(false);
  CHECK_REFUSED(
      CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM), f.Get()), kInvalid,
      v1::REASON_NOT_ON_NO_PENALTY_LIST,
      "matter CG-0101 (Spreading goods outside a shop) is not on the no-penalty list, which Art. "
      "33 ¶1 (minor, corrected in time, no harm) needs; decide a penalty instead");
  // ¶2 needs no list entry: a party without fault is not penalised under any matter.
  CHECK(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_NO_FAULT), f.Get()).ok());
}

TEST_CASE("the list entry says which grounds of Art. 33 ¶1 apply to its matter", "[rules][art33]") {
  Facts f;
  f.matter.clear_no_penalty_grounds();
  f.matter.add_no_penalty_grounds(v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM);
  CHECK(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM), f.Get()).ok());
  CHECK_REFUSED(
      CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM), f.Get()),
      kInvalid, v1::REASON_NO_PENALTY_GROUND,
      "the no-penalty list entry for CG-0101 (Spreading goods outside a shop) admits Art. 33 ¶1 "
      "(minor, corrected in time, no harm), not Art. 33 ¶1 (first violation, slight harm, "
      "corrected in time)");
  // An entry from before grounds were listed keeps the rule Palm applied
  // then: the first-violation ground only.
  f.matter.clear_no_penalty_grounds();
  CHECK(AdmittedGrounds(f.matter) ==
        std::vector<v1::NoPenaltyGround>{v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM});
  CHECK(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM), f.Get()).ok());
  CHECK(ReasonOf(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM),
                                f.Get())) == v1::REASON_NO_PENALTY_GROUND);
}

TEST_CASE("a no-penalty decision without an education record is refused", "[rules][art33]") {
  const Facts f;
  for (v1::NoPenaltyGround ground :
       {v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM,
        v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM, v1::NO_PENALTY_GROUND_NO_FAULT}) {
    v1::NoPenaltyDecision d = Decision(ground);
    d.set_education_record("  \n");
    CHECK_REFUSED(CheckNoPenalty(d, f.Get()), kInvalid, v1::REASON_MISSING_EDUCATION,
                  "a no-penalty decision needs a record of the education given to the party "
                  "(Art. 33 ¶3)");
  }
}

TEST_CASE("an Art. 33 ¶1 decision records the correction: what, when, verified by whom",
          "[rules][art33]") {
  const Facts f;
  v1::NoPenaltyDecision d = Decision(v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM);
  d.mutable_correction()->set_what(" ");
  CHECK_REFUSED(CheckNoPenalty(d, f.Get()), kInvalid, v1::REASON_MISSING_CORRECTION,
                "a no-penalty decision on Art. 33 ¶1 (minor, corrected in time, no harm) records "
                "the party's timely correction: what was corrected (correction.what) is missing");
  d = Decision(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM);
  d.mutable_correction()->set_corrected_at_ms(0);
  CHECK_REFUSED(CheckNoPenalty(d, f.Get()), kInvalid, v1::REASON_MISSING_CORRECTION,
                "a no-penalty decision on Art. 33 ¶1 (first violation, slight harm, corrected in "
                "time) records the party's timely correction: when (correction.corrected_at_ms) "
                "is missing");
  d = Decision(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM);
  d.clear_correction();
  d.mutable_correction()->set_what("moved");
  d.mutable_correction()->set_corrected_at_ms(At(2026, 6, 1, 10));
  CHECK_REFUSED(CheckNoPenalty(d, f.Get()), kInvalid, v1::REASON_MISSING_CORRECTION,
                "a no-penalty decision on Art. 33 ¶1 (first violation, slight harm, corrected in "
                "time) records the party's timely correction: the officer who verified it "
                "(correction.verified_by) is missing");
}

TEST_CASE(
    "a correction falls between the violation and the decision, verified by an officer "
    "on the roster",
    "[rules][art33]") {
  const Facts f;
  v1::NoPenaltyDecision d = Decision(v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM);
  d.mutable_correction()->set_corrected_at_ms(At(2026, 6, 1, 8));
  CHECK_REFUSED(CheckNoPenalty(d, f.Get()), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "the correction is dated before the violation it corrects");
  d.mutable_correction()->set_corrected_at_ms(At(2026, 6, 1, 13));
  CHECK_REFUSED(CheckNoPenalty(d, f.Get()), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "the correction is dated after the decision that rests on it");
  // The day of the decision, at the decision's own minute, is in time.
  d.mutable_correction()->set_corrected_at_ms(d.decided_at_ms());
  CHECK(CheckNoPenalty(d, f.Get()).ok());
  d.mutable_correction()->set_verified_by("off-elsewhere");
  CHECK(ReasonOf(CheckNoPenalty(d, f.Get())) == v1::REASON_UNKNOWN_OFFICER);
  d.mutable_correction()->set_verified_by("off-inactive");
  CHECK(ReasonOf(CheckNoPenalty(d, f.Get())) == v1::REASON_PERMISSION_DENIED);
}

TEST_CASE("a no-fault decision (Art. 33 ¶2) cites standing evidence of its case",
          "[rules][art33]") {
  Facts f;
  CHECK(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_NO_FAULT), f.Get()).ok());
  v1::NoPenaltyDecision d = Decision(v1::NO_PENALTY_GROUND_NO_FAULT);
  d.clear_no_fault_evidence_ids();
  CHECK_REFUSED(CheckNoPenalty(d, f.Get()), kInvalid, v1::REASON_MISSING_NO_FAULT_EVIDENCE,
                "a no-penalty decision on the no-fault ground (Art. 33 ¶2) cites the evidence "
                "that shows it (no_fault_evidence_ids)");
  d.add_no_fault_evidence_ids("ev-missing");
  CHECK_REFUSED(CheckNoPenalty(d, f.Get()), kInvalid, v1::REASON_MISSING_NO_FAULT_EVIDENCE,
                "evidence ev-missing cited for no fault is not evidence of this case");
  f.evidence[0].set_case_id("case-2");
  CHECK_REFUSED(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_NO_FAULT), f.Get()), kInvalid,
                v1::REASON_MISSING_NO_FAULT_EVIDENCE,
                "evidence ev-1 cited for no fault is not evidence of this case");
  f.evidence[0].set_case_id("case-1");
  f.evidence[0].set_withdrawn(true);
  CHECK_REFUSED(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_NO_FAULT), f.Get()), kInvalid,
                v1::REASON_MISSING_NO_FAULT_EVIDENCE,
                "evidence ev-1 cited for no fault was withdrawn and shows nothing");
  // No correction is asked of a party without fault, and none is recorded
  // as a violation.
  CHECK_FALSE(RecordsViolation(Decision(v1::NO_PENALTY_GROUND_NO_FAULT)));
  CHECK(RecordsViolation(Decision(v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM)));
}

TEST_CASE("a no-penalty decision for a repeat violation is refused", "[rules][art33]") {
  Facts f;
  f.AddPrior(At(2026, 3, 2));
  f.priors.back().set_case_number("桐综执罚〔2026〕0042号");
  CHECK_REFUSED(
      CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM), f.Get()),
      kPrecondition, v1::REASON_NOT_FIRST_VIOLATION,
      "the party already violated matter CG-0101 on 2026-03-02 (case 桐综执罚〔2026〕0042号) "
      "within the 12 months the list entry looks back: Art. 33 ¶1 (first violation, slight harm, "
      "corrected in time) is only for a first violation");
  // Only the first-violation ground asks: a minor violation corrected in
  // time without harm must not be penalised, first or not.
  CHECK(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM), f.Get()).ok());
  CHECK(CheckNoPenalty(Decision(v1::NO_PENALTY_GROUND_NO_FAULT), f.Get()).ok());
}

TEST_CASE("the first-violation check looks back over the list entry's window only",
          "[rules][art33]") {
  Facts f;  // decided 2026-06-01, 12 months back: from 2025-06-01
  f.AddPrior(At(2025, 5, 31, 23));
  const v1::NoPenaltyDecision d = Decision(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM);
  CHECK(CheckNoPenalty(d, f.Get()).ok());
  f.priors.clear();
  f.AddPrior(At(2025, 6, 1, 0));
  CHECK_REFUSED(CheckNoPenalty(d, f.Get()), kPrecondition, v1::REASON_NOT_FIRST_VIOLATION,
                "the party already violated matter CG-0101 on 2025-06-01 within the 12 months "
                "the list entry looks back: Art. 33 ¶1 (first violation, slight harm, corrected "
                "in time) is only for a first violation");
  // A decision dated ahead of the write does not move the window: it ends
  // on the day the decision was written.
  v1::NoPenaltyDecision ahead = d;
  ahead.set_decided_at_ms(At(2027, 7, 1));
  ahead.mutable_correction()->set_corrected_at_ms(At(2026, 6, 1, 10));
  CHECK(ReasonOf(CheckNoPenalty(ahead, f.Get())) == v1::REASON_NOT_FIRST_VIOLATION);
  // Without a window, every violation on record counts.
  f.priors.clear();
  f.AddPrior(At(2019, 1, 1));
  f.matter.set_no_penalty_lookback_months(0);
  CHECK_REFUSED(CheckNoPenalty(d, f.Get()), kPrecondition, v1::REASON_NOT_FIRST_VIOLATION,
                "the party already violated matter CG-0101 on 2019-01-01: Art. 33 ¶1 (first "
                "violation, slight harm, corrected in time) is only for a first violation");
}

TEST_CASE("a voided ticket's violation does not count as a prior violation", "[rules][art33]") {
  Facts f;
  f.AddPrior(At(2026, 5, 1), /*voided=*/true);
  const v1::NoPenaltyDecision d = Decision(v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM);
  CHECK(CheckNoPenalty(d, f.Get()).ok());
  // Another matter's violation never counts either.
  f.AddPrior(At(2026, 5, 2));
  f.priors.back().set_matter_code("CG-0102");
  CHECK(CheckNoPenalty(d, f.Get()).ok());
  CHECK(CountingPriorViolation(f.priors, f.matter, f.at_ms) == nullptr);
}

TEST_CASE("a violation stands while a ticket for it stands", "[rules][art33]") {
  v1::Case c;
  c.set_case_id("case-1");
  c.set_procedure(v1::PROCEDURE_SUMMARY);
  std::vector<v1::Ticket> tickets(2);
  tickets[0].set_party_id("p1");
  tickets[0].set_matter_code("CG-0101");
  tickets[0].set_voided(true);
  tickets[1] = tickets[0];
  CHECK_FALSE(ViolationStands(c, tickets, {}, "p1", "CG-0101"));
  tickets[1].set_voided(false);
  CHECK(ViolationStands(c, tickets, {}, "p1", "CG-0101"));
  CHECK_FALSE(ViolationStands(c, tickets, {}, "p2", "CG-0101"));
  // A decision that records a violation keeps it standing; a no-fault one does not.
  tickets[1].set_voided(true);
  std::vector<v1::NoPenaltyDecision> decisions(1);
  decisions[0].set_party_id("p1");
  decisions[0].set_matter_code("CG-0101");
  decisions[0].set_ground(v1::NO_PENALTY_GROUND_NO_FAULT);
  CHECK_FALSE(ViolationStands(c, tickets, decisions, "p1", "CG-0101"));
  decisions[0].set_ground(v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM);
  CHECK(ViolationStands(c, tickets, decisions, "p1", "CG-0101"));
  // An ordinary case's violation is its decision's.
  c.set_procedure(v1::PROCEDURE_ORDINARY);
  CHECK(ViolationStands(c, {}, {}, "p1", "CG-0101"));
}

TEST_CASE("a violation's id is the same on both ends and differs by case party and matter",
          "[rules][art33]") {
  const std::string id = PriorViolationId("case-1", "p1", "CG-0101");
  CHECK(id.size() == 32);
  CHECK(id == PriorViolationId("case-1", "p1", "CG-0101"));
  CHECK(id != PriorViolationId("case-2", "p1", "CG-0101"));
  CHECK(id != PriorViolationId("case-1", "p2", "CG-0101"));
  CHECK(id != PriorViolationId("case-1", "p1", "CG-0102"));
  // Length-prefixed parts: moving a character between parts changes the id.
  CHECK(PriorViolationId("ab", "c", "x") != PriorViolationId("a", "bc", "x"));
  CHECK(StoredViolationId("k/CG-0101/case-1").rfind("s-", 0) == 0);
}

}  // namespace
}  // namespace palm::sync
