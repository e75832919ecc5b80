#include "sync/rules.h"

#include <catch2/catch.hpp>

#include "sync/operations.h"
#include "sync/status.h"
#include "tests/sync/refusal.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

v1::Matter FastTrackMatter() {
  v1::Matter m;
  m.set_code("CG-0101");
  m.set_name("Spreading goods outside a shop");
  m.set_legal_basis("City Appearance Regulations Art. 17");
  m.set_penalty_basis("City Appearance Regulations Art. 36");
  m.set_fine_min_fen(0);
  m.set_fine_max_fen(0);
  m.set_fast_track(true);
  return m;
}

std::vector<v1::Officer> Roster() {
  std::vector<v1::Officer> officers(3);
  officers[0].set_officer_id("off-sworn-1");
  officers[0].set_sworn(true);
  officers[1].set_officer_id("off-sworn-2");
  officers[1].set_sworn(true);
  officers[2].set_officer_id("off-aux-1");
  officers[2].set_sworn(false);
  for (v1::Officer& o : officers) {
    o.set_active(true);
    if (o.sworn()) o.set_certificate_number("ZJ-" + o.officer_id());
  }
  return officers;
}

v1::Ticket ValidTicket() {
  v1::Ticket t;
  t.set_ticket_id("0190c4e8-7a00-7000-8000-0000000000a1");
  t.set_case_id("0190c4e8-7a00-7000-8000-0000000000c1");
  t.set_ticket_number(123);
  t.set_matter_code("CG-0101");
  t.set_party_kind(v1::PARTY_KIND_CITIZEN);
  t.set_violation("goods displayed on the pavement outside no. 12");
  t.set_legal_basis("City Appearance Regulations Art. 17");
  t.set_penalty_basis("City Appearance Regulations Art. 36");
  t.set_penalty(v1::PENALTY_KIND_FINE);
  t.set_fine_fen(5000);
  t.set_issued_at_ms(1767225600000);
  t.mutable_place()->set_address("12 Qingfeng Road");
  v1::Remedy* remedy = t.add_remedies();
  remedy->set_kind(v1::REMEDY_KIND_RECONSIDERATION);
  remedy->set_body("County People's Government");
  remedy->set_deadline_days(60);
  v1::Remedy* litigation = t.add_remedies();
  litigation->set_kind(v1::REMEDY_KIND_LITIGATION);
  litigation->set_body("County People's Court");
  litigation->set_deadline_months(6);
  t.set_agency("County Comprehensive Administrative Law-Enforcement Bureau");
  t.add_officer_ids("off-sworn-1");
  t.add_officer_ids("off-sworn-2");
  t.set_party_signature(v1::PARTY_SIGNATURE_SIGNED);
  return t;
}

// ---- FormatYuan ----

TEST_CASE("amounts are shown in yuan, with cents only when fractional", "[rules]") {
  CHECK(FormatYuan(25000) == "250");
  CHECK(FormatYuan(25050) == "250.50");
  CHECK(FormatYuan(25005) == "250.05");
  CHECK(FormatYuan(0) == "0");
  CHECK(FormatYuan(7) == "0.07");
  CHECK(FormatYuan(-150) == "-1.50");
  CHECK(FormatYuan(INT64_MIN) == "-92233720368547758.08");
}

// ---- CheckRecordCase ----

v1::Case ValidCase() {
  v1::Case c;
  c.set_case_id("0190c4e8-7a00-7000-8000-0000000000c1");
  c.set_matter_code("CG-0101");
  c.set_procedure(v1::PROCEDURE_ORDINARY);
  c.set_state(v1::CASE_STATE_REGISTERED);
  c.add_officer_ids("off-sworn-1");
  v1::Party* party = c.add_parties();
  party->set_party_id("p1");
  party->set_kind(v1::PARTY_KIND_CITIZEN);
  return c;
}

