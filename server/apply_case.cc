// Applying the operations on a case itself: recording it, editing its fields
// (last-writer-wins per field, with conflict rows) and moving it along its
// lifecycle; and the checks every mutation's acting officer passes.
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/apply_internal.h"
#include "sync/delegation.h"
#include "sync/lifecycle.h"
#include "sync/limitation.h"
#include "sync/notice.h"
#include "sync/operations.h"
#include "sync/request_check.h"
#include "sync/rules.h"
#include "sync/service.h"
#include "sync/uuid.h"

namespace palm::server::internal {
namespace {

namespace v1 = palm::v1;

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;
constexpr int64_t kFilingDeadlineOrdinaryMs = 90 * kDayMs;  // 立案 90 days

absl::Status UnknownCase(const std::string& case_id) {
  return sync::FailedPrecondition(
      v1::REASON_UNKNOWN_CASE,
      absl::StrCat("case ", case_id, " is not on record (record_case must come first)"));
}

// The acting officer of the mutation: on the roster, of the caller's town,
// active. The refusal names only the officer id the mutation carried.
absl::Status CheckActingOfficer(Apply& a) {
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Officer> officer, a.txn.GetOfficer(a.m().officer_id()));
  if (!officer) {
    return sync::FailedPrecondition(
        v1::REASON_UNKNOWN_OFFICER,
        absl::StrCat("officer ", a.m().officer_id(), " is not on the roster"));
  }
  if (officer->town_id() != a.caller.town_id) {
    return sync::Refuse(absl::StatusCode::kPermissionDenied, v1::REASON_OUT_OF_JURISDICTION,
                        absl::StrCat("officer ", officer->officer_id(), " does not serve town ",
                                     a.caller.town_id, " of device ", a.caller.device_id));
  }
  if (!officer->active()) {
    return sync::Refuse(absl::StatusCode::kPermissionDenied, v1::REASON_PERMISSION_DENIED,
                        absl::StrCat("officer ", officer->officer_id(), " is not active"));
  }
  return absl::OkStatus();
}

}  // namespace

// --- Apply's lookups. ---------------------------------------------------------

absl::StatusOr<CaseRecord> Apply::CaseInScope(const std::string& case_id) {
  PALM_ASSIGN_OR_RETURN(std::optional<CaseRecord> record, txn.GetCase(case_id));
  if (!record) return UnknownCase(case_id);
  PALM_RETURN_IF_ERROR(InCallersTown(case_id, record->value.town_id()));
  return std::move(*record);
}

absl::StatusOr<CaseBrief> Apply::CaseBriefInScope(const std::string& case_id) {
  PALM_ASSIGN_OR_RETURN(std::optional<CaseBrief> brief, txn.GetCaseBrief(case_id));
  if (!brief) return UnknownCase(case_id);
  PALM_RETURN_IF_ERROR(InCallersTown(case_id, brief->town_id));
  return std::move(*brief);
}

absl::Status Apply::InCallersTown(const std::string& case_id, const std::string& town_id) const {
  if (town_id == caller.town_id) return absl::OkStatus();
  return sync::Refuse(absl::StatusCode::kPermissionDenied, v1::REASON_OUT_OF_JURISDICTION,
                      absl::StrCat("case ", case_id, " is outside the jurisdiction of device ",
                                   caller.device_id, " (town ", caller.town_id, ")"));
}

absl::StatusOr<sync::OfficerLookup> Apply::RosterFor(
    const google::protobuf::RepeatedPtrField<std::string>& ids) {
  for (const std::string& id : ids) {
    if (roster_cache.count(id) > 0) continue;
    PALM_ASSIGN_OR_RETURN(std::optional<v1::Officer> officer, txn.GetOfficer(id));
    if (officer && officer->town_id() == caller.town_id) roster_cache[id] = std::move(*officer);
  }
  return sync::OfficerLookup([this](const std::string& id) -> const v1::Officer* {
    auto it = roster_cache.find(id);
    return it == roster_cache.end() ? nullptr : &it->second;
  });
}

absl::Status Apply::SystemEvent(const std::string& case_id, const std::string& town_id,
                                v1::CaseEventKind kind, const std::string& text, v1::CaseState from,
                                v1::CaseState to) {
  v1::CaseEvent event;
  event.set_event_id(m().mutation_id());
  event.set_case_id(case_id);
  event.set_kind(kind);
  event.set_text(text);
  event.set_at_ms(prepared.hlc.wall_ms);
  event.set_officer_id(m().officer_id());
  event.set_from_state(from);
  event.set_to_state(to);
  PALM_RETURN_IF_ERROR(txn.PutEvent(event));
  return Changed(EntityKind::kEvent, event.event_id(), TownScope(town_id));
}

