// Applying the operations that add records to a case: evidence and its
// withdrawal, on-the-spot tickets and their voiding, no-penalty decisions,
// and the events officers append to the timeline.
#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/apply_internal.h"
#include "server/evidence_log.h"
#include "server/prior_violations.h"
#include "sync/lifecycle.h"
#include "sync/no_penalty.h"
#include "sync/notice.h"
#include "sync/operations.h"
#include "sync/payment.h"
#include "sync/rules.h"
#include "sync/service.h"

namespace palm::server::internal {

namespace v1 = palm::v1;

// --- Evidence. ---------------------------------------------------------------

absl::Status ApplyAddEvidence(Apply& a) {
  v1::Evidence e = a.m().add_evidence().evidence();
  PALM_RETURN_IF_ERROR(sync::CheckAddEvidence(e));
  PALM_ASSIGN_OR_RETURN(CaseBrief brief, a.CaseBriefInScope(e.case_id()));
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Evidence> existing, a.txn.GetEvidence(e.evidence_id()));
  if (existing) return sync::EvidenceAlreadyRecorded(e.evidence_id());
  e.set_device_id(a.caller.device_id);
  if (e.officer_id().empty()) e.set_officer_id(a.m().officer_id());
  // Server-owned fields start clear; the evidence service sets them.
  e.set_withdrawn(false);
  e.clear_withdraw_reason();
  e.set_uploaded(false);
  e.clear_receipt();
  e.set_integrated_at_ms(0);
  e.set_capture_time_flagged(false);
  e.clear_capture_time_flag();
  // The evidence log: integration time, capture-time sanity, the Merkle leaf
  // (committed with the record), a file already stored.
  e.set_integrated_at_ms(a.now_ms);
  int64_t previous_push_ms = 0;
  // A previous mutation recorded by this batch was recorded now: nothing to
  // look up.
  if (a.m().device_seq() > 1 && a.m().device_seq() - 1 <= a.recorded_now_after) {
    PALM_ASSIGN_OR_RETURN(std::optional<DeviceLogEntry> before,
                          a.txn.GetDeviceLog(a.caller.device_id, a.m().device_seq() - 1));
    // The previous mutation was acknowledged in an earlier sync (more than
    // the tolerance ago, not a batch moments ago in this one): this one did
    // not exist then, so its capture cannot be much older (docs/evidence.md).
    if (before && a.now_ms - before->recorded_at_ms > a.options.max_clock_skew_ms) {
      previous_push_ms = before->recorded_at_ms;
    }
  }
  std::string flag =
      CaptureTimeFlag(e.captured_at_ms(), a.now_ms, previous_push_ms, a.options.max_clock_skew_ms);
  if (!flag.empty()) {
    e.set_capture_time_flagged(true);
    e.set_capture_time_flag(flag);
  }
  PALM_ASSIGN_OR_RETURN(std::optional<BlobRecord> blob, a.txn.GetBlob(e.sha256()));
  e.set_uploaded(blob.has_value());
  PALM_RETURN_IF_ERROR(AppendToEvidenceLog(a.txn, e, brief.case_number).status());
  PALM_RETURN_IF_ERROR(a.txn.PutEvidence(e));
  return a.Changed(EntityKind::kEvidence, e.evidence_id(), TownScope(brief.town_id));
}

absl::Status ApplyWithdrawEvidence(Apply& a) {
  const v1::WithdrawEvidence& op = a.m().withdraw_evidence();
  PALM_ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(op.case_id()));
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Evidence> e, a.txn.GetEvidence(op.evidence_id()));
  PALM_RETURN_IF_ERROR(sync::CheckWithdrawEvidence(op, e ? &*e : nullptr, CaseLabel(record.value)));
  e->set_withdrawn(true);
  e->set_withdraw_reason(op.reason());
  PALM_RETURN_IF_ERROR(a.txn.PutEvidence(*e));
  PALM_RETURN_IF_ERROR(
      a.Changed(EntityKind::kEvidence, e->evidence_id(), TownScope(record.value.town_id())));
  return a.SystemEvent(record.value, v1::CASE_EVENT_KIND_EVIDENCE_WITHDRAWN,
                       absl::StrCat("evidence ", op.evidence_id(), " withdrawn: ", op.reason()));
}

