// Every legal rule the device enforces (issue 3 §4): the allowed case and the
// refused case, with the exact code, reason and message.
#include "tests/client/client_test_util.h"

#include "sync/lifecycle.h"
#include "sync/party_key.h"

namespace palm::testing {
namespace {

std::string RecordOrDie(Client& c, const CaseInput& in) {
  Result<std::string> id = c.RecordCase(in);
  INFO(id.status().ToString());
  REQUIRE(id.ok());
  return *id;
}

uint64_t OutboxSize(Device& d) {
  auto outbox = d.store().Outbox();
  REQUIRE(outbox.ok());
  return outbox->size();
}

TEST_CASE("a case under a catalogued matter is recorded, an unknown matter is refused") {
  Device d;
  CHECK(d.client->RecordCase(SummaryCase()).ok());
  RequireRefused(d.client->RecordCase(SummaryCase("XX-9999")).status(),
                 StatusCode::kInvalidArgument, "unknown_matter",
                 "matter code XX-9999 is not in the catalogue");
}

TEST_CASE("a 100 yuan ticket for a citizen is issued with the next leased number") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  Result<Ticket> t = d.client->IssueTicket(ValidTicket(case_id));
  INFO(t.status().ToString());
  REQUIRE(t.ok());
  CHECK(t->ticket_number == 1001);
  CHECK(t->ticket_number_text == "桐综执简〔2026〕D01-001001");
  CHECK(t->matter_code == kFastTrackNoPenalty);
  CHECK(t->party_kind == PartyKind::kCitizen);
  CHECK(*d.client->TicketNumbersLeft() == 99);
}

TEST_CASE("a ticket over 200 yuan for a citizen is refused and nothing is written") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  uint64_t before = OutboxSize(d);
  RequireRefused(d.client->IssueTicket(ValidTicket(case_id, 25000)).status(),
                 StatusCode::kInvalidArgument, "fine_over_limit",
                 "fine 250 yuan exceeds the on-the-spot limit of 200 yuan for a citizen (Art. 51); "
                 "use the ordinary procedure");
  CHECK(OutboxSize(d) == before);
  CHECK(*d.client->TicketNumbersLeft() == 100);
}

TEST_CASE("an organisation may be fined up to 3000 yuan on the spot, not more") {
  Device d;
  v1::Catalog catalog = SampleCatalog();
  catalog.set_version(catalog.version() + 1);
  v1::Matter* m = catalog.add_matters();
  m->set_code("TEST-ORG");
  m->set_category("市容环境");
  m->set_name("test matter with a wide fine range");
  m->set_legal_basis(ValidTicket("").legal_basis);
  m->set_penalty_basis(ValidTicket("").penalty_basis);
  m->set_fine_min_fen(0);
  m->set_fine_max_fen(1000000);
  m->set_fast_track(true);
  REQUIRE(d.store().ApplyCatalog(catalog).ok());
  CaseInput in = SummaryCase("TEST-ORG");
  in.parties = {Citizen("某某餐饮有限公司", "91330483MA2B123456")};
  in.parties[0].kind = PartyKind::kOrganisation;
  std::string case_id = RecordOrDie(*d.client, in);
  Result<Ticket> lawful = d.client->IssueTicket(ValidTicket(case_id, 300000));
  INFO(lawful.status().ToString());
  CHECK(lawful.ok());
  RequireRefused(d.client->IssueTicket(ValidTicket(case_id, 300100)).status(),
                 StatusCode::kInvalidArgument, "fine_over_limit",
                 "fine 3001 yuan exceeds the on-the-spot limit of 3000 yuan for an organisation "
                 "(Art. 51); use the ordinary procedure");
}

TEST_CASE("a warning may be issued on the spot but carries no fine") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  TicketInput t = ValidTicket(case_id, 0);
  t.penalty = PenaltyKind::kWarning;
  CHECK(d.client->IssueTicket(t).ok());
  t.fine_fen = 5000;
  RequireRefused(d.client->IssueTicket(t).status(), StatusCode::kInvalidArgument,
                 "invalid_argument", "a warning carries no fine, but the ticket names 50 yuan");
}