TEST_CASE("a well-formed case is accepted for recording", "[rules]") {
  const v1::Matter matter = FastTrackMatter();
  CHECK(CheckRecordCase(ValidCase(), &matter).ok());
  v1::Case summary = ValidCase();
  summary.set_procedure(v1::PROCEDURE_SUMMARY);
  summary.set_state(v1::CASE_STATE_ISSUED);
  CHECK(CheckRecordCase(summary, &matter).ok());
}

TEST_CASE("a case with a malformed id is refused", "[rules]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Case c = ValidCase();
  c.set_case_id("case-1");
  CHECK_REFUSED(CheckRecordCase(c, &matter), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "case_id \"case-1\" is not a UUID");
}

TEST_CASE("a case whose matter is not in the catalogue is refused", "[rules]") {
  v1::Case c = ValidCase();
  c.set_matter_code("XX-9999");
  CHECK_REFUSED(CheckRecordCase(c, nullptr), kInvalid, v1::REASON_UNKNOWN_MATTER,
                "matter code XX-9999 is not in the catalogue");
  c.clear_matter_code();
  CHECK_REFUSED(CheckRecordCase(c, nullptr), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "the case names no matter code");
}

TEST_CASE("a case without a procedure is refused", "[rules]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Case c = ValidCase();
  c.clear_procedure();
  CHECK_REFUSED(CheckRecordCase(c, &matter), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "the case names no procedure (summary or ordinary)");
}

TEST_CASE("a case without an officer is refused", "[rules]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Case c = ValidCase();
  c.clear_officer_ids();
  CHECK_REFUSED(CheckRecordCase(c, &matter), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "the case names no officer");
}

TEST_CASE("a new case must start in its procedure's initial state", "[rules]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Case c = ValidCase();
  c.set_state(v1::CASE_STATE_FILED);
  CHECK_REFUSED(CheckRecordCase(c, &matter), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "a new ordinary case starts in state REGISTERED, not FILED");
  c.set_procedure(v1::PROCEDURE_SUMMARY);
  CHECK_REFUSED(CheckRecordCase(c, &matter), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "a new summary case starts in state ISSUED, not FILED");
}

TEST_CASE("a case party without a kind is refused", "[rules]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Case c = ValidCase();
  c.add_parties()->set_party_id("p2");
  CHECK_REFUSED(CheckRecordCase(c, &matter), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "party 2 is neither a citizen nor an organisation (kind unset)");
}

// ---- CheckTicket: Art. 51 ----

TEST_CASE("a complete ticket within the limits is accepted", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  CHECK(CheckTicket(ValidTicket(), &matter, Roster()).ok());
}

TEST_CASE("an officer who is no longer active counts as off the roster", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  std::vector<v1::Officer> roster = Roster();
  roster[1].set_active(false);
  CHECK_REFUSED(CheckTicket(ValidTicket(), &matter, roster), kInvalid, v1::REASON_UNKNOWN_OFFICER,
                "officer off-sworn-2 is not on the roster");
}

TEST_CASE("a ticket for a matter not in the catalogue is refused", "[rules][ticket]") {
  CHECK_REFUSED(CheckTicket(ValidTicket(), nullptr, Roster()), kInvalid, v1::REASON_UNKNOWN_MATTER,
                "matter code CG-0101 is not in the catalogue");
}

TEST_CASE("a ticket for a matter that is not fast-track is refused", "[rules][ticket]") {
  v1::Matter matter = FastTrackMatter();
  matter.set_fast_track(false);
  CHECK_REFUSED(CheckTicket(ValidTicket(), &matter, Roster()), kInvalid, v1::REASON_NOT_FAST_TRACK,
                "matter CG-0101 (Spreading goods outside a shop) cannot be decided on the spot "
                "(Art. 51); use the ordinary procedure");
}

TEST_CASE("a mitigated penalty cannot be ticketed", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Ticket t = ValidTicket();
  t.set_mitigated(true);
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_MITIGATED_PENALTY,
                "a mitigated penalty cannot be decided on the spot (Art. 51); use the ordinary "
                "procedure");
}

TEST_CASE("a fine of exactly 200 yuan for a citizen is accepted", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Ticket t = ValidTicket();
  t.set_fine_fen(20000);
  CHECK(CheckTicket(t, &matter, Roster()).ok());
}