// --- Tickets. ----------------------------------------------------------------

absl::Status ApplyIssueTicket(Apply& a) {
  v1::Ticket t = a.m().issue_ticket().ticket();
  PALM_ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(t.case_id()));
  // What follows from the case is the case's, whatever the mutation said.
  PALM_RETURN_IF_ERROR(sync::DeriveTicket(record.value, CaseLabel(record.value), &t));
  PALM_ASSIGN_OR_RETURN(const v1::Matter* matter, a.matters.Find(a.txn, t.matter_code()));
  PALM_ASSIGN_OR_RETURN(sync::OfficerLookup roster, a.RosterFor(t.officer_ids()));
  std::vector<v1::Officer> known;
  for (const std::string& id : t.officer_ids()) {
    if (const v1::Officer* o = roster(id)) known.push_back(*o);
  }
  PALM_RETURN_IF_ERROR(sync::CheckTicket(t, matter, known));
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Ticket> existing, a.txn.GetTicket(t.ticket_id()));
  if (existing) return sync::TicketAlreadyIssued(t.ticket_id());

  // The number must lie in a block leased to this device and be unused.
  PALM_ASSIGN_OR_RETURN(std::vector<v1::TicketLease> leases, a.txn.ListLeases(a.caller.device_id));
  const v1::TicketLease* lease = nullptr;
  for (const v1::TicketLease& l : leases) {
    const int64_t end = l.returned() ? l.returned_from() - 1 : l.last_number();
    if (t.ticket_number() >= l.first_number() && t.ticket_number() <= end) lease = &l;
  }
  if (lease == nullptr) {
    return sync::FailedPrecondition(
        v1::REASON_TICKET_NUMBER_NOT_LEASED,
        absl::StrCat("ticket number ", t.ticket_number(), " is not in a block leased to device ",
                     a.caller.device_id));
  }
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Ticket> holder,
                        a.txn.GetTicketByNumber(t.ticket_number()));
  if (holder) {
    return sync::FailedPrecondition(
        v1::REASON_TICKET_NUMBER_USED,
        absl::StrCat("ticket number ", t.ticket_number(), " was already used by ticket ",
                     holder->ticket_id()));
  }
  if (t.ticket_number_text().empty()) {
    t.set_ticket_number_text(absl::StrFormat("%s%06d", lease->prefix(), t.ticket_number()));
  }
  t.set_device_id(a.caller.device_id);
  t.set_voided(false);
  t.clear_void_reason();
  PALM_RETURN_IF_ERROR(a.txn.PutTicket(t));
  PALM_RETURN_IF_ERROR(
      a.Changed(EntityKind::kTicket, t.ticket_id(), TownScope(record.value.town_id())));
  // The ticket is the case's decision, served on the spot (Art. 52): the
  // payment clock runs from it, as on the device.
  sync::StampTicket(&record.value, t);
  const std::string town_id = record.value.town_id();
  const v1::Case stamped = record.value;
  PALM_RETURN_IF_ERROR(a.txn.PutCase(std::move(record)));
  PALM_RETURN_IF_ERROR(a.Changed(EntityKind::kCase, stamped.case_id(), TownScope(town_id)));
  for (const v1::Party& party : stamped.parties()) {
    if (party.party_id() == t.party_id()) {
      return a.PriorViolation(stamped, party, t.matter_code(), t.issued_at_ms());
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyVoidTicket(Apply& a) {
  const v1::VoidTicket& op = a.m().void_ticket();
  PALM_ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(op.case_id()));
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Ticket> t, a.txn.GetTicket(op.ticket_id()));
  PALM_RETURN_IF_ERROR(sync::CheckVoidTicket(op, t ? &*t : nullptr, CaseLabel(record.value)));
  t->set_voided(true);
  t->set_void_reason(op.reason());
  PALM_RETURN_IF_ERROR(a.txn.PutTicket(*t));
  PALM_RETURN_IF_ERROR(
      a.Changed(EntityKind::kTicket, t->ticket_id(), TownScope(record.value.town_id())));
  if (record.value.service().event_id() == t->ticket_id()) {
    sync::ClearTicketStamp(&record.value, t->ticket_id());
    CaseRecord cleared = record;
    PALM_RETURN_IF_ERROR(a.txn.PutCase(std::move(cleared)));
    PALM_RETURN_IF_ERROR(
        a.Changed(EntityKind::kCase, record.value.case_id(), TownScope(record.value.town_id())));
  }
  // A voided ticket is no violation on record (Art. 33): its record lapses
  // unless another ticket of the case still stands for it.
  PALM_RETURN_IF_ERROR(LapseViolationsOfCase(a.txn, a.options.party_key, op.case_id(),
                                             [&a](const std::string& entity_id) {
                                               return a.Changed(EntityKind::kPriorViolation,
                                                                entity_id, GlobalScope());
                                             })
                           .status());
  return a.SystemEvent(record.value, v1::CASE_EVENT_KIND_TICKET_VOIDED,
                       absl::StrCat("ticket ", t->ticket_number_text(), " voided: ", op.reason()));
}

