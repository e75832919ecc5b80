// The differential test of the shared operation rules (sync/operations.h): a
// seeded random stream of mutations, valid and invalid, goes through the
// device's write path (DeviceStore::Write on a real SQLite store) and through
// the server's push path (a real palm-server child). Every mutation must get
// the same verdict on both ends — applied on both, or refused on both with
// the same reason — and after every step the entity state of the case it
// touched must be the same on the device and on the server.
//
// A draft the device accepts is pushed exactly as the device recorded it (as
// device dev-a). A draft the device refuses never reaches its outbox, so the
// test completes it as the device would have and pushes it as a second
// device of the same town (dev-x), whose own sequence numbers it keeps.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "palm/v1/sync.grpc.pb.h"
#include "sync/mutation.h"
#include "sync/status.h"
#include "sync/uuid.h"
#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

constexpr char kOrdinaryMatter[] = "SR-0105";      // not fast track, not on the no-penalty list
constexpr char kNotOnListMatter[] = "SR-0108";     // fast track (200..2000 yuan), not on the list
constexpr char kNotDelegatedMatter[] = "SR-0102";  // not delegated to town A

// What a test case knows of each case it recorded.
struct KnownCase {
  std::string case_id;
  bool summary = true;
  std::vector<std::string> party_ids;
  std::vector<std::string> evidence_ids;
  std::vector<std::string> ticket_ids;
};

// The verdict of one end: "applied", or the refusal's reason name.
std::string Verdict(const absl::Status& s) {
  return s.ok() ? "applied" : sync::ReasonName(sync::ReasonOf(s));
}
std::string Verdict(const v1::MutationResult& r) {
  if (r.outcome() == v1::OUTCOME_APPLIED || r.outcome() == v1::OUTCOME_APPLIED_WITH_CONFLICT) {
    return "applied";
  }
  return sync::ReasonName(r.reason());
}

// The entity state both ends must agree on, as text: fields the server owns
// (case number, escalation, deadlines, its own timeline entries) are left
// out, and lists are sorted.
std::string Comparable(v1::Case c, std::vector<v1::Ticket> tickets,
                       std::vector<v1::Evidence> evidence,
                       std::vector<v1::NoPenaltyDecision> decisions,
                       const std::vector<v1::CaseEvent>& timeline) {
  c.clear_case_number();
  c.clear_case_number_seal();
  c.clear_created_by_device();
  c.clear_created_by_officer();
  c.clear_created_at_ms();
  c.clear_deadline_ms();
  c.clear_review_required();
  c.clear_review_approved();
  c.clear_escalated();
  c.clear_state_hlc();
  std::sort(c.mutable_parties()->begin(), c.mutable_parties()->end(),
            [](const v1::Party& a, const v1::Party& b) { return a.party_id() < b.party_id(); });
  std::string out = c.ShortDebugString();
  std::sort(tickets.begin(), tickets.end(),
            [](const auto& a, const auto& b) { return a.ticket_id() < b.ticket_id(); });
  for (v1::Ticket& t : tickets) {
    t.clear_device_id();
    t.clear_ticket_number_text();
    absl::StrAppend(&out, "\nticket ", t.ShortDebugString());
  }
  std::sort(evidence.begin(), evidence.end(),
            [](const auto& a, const auto& b) { return a.evidence_id() < b.evidence_id(); });
  for (v1::Evidence& e : evidence) {
    v1::Evidence kept;
    kept.set_evidence_id(e.evidence_id());
    kept.set_kind(e.kind());
    kept.set_sha256(e.sha256());
    kept.set_withdrawn(e.withdrawn());
    kept.set_withdraw_reason(e.withdraw_reason());
    absl::StrAppend(&out, "\nevidence ", kept.ShortDebugString());
  }
  std::sort(decisions.begin(), decisions.end(),
            [](const auto& a, const auto& b) { return a.decision_id() < b.decision_id(); });
  for (const v1::NoPenaltyDecision& d : decisions) {
    absl::StrAppend(&out, "\ndecision ", d.ShortDebugString());
  }
  std::vector<std::string> appended;
  for (const v1::CaseEvent& e : timeline) {
    switch (e.kind()) {
      case v1::CASE_EVENT_KIND_NOTE:
      case v1::CASE_EVENT_KIND_NOTIFICATION:
      case v1::CASE_EVENT_KIND_SERVICE:
      case v1::CASE_EVENT_KIND_PAYMENT:
        appended.push_back(absl::StrCat(e.event_id(), " ", e.kind(), " ", e.text()));
        break;
      default:
        break;
    }
  }
  std::sort(appended.begin(), appended.end());
  for (const std::string& e : appended) absl::StrAppend(&out, "\nevent ", e);
  return out;
}