namespace {

// Gives `c` its official number: the one the old server gave it when the
// device presented that number sealed, after a restore (issue 18), else the
// next of the bureau year, reserved in the fence before it is given. The
// number is sealed so that a later restore can give it back.
absl::Status NumberCase(Apply& a, v1::Case& c) {
  const std::optional<v1::CaseNumberClaim>& claim = a.prepared.case_number_claim;
  if (claim && claim->case_id() == c.case_id()) {
    PALM_ASSIGN_OR_RETURN(std::optional<CaseRecord> holder,
                          a.txn.GetCaseByNumber(claim->case_number()));
    if (!holder) {
      c.set_case_number(claim->case_number());
      *c.mutable_case_number_seal() = claim->seal();
      return absl::OkStatus();
    }
  }
  const int year = BureauYear(a.now_ms);
  PALM_ASSIGN_OR_RETURN(int64_t seq, a.txn.NextCaseNumber(year));
  if (a.options.numbering != nullptr) {
    PALM_RETURN_IF_ERROR(a.options.numbering->ReserveCaseNumber(year, seq));
  }
  c.set_case_number(FormatCaseNumber(a.options.case_number_format, year, seq));
  c.clear_case_number_seal();
  if (a.options.numbering != nullptr) a.options.numbering->SealCaseNumber(&c, year, seq);
  return absl::OkStatus();
}

}  // namespace

absl::Status Apply::PriorViolation(const v1::Case& c, const v1::Party& party,
                                   const std::string& matter_code, int64_t at_ms) {
  std::optional<v1::PriorViolation> v =
      sync::PriorViolationOf(this->options.party_key, c, party, matter_code, at_ms);
  if (!v) return absl::OkStatus();
  PALM_ASSIGN_OR_RETURN(std::string id, txn.AddPriorViolation(*v, c.case_id()));
  return Changed(EntityKind::kPriorViolation, id, GlobalScope());
}

absl::Status EscalateIfMajor(Apply& a, v1::Case& c) {
  if (!c.review_required() || c.escalated()) return absl::OkStatus();
  c.set_escalated(true);
  v1::CaseEvent event;
  event.set_event_id(sync::NewUuidV7(a.now_ms));
  event.set_case_id(c.case_id());
  event.set_kind(v1::CASE_EVENT_KIND_REVIEW);
  event.set_text(
      absl::StrCat("escalated to the county: major case, legal review required before "
                   "a decision (Art. 58); town ",
                   c.town_id()));
  event.set_at_ms(a.prepared.hlc.wall_ms);
  event.set_officer_id(a.m().officer_id());
  PALM_RETURN_IF_ERROR(a.txn.PutEvent(event));
  return a.Changed(EntityKind::kEvent, event.event_id(), TownScope(c.town_id()));
}

namespace {

// sync::CheckDelegated for a case of `town_id` under `matter`, against the
// towns on record.
absl::Status CheckDelegated(Apply& a, const std::string& town_id, const v1::Matter& matter) {
  PALM_ASSIGN_OR_RETURN(const std::vector<v1::Town>* towns, a.matters.Towns(a.txn));
  return sync::CheckDelegated(sync::FindTown(*towns, town_id), matter, *towns);
}

}  // namespace

// --- RecordCase. -------------------------------------------------------------

