#include "sync/service.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "sync/clocks.h"
#include "sync/lifecycle.h"
#include "sync/status.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;

std::string Label(const v1::Case& c) {
  return c.case_number().empty() ? c.case_id() : c.case_number();
}

absl::Status Proof(absl::string_view message) {
  return InvalidArgument(v1::REASON_SERVICE_PROOF, absl::StrCat("service record: ", message));
}

bool Blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch == ' ' || ch == '\t'; });
}

// What the method itself needs besides the proof.
absl::Status CheckMethodFields(const v1::ServiceRecord& r, const std::vector<v1::Evidence>& proof) {
  switch (r.method()) {
    case v1::SERVICE_METHOD_DIRECT:
      if (Blank(r.recipient())) {
        return Proof("direct service (直接送达) names the recipient who signed the receipt");
      }
      return absl::OkStatus();
    case v1::SERVICE_METHOD_LEFT_AT_ADDRESS: {
      if (Blank(r.recipient())) {
        return Proof("service left at the address (留置送达) names the recipient who refused it");
      }
      const bool recorded = std::any_of(proof.begin(), proof.end(), [](const v1::Evidence& e) {
        return e.kind() == v1::EVIDENCE_KIND_PHOTO || e.kind() == v1::EVIDENCE_KIND_VIDEO;
      });
      if (Blank(r.witnesses()) && !recorded) {
        return Proof(
            "service left at the address (留置送达) names its witnesses or has a photo or video "
            "of the leaving among the proof");
      }
      return absl::OkStatus();
    }
    case v1::SERVICE_METHOD_POST:
      if (Blank(r.tracking_number())) {
        return Proof("service by post (邮寄送达) gives the tracking number");
      }
      return absl::OkStatus();
    case v1::SERVICE_METHOD_ELECTRONIC:
      if (Blank(r.electronic_address())) {
        return Proof("electronic service (电子送达) gives the address it was sent to");
      }
      if (r.consent_at_ms() <= 0 || r.consent_at_ms() > r.served_at_ms()) {
        return Proof(
            "electronic service (电子送达) needs the party's consent given before it "
            "(consent_at_ms, Art. 61 ¶2)");
      }
      return absl::OkStatus();
    case v1::SERVICE_METHOD_ANNOUNCEMENT:
      if (Blank(r.published_in())) {
        return Proof("service by announcement (公告送达) says where it was published");
      }
      return absl::OkStatus();
    default:
      return Proof(
          "the method of service is missing (direct, left at the address, post, "
          "electronic or announcement)");
  }
}

}  // namespace

int64_t ServiceEffectiveAtMs(const v1::ServiceRecord& r) {
  // The 30th day after publication, from its start.
  return r.method() == v1::SERVICE_METHOD_ANNOUNCEMENT
             ? ShanghaiMidnightMs(ShanghaiDay(r.served_at_ms()) + kAnnouncementDays)
             : r.served_at_ms();
}

int64_t DecidedAtMs(const v1::Case& c) {
  if (c.decision().decided_at_ms() > 0) return c.decision().decided_at_ms();
  if (c.state() == v1::CASE_STATE_DECIDED) return c.state_hlc().wall_ms();
  return 0;
}

int64_t FiledAtMs(const v1::Case& c) {
  if (c.filed_at_ms() > 0) return c.filed_at_ms();
  if (c.procedure() == v1::PROCEDURE_ORDINARY && c.deadline_ms() > 0) {
    return c.deadline_ms() - 90 * kDayMs;
  }
  return 0;
}

void StampMove(v1::Case* c, v1::CaseState to, int64_t at_ms) {
  if (to == v1::CASE_STATE_FILED && c->procedure() == v1::PROCEDURE_ORDINARY) {
    c->set_filed_at_ms(at_ms);
  }
  if (to == v1::CASE_STATE_DECIDED) {
    v1::CaseDecision* d = c->mutable_decision();
    d->set_decided_at_ms(at_ms);
    d->set_fine_fen(c->proposed_fine_fen());
    d->set_matter_code(c->matter_code());
  }
}

void StampTicket(v1::Case* c, const v1::Ticket& t) {
  v1::CaseDecision* d = c->mutable_decision();
  d->set_decided_at_ms(t.issued_at_ms());
  d->set_fine_fen(t.penalty() == v1::PENALTY_KIND_FINE ? t.fine_fen() : 0);
  d->set_matter_code(t.matter_code());
  v1::CaseService* s = c->mutable_service();
  s->Clear();
  v1::ServiceRecord* r = s->mutable_record();
  r->set_method(v1::SERVICE_METHOD_DIRECT);
  r->set_served_at_ms(t.issued_at_ms());
  r->set_recipient(t.party_id());
  s->set_event_id(t.ticket_id());
  s->set_effective_at_ms(t.issued_at_ms());
}

void ClearTicketStamp(v1::Case* c, const std::string& ticket_id) {
  if (!c->has_service() || c->service().event_id() != ticket_id) return;
  c->clear_service();
  c->clear_decision();
}