// --- No-penalty decisions. ---------------------------------------------------

absl::Status ApplyRecordNoPenalty(Apply& a) {
  v1::NoPenaltyDecision d = a.m().record_no_penalty().decision();
  PALM_ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(d.case_id()));
  v1::Case& c = record.value;
  const v1::Party* party = nullptr;
  PALM_RETURN_IF_ERROR(sync::DeriveNoPenalty(c, CaseLabel(c), &d, &party));
  PALM_ASSIGN_OR_RETURN(sync::OfficerLookup roster, a.RosterFor(sync::NamedOfficers(d)));
  PALM_RETURN_IF_ERROR(sync::CheckOfficersOnRoster(
      d.officer_ids(), "record_no_penalty.decision.officer_ids", roster));
  PALM_RETURN_IF_ERROR(
      sync::CheckCredentialedOfficers(d.officer_ids(), sync::CredentialedAct::kNoPenalty, roster));
  PALM_ASSIGN_OR_RETURN(const v1::Matter* matter, a.matters.Find(a.txn, d.matter_code()));
  PALM_ASSIGN_OR_RETURN(
      std::vector<v1::PriorViolation> priors,
      a.txn.PriorViolationsOf(sync::PartyKey(a.options.party_key, party->id_number()),
                              d.matter_code()));
  std::vector<v1::Evidence> cited;
  for (const std::string& id : d.no_fault_evidence_ids()) {
    PALM_ASSIGN_OR_RETURN(std::optional<v1::Evidence> e, a.txn.GetEvidence(id));
    if (e) cited.push_back(*std::move(e));
  }
  if (d.decided_at_ms() <= 0) d.set_decided_at_ms(a.prepared.hlc.wall_ms);
  // The mutation's own time bounds the decision's, as on the device (the
  // server refuses a mutation whose clock is skewed from its own).
  PALM_RETURN_IF_ERROR(sync::CheckNoPenalty(d, {.c = &c,
                                                .matter = matter,
                                                .roster = &roster,
                                                .cited_evidence = &cited,
                                                .priors = &priors,
                                                .written_at_ms = a.m().hlc().wall_ms()}));
  // The decision ends the case in NO_PENALTY (Art. 33), exactly as the device
  // records it: the move is checked before anything is written.
  const v1::CaseState from = c.state();
  const bool moves = sync::NoPenaltyMovesCase(c);
  if (moves) {
    PALM_RETURN_IF_ERROR(
        sync::CheckCaseTransition(c, matter, v1::CASE_STATE_NO_PENALTY, /*actor=*/nullptr));
  }
  PALM_ASSIGN_OR_RETURN(std::optional<v1::NoPenaltyDecision> existing,
                        a.txn.GetNoPenalty(d.decision_id()));
  if (existing) return sync::DecisionAlreadyRecorded(d.decision_id());
  // Kept before `c` changes: the party the prior violation is recorded for.
  const v1::Party decided_party = *party;
  PALM_RETURN_IF_ERROR(a.txn.PutNoPenalty(d));
  PALM_RETURN_IF_ERROR(a.Changed(EntityKind::kNoPenalty, d.decision_id(), TownScope(c.town_id())));
  if (moves) {
    c.set_state(v1::CASE_STATE_NO_PENALTY);
    *c.mutable_state_hlc() = a.prepared.hlc.ToProto();
    c.set_deadline_ms(0);
    PALM_RETURN_IF_ERROR(a.txn.PutCase(record));
    PALM_RETURN_IF_ERROR(a.Changed(EntityKind::kCase, c.case_id(), TownScope(c.town_id())));
    // Same id (the mutation's) and text as the device's own event, so the
    // pulled timeline replaces it instead of doubling it.
    PALM_RETURN_IF_ERROR(a.SystemEvent(c, v1::CASE_EVENT_KIND_TRANSITION,
                                       "no-penalty decision (Art. 33)", from,
                                       v1::CASE_STATE_NO_PENALTY));
  }
  // The violation happened, so the next one is no longer a first violation
  // (a party without fault committed none to count).
  if (!sync::RecordsViolation(d)) return absl::OkStatus();
  return a.PriorViolation(c, decided_party, d.matter_code(), d.decided_at_ms());
}