absl::Status ApplyRecordCase(Apply& a) {
  v1::Case c = a.m().record_case().case_();
  PALM_ASSIGN_OR_RETURN(const v1::Matter* matter, a.matters.Find(a.txn, c.matter_code()));
  PALM_RETURN_IF_ERROR(sync::CheckRecordCase(c, matter));
  PALM_RETURN_IF_ERROR(sync::CheckCaseParties(c));
  PALM_RETURN_IF_ERROR(sync::CheckCaseLimitation(c, a.prepared.hlc.wall_ms));
  if (c.town_id().empty()) c.set_town_id(a.caller.town_id);
  if (c.town_id() != a.caller.town_id) {
    return sync::Refuse(
        absl::StatusCode::kPermissionDenied, v1::REASON_OUT_OF_JURISDICTION,
        absl::StrCat("case ", c.case_id(), " is for town ", c.town_id(), "; device ",
                     a.caller.device_id, " serves town ", a.caller.town_id));
  }
  PALM_RETURN_IF_ERROR(CheckDelegated(a, c.town_id(), *matter));
  PALM_ASSIGN_OR_RETURN(sync::OfficerLookup roster, a.RosterFor(c.officer_ids()));
  PALM_RETURN_IF_ERROR(
      sync::CheckOfficersOnRoster(c.officer_ids(), "record_case.case.officer_ids", roster));
  PALM_RETURN_IF_ERROR(sync::CheckCredentialedOfficers(
      c.officer_ids(), sync::CredentialedAct::kInspectionRecord, roster));
  PALM_ASSIGN_OR_RETURN(std::optional<CaseBrief> existing, a.txn.GetCaseBrief(c.case_id()));
  if (existing) return sync::CaseAlreadyRecorded(c.case_id());
  if (c.squad_id().empty()) c.set_squad_id(a.caller.squad_id);

  // Server-owned fields: whatever the device sent is replaced.
  PALM_RETURN_IF_ERROR(NumberCase(a, c));
  c.set_created_by_device(a.caller.device_id);
  c.set_created_by_officer(a.m().officer_id());
  if (c.created_at_ms() <= 0) c.set_created_at_ms(a.prepared.hlc.wall_ms);
  c.set_review_approved(false);
  c.set_review_required(sync::IsMajorCase(c, matter));
  c.set_deadline_ms(0);
  *c.mutable_state_hlc() = a.prepared.hlc.ToProto();

  CaseRecord record;
  record.value = std::move(c);
  const v1::Case& recorded = record.value;
  const FieldStamp stamp{a.prepared.hlc, a.caller.device_id, a.m().mutation_id()};
  for (v1::CaseField f :
       {v1::CASE_FIELD_DESCRIPTION, v1::CASE_FIELD_ADDRESS, v1::CASE_FIELD_LOCATION,
        v1::CASE_FIELD_OCCURRED_AT, v1::CASE_FIELD_MATTER_CODE, v1::CASE_FIELD_PROPOSED_FINE}) {
    record.stamps[FieldKey(f, "")] = stamp;
  }
  for (const v1::Party& p : recorded.parties()) {
    for (v1::CaseField f :
         {v1::CASE_FIELD_PARTY_NAME, v1::CASE_FIELD_PARTY_ID_NUMBER, v1::CASE_FIELD_PARTY_PHONE,
          v1::CASE_FIELD_PARTY_ADDRESS, v1::CASE_FIELD_PARTY_KIND}) {
      record.stamps[FieldKey(f, p.party_id())] = stamp;
    }
  }
  PALM_RETURN_IF_ERROR(EscalateIfMajor(a, record.value));
  // What the rest needs, kept before the record moves into the store.
  const std::string case_id = recorded.case_id();
  const std::string case_number = recorded.case_number();
  const std::string town_id = recorded.town_id();
  PALM_RETURN_IF_ERROR(a.txn.PutCase(std::move(record)));
  PALM_RETURN_IF_ERROR(a.Changed(EntityKind::kCase, case_id, TownScope(town_id)));
  PALM_RETURN_IF_ERROR(a.SystemEvent(case_id, town_id, v1::CASE_EVENT_KIND_CREATED,
                                     absl::StrCat("case recorded as ", case_number)));
  a.result->set_case_number(case_number);
  return absl::OkStatus();
}

// --- UpdateCaseFields: last-writer-wins per field. ---------------------------