absl::Status CheckServiceEvent(const ServiceFacts& facts, const v1::CaseEvent& e) {
  // CheckAppendCaseEvent refused a record on any other kind.
  if (!e.has_service() || e.kind() != v1::CASE_EVENT_KIND_SERVICE) return absl::OkStatus();
  const v1::Case& c = *facts.c;
  const v1::ServiceRecord& r = e.service();
  if (c.has_service()) {
    return FailedPrecondition(
        v1::REASON_IMMUTABLE,
        absl::StrCat("the decision of case ", Label(c), " was served on ",
                     FormatCivilDay(ShanghaiDay(c.service().record().served_at_ms())), " (",
                     ServiceMethodLabel(c.service().record().method()),
                     "); service is recorded once"));
  }
  const int64_t decided_ms = DecidedAtMs(c);
  if (c.state() != v1::CASE_STATE_DECIDED || decided_ms <= 0) {
    return FailedPrecondition(
        v1::REASON_ILLEGAL_TRANSITION,
        absl::StrCat("case ", Label(c), " is in state ", StateName(c.state()),
                     ": service is recorded for a decision made (DECIDED), before the move to "
                     "SERVED"));
  }
  if (!v1::ServiceMethod_IsValid(r.method()) || r.method() == v1::SERVICE_METHOD_UNSPECIFIED) {
    return Proof(
        "the method of service is missing (direct, left at the address, post, "
        "electronic or announcement)");
  }
  if (r.served_at_ms() <= 0) return Proof("served_at_ms is missing");
  const absl::CivilDay decided = ShanghaiDay(decided_ms);
  if (r.served_at_ms() < decided_ms) {
    return InvalidArgument(
        v1::REASON_INVALID_ARGUMENT,
        absl::StrCat("service record: served on ", FormatCivilDay(ShanghaiDay(r.served_at_ms())),
                     ", before the decision of ", FormatCivilDay(decided)));
  }
  if (r.served_at_ms() > facts.written_at_ms) {
    return InvalidArgument(
        v1::REASON_INVALID_ARGUMENT,
        absl::StrCat("service record: served_at_ms is after the event is written; service is "
                     "recorded once it has happened"));
  }
  if (r.proof_evidence_ids().empty()) {
    return Proof(
        "no proof: cite the evidence of the case that shows it (the signed receipt, the postal "
        "receipt, the delivery record or the announcement)");
  }
  std::vector<v1::Evidence> proof;
  for (const std::string& id : r.proof_evidence_ids()) {
    auto it = std::find_if(facts.proof->begin(), facts.proof->end(),
                           [&](const v1::Evidence& ev) { return ev.evidence_id() == id; });
    if (it == facts.proof->end() || it->case_id() != c.case_id()) {
      return Proof(absl::StrCat("evidence ", id, " cited as proof is not evidence of this case"));
    }
    if (it->withdrawn()) {
      return Proof(absl::StrCat("evidence ", id, " cited as proof was withdrawn"));
    }
    proof.push_back(*it);
  }
  if (absl::Status s = CheckMethodFields(r, proof); !s.ok()) return s;
  if (facts.calendar == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("case ", Label(c),
                     ": no working-day calendar is on record, so the 7 working days to serve "
                     "cannot be counted (Art. 61, 85); load a catalogue with the calendar"));
  }
  absl::StatusOr<absl::CivilDay> last = ServiceLastDay(*facts.calendar, decided);
  if (!last.ok()) return last.status();
  const absl::CivilDay served = ShanghaiDay(r.served_at_ms());
  if (served > *last && Blank(r.late_reason())) {
    return FailedPrecondition(
        v1::REASON_SERVICE_LATE,
        absl::StrCat("case ", Label(c), ": the decision of ", FormatCivilDay(decided),
                     " was to be served by ", FormatCivilDay(*last),
                     " (7 working days, Art. 61); served on ", FormatCivilDay(served),
                     " — record why it was late (late_reason)"));
  }
  return absl::OkStatus();
}

void RecordService(v1::Case* c, const v1::CaseEvent& e) {
  if (!e.has_service()) return;
  v1::CaseService* s = c->mutable_service();
  *s->mutable_record() = e.service();
  s->set_event_id(e.event_id());
  s->set_effective_at_ms(ServiceEffectiveAtMs(e.service()));
}

absl::Status CheckServedMove(const v1::Case& c, v1::CaseState to, int64_t at_ms) {
  if (to != v1::CASE_STATE_SERVED) return absl::OkStatus();
  if (!c.has_service()) {
    return FailedPrecondition(
        v1::REASON_NOT_SERVED,
        absl::StrCat("case ", Label(c),
                     " has no service record: record how the decision was served, with its "
                     "proof (a SERVICE event with a service record, Art. 61), before the move "
                     "to SERVED"));
  }
  if (at_ms < c.service().effective_at_ms()) {
    return FailedPrecondition(
        v1::REASON_NOT_SERVED,
        absl::StrCat("case ", Label(c), ": the announcement of ",
                     FormatCivilDay(ShanghaiDay(c.service().record().served_at_ms())),
                     " counts as service on ",
                     FormatCivilDay(ShanghaiDay(c.service().effective_at_ms())), " (",
                     kAnnouncementDays, " days, Civil Procedure Law Art. 95), not before"));
  }
  return absl::OkStatus();
}

const char* ServiceMethodLabel(v1::ServiceMethod method) {
  switch (method) {
    case v1::SERVICE_METHOD_DIRECT:
      return "直接送达";
    case v1::SERVICE_METHOD_LEFT_AT_ADDRESS:
      return "留置送达";
    case v1::SERVICE_METHOD_POST:
      return "邮寄送达";
    case v1::SERVICE_METHOD_ELECTRONIC:
      return "电子送达";
    case v1::SERVICE_METHOD_ANNOUNCEMENT:
      return "公告送达";
    default:
      return "未知方式";
  }
}

}  // namespace palm::sync