TEST_CASE("a mitigated penalty is refused on the spot") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  TicketInput t = ValidTicket(case_id);
  t.mitigated = true;
  RequireRefused(d.client->IssueTicket(t).status(), StatusCode::kInvalidArgument,
                 "mitigated_penalty",
                 "a mitigated penalty cannot be decided on the spot (Art. 51); use the ordinary "
                 "procedure");
}

TEST_CASE("a matter not flagged fast-track cannot be ticketed on the spot") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase(kOrdinaryOnly));
  RequireRefused(
      d.client->IssueTicket(ValidTicket(case_id, 100000)).status(), StatusCode::kInvalidArgument,
      "not_fast_track",
      "matter SR-0105 (未经批准设置户外广告设施) cannot be decided on the spot (Art. 51); "
      "use the ordinary procedure");
}

TEST_CASE("an ordinary-procedure case cannot be ticketed on the spot") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, OrdinaryCase());
  RequireRefused(d.client->IssueTicket(ValidTicket(case_id)).status(), StatusCode::kInvalidArgument,
                 "not_fast_track",
                 "case " + case_id +
                     " follows the ordinary procedure; an on-the-spot ticket needs a "
                     "summary-procedure case (Art. 51)");
}

TEST_CASE("a ticket needs two credentialed officers and an auxiliary never counts (Art. 42)") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  TicketInput one = ValidTicket(case_id);
  one.officer_ids = {kSworn};
  RequireRefused(d.client->IssueTicket(one).status(), StatusCode::kInvalidArgument,
                 "too_few_officers",
                 "a ticket needs at least two law-enforcement officers holding credentials "
                 "(Art. 42); only 1 officer is named");
  TicketInput auxiliary = ValidTicket(case_id);
  auxiliary.officer_ids = {kSworn, kAux2};
  RequireRefused(d.client->IssueTicket(auxiliary).status(), StatusCode::kInvalidArgument,
                 "too_few_officers",
                 "a ticket needs at least two law-enforcement officers holding credentials "
                 "(Art. 42); officer-aux-2 is an auxiliary and does not count");
  TicketInput auxiliaries = ValidTicket(case_id);
  auxiliaries.officer_ids = {kAux1, kAux2};
  RequireRefused(d.client->IssueTicket(auxiliaries).status(), StatusCode::kInvalidArgument,
                 "too_few_officers",
                 "a ticket needs at least two law-enforcement officers holding credentials "
                 "(Art. 42); officer-aux-1 is an auxiliary and does not count; officer-aux-2 is "
                 "an auxiliary and does not count");
  TicketInput stranger = ValidTicket(case_id);
  stranger.officer_ids = {kSworn, "officer-unknown"};
  RequireRefused(d.client->IssueTicket(stranger).status(), StatusCode::kInvalidArgument,
                 "unknown_officer", "officer officer-unknown is not on the roster");
  TicketInput assisted = ValidTicket(case_id);
  assisted.officer_ids = {kSworn, kAux2, kSworn2};
  CHECK(d.client->IssueTicket(assisted).ok());
}

TEST_CASE("a case record needs two credentialed officers (Art. 55)") {
  Device d;
  CaseInput c = SummaryCase();
  c.officer_ids = {kSworn, kAux1};
  RequireRefused(d.client->RecordCase(c).status(), StatusCode::kInvalidArgument, "too_few_officers",
                 "an inspection or investigation record needs at least two law-enforcement "
                 "officers holding credentials (Art. 55); officer-aux-1 is an auxiliary and does "
                 "not count");
  c.officer_ids = {kSworn};
  RequireRefused(d.client->RecordCase(c).status(), StatusCode::kInvalidArgument, "too_few_officers",
                 "an inspection or investigation record needs at least two law-enforcement "
                 "officers holding credentials (Art. 55); only 1 officer is named");
  c.officer_ids = {kSworn, kSworn2, kAux1};
  CHECK(d.client->RecordCase(c).ok());
}

TEST_CASE("a sworn officer with no credential number on the synced roster does not count") {
  Device d;
  v1::Officer old = MakeOfficer(kSworn2, true);
  old.clear_certificate_number();  // as a roster entry from before the number was required
  REQUIRE(d.store().UpsertOfficers({old}).ok());
  RequireRefused(d.client->RecordCase(SummaryCase()).status(), StatusCode::kInvalidArgument,
                 "too_few_officers",
                 "an inspection or investigation record needs at least two law-enforcement "
                 "officers holding credentials (Art. 55); officer-sworn-2 has no enforcement "
                 "credential number on record and does not count; officer-aux-1 is an auxiliary "
                 "and does not count");
}