TEST_CASE("a ticket over 200 yuan for a citizen is refused", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Ticket t = ValidTicket();
  t.set_fine_fen(25000);
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_FINE_OVER_LIMIT,
                "fine 250 yuan exceeds the on-the-spot limit of 200 yuan for a citizen (Art. 51); "
                "use the ordinary procedure");
  t.set_fine_fen(20001);
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_FINE_OVER_LIMIT,
                "fine 200.01 yuan exceeds the on-the-spot limit of 200 yuan for a citizen (Art. "
                "51); use the ordinary procedure");
}

TEST_CASE("a fine of 3000 yuan for an organisation is accepted", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Ticket t = ValidTicket();
  t.set_party_kind(v1::PARTY_KIND_ORGANISATION);
  t.set_fine_fen(300000);
  CHECK(CheckTicket(t, &matter, Roster()).ok());
}

TEST_CASE("a ticket over 3000 yuan for an organisation is refused", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Ticket t = ValidTicket();
  t.set_party_kind(v1::PARTY_KIND_ORGANISATION);
  t.set_fine_fen(300050);
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_FINE_OVER_LIMIT,
                "fine 3000.50 yuan exceeds the on-the-spot limit of 3000 yuan for an "
                "organisation (Art. 51); use the ordinary procedure");
}

TEST_CASE("a fine outside the matter's range is refused", "[rules][ticket]") {
  v1::Matter matter = FastTrackMatter();
  matter.set_fine_min_fen(2000);
  matter.set_fine_max_fen(10000);
  v1::Ticket t = ValidTicket();
  t.set_fine_fen(2000);
  CHECK(CheckTicket(t, &matter, Roster()).ok());
  t.set_fine_fen(10000);
  CHECK(CheckTicket(t, &matter, Roster()).ok());
  t.set_fine_fen(15000);
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_FINE_OVER_LIMIT,
                "fine 150 yuan is outside the range of 20 to 100 yuan set for matter CG-0101 "
                "(Spreading goods outside a shop)");
  t.set_fine_fen(1999);
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_FINE_OVER_LIMIT,
                "fine 19.99 yuan is outside the range of 20 to 100 yuan set for matter CG-0101 "
                "(Spreading goods outside a shop)");
}

TEST_CASE("a warning is accepted without a fine and refused with one", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Ticket t = ValidTicket();
  t.set_penalty(v1::PENALTY_KIND_WARNING);
  t.set_fine_fen(0);
  CHECK(CheckTicket(t, &matter, Roster()).ok());
  t.set_fine_fen(1000);
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "a warning carries no fine, but the ticket names 10 yuan");
}

TEST_CASE("a fine ticket without an amount is refused", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Ticket t = ValidTicket();
  t.set_fine_fen(0);
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_MISSING_TICKET_FIELD,
                "the ticket lacks the amount of the fine (Art. 52)");
}

TEST_CASE("a ticket without a penalty kind or party kind is refused", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Ticket t = ValidTicket();
  t.clear_penalty();
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_MISSING_TICKET_FIELD,
                "the ticket lacks the penalty (warning or fine) (Art. 52)");
  t = ValidTicket();
  t.clear_party_kind();
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_MISSING_TICKET_FIELD,
                "the ticket lacks the kind of party (citizen or organisation) (Art. 52)");
}

// ---- CheckTicket: officers ----

TEST_CASE("a ticket with one officer is refused", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Ticket t = ValidTicket();
  t.clear_officer_ids();
  t.add_officer_ids("off-sworn-1");
  t.add_officer_ids("off-sworn-1");  // the same officer twice is still one
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_TOO_FEW_OFFICERS,
                "a ticket needs at least two law-enforcement officers holding credentials "
                "(Art. 42); only 1 officer is named");
}

TEST_CASE("a ticket naming an officer not on the roster is refused", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Ticket t = ValidTicket();
  t.add_officer_ids("off-ghost");
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_UNKNOWN_OFFICER,
                "officer off-ghost is not on the roster");
}