class Differential {
 public:
  explicit Differential(uint32_t seed)
      : server_(data_.path().string()),
        admin_(server_.address()),
        town_(SetUpTown(admin_, "town-a", 3)),
        rng_(seed) {
    admin_.LoadSampleCatalog();
    admin_.AddOfficer("aux-a", town_.town_id, town_.squad_id, /*sworn=*/false);
    admin_.AddOfficer("town-b-officer", "town-b", "town-b-squad-1");
    // Town A is a delegated town (Art. 24): SR-0102 is not among its matters.
    v1::Town delegated;
    delegated.set_town_id(town_.town_id);
    delegated.set_name("梧桐街道");
    delegated.set_delegated(true);
    for (const char* code : {kFastTrack, kOrdinaryMatter, kNotOnListMatter}) {
      delegated.add_delegated_matters(code);
    }
    admin_.PutTown(delegated);
    device_ = std::make_unique<Device>(admin_, "dev-a", town_, Durability::kNormal);
    admin_.EnrollDevice("dev-x", town_.town_id, town_.squad_id);
    REQUIRE(device_->client->SetActingOfficer(town_.officers[0]).ok());
    device_->SyncUntilOk(server_.address());
    stub_ = v1::SyncService::NewStub(
        grpc::CreateChannel(server_.address(), grpc::InsecureChannelCredentials()));
    v1::LeaseTicketNumbersRequest request;
    request.set_count(5000);
    v1::LeaseTicketNumbersResponse response;
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-palm-device-id", "dev-x");
    grpc::Status s = stub_->LeaseTicketNumbers(&ctx, request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
    x_next_number_ = response.lease().first_number();
  }

  // Runs `count` random drafts; returns how many each end applied.
  int Run(int count) {
    int applied = 0;
    for (int i = 0; i < count; ++i) {
      v1::Mutation draft = NextDraft();
      const std::string case_id = sync::CaseIdOf(draft);
      INFO("step " << i << ": " << draft.ShortDebugString());
      absl::StatusOr<v1::Mutation> recorded = device_->store().Write(draft);
      const std::string device_verdict = Verdict(recorded.status());
      INFO("device: " << recorded.status().ToString());
      v1::MutationResult result =
          Push(recorded.ok() ? *recorded : Complete(draft), recorded.ok() ? "dev-a" : "dev-x");
      INFO("server: " << result.ShortDebugString());
      REQUIRE(device_verdict == Verdict(result));
      if (recorded.ok()) {
        ++applied;
        Remember(*recorded);
      }
      CompareCase(case_id);
    }
    return applied;
  }

  int refusals_by_reason(const std::string& reason) const {
    auto it = refusals_.find(reason);
    return it == refusals_.end() ? 0 : it->second;
  }

 private:
  // --- Drafts. ---------------------------------------------------------------

  bool Chance(int percent) { return std::uniform_int_distribution<int>(1, 100)(rng_) <= percent; }
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  template <typename T>
  const T& PickOf(const std::vector<T>& v) {
    return v[Pick(static_cast<int>(v.size()))];
  }

  // A case id: mostly a known one, sometimes an unknown one.
  std::string CaseRef() {
    if (cases_.empty() || Chance(4)) return sync::NewUuidV7();
    return PickOf(cases_).case_id;
  }
  KnownCase* Known(const std::string& case_id) {
    for (KnownCase& c : cases_) {
      if (c.case_id == case_id) return &c;
    }
    return nullptr;
  }

  v1::Mutation Base() {
    v1::Mutation m;
    m.set_officer_id(town_.officers[0]);
    return m;
  }

  v1::Mutation NextDraft() {
    if (cases_.size() < 3 || Chance(12)) return DraftRecordCase();
    switch (Pick(9)) {
      case 0:
        return DraftRecordCase();
      case 1:
      case 2:
        return DraftUpdate();
      case 3:
        return DraftEvidence();
      case 4:
        return DraftWithdraw();
      case 5:
        return DraftTicket();
      case 6:
        return DraftVoid();
      case 7:
        return DraftNoPenalty();
      default:
        return Chance(50) ? DraftTransition() : DraftEvent();
    }
  }

  v1::Mutation DraftRecordCase() {
    v1::Mutation m = Base();
    v1::Case* c = m.mutable_record_case()->mutable_case_();
    const bool summary = Chance(70);
    c->set_case_id(cases_.empty() || !Chance(5) ? sync::NewUuidV7() : PickOf(cases_).case_id);
    c->set_matter_code(summary ? (Chance(15) ? kNotOnListMatter : kFastTrack) : kOrdinaryMatter);
    if (Chance(4)) c->set_matter_code("XX-9999");
    if (Chance(5)) c->set_matter_code(kNotDelegatedMatter);
    c->set_procedure(summary ? v1::PROCEDURE_SUMMARY : v1::PROCEDURE_ORDINARY);
    c->set_state(summary ? v1::CASE_STATE_ISSUED : v1::CASE_STATE_REGISTERED);
    c->set_town_id(town_.town_id);
    c->set_squad_id(town_.squad_id);
    c->mutable_place()->set_town_id(town_.town_id);
    c->mutable_place()->set_address("庆丰路 1 号");
    c->set_description("设摊经营");
    c->set_occurred_at_ms(sync::SystemNowMs() - 60000);
    c->add_officer_ids(town_.officers[0]);
    c->add_officer_ids(Chance(5) ? (Chance(50) ? "town-b-officer" : "nobody") : town_.officers[1]);
    const int parties = 1 + Pick(2);
    for (int i = 0; i < parties; ++i) {
      v1::Party* p = c->add_parties();
      p->set_party_id(absl::StrCat("p", i));
      p->set_kind(Chance(80) ? v1::PARTY_KIND_CITIZEN : v1::PARTY_KIND_ORGANISATION);
      if (Chance(3)) p->set_kind(v1::PARTY_KIND_UNSPECIFIED);
      p->set_name("张三");
      if (!Chance(10)) p->set_id_number(absl::StrCat("3304831990010", 10000 + Pick(40)));
    }
    if (parties == 2 && Chance(5)) c->mutable_parties(1)->set_party_id("p0");
    if (Chance(3)) c->clear_officer_ids();
    return m;
  }

  v1::Mutation DraftUpdate() {
    v1::Mutation m = Base();
    v1::UpdateCaseFields* u = m.mutable_update_case_fields();
    u->set_case_id(CaseRef());
    v1::CaseFieldChange* ch = u->add_changes();
    switch (Pick(10)) {
      case 0:
        ch->set_field(v1::CASE_FIELD_DESCRIPTION);
        ch->set_value(absl::StrCat("描述 ", Pick(100)));
        break;
      case 1: {
        ch->set_field(v1::CASE_FIELD_LOCATION);
        const char* values[] = {"30.6312345678,120.5612345678,4.56",
                                "30.63,120.56",
                                "30.63,120.56,-1",
                                "91,120",
                                "30.63",
                                "abc,def",
                                "30.6,120.5,nan"};
        ch->set_value(values[Pick(7)]);
        break;
      }
      case 2: {
        ch->set_field(v1::CASE_FIELD_OCCURRED_AT);
        const char* values[] = {"1764000000000", "0", "-5", "soon"};
        ch->set_value(values[Pick(4)]);
        break;
      }
      case 3: {
        ch->set_field(v1::CASE_FIELD_PROPOSED_FINE);
        const char* values[] = {"5000", "0", "-100", "12.5"};
        ch->set_value(values[Pick(4)]);
        break;
      }
      case 4: {
        ch->set_field(v1::CASE_FIELD_MATTER_CODE);
        const char* values[] = {"SR-0101", "SR-0102", "XX-0000", ""};
        ch->set_value(values[Pick(4)]);
        break;
      }
      case 5:
      case 6: {
        const v1::CaseField fields[] = {v1::CASE_FIELD_PARTY_NAME, v1::CASE_FIELD_PARTY_ID_NUMBER,
                                        v1::CASE_FIELD_PARTY_PHONE, v1::CASE_FIELD_PARTY_ADDRESS};
        ch->set_field(fields[Pick(4)]);
        ch->set_value(absl::StrCat("值", Pick(100)));
        ch->set_party_id(Chance(10) ? "" : (Chance(20) ? "p-new" : "p0"));
        break;
      }
      case 7: {
        ch->set_field(v1::CASE_FIELD_PARTY_KIND);
        const char* values[] = {"1", "2", "0", "7"};
        ch->set_value(values[Pick(4)]);
        ch->set_party_id("p0");
        break;
      }
      case 8:
        ch->set_field(static_cast<v1::CaseField>(42));
        ch->set_value("x");
        break;
      default:
        ch->set_field(v1::CASE_FIELD_ADDRESS);
        ch->set_value("新街 2 号");
    }
    return m;
  }

  v1::Mutation DraftEvidence() {
    v1::Mutation m = Base();
    v1::Evidence* e = m.mutable_add_evidence()->mutable_evidence();
    const std::string case_id = CaseRef();
    KnownCase* known = Known(case_id);
    e->set_evidence_id(known && !known->evidence_ids.empty() && Chance(5)
                           ? PickOf(known->evidence_ids)
                           : sync::NewUuidV7());
    e->set_case_id(case_id);
    e->set_kind(Chance(5) ? static_cast<v1::EvidenceKind>(77) : v1::EVIDENCE_KIND_PHOTO);
    e->set_mime_type("image/jpeg");
    e->set_sha256(std::string(64, "0123456789abcdef"[Pick(16)]));
    e->set_size_bytes(1000 + Pick(1000));
    e->set_captured_at_ms(sync::SystemNowMs() - 1000);
    return m;
  }

  v1::Mutation DraftWithdraw() {
    v1::Mutation m = Base();
    v1::WithdrawEvidence* w = m.mutable_withdraw_evidence();
    const std::string case_id = CaseRef();
    KnownCase* known = Known(case_id);
    w->set_case_id(case_id);
    w->set_evidence_id(known && !known->evidence_ids.empty() && !Chance(10)
                           ? PickOf(known->evidence_ids)
                           : sync::NewUuidV7());
    w->set_reason("拍摄对象错误");
    return m;
  }

  v1::Mutation DraftTicket() {
    v1::Mutation m = Base();
    v1::Ticket* t = m.mutable_issue_ticket()->mutable_ticket();
    const std::string case_id = CaseRef();
    KnownCase* known = Known(case_id);
    t->set_ticket_id(sync::NewUuidV7());
    t->set_case_id(case_id);
    t->set_party_id(known && !Chance(5) ? PickOf(known->party_ids) : "p-none");
    // What follows from the case is sometimes claimed wrongly, as a crafted
    // push would: both ends must derive it from the case instead.
    t->set_matter_code(Chance(20) ? kNotOnListMatter : kFastTrack);
    t->set_party_kind(Chance(20) ? v1::PARTY_KIND_ORGANISATION : v1::PARTY_KIND_CITIZEN);
    t->set_violation("在人行道设摊经营");
    // The catalogue's basis for SR-0101, sometimes cited wrongly (Art. 38).
    t->set_legal_basis(Chance(10) ? "《浙江省城市市容和环境卫生管理条例》第十九条"
                                  : "《浙江省城市市容和环境卫生管理条例》第十九条第一款");
    t->set_penalty_basis("《浙江省城市市容和环境卫生管理条例》第五十一条");
    const bool warning = Chance(10);
    t->set_penalty(warning ? v1::PENALTY_KIND_WARNING : v1::PENALTY_KIND_FINE);
    const int64_t fines[] = {5000, 10000, 20000, 25000, 150000, 0};
    t->set_fine_fen(warning ? (Chance(20) ? 5000 : 0) : fines[Pick(6)]);
    t->set_issued_at_ms(sync::SystemNowMs());
    t->mutable_place()->set_address("庆丰路 1 号");
    v1::Remedy* r = t->add_remedies();
    r->set_kind(v1::REMEDY_KIND_RECONSIDERATION);
    r->set_body("桐乡市人民政府");
    r->set_deadline_days(60);
    if (!Chance(8)) {
      v1::Remedy* litigation = t->add_remedies();
      litigation->set_kind(v1::REMEDY_KIND_LITIGATION);
      litigation->set_body("桐乡市人民法院");
      // Sometimes the 180 days older tickets said, refused on both ends.
      if (Chance(8)) {
        litigation->set_deadline_days(180);
      } else {
        litigation->set_deadline_months(6);
      }
    }
    t->set_agency("桐乡市综合行政执法局");
    t->add_officer_ids(Chance(8) ? "aux-a" : town_.officers[0]);
    if (!Chance(5)) t->add_officer_ids(Chance(8) ? "aux-a" : town_.officers[1]);
    if (t->officer_ids_size() == 2 && t->officer_ids(0) == "aux-a" && Chance(50)) {
      t->set_officer_ids(1, "aux-a");
    }
    t->set_party_signature(Chance(5) ? v1::PARTY_SIGNATURE_UNSPECIFIED
                                     : v1::PARTY_SIGNATURE_SIGNED);
    return m;
  }

  v1::Mutation DraftVoid() {
    v1::Mutation m = Base();
    v1::VoidTicket* v = m.mutable_void_ticket();
    const std::string case_id = CaseRef();
    KnownCase* known = Known(case_id);
    v->set_case_id(case_id);
    v->set_ticket_id(known && !known->ticket_ids.empty() && !Chance(10) ? PickOf(known->ticket_ids)
                                                                        : sync::NewUuidV7());
    v->set_reason("当事人信息有误");
    return m;
  }

  v1::Mutation DraftNoPenalty() {
    v1::Mutation m = Base();
    v1::NoPenaltyDecision* d = m.mutable_record_no_penalty()->mutable_decision();
    const std::string case_id = CaseRef();
    KnownCase* known = Known(case_id);
    d->set_decision_id(sync::NewUuidV7());
    d->set_case_id(case_id);
    // Sometimes claims a matter on the list for a case of another matter.
    d->set_matter_code(kFastTrack);
    d->set_party_id(known && !Chance(5) ? PickOf(known->party_ids) : "p-none");
    d->set_education_record(Chance(8) ? "" : "当场教育，当事人已改正");
    const int64_t now = sync::SystemNowMs();
    d->set_decided_at_ms(now);
    // Art. 33's grounds: mostly the two of ¶1 with their correction, some
    // no fault with evidence (of this case or not), some none or legacy.
    const int pick = Pick(12);
    d->set_ground(pick < 4    ? v1::NO_PENALTY_GROUND_FIRST_VIOLATION_SLIGHT_HARM
                  : pick < 7  ? v1::NO_PENALTY_GROUND_MINOR_CORRECTED_NO_HARM
                  : pick < 10 ? v1::NO_PENALTY_GROUND_NO_FAULT
                  : pick < 11 ? v1::NO_PENALTY_GROUND_UNSPECIFIED
                              : v1::NO_PENALTY_GROUND_LEGACY);
    if (d->ground() == v1::NO_PENALTY_GROUND_NO_FAULT) {
      if (!Chance(6)) {
        d->add_no_fault_evidence_ids(known && !known->evidence_ids.empty() && !Chance(5)
                                         ? PickOf(known->evidence_ids)
                                         : sync::NewUuidV7());
      }
    } else if (!Chance(8)) {
      v1::NoPenaltyCorrection* fix = d->mutable_correction();
      fix->set_what(Chance(10) ? "" : "当场改正");
      // Now, or (rarely) after the decision.
      fix->set_corrected_at_ms(Chance(10) ? now + 60000 : now);
      fix->set_verified_by(Chance(10) ? "town-b-officer" : town_.officers[1]);
    }
    d->add_officer_ids(Chance(5) ? "town-b-officer" : town_.officers[0]);
    // Usually the second credentialed officer Art. 42 needs; sometimes the
    // auxiliary, who does not count, or no one.
    if (!Chance(6)) d->add_officer_ids(Chance(6) ? "aux-a" : town_.officers[1]);
    return m;
  }

  v1::Mutation DraftTransition() {
    v1::Mutation m = Base();
    v1::TransitionCase* t = m.mutable_transition_case();
    t->set_case_id(CaseRef());
    const v1::CaseState targets[] = {v1::CASE_STATE_FILED,    v1::CASE_STATE_INVESTIGATING,
                                     v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_EXECUTING,
                                     v1::CASE_STATE_CLOSED,   v1::CASE_STATE_NO_PENALTY,
                                     v1::CASE_STATE_ARCHIVED, v1::CASE_STATE_NOT_FILED};
    t->set_to_state(targets[Pick(8)]);
    t->set_reason("按程序推进");
    return m;
  }

  v1::Mutation DraftEvent() {
    v1::Mutation m = Base();
    v1::CaseEvent* e = m.mutable_append_case_event()->mutable_event();
    e->set_event_id(sync::NewUuidV7());
    e->set_case_id(CaseRef());
    const v1::CaseEventKind kinds[] = {v1::CASE_EVENT_KIND_NOTE, v1::CASE_EVENT_KIND_PAYMENT,
                                       v1::CASE_EVENT_KIND_SERVICE, v1::CASE_EVENT_KIND_REVIEW,
                                       v1::CASE_EVENT_KIND_TRANSITION};
    e->set_kind(kinds[Pick(5)]);
    e->set_text(Chance(15) ? "" : "已电话告知当事人");
    e->set_amount_fen(Chance(50) ? 5000 : 0);
    e->set_at_ms(sync::SystemNowMs());
    e->set_officer_id(town_.officers[0]);
    return m;
  }

  // --- The two ends. ---------------------------------------------------------

  // A draft the device refused, completed as the device would have sent it,
  // as a mutation of dev-x.
  v1::Mutation Complete(v1::Mutation m) {
    m.set_mutation_id(sync::NewUuidV7());
    m.set_device_id("dev-x");
    m.set_device_seq(++x_seq_);
    m.mutable_hlc()->set_wall_ms(sync::SystemNowMs());
    // The defaults the device fills in (DeviceStore::PrepareLocked).
    if (m.has_record_case() && m.record_case().case_().officer_ids().empty()) {
      m.mutable_record_case()->mutable_case_()->add_officer_ids(m.officer_id());
    }
    if (m.has_issue_ticket()) {
      m.mutable_issue_ticket()->mutable_ticket()->set_ticket_number(x_next_number_++);
    }
    if (m.has_transition_case()) {
      absl::StatusOr<internal::CaseBundle> c =
          device_->store().GetCase(m.transition_case().case_id());
      // A case the device does not hold: any state (the device itself refuses
      // such a draft before it would name one).
      m.mutable_transition_case()->set_from_state(c.ok() ? c->kase.state()
                                                         : v1::CASE_STATE_REGISTERED);
    }
    return m;
  }

  v1::MutationResult Push(const v1::Mutation& m, const std::string& device) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-palm-device-id", device);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = stub_->Push(&ctx);
    v1::PushRequest request;
    *request.add_mutations() = m;
    v1::PushResponse response;
    const bool exchanged = stream->Write(request) && stream->Read(&response);
    stream->WritesDone();
    grpc::Status s = stream->Finish();
    INFO(s.error_code() << " " << s.error_message());
    REQUIRE(exchanged);
    REQUIRE(s.ok());
    REQUIRE(response.results_size() == 1);
    if (response.results(0).outcome() == v1::OUTCOME_REJECTED) {
      ++refusals_[sync::ReasonName(response.results(0).reason())];
    }
    return response.results(0);
  }