TEST_CASE("a ticket states 6 months for litigation, not 180 days") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  TicketInput t = ValidTicket(case_id);
  t.remedies[1] = {RemedyKind::kLitigation, "桐乡市人民法院", 180, 0};
  RequireRefused(d.client->IssueTicket(t).status(), StatusCode::kInvalidArgument,
                 "invalid_argument",
                 "remedy 2 (litigation) states 180 days; the law gives 6 months (deadline_months "
                 "6, deadline_days 0)");
  CHECK(d.client->IssueTicket(ValidTicket(case_id)).ok());
}

TEST_CASE("every Art. 52 element must be on the ticket") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  struct Missing {
    const char* name;
    void (*clear)(TicketInput&);
    const char* message;
  };
  const Missing cases[] = {
      {"violation", [](TicketInput& t) { t.violation.clear(); },
       "the ticket lacks the violation found (Art. 52)"},
      {"legal basis", [](TicketInput& t) { t.legal_basis.clear(); },
       "the ticket lacks the legal basis (Art. 52)"},
      {"penalty basis", [](TicketInput& t) { t.penalty_basis.clear(); },
       "the ticket lacks the penalty basis (Art. 52)"},
      {"place", [](TicketInput& t) { t.place.address.clear(); },
       "the ticket lacks the place (Art. 52)"},
      {"remedies", [](TicketInput& t) { t.remedies.clear(); },
       "the ticket lacks the remedies open to the party (reconsideration, litigation) (Art. 52)"},
      {"remedy deadline", [](TicketInput& t) { t.remedies[1].deadline_months = 0; },
       "the ticket lacks the time limit of remedy 2 (litigation) (Art. 52)"},
      {"agency", [](TicketInput& t) { t.agency.clear(); }, "the ticket lacks the agency (Art. 52)"},
      {"signature", [](TicketInput& t) { t.party_signature = PartySignature::kUnspecified; },
       "the ticket lacks the party's signature or the note that the party refused to sign "
       "(Art. 52)"},
  };
  for (const Missing& m : cases) {
    SECTION(m.name) {
      TicketInput t = ValidTicket(case_id);
      m.clear(t);
      RequireRefused(d.client->IssueTicket(t).status(), StatusCode::kInvalidArgument,
                     "missing_ticket_field", m.message);
    }
  }
  SECTION("a party who refused to sign is noted, and the ticket is valid") {
    TicketInput t = ValidTicket(case_id);
    t.party_signature = PartySignature::kRefused;
    CHECK(d.client->IssueTicket(t).ok());
  }
}

TEST_CASE("an exhausted ticket block refuses before anything is written") {
  Device d(/*seed=*/true, /*ticket_numbers=*/2);
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  CHECK(d.client->IssueTicket(ValidTicket(case_id)).ok());
  CHECK(*d.client->TicketNumbersLeft() == 1);
  CHECK(d.client->IssueTicket(ValidTicket(case_id)).ok());
  CHECK(*d.client->TicketNumbersLeft() == 0);
  uint64_t before = OutboxSize(d);
  RequireRefused(d.client->IssueTicket(ValidTicket(case_id)).status(),
                 StatusCode::kFailedPrecondition, "ticket_number_exhausted",
                 "no ticket numbers left on this device: sync to lease a new block");
  CHECK(OutboxSize(d) == before);
  CHECK(d.client->GetCase(case_id)->tickets.size() == 2);

  v1::TicketLease next;
  next.set_lease_id("lease-2");
  next.set_first_number(5001);
  next.set_last_number(5010);
  next.set_prefix("P-");
  REQUIRE(d.store().AddTicketLease(next).ok());
  Result<Ticket> t = d.client->IssueTicket(ValidTicket(case_id));
  REQUIRE(t.ok());
  CHECK(t->ticket_number == 5001);
}