absl::Status ApplyUpdateCaseFields(Apply& a) {
  const v1::UpdateCaseFields& op = a.m().update_case_fields();
  std::vector<std::string> values;
  values.reserve(op.changes_size());
  for (int i = 0; i < op.changes_size(); ++i) {
    PALM_ASSIGN_OR_RETURN(std::string value,
                          sync::CanonicalFieldValue(
                              op.changes(i), absl::StrCat("update_case_fields.changes[", i, "]")));
    values.push_back(std::move(value));
  }
  PALM_ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(op.case_id()));
  PALM_RETURN_IF_ERROR(sync::CheckCaseEditable(record.value, CaseLabel(record.value)));
  for (int i = 0; i < op.changes_size(); ++i) {
    if (op.changes(i).field() != v1::CASE_FIELD_MATTER_CODE) continue;
    PALM_ASSIGN_OR_RETURN(const v1::Matter* matter, a.matters.Find(a.txn, values[i]));
    PALM_RETURN_IF_ERROR(sync::CheckMatterKnown(values[i], matter));
    PALM_RETURN_IF_ERROR(CheckDelegated(a, record.value.town_id(), *matter));
  }

  const FieldStamp incoming{a.prepared.hlc, a.caller.device_id, a.m().mutation_id()};
  std::vector<v1::ConflictRecord> conflicts;
  for (int i = 0; i < op.changes_size(); ++i) {
    const v1::CaseFieldChange& change = op.changes(i);
    const std::string party_id = sync::IsPartyField(change.field()) ? change.party_id() : "";
    const std::string key = FieldKey(change.field(), party_id);
    const std::string current = sync::FieldValue(record.value, change.field(), party_id);
    auto it = record.stamps.find(key);
    const bool first_write = it == record.stamps.end();
    // A device's mutations apply in sequence order, so its own later write
    // always follows its earlier one (even within one clock tick), quietly.
    const bool same_device = !first_write && it->second.device_id == incoming.device_id;
    const bool incoming_wins =
        a.server_write || first_write || same_device ||
        sync::HlcAfter(incoming.hlc, incoming.device_id, it->second.hlc, it->second.device_id);
    if (!a.server_write && !first_write && !same_device && current != values[i]) {
      // A value is lost: the stored one (overwritten by another device's
      // later write) or the incoming one (older than what is stored).
      const FieldStamp& stored = it->second;
      v1::ConflictRecord conflict;
      v1::ConflictLoss* loss = conflict.mutable_loss();
      loss->set_conflict_id(sync::NewUuidV7(a.now_ms));
      loss->set_case_id(record.value.case_id());
      loss->set_field(change.field());
      loss->set_party_id(party_id);
      const FieldStamp& loser = incoming_wins ? stored : incoming;
      const FieldStamp& winner = incoming_wins ? incoming : stored;
      loss->set_losing_value(incoming_wins ? current : values[i]);
      *loss->mutable_losing_hlc() = loser.hlc.ToProto();
      loss->set_losing_device_id(loser.device_id);
      loss->set_winning_value(incoming_wins ? values[i] : current);
      *loss->mutable_winning_hlc() = winner.hlc.ToProto();
      loss->set_winning_device_id(winner.device_id);
      conflict.set_mutation_id(loser.mutation_id);
      conflict.set_recorded_at_ms(a.now_ms);
      conflict.set_case_number(record.value.case_number());
      conflicts.push_back(std::move(conflict));
    }
    if (incoming_wins) {
      sync::SetFieldValue(&record.value, change.field(), party_id, values[i]);
      record.stamps[key] = incoming;
    }
  }
  // Each value was checked against its own limit; the case they make is
  // checked against the case's, before anything is stored.
  PALM_RETURN_IF_ERROR(sync::CheckChangedEntity(
      record.value, absl::StrCat("update_case_fields would leave case ", CaseLabel(record.value),
                                 " over a limit")));
  PALM_ASSIGN_OR_RETURN(const v1::Matter* matter,
                        a.matters.Find(a.txn, record.value.matter_code()));
  record.value.set_review_required(record.value.review_required() ||
                                   sync::IsMajorCase(record.value, matter));
  // An approval is for the decision reviewed (Art. 58): a changed fine,
  // basis or fact spends it.
  const bool lapsed = sync::LapseStaleReview(&record.value, matter);
  PALM_RETURN_IF_ERROR(EscalateIfMajor(a, record.value));
  const std::string case_id = record.value.case_id();
  const std::string town_id = record.value.town_id();
  const std::string scope = TownScope(town_id);
  PALM_RETURN_IF_ERROR(a.txn.PutCase(std::move(record)));
  PALM_RETURN_IF_ERROR(a.Changed(EntityKind::kCase, case_id, scope));
  for (const v1::ConflictRecord& conflict : conflicts) {
    PALM_RETURN_IF_ERROR(a.txn.PutConflict(conflict));
    *a.result->add_conflicts() = conflict.loss();
  }
  if (!conflicts.empty()) a.result->set_outcome(v1::OUTCOME_APPLIED_WITH_CONFLICT);
  if (lapsed) {
    PALM_RETURN_IF_ERROR(
        a.SystemEvent(case_id, town_id, v1::CASE_EVENT_KIND_REVIEW,
                      "legal review approval lapsed: the decision it approved changed (Art. 58)"));
  }
  return absl::OkStatus();
}