// --- Events. -----------------------------------------------------------------

absl::Status ApplyAppendCaseEvent(Apply& a) {
  v1::CaseEvent e = a.m().append_case_event().event();
  PALM_RETURN_IF_ERROR(sync::CheckAppendCaseEvent(e));
  PALM_ASSIGN_OR_RETURN(CaseBrief brief, a.CaseBriefInScope(e.case_id()));
  PALM_ASSIGN_OR_RETURN(std::optional<v1::CaseEvent> existing, a.txn.GetEvent(e.event_id()));
  if (existing) return sync::EventAlreadyRecorded(e.event_id());
  if (e.at_ms() <= 0) e.set_at_ms(a.prepared.hlc.wall_ms);
  if (e.officer_id().empty()) e.set_officer_id(a.m().officer_id());
  const bool pays =
      e.kind() == v1::CASE_EVENT_KIND_PAYMENT || e.kind() == v1::CASE_EVENT_KIND_HAND_OVER;
  if (sync::IsStatementKind(e.kind()) || e.has_service() || pays) {
    // The party's answer to the notice is part of the case's notice record
    // (Art. 45), the service of the decision its service record (Art. 61),
    // a payment or hand-over its payments (Art. 66-71), as on the device.
    PALM_ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(e.case_id()));
    if (pays) {
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Officer> actor, a.txn.GetOfficer(a.m().officer_id()));
      PALM_ASSIGN_OR_RETURN(const sync::WorkingDayCalendar* calendar, a.matters.Calendar(a.txn));
      const sync::PaymentFacts facts{.c = &record.value,
                                     .actor = actor ? &*actor : nullptr,
                                     .calendar = calendar,
                                     .written_at_ms = a.prepared.hlc.wall_ms};
      PALM_RETURN_IF_ERROR(sync::CheckPaymentEvent(facts, e));
      PALM_RETURN_IF_ERROR(sync::CheckHandOverEvent(facts, e));
    } else if (sync::IsStatementKind(e.kind())) {
      PALM_RETURN_IF_ERROR(sync::CheckStatementEvent(record.value, e));
    } else {
      std::vector<v1::Evidence> proof;
      for (const std::string& id : e.service().proof_evidence_ids()) {
        PALM_ASSIGN_OR_RETURN(std::optional<v1::Evidence> found, a.txn.GetEvidence(id));
        if (found) proof.push_back(*std::move(found));
      }
      PALM_ASSIGN_OR_RETURN(const sync::WorkingDayCalendar* calendar, a.matters.Calendar(a.txn));
      PALM_RETURN_IF_ERROR(sync::CheckServiceEvent({.c = &record.value,
                                                    .proof = &proof,
                                                    .calendar = calendar,
                                                    .written_at_ms = a.prepared.hlc.wall_ms},
                                                   e));
    }
    sync::RecordStatement(&record.value, e);
    sync::RecordService(&record.value, e);
    sync::RecordPayment(&record.value, e, a.m().officer_id());
    sync::RecordHandOver(&record.value, e);
    const std::string case_id = record.value.case_id();
    PALM_RETURN_IF_ERROR(a.txn.PutCase(std::move(record)));
    PALM_RETURN_IF_ERROR(a.Changed(EntityKind::kCase, case_id, TownScope(brief.town_id)));
  }
  PALM_RETURN_IF_ERROR(a.txn.PutEvent(e));
  return a.Changed(EntityKind::kEvent, e.event_id(), TownScope(brief.town_id));
}

}  // namespace palm::server::internal