TEST_CASE("an issued ticket is immutable, voiding needs a reason and happens once") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  Result<Ticket> t = d.client->IssueTicket(ValidTicket(case_id));
  REQUIRE(t.ok());

  // Re-issuing the same ticket id (as a replayed mutation would) is refused.
  auto outbox = d.store().Outbox();
  REQUIRE(outbox.ok());
  v1::Mutation replay = outbox->back().mutation;
  replay.clear_mutation_id();
  absl::StatusOr<v1::Mutation> again = d.store().Write(replay);
  RequireRefused(internal::FromAbsl(again.status()), StatusCode::kFailedPrecondition, "immutable",
                 "ticket " + t->ticket_id +
                     " is already issued; a ticket is never edited (void it and issue a new one)");

  RequireRefused(d.client->VoidTicket(case_id, t->ticket_id, ""), StatusCode::kInvalidArgument,
                 "invalid_argument");
  REQUIRE(d.client->VoidTicket(case_id, t->ticket_id, "开错当事人").ok());
  RequireRefused(d.client->VoidTicket(case_id, t->ticket_id, "again"),
                 StatusCode::kFailedPrecondition, "already_voided",
                 "ticket 桐综执简〔2026〕D01-001001 was already voided: 开错当事人");
  Result<CaseView> view = d.client->GetCase(case_id);
  REQUIRE(view.ok());
  CHECK(view->tickets[0].voided);
  CHECK(view->tickets[0].fine_fen == 10000);
  CHECK(view->timeline.back().kind == CaseEventKind::kTicketVoided);
}

TEST_CASE("evidence is append-only: withdrawal is a reasoned event, once") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  EvidenceInput e;
  e.case_id = case_id;
  e.kind = EvidenceKind::kPhoto;
  e.mime_type = "image/jpeg";
  e.sha256_hex = std::string(64, 'a');
  e.size_bytes = 1234;
  Result<std::string> id = d.client->AddEvidenceRecord(e);
  REQUIRE(id.ok());

  auto outbox = d.store().Outbox();
  REQUIRE(outbox.ok());
  v1::Mutation replay = outbox->back().mutation;
  replay.mutable_add_evidence()->mutable_evidence()->set_description("edited");
  RequireRefused(
      internal::FromAbsl(d.store().Write(replay).status()), StatusCode::kFailedPrecondition,
      "immutable",
      "evidence " + *id +
          " is already on record; evidence is never edited (withdraw it and add new evidence)");

  REQUIRE(d.client->WithdrawEvidence(case_id, *id, "拍摄对象错误").ok());
  RequireRefused(d.client->WithdrawEvidence(case_id, *id, "again"), StatusCode::kFailedPrecondition,
                 "already_withdrawn", "evidence " + *id + " was already withdrawn: 拍摄对象错误");
  Result<CaseView> view = d.client->GetCase(case_id);
  REQUIRE(view.ok());
  REQUIRE(view->evidence.size() == 1);
  CHECK(view->evidence[0].withdrawn);
  CHECK(view->evidence[0].sha256_hex == std::string(64, 'a'));
  CHECK(view->timeline.back().kind == CaseEventKind::kEvidenceWithdrawn);
}

TEST_CASE("a case moves only along its lifecycle") {
  Device d;
  std::string summary = RecordOrDie(*d.client, SummaryCase());
  CHECK(d.client->GetCase(summary)->record.state == CaseState::kIssued);
  RequireRefused(d.client->TransitionCase(summary, CaseState::kClosed, ""),
                 StatusCode::kFailedPrecondition, "illegal_transition");
  REQUIRE(d.client->TransitionCase(summary, CaseState::kFiled, "报局备案").ok());
  REQUIRE(d.client->TransitionCase(summary, CaseState::kExecuting, "").ok());
  Result<CaseView> view = d.client->GetCase(summary);
  REQUIRE(view.ok());
  CHECK(view->record.state == CaseState::kExecuting);
  const CaseEvent& last = view->timeline.back();
  CHECK(last.kind == CaseEventKind::kTransition);
  CHECK(last.from_state == CaseState::kFiled);
  CHECK(last.to_state == CaseState::kExecuting);

  std::string ordinary = RecordOrDie(*d.client, OrdinaryCase());
  CHECK(d.client->GetCase(ordinary)->record.state == CaseState::kRegistered);
  Status s = d.client->TransitionCase(ordinary, CaseState::kDecided, "");
  RequireRefused(s, StatusCode::kFailedPrecondition, "illegal_transition");
  CHECK(s.message().find("REGISTERED") != std::string::npos);
}