// --- Lifecycle. --------------------------------------------------------------

absl::Status ApplyTransitionCase(Apply& a) {
  const v1::TransitionCase& op = a.m().transition_case();
  PALM_ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(op.case_id()));
  v1::Case& c = record.value;
  PALM_ASSIGN_OR_RETURN(const v1::Matter* matter, a.matters.Find(a.txn, c.matter_code()));
  // The acting officer decides whether a DECIDED is theirs to make.
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Officer> actor, a.txn.GetOfficer(a.m().officer_id()));
  PALM_ASSIGN_OR_RETURN(const sync::WorkingDayCalendar* calendar, a.matters.Calendar(a.txn));
  PALM_RETURN_IF_ERROR(sync::CheckTransitionCase(
      c, matter, op, CaseLabel(c), actor ? &*actor : nullptr, calendar, a.prepared.hlc.wall_ms));

  const v1::CaseState from = c.state();
  sync::EnterState(&c, op.to_state());
  if (op.to_state() == v1::CASE_STATE_NOTIFIED) {
    sync::RecordNotice(&c, op, a.prepared.hlc.wall_ms);
  }
  sync::StampMove(&c, op.to_state(), a.prepared.hlc.wall_ms);
  *c.mutable_state_hlc() = a.prepared.hlc.ToProto();
  switch (op.to_state()) {
    case v1::CASE_STATE_FILED:
      // The ordinary procedure's 90-day clock runs from filing (立案). A
      // summary case's FILED is the report to the agency (Art. 52), which the
      // law gives no day limit: it is tracked as the transition event, with
      // no deadline (an earlier version invented one of 3 days).
      c.set_deadline_ms(c.procedure() == v1::PROCEDURE_SUMMARY
                            ? 0
                            : a.prepared.hlc.wall_ms + kFilingDeadlineOrdinaryMs);
      break;
    case v1::CASE_STATE_INVESTIGATING:
    case v1::CASE_STATE_LEGAL_REVIEW:
    case v1::CASE_STATE_NOTIFIED:
    case v1::CASE_STATE_HEARING:
      break;
    default:
      c.set_deadline_ms(0);
  }
  if (op.to_state() == v1::CASE_STATE_LEGAL_REVIEW) {
    c.set_review_required(c.review_required() || sync::IsMajorCase(c, matter));
    PALM_RETURN_IF_ERROR(EscalateIfMajor(a, c));
  }
  PALM_RETURN_IF_ERROR(a.txn.PutCase(record));
  PALM_RETURN_IF_ERROR(a.Changed(EntityKind::kCase, c.case_id(), TownScope(c.town_id())));
  if (op.to_state() == v1::CASE_STATE_DECIDED) {
    for (const v1::Party& party : c.parties()) {
      PALM_RETURN_IF_ERROR(a.PriorViolation(c, party, c.matter_code(), a.prepared.hlc.wall_ms));
    }
  }
  std::string text = absl::StrCat(sync::StateName(from), " → ", sync::StateName(op.to_state()));
  if (!op.reason().empty()) absl::StrAppend(&text, ": ", op.reason());
  return a.SystemEvent(c, v1::CASE_EVENT_KIND_TRANSITION, text, from, op.to_state());
}

// --- Dispatch. ---------------------------------------------------------------

absl::Status ApplyOperation(Apply& a) {
  PALM_RETURN_IF_ERROR(CheckActingOfficer(a));
  switch (a.m().operation_case()) {
    case v1::Mutation::kRecordCase:
      return ApplyRecordCase(a);
    case v1::Mutation::kUpdateCaseFields:
      return ApplyUpdateCaseFields(a);
    case v1::Mutation::kAddEvidence:
      return ApplyAddEvidence(a);
    case v1::Mutation::kWithdrawEvidence:
      return ApplyWithdrawEvidence(a);
    case v1::Mutation::kIssueTicket:
      return ApplyIssueTicket(a);
    case v1::Mutation::kVoidTicket:
      return ApplyVoidTicket(a);
    case v1::Mutation::kRecordNoPenalty:
      return ApplyRecordNoPenalty(a);
    case v1::Mutation::kTransitionCase:
      return ApplyTransitionCase(a);
    case v1::Mutation::kAppendCaseEvent:
      return ApplyAppendCaseEvent(a);
    case v1::Mutation::OPERATION_NOT_SET:
      break;
  }
  return Malformed("the mutation carries no operation");
}

}  // namespace palm::server::internal