TEST_CASE("an auxiliary never counts as the second officer of a ticket (Art. 42)",
          "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  std::vector<v1::Officer> roster = Roster();
  roster.push_back(roster[2]);
  roster.back().set_officer_id("off-aux-2");
  v1::Ticket t = ValidTicket();
  t.clear_officer_ids();
  t.add_officer_ids("off-sworn-1");
  t.add_officer_ids("off-aux-1");
  CHECK_REFUSED(CheckTicket(t, &matter, roster), kInvalid, v1::REASON_TOO_FEW_OFFICERS,
                "a ticket needs at least two law-enforcement officers holding credentials "
                "(Art. 42); off-aux-1 is an auxiliary and does not count");
  t.clear_officer_ids();
  t.add_officer_ids("off-aux-1");
  t.add_officer_ids("off-aux-2");
  CHECK_REFUSED(CheckTicket(t, &matter, roster), kInvalid, v1::REASON_TOO_FEW_OFFICERS,
                "a ticket needs at least two law-enforcement officers holding credentials "
                "(Art. 42); off-aux-1 is an auxiliary and does not count; off-aux-2 is an "
                "auxiliary and does not count");
  // Two credentialed officers, with the auxiliaries assisting: allowed.
  t.add_officer_ids("off-sworn-1");
  t.add_officer_ids("off-sworn-2");
  CHECK(CheckTicket(t, &matter, roster).ok());
}

TEST_CASE("a sworn officer without a credential number does not count (Art. 42)",
          "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  std::vector<v1::Officer> roster = Roster();
  roster[1].clear_certificate_number();  // as a store from before the number was required
  CHECK_FALSE(HoldsCredential(roster[1]));
  CHECK(HoldsCredential(roster[0]));
  CHECK_REFUSED(CheckTicket(ValidTicket(), &matter, roster), kInvalid, v1::REASON_TOO_FEW_OFFICERS,
                "a ticket needs at least two law-enforcement officers holding credentials "
                "(Art. 42); off-sworn-2 has no enforcement credential number on record and "
                "does not count");
}

// ---- CheckCredentialedOfficers: the acts of Art. 42 and 55 ----

TEST_CASE("inspection records and no-penalty decisions need two credentialed officers",
          "[rules][officers]") {
  const std::vector<v1::Officer> officers = Roster();
  const OfficerLookup roster = [&officers](const std::string& id) -> const v1::Officer* {
    for (const v1::Officer& o : officers) {
      if (o.officer_id() == id) return &o;
    }
    return nullptr;
  };
  v1::Case c;
  c.add_officer_ids("off-sworn-1");
  CHECK_REFUSED(
      CheckCredentialedOfficers(c.officer_ids(), CredentialedAct::kInspectionRecord, roster),
      kInvalid, v1::REASON_TOO_FEW_OFFICERS,
      "an inspection or investigation record needs at least two law-enforcement "
      "officers holding credentials (Art. 55); only 1 officer is named");
  c.add_officer_ids("off-aux-1");
  CHECK_REFUSED(CheckCredentialedOfficers(c.officer_ids(), CredentialedAct::kNoPenalty, roster),
                kInvalid, v1::REASON_TOO_FEW_OFFICERS,
                "a no-penalty decision needs at least two law-enforcement officers holding "
                "credentials (Art. 42); off-aux-1 is an auxiliary and does not count");
  c.clear_officer_ids();
  CHECK_REFUSED(CheckCredentialedOfficers(c.officer_ids(), CredentialedAct::kNoPenalty, roster),
                kInvalid, v1::REASON_TOO_FEW_OFFICERS,
                "a no-penalty decision needs at least two law-enforcement officers holding "
                "credentials (Art. 42); no officer is named");
  c.add_officer_ids("off-sworn-1");
  c.add_officer_ids("off-aux-1");
  c.add_officer_ids("off-sworn-2");
  CHECK(
      CheckCredentialedOfficers(c.officer_ids(), CredentialedAct::kInspectionRecord, roster).ok());
  CHECK(CheckCredentialedOfficers(c.officer_ids(), CredentialedAct::kNoPenalty, roster).ok());
}