TEST_CASE("a major case cannot be decided before legal review approves it (Art. 58)") {
  Device d;
  v1::Officer leader = MakeOfficer("leader-1", true);
  leader.set_role(v1::ROLE_SQUAD_LEADER);
  REQUIRE(d.store().UpsertOfficers({leader}).ok());
  std::string case_id = RecordOrDie(*d.client, OrdinaryCase(kMajor));
  // Review follows the notice, right before the decision.
  REQUIRE(d.client->TransitionCase(case_id, CaseState::kFiled, "").ok());
  REQUIRE(d.client->TransitionCase(case_id, CaseState::kInvestigating, "").ok());
  RequireRefused(d.client->TransitionCase(case_id, CaseState::kLegalReview, ""),
                 StatusCode::kFailedPrecondition, "illegal_transition",
                 "a case in state INVESTIGATING cannot move to LEGAL_REVIEW; next allowed: "
                 "NOTIFIED, NO_PENALTY, TRANSFERRED");
  for (CaseState s : {CaseState::kNotified, CaseState::kLegalReview}) {
    REQUIRE(d.client->TransitionCase(case_id, s, "").ok());
  }
  // The patrol officer has no decision authority; the squad leader has.
  RequireRefused(d.client->TransitionCase(case_id, CaseState::kDecided, ""),
                 StatusCode::kPermissionDenied, "permission_denied",
                 "officer " + std::string(kSworn) + " (ROLE_OFFICER) may not decide case " +
                     case_id +
                     ": a decision is made by an active, sworn squad leader (ROLE_SQUAD_LEADER)");
  REQUIRE(d.client->SetActingOfficer("leader-1").ok());
  RequireRefused(d.client->TransitionCase(case_id, CaseState::kDecided, ""),
                 StatusCode::kFailedPrecondition, "review_required");

  // The approval arrives from the server (legal reviewers work there). The
  // older flag alone names no decision and is not enough.
  absl::StatusOr<internal::CaseBundle> b = d.store().GetCase(case_id);
  REQUIRE(b.ok());
  b->kase.set_review_approved(true);
  REQUIRE(d.store().UpsertServerCase(b->kase).ok());
  RequireRefused(d.client->TransitionCase(case_id, CaseState::kDecided, ""),
                 StatusCode::kFailedPrecondition, "review_required");
  const v1::Catalog catalog = SampleCatalog();
  const v1::Matter* matter = nullptr;
  for (const v1::Matter& m : catalog.matters()) {
    if (m.code() == kMajor) matter = &m;
  }
  REQUIRE(matter != nullptr);
  b->kase.mutable_review_approval()->set_reviewer_id("reviewer");
  b->kase.mutable_review_approval()->set_decision_digest(sync::DecisionDigest(b->kase, matter));
  REQUIRE(d.store().UpsertServerCase(b->kase).ok());

  // An edit of the reviewed fine spends the approval on the device too.
  v1::Case approved = b->kase;
  REQUIRE(d.client->UpdateCaseFields(case_id, {{CaseField::kProposedFine, "80000", ""}}).ok());
  RequireRefused(d.client->TransitionCase(case_id, CaseState::kDecided, ""),
                 StatusCode::kFailedPrecondition, "review_required");
  CHECK_FALSE(d.client->GetCase(case_id)->record.review_approved);
  REQUIRE(d.store().UpsertServerCase(approved).ok());
  // The notice's period still runs, counted on the synced working-day
  // calendar (the device's clock stands at the day of the notice, a
  // holiday): the party's waiver lets the decision through (Art. 45).
  v1::Catalog with_calendar = SampleCatalog();
  with_calendar.set_version(with_calendar.version() + 1);
  absl::StatusOr<v1::Catalog> calendar =
      internal::LoadCatalogFile(std::string(PALM_SOURCE_DIR) + "/tools/data/sample-calendar.json");
  REQUIRE(calendar.ok());
  *with_calendar.mutable_calendar() = calendar->calendar();
  REQUIRE(d.store().ApplyCatalog(with_calendar).ok());
  RequireRefused(d.client->TransitionCase(case_id, CaseState::kDecided, ""),
                 StatusCode::kFailedPrecondition, "notice_period_running",
                 "case " + case_id +
                     ": the party's period to state and defend runs to 2026-01-06 (3 working days "
                     "from the notice of 2026-01-01, Art. 44-45); decide after it, or record the "
                     "party's waiver");
  CaseEventInput waiver{case_id,
                        CaseEventKind::kStatementWaived,
                        "当事人放弃陈述、申辩",
                        0,
                        0,
                        std::nullopt,
                        std::nullopt,
                        std::nullopt};
  REQUIRE(d.client->AppendCaseEvent(waiver).ok());
  CHECK(d.client->TransitionCase(case_id, CaseState::kDecided, "").ok());
}