  void Remember(const v1::Mutation& m) {
    switch (m.operation_case()) {
      case v1::Mutation::kRecordCase: {
        const v1::Case& c = m.record_case().case_();
        KnownCase known{c.case_id(), c.procedure() == v1::PROCEDURE_SUMMARY, {}, {}, {}};
        for (const v1::Party& p : c.parties()) known.party_ids.push_back(p.party_id());
        cases_.push_back(std::move(known));
        break;
      }
      case v1::Mutation::kAddEvidence:
        if (KnownCase* k = Known(m.add_evidence().evidence().case_id())) {
          k->evidence_ids.push_back(m.add_evidence().evidence().evidence_id());
        }
        break;
      case v1::Mutation::kIssueTicket:
        if (KnownCase* k = Known(m.issue_ticket().ticket().case_id())) {
          k->ticket_ids.push_back(m.issue_ticket().ticket().ticket_id());
        }
        break;
      default:
        break;
    }
  }

  void CompareCase(const std::string& case_id) {
    absl::StatusOr<internal::CaseBundle> local = device_->store().GetCase(case_id);
    if (!local.ok()) return;  // not on the device: a refused record_case
    const v1::CaseDetail remote = admin_.GetCase(case_id);
    std::vector<v1::CaseEvent> remote_timeline(remote.timeline().begin(), remote.timeline().end());
    const std::string device_state = Comparable(local->kase, local->tickets, local->evidence,
                                                local->no_penalty, local->timeline);
    const std::string server_state =
        Comparable(remote.case_(), {remote.tickets().begin(), remote.tickets().end()},
                   {remote.evidence().begin(), remote.evidence().end()},
                   {remote.no_penalty().begin(), remote.no_penalty().end()}, remote_timeline);
    REQUIRE(device_state == server_state);
  }

  TempDir data_;
  ServerProcess server_;
  Admin admin_;
  Town town_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<v1::SyncService::Stub> stub_;
  std::mt19937 rng_;
  std::vector<KnownCase> cases_;
  uint64_t x_seq_ = 0;
  int64_t x_next_number_ = 0;
  std::map<std::string, int> refusals_;
};

}  // namespace

TEST_CASE("every mutation means the same on the device and on the server (seeded streams)",
          "[differential]") {
  for (uint32_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    Differential run(seed);
    const int applied = run.Run(700);
    // The stream is a mix: a good share applied, and refusals of many kinds.
    CHECK(applied > 200);
    for (const char* reason :
         {"unknown_case", "invalid_argument", "unknown_matter", "not_fast_track", "fine_over_limit",
          "illegal_transition", "not_delegated", "legal_basis_mismatch"}) {
      INFO(reason);
      CHECK(run.refusals_by_reason(reason) > 0);
    }
  }
}

}  // namespace palm::e2e