// ---- CheckTicket: remedies' time limits (Art. 52) ----

TEST_CASE("a ticket states 60 days for reconsideration and 6 months for litigation",
          "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  CHECK(CheckTicket(ValidTicket(), &matter, Roster()).ok());
  v1::Ticket t = ValidTicket();
  // What tickets said before deadline_months existed: refused for a new one.
  t.mutable_remedies(1)->clear_deadline_months();
  t.mutable_remedies(1)->set_deadline_days(180);
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "remedy 2 (litigation) states 180 days; the law gives 6 months (deadline_months "
                "6, deadline_days 0)");
  t = ValidTicket();
  t.mutable_remedies(0)->set_deadline_days(15);
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "remedy 1 (reconsideration) states 15 days; the law gives 60 days "
                "(deadline_days 60)");
  t = ValidTicket();
  t.mutable_remedies(1)->clear_kind();
  CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "remedy 2 is neither reconsideration nor litigation (kind unset)");
}

// ---- CheckTicket: Art. 52 elements ----

TEST_CASE("a ticket lacking an Art. 52 element is refused naming it", "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  struct Case {
    const char* name;
    void (*damage)(v1::Ticket*);
    const char* message;
  };
  const Case cases[] = {
      {"violation", [](v1::Ticket* t) { t->set_violation(" "); },
       "the ticket lacks the violation found (Art. 52)"},
      {"legal basis", [](v1::Ticket* t) { t->clear_legal_basis(); },
       "the ticket lacks the legal basis (Art. 52)"},
      {"penalty basis", [](v1::Ticket* t) { t->clear_penalty_basis(); },
       "the ticket lacks the penalty basis (Art. 52)"},
      {"time", [](v1::Ticket* t) { t->clear_issued_at_ms(); },
       "the ticket lacks the time of issue (Art. 52)"},
      {"place", [](v1::Ticket* t) { t->mutable_place()->clear_address(); },
       "the ticket lacks the place (Art. 52)"},
      {"remedies", [](v1::Ticket* t) { t->clear_remedies(); },
       "the ticket lacks the remedies open to the party (reconsideration, litigation) (Art. 52)"},
      {"remedy body", [](v1::Ticket* t) { t->mutable_remedies(0)->clear_body(); },
       "the ticket lacks the body to apply to for remedy 1 (Art. 52)"},
      {"remedy deadline", [](v1::Ticket* t) { t->mutable_remedies(0)->set_deadline_days(0); },
       "the ticket lacks the time limit of remedy 1 (reconsideration) (Art. 52)"},
      {"litigation", [](v1::Ticket* t) { t->mutable_remedies()->RemoveLast(); },
       "the ticket lacks the remedy of litigation (within 6 months) (Art. 52)"},
      {"agency", [](v1::Ticket* t) { t->clear_agency(); }, "the ticket lacks the agency (Art. 52)"},
      {"signature", [](v1::Ticket* t) { t->clear_party_signature(); },
       "the ticket lacks the party's signature or the note that the party refused to sign (Art. "
       "52)"},
      {"number", [](v1::Ticket* t) { t->clear_ticket_number(); },
       "the ticket lacks a ticket number (Art. 52)"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      v1::Ticket t = ValidTicket();
      c.damage(&t);
      CHECK_REFUSED(CheckTicket(t, &matter, Roster()), kInvalid, v1::REASON_MISSING_TICKET_FIELD,
                    c.message);
    }
  }
}

TEST_CASE("a ticket the party refused to sign is accepted with the refusal noted",
          "[rules][ticket]") {
  const v1::Matter matter = FastTrackMatter();
  v1::Ticket t = ValidTicket();
  t.set_party_signature(v1::PARTY_SIGNATURE_REFUSED);
  CHECK(CheckTicket(t, &matter, Roster()).ok());
}

}  // namespace
}  // namespace palm::sync