TEST_CASE("officers append notes and payments, system events are not theirs to write") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  CaseEventInput note{case_id, CaseEventKind::kNote, "当事人情绪稳定", 0,
                      0,       std::nullopt,         std::nullopt,     std::nullopt};
  CHECK(d.client->AppendCaseEvent(note).ok());
  // A payment follows a fine decided and served (a ticket; here none):
  // tests/client/payment_test.cc pays one.
  CaseEventInput pay{case_id,     CaseEventKind::kPayment, "", 0, 10000, std::nullopt, std::nullopt,
                     std::nullopt};
  RequireRefused(d.client->AppendCaseEvent(pay).status(), StatusCode::kFailedPrecondition,
                 "payment",
                 "case " + case_id +
                     " has no fine due (state CASE_STATE_ISSUED): a payment is recorded once a "
                     "fine is decided and served");
  CaseEventInput forged{
      case_id, CaseEventKind::kTransition, "x", 0, 0, std::nullopt, std::nullopt, std::nullopt};
  RequireRefused(d.client->AppendCaseEvent(forged).status(), StatusCode::kInvalidArgument,
                 "invalid_argument",
                 "append_case_event.event.kind CASE_EVENT_KIND_TRANSITION is not one an officer "
                 "appends (notes, notifications, services, payments, hand-overs, the party's "
                 "statement or waiver); the system writes the others from the matching mutation");
  CaseEventInput unpaid{case_id,     CaseEventKind::kPayment, "", 0, 0, std::nullopt, std::nullopt,
                        std::nullopt};
  RequireRefused(d.client->AppendCaseEvent(unpaid).status(), StatusCode::kInvalidArgument,
                 "invalid_argument",
                 "append_case_event.event: a payment event needs a positive amount_fen");
}

TEST_CASE("case fields are corrected and parties added through one mutation") {
  Device d;
  std::string case_id = RecordOrDie(*d.client, SummaryCase());
  std::vector<CaseFieldChange> changes = {
      {CaseField::kDescription, "更正：流动摊贩", ""},
      {CaseField::kLocation, "30.64,120.57,3", ""},
      {CaseField::kPartyName, "李四", "party-new"},
      {CaseField::kPartyKind, "1", "party-new"},
  };
  REQUIRE(d.client->UpdateCaseFields(case_id, changes).ok());
  Result<CaseView> view = d.client->GetCase(case_id);
  REQUIRE(view.ok());
  CHECK(view->record.description == "更正：流动摊贩");
  CHECK(view->record.place.location.latitude == Approx(30.64));
  REQUIRE(view->record.parties.size() == 2);
  CHECK(view->record.parties[1].name == "李四");
  RequireRefused(d.client->UpdateCaseFields(case_id, {{CaseField::kLocation, "north", ""}}),
                 StatusCode::kInvalidArgument, "invalid_argument",
                 "update_case_fields.changes[0].value \"north\" is not \"lat,lng[,accuracy]\" "
                 "with a valid position and accuracy >= 0");
  // A long malformed value is quoted by its first 64 bytes only.
  RequireRefused(
      d.client->UpdateCaseFields(case_id, {{CaseField::kLocation, std::string(4000, 'n'), ""}}),
      StatusCode::kInvalidArgument, "invalid_argument",
      "update_case_fields.changes[0].value \"" + std::string(64, 'n') +
          "\u2026\" is not \"lat,lng[,accuracy]\" with a valid position and accuracy >= 0");
  RequireRefused(d.client->UpdateCaseFields(case_id, {{CaseField::kMatterCode, "XX-1", ""}}),
                 StatusCode::kInvalidArgument, "unknown_matter",
                 "matter code XX-1 is not in the catalogue");
}

}  // namespace
}  // namespace palm::testing
