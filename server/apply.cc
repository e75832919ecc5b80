#include "server/apply.h"

#include <cstdint>
#include <ctime>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "server/audit.h"
#include "server/evidence_log.h"
#include "sync/lifecycle.h"
#include "sync/mutation.h"
#include "sync/rules.h"
#include "sync/status.h"
#include "sync/uuid.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;
constexpr int64_t kFilingDeadlineOrdinaryMs = 90 * kDayMs;  // 立案 90 days
constexpr int64_t kFilingDeadlineSummaryMs = 3 * kDayMs;    // filed with the agency ≤ 3 days

// Evaluates a StatusOr expression; returns its status on error, else binds.
#define APPLY_ASSIGN_OR_RETURN_IMPL(var, tmp, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  var = std::move(*tmp)
#define APPLY_CONCAT_INNER(a, b) a##b
#define APPLY_CONCAT(a, b) APPLY_CONCAT_INNER(a, b)
#define ASSIGN_OR_RETURN(var, expr) \
  APPLY_ASSIGN_OR_RETURN_IMPL(var, APPLY_CONCAT(apply_or_, __LINE__), expr)
#define RETURN_IF_ERROR(expr)                                            \
  do {                                                                   \
    if (absl::Status apply_s_ = (expr); !apply_s_.ok()) return apply_s_; \
  } while (false)

absl::Status Malformed(absl::string_view message) {
  return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT, message);
}

// The refusal of a mutation (rule broken) versus a storage error: both are
// absl::Status; a refusal carries a ReasonCode, a storage error does not.
bool IsRefusal(const absl::Status& s) { return sync::ReasonOf(s) != v1::REASON_UNSPECIFIED; }

std::string CaseLabel(const std::string& case_id, const std::string& case_number) {
  return case_number.empty() ? case_id : case_number;
}
std::string CaseLabel(const v1::Case& c) { return CaseLabel(c.case_id(), c.case_number()); }

// Everything one mutation's apply needs, and what it produced.
struct Apply {
  WriteTxn& txn;
  MatterCache& matters;
  const Caller& caller;
  const ApplyOptions& options;
  const PreparedMutation& prepared;
  int64_t now_ms;
  v1::MutationResult* result;
  // A write the server makes itself (ResolveConflict restoring a losing
  // value): it always wins and loses nothing worth a conflict row.
  bool server_write = false;
  // The caller's sequence numbers above this one were recorded by this push
  // batch, at now_ms (ApplyBatch); none when unset.
  uint64_t recorded_now_after = UINT64_MAX;

  const v1::Mutation& m() const { return prepared.mutation; }

  // Appends a change and remembers the highest position for the result.
  absl::Status Changed(EntityKind kind, const std::string& id, const std::string& scope) {
    ASSIGN_OR_RETURN(uint64_t seq, txn.AppendChange(kind, id, scope));
    result->set_server_seq(std::max<uint64_t>(result->server_seq(), seq));
    return absl::OkStatus();
  }

  // The case `case_id`, which must exist and lie in the caller's town.
  absl::StatusOr<CaseRecord> CaseInScope(const std::string& case_id) {
    ASSIGN_OR_RETURN(std::optional<CaseRecord> record, txn.GetCase(case_id));
    if (!record) return UnknownCase(case_id);
    RETURN_IF_ERROR(InCallersTown(CaseLabel(record->value), record->value.town_id()));
    return std::move(*record);
  }

  // CaseInScope for an operation that only checks the case: its id, number
  // and town, without copying or parsing the whole case.
  absl::StatusOr<CaseBrief> CaseBriefInScope(const std::string& case_id) {
    ASSIGN_OR_RETURN(std::optional<CaseBrief> brief, txn.GetCaseBrief(case_id));
    if (!brief) return UnknownCase(case_id);
    RETURN_IF_ERROR(InCallersTown(CaseLabel(brief->case_id, brief->case_number), brief->town_id));
    return std::move(*brief);
  }

  static absl::Status UnknownCase(const std::string& case_id) {
    return sync::FailedPrecondition(
        v1::REASON_UNKNOWN_CASE,
        absl::StrCat("case ", case_id, " is not on record (record_case must come first)"));
  }

  // Refuses a case (named `label`) of town `town_id` unless that is the
  // caller's town.
  absl::Status InCallersTown(const std::string& label, const std::string& town_id) const {
    if (town_id == caller.town_id) return absl::OkStatus();
    return sync::Refuse(absl::StatusCode::kPermissionDenied, v1::REASON_OUT_OF_JURISDICTION,
                        absl::StrCat("case ", label, " belongs to town ", town_id, "; device ",
                                     caller.device_id, " serves town ", caller.town_id));
  }

  // A system-written timeline entry whose id is the mutation id, so the device
  // that made the mutation can write the same entry locally.
  absl::Status SystemEvent(const v1::Case& c, v1::CaseEventKind kind, const std::string& text,
                           v1::CaseState from = v1::CASE_STATE_UNSPECIFIED,
                           v1::CaseState to = v1::CASE_STATE_UNSPECIFIED) {
    return SystemEvent(c.case_id(), c.town_id(), kind, text, from, to);
  }
  absl::Status SystemEvent(const std::string& case_id, const std::string& town_id,
                           v1::CaseEventKind kind, const std::string& text,
                           v1::CaseState from = v1::CASE_STATE_UNSPECIFIED,
                           v1::CaseState to = v1::CASE_STATE_UNSPECIFIED) {
    v1::CaseEvent event;
    event.set_event_id(m().mutation_id());
    event.set_case_id(case_id);
    event.set_kind(kind);
    event.set_text(text);
    event.set_at_ms(prepared.hlc.wall_ms);
    event.set_officer_id(m().officer_id());
    event.set_from_state(from);
    event.set_to_state(to);
    RETURN_IF_ERROR(txn.PutEvent(event));
    return Changed(EntityKind::kEvent, event.event_id(), TownScope(town_id));
  }

  // Records that the party `party` of case `c` violated `matter_code`.
  absl::Status PriorViolation(const v1::Case& c, const v1::Party& party,
                              const std::string& matter_code, int64_t at_ms) {
    if (party.id_number().empty()) return absl::OkStatus();
    v1::PriorViolation v;
    v.set_party_key(sync::PartyKey(party.id_number()));
    v.set_matter_code(matter_code);
    v.set_case_number(c.case_number());
    v.set_decided_at_ms(at_ms);
    ASSIGN_OR_RETURN(std::string id, txn.AddPriorViolation(v, c.case_id()));
    return Changed(EntityKind::kPriorViolation, id, GlobalScope());
  }
};

const v1::Party* FindParty(const v1::Case& c, const std::string& party_id) {
  for (const v1::Party& p : c.parties()) {
    if (p.party_id() == party_id) return &p;
  }
  return nullptr;
}

// Security (issue 5), Art. 58: a town-owned case heading for a major
// decision goes to the county. Marks `c` escalated (the caller stores it) and
// records why on its timeline, once.
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
  RETURN_IF_ERROR(a.txn.PutEvent(event));
  return a.Changed(EntityKind::kEvent, event.event_id(), TownScope(c.town_id()));
}

// --- The officer of the mutation. ------------------------------------------

absl::Status CheckOfficer(Apply& a) {
  ASSIGN_OR_RETURN(std::optional<v1::Officer> officer, a.txn.GetOfficer(a.m().officer_id()));
  if (!officer) {
    return sync::FailedPrecondition(
        v1::REASON_UNKNOWN_OFFICER,
        absl::StrCat("officer ", a.m().officer_id(), " is not on the roster"));
  }
  if (officer->town_id() != a.caller.town_id) {
    return sync::Refuse(
        absl::StatusCode::kPermissionDenied, v1::REASON_OUT_OF_JURISDICTION,
        absl::StrCat("officer ", officer->officer_id(), " belongs to town ", officer->town_id(),
                     ", not to town ", a.caller.town_id, " of device ", a.caller.device_id));
  }
  if (!officer->active()) {
    return sync::Refuse(absl::StatusCode::kPermissionDenied, v1::REASON_PERMISSION_DENIED,
                        absl::StrCat("officer ", officer->officer_id(), " is not active"));
  }
  return absl::OkStatus();
}

// --- RecordCase. -------------------------------------------------------------

std::string FieldValue(const v1::Case& c, v1::CaseField field, const std::string& party_id);

absl::Status ApplyRecordCase(Apply& a) {
  v1::Case c = a.m().record_case().case_();
  ASSIGN_OR_RETURN(const v1::Matter* matter, a.matters.Find(a.txn, c.matter_code()));
  RETURN_IF_ERROR(sync::CheckRecordCase(c, matter));
  ASSIGN_OR_RETURN(std::optional<CaseRecord> existing, a.txn.GetCase(c.case_id()));
  if (existing) {
    return Malformed(absl::StrCat("case ", c.case_id(), " is already on record as ",
                                  CaseLabel(existing->value), "; record_case creates a case once"));
  }
  if (c.town_id().empty()) c.set_town_id(a.caller.town_id);
  if (c.town_id() != a.caller.town_id) {
    return sync::Refuse(
        absl::StatusCode::kPermissionDenied, v1::REASON_OUT_OF_JURISDICTION,
        absl::StrCat("case ", c.case_id(), " is for town ", c.town_id(), "; device ",
                     a.caller.device_id, " serves town ", a.caller.town_id));
  }
  if (c.squad_id().empty()) c.set_squad_id(a.caller.squad_id);
  for (const std::string& officer_id : c.officer_ids()) {
    ASSIGN_OR_RETURN(std::optional<v1::Officer> officer, a.txn.GetOfficer(officer_id));
    if (!officer) {
      return sync::FailedPrecondition(v1::REASON_UNKNOWN_OFFICER,
                                      absl::StrCat("record_case.case.officer_ids names officer ",
                                                   officer_id, " who is not on the roster"));
    }
  }
  std::set<std::string> party_ids;
  for (int i = 0; i < c.parties_size(); ++i) {
    const std::string& id = c.parties(i).party_id();
    if (id.empty()) {
      return Malformed(absl::StrCat("record_case.case.parties[", i, "].party_id is missing"));
    }
    if (!party_ids.insert(id).second) {
      return Malformed(
          absl::StrCat("record_case.case.parties[", i, "].party_id ", id, " appears twice"));
    }
  }

  // Server-owned fields: whatever the device sent is replaced.
  const int year = BureauYear(a.now_ms);
  ASSIGN_OR_RETURN(int64_t seq, a.txn.NextCaseNumber(year));
  c.set_case_number(FormatCaseNumber(a.options.case_number_format, year, seq));
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
  RETURN_IF_ERROR(EscalateIfMajor(a, record.value));
  // What the rest needs, kept before the record moves into the store.
  const std::string case_id = recorded.case_id();
  const std::string case_number = recorded.case_number();
  const std::string town_id = recorded.town_id();
  RETURN_IF_ERROR(a.txn.PutCase(std::move(record)));
  RETURN_IF_ERROR(a.Changed(EntityKind::kCase, case_id, TownScope(town_id)));
  RETURN_IF_ERROR(a.SystemEvent(case_id, town_id, v1::CASE_EVENT_KIND_CREATED,
                                absl::StrCat("case recorded as ", case_number)));
  a.result->set_case_number(case_number);
  return absl::OkStatus();
}

// --- UpdateCaseFields: last-writer-wins per field. ---------------------------

bool IsPartyField(v1::CaseField f) {
  return f == v1::CASE_FIELD_PARTY_NAME || f == v1::CASE_FIELD_PARTY_ID_NUMBER ||
         f == v1::CASE_FIELD_PARTY_PHONE || f == v1::CASE_FIELD_PARTY_ADDRESS ||
         f == v1::CASE_FIELD_PARTY_KIND;
}

std::string FormatLocation(const v1::GeoPoint& p) {
  if (p.accuracy_m() != 0) {
    return absl::StrFormat("%.7f,%.7f,%.1f", p.latitude(), p.longitude(), p.accuracy_m());
  }
  return absl::StrFormat("%.7f,%.7f", p.latitude(), p.longitude());
}

// Parses "lat,lng[,accuracy]".
std::optional<v1::GeoPoint> ParseLocation(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  if (parts.size() < 2 || parts.size() > 3) return std::nullopt;
  double values[3] = {0, 0, 0};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!absl::SimpleAtod(parts[i], &values[i])) return std::nullopt;
  }
  if (values[0] < -90 || values[0] > 90 || values[1] < -180 || values[1] > 180 || values[2] < 0) {
    return std::nullopt;
  }
  v1::GeoPoint p;
  p.set_latitude(values[0]);
  p.set_longitude(values[1]);
  p.set_accuracy_m(values[2]);
  return p;
}

std::string FieldValue(const v1::Case& c, v1::CaseField field, const std::string& party_id) {
  const v1::Party* party = IsPartyField(field) ? FindParty(c, party_id) : nullptr;
  switch (field) {
    case v1::CASE_FIELD_DESCRIPTION:
      return c.description();
    case v1::CASE_FIELD_ADDRESS:
      return c.place().address();
    case v1::CASE_FIELD_LOCATION:
      return c.place().has_location() ? FormatLocation(c.place().location()) : "";
    case v1::CASE_FIELD_OCCURRED_AT:
      return c.occurred_at_ms() == 0 ? "" : absl::StrCat(c.occurred_at_ms());
    case v1::CASE_FIELD_MATTER_CODE:
      return c.matter_code();
    case v1::CASE_FIELD_PROPOSED_FINE:
      return absl::StrCat(c.proposed_fine_fen());
    case v1::CASE_FIELD_PARTY_NAME:
      return party ? party->name() : "";
    case v1::CASE_FIELD_PARTY_ID_NUMBER:
      return party ? party->id_number() : "";
    case v1::CASE_FIELD_PARTY_PHONE:
      return party ? party->phone() : "";
    case v1::CASE_FIELD_PARTY_ADDRESS:
      return party ? party->address() : "";
    case v1::CASE_FIELD_PARTY_KIND:
      return party ? absl::StrCat(static_cast<int>(party->kind())) : "";
    default:
      return "";
  }
}

// Writes canonical `value` (already validated) into `c`.
void SetFieldValue(v1::Case* c, v1::CaseField field, const std::string& party_id,
                   const std::string& value) {
  v1::Party* party = nullptr;
  if (IsPartyField(field)) {
    for (v1::Party& p : *c->mutable_parties()) {
      if (p.party_id() == party_id) party = &p;
    }
    if (party == nullptr) {
      party = c->add_parties();
      party->set_party_id(party_id);
    }
  }
  int64_t number = 0;
  switch (field) {
    case v1::CASE_FIELD_DESCRIPTION:
      c->set_description(value);
      break;
    case v1::CASE_FIELD_ADDRESS:
      c->mutable_place()->set_address(value);
      break;
    case v1::CASE_FIELD_LOCATION:
      *c->mutable_place()->mutable_location() = *ParseLocation(value);
      break;
    case v1::CASE_FIELD_OCCURRED_AT:
      (void)absl::SimpleAtoi(value, &number);
      c->set_occurred_at_ms(number);
      break;
    case v1::CASE_FIELD_MATTER_CODE:
      c->set_matter_code(value);
      break;
    case v1::CASE_FIELD_PROPOSED_FINE:
      (void)absl::SimpleAtoi(value, &number);
      c->set_proposed_fine_fen(number);
      break;
    case v1::CASE_FIELD_PARTY_NAME:
      party->set_name(value);
      break;
    case v1::CASE_FIELD_PARTY_ID_NUMBER:
      party->set_id_number(value);
      break;
    case v1::CASE_FIELD_PARTY_PHONE:
      party->set_phone(value);
      break;
    case v1::CASE_FIELD_PARTY_ADDRESS:
      party->set_address(value);
      break;
    case v1::CASE_FIELD_PARTY_KIND:
      (void)absl::SimpleAtoi(value, &number);
      party->set_kind(static_cast<v1::PartyKind>(number));
      break;
    default:
      break;
  }
}

// Checks change `i` and returns its value in canonical form.
absl::StatusOr<std::string> CanonicalValue(Apply& a, int i, const v1::CaseFieldChange& change) {
  const std::string where = absl::StrCat("update_case_fields.changes[", i, "].value");
  const std::string& value = change.value();
  int64_t number = 0;
  switch (change.field()) {
    case v1::CASE_FIELD_LOCATION: {
      auto p = ParseLocation(value);
      if (!p)
        return Malformed(absl::StrCat(where, " \"", value, "\" is not \"lat,lng[,accuracy]\""));
      return FormatLocation(*p);
    }
    case v1::CASE_FIELD_OCCURRED_AT:
    case v1::CASE_FIELD_PROPOSED_FINE:
      if (!absl::SimpleAtoi(value, &number) || number < 0) {
        return Malformed(
            absl::StrCat(where, " \"", value, "\" is not a non-negative whole number"));
      }
      return absl::StrCat(number);
    case v1::CASE_FIELD_PARTY_KIND:
      if (!absl::SimpleAtoi(value, &number) ||
          (number != v1::PARTY_KIND_CITIZEN && number != v1::PARTY_KIND_ORGANISATION)) {
        return Malformed(absl::StrCat(where, " \"", value, "\" is not a party kind (",
                                      static_cast<int>(v1::PARTY_KIND_CITIZEN), " or ",
                                      static_cast<int>(v1::PARTY_KIND_ORGANISATION), ")"));
      }
      return absl::StrCat(number);
    case v1::CASE_FIELD_MATTER_CODE: {
      ASSIGN_OR_RETURN(const v1::Matter* matter, a.matters.Find(a.txn, value));
      if (matter == nullptr) {
        return sync::InvalidArgument(
            v1::REASON_UNKNOWN_MATTER,
            absl::StrCat("matter code ", value, " is not in the catalogue"));
      }
      return value;
    }
    default:
      return value;
  }
}

absl::Status ApplyUpdateCaseFields(Apply& a) {
  const v1::UpdateCaseFields& op = a.m().update_case_fields();
  ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(op.case_id()));
  if (record.value.state() == v1::CASE_STATE_ARCHIVED) {
    return sync::FailedPrecondition(
        v1::REASON_IMMUTABLE,
        absl::StrCat("case ", CaseLabel(record.value), " is archived and can no longer change"));
  }
  std::vector<std::string> values;
  for (int i = 0; i < op.changes_size(); ++i) {
    ASSIGN_OR_RETURN(std::string value, CanonicalValue(a, i, op.changes(i)));
    values.push_back(std::move(value));
  }

  const FieldStamp incoming{a.prepared.hlc, a.caller.device_id, a.m().mutation_id()};
  std::vector<v1::ConflictRecord> conflicts;
  for (int i = 0; i < op.changes_size(); ++i) {
    const v1::CaseFieldChange& change = op.changes(i);
    const std::string party_id = IsPartyField(change.field()) ? change.party_id() : "";
    const std::string key = FieldKey(change.field(), party_id);
    const std::string current = FieldValue(record.value, change.field(), party_id);
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
      SetFieldValue(&record.value, change.field(), party_id, values[i]);
      record.stamps[key] = incoming;
    }
  }
  ASSIGN_OR_RETURN(const v1::Matter* matter, a.matters.Find(a.txn, record.value.matter_code()));
  record.value.set_review_required(record.value.review_required() ||
                                   sync::IsMajorCase(record.value, matter));
  RETURN_IF_ERROR(EscalateIfMajor(a, record.value));
  const std::string case_id = record.value.case_id();
  const std::string scope = TownScope(record.value.town_id());
  RETURN_IF_ERROR(a.txn.PutCase(std::move(record)));
  RETURN_IF_ERROR(a.Changed(EntityKind::kCase, case_id, scope));
  for (const v1::ConflictRecord& conflict : conflicts) {
    RETURN_IF_ERROR(a.txn.PutConflict(conflict));
    *a.result->add_conflicts() = conflict.loss();
  }
  if (!conflicts.empty()) a.result->set_outcome(v1::OUTCOME_APPLIED_WITH_CONFLICT);
  return absl::OkStatus();
}

// --- Evidence. ---------------------------------------------------------------

absl::Status ApplyAddEvidence(Apply& a) {
  v1::Evidence e = a.m().add_evidence().evidence();
  if (e.kind() == v1::EVIDENCE_KIND_UNSPECIFIED || !v1::EvidenceKind_IsValid(e.kind())) {
    return Malformed(absl::StrCat("add_evidence.evidence.kind ", static_cast<int>(e.kind()),
                                  " is not an evidence kind"));
  }
  ASSIGN_OR_RETURN(CaseBrief brief, a.CaseBriefInScope(e.case_id()));
  ASSIGN_OR_RETURN(std::optional<v1::Evidence> existing, a.txn.GetEvidence(e.evidence_id()));
  if (existing) {
    return sync::FailedPrecondition(v1::REASON_IMMUTABLE,
                                    absl::StrCat("evidence ", e.evidence_id(),
                                                 " is already on record; evidence is never "
                                                 "edited (withdraw it and add new evidence)"));
  }
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
  // --- Evidence log (issue 6): integration time, capture-time sanity, the
  // Merkle leaf (committed with the record), a file already stored. ---
  e.set_integrated_at_ms(a.now_ms);
  int64_t previous_push_ms = 0;
  // A previous mutation recorded by this batch was recorded now: nothing to
  // look up.
  if (a.m().device_seq() > 1 && a.m().device_seq() - 1 <= a.recorded_now_after) {
    ASSIGN_OR_RETURN(std::optional<DeviceLogEntry> before,
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
  ASSIGN_OR_RETURN(std::optional<BlobRecord> blob, a.txn.GetBlob(e.sha256()));
  e.set_uploaded(blob.has_value());
  RETURN_IF_ERROR(AppendToEvidenceLog(a.txn, e, brief.case_number).status());
  RETURN_IF_ERROR(a.txn.PutEvidence(e));
  return a.Changed(EntityKind::kEvidence, e.evidence_id(), TownScope(brief.town_id));
}

absl::Status ApplyWithdrawEvidence(Apply& a) {
  const v1::WithdrawEvidence& op = a.m().withdraw_evidence();
  ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(op.case_id()));
  ASSIGN_OR_RETURN(std::optional<v1::Evidence> e, a.txn.GetEvidence(op.evidence_id()));
  if (!e || e->case_id() != op.case_id()) {
    return sync::FailedPrecondition(
        v1::REASON_UNKNOWN_EVIDENCE,
        absl::StrCat("evidence ", op.evidence_id(), " is not on record for case ",
                     CaseLabel(record.value)));
  }
  if (e->withdrawn()) {
    return sync::FailedPrecondition(v1::REASON_ALREADY_WITHDRAWN,
                                    absl::StrCat("evidence ", op.evidence_id(),
                                                 " was already withdrawn: ", e->withdraw_reason()));
  }
  e->set_withdrawn(true);
  e->set_withdraw_reason(op.reason());
  RETURN_IF_ERROR(a.txn.PutEvidence(*e));
  RETURN_IF_ERROR(
      a.Changed(EntityKind::kEvidence, e->evidence_id(), TownScope(record.value.town_id())));
  return a.SystemEvent(record.value, v1::CASE_EVENT_KIND_EVIDENCE_WITHDRAWN,
                       absl::StrCat("evidence ", op.evidence_id(), " withdrawn: ", op.reason()));
}

// --- Tickets. ----------------------------------------------------------------

absl::Status ApplyIssueTicket(Apply& a) {
  v1::Ticket t = a.m().issue_ticket().ticket();
  ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(t.case_id()));
  ASSIGN_OR_RETURN(std::optional<v1::Ticket> existing, a.txn.GetTicket(t.ticket_id()));
  if (existing) {
    return sync::FailedPrecondition(v1::REASON_IMMUTABLE,
                                    absl::StrCat("ticket ", t.ticket_id(),
                                                 " is already issued; a ticket is never edited "
                                                 "(void it and issue a new one)"));
  }
  ASSIGN_OR_RETURN(const v1::Matter* matter, a.matters.Find(a.txn, t.matter_code()));
  ASSIGN_OR_RETURN(std::vector<v1::Officer> roster, a.txn.ListOfficers(a.caller.town_id, ""));
  std::vector<v1::Officer> active;
  for (v1::Officer& o : roster) {
    if (o.active()) active.push_back(std::move(o));
  }
  RETURN_IF_ERROR(sync::CheckTicket(t, matter, active));
  const v1::Party* party = FindParty(record.value, t.party_id());
  if (party == nullptr) {
    return Malformed(absl::StrCat("issue_ticket.ticket.party_id \"", t.party_id(),
                                  "\" names no party of case ", CaseLabel(record.value)));
  }

  // The number must lie in a block leased to this device and be unused.
  ASSIGN_OR_RETURN(std::vector<v1::TicketLease> leases, a.txn.ListLeases(a.caller.device_id));
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
  ASSIGN_OR_RETURN(std::optional<v1::Ticket> holder, a.txn.GetTicketByNumber(t.ticket_number()));
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
  RETURN_IF_ERROR(a.txn.PutTicket(t));
  RETURN_IF_ERROR(a.Changed(EntityKind::kTicket, t.ticket_id(), TownScope(record.value.town_id())));
  return a.PriorViolation(record.value, *party, t.matter_code(), t.issued_at_ms());
}

absl::Status ApplyVoidTicket(Apply& a) {
  const v1::VoidTicket& op = a.m().void_ticket();
  ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(op.case_id()));
  ASSIGN_OR_RETURN(std::optional<v1::Ticket> t, a.txn.GetTicket(op.ticket_id()));
  if (!t || t->case_id() != op.case_id()) {
    return sync::FailedPrecondition(
        v1::REASON_UNKNOWN_TICKET,
        absl::StrCat("ticket ", op.ticket_id(), " is not on record for case ",
                     CaseLabel(record.value)));
  }
  if (t->voided()) {
    return sync::FailedPrecondition(v1::REASON_ALREADY_VOIDED,
                                    absl::StrCat("ticket ", t->ticket_number_text(),
                                                 " was already voided: ", t->void_reason()));
  }
  t->set_voided(true);
  t->set_void_reason(op.reason());
  RETURN_IF_ERROR(a.txn.PutTicket(*t));
  RETURN_IF_ERROR(
      a.Changed(EntityKind::kTicket, t->ticket_id(), TownScope(record.value.town_id())));
  return a.SystemEvent(record.value, v1::CASE_EVENT_KIND_TICKET_VOIDED,
                       absl::StrCat("ticket ", t->ticket_number_text(), " voided: ", op.reason()));
}

// --- No-penalty decisions. ---------------------------------------------------

absl::Status ApplyRecordNoPenalty(Apply& a) {
  v1::NoPenaltyDecision d = a.m().record_no_penalty().decision();
  ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(d.case_id()));
  ASSIGN_OR_RETURN(std::optional<v1::NoPenaltyDecision> existing,
                   a.txn.GetNoPenalty(d.decision_id()));
  if (existing) {
    return sync::FailedPrecondition(
        v1::REASON_IMMUTABLE,
        absl::StrCat("no-penalty decision ", d.decision_id(), " is already on record"));
  }
  const v1::Party* party = FindParty(record.value, d.party_id());
  if (party == nullptr) {
    return Malformed(absl::StrCat("record_no_penalty.decision.party_id \"", d.party_id(),
                                  "\" names no party of case ", CaseLabel(record.value)));
  }
  if (party->id_number().empty()) {
    return Malformed(absl::StrCat("party ", d.party_id(),
                                  " has no ID number, which the first-violation check (Art. 33) "
                                  "needs"));
  }
  ASSIGN_OR_RETURN(const v1::Matter* matter, a.matters.Find(a.txn, d.matter_code()));
  ASSIGN_OR_RETURN(std::optional<v1::PriorViolation> prior,
                   a.txn.FindPriorViolation(sync::PartyKey(party->id_number()), d.matter_code()));
  RETURN_IF_ERROR(sync::CheckNoPenalty(d, matter, prior.has_value(),
                                       prior ? prior->case_number() : std::string()));
  // The decision ends the case in NO_PENALTY (Art. 33), exactly as the device
  // records it: the move is checked before anything is written.
  v1::Case& c = record.value;
  const v1::CaseState from = c.state();
  const bool moves = from != v1::CASE_STATE_NO_PENALTY;
  if (moves) {
    ASSIGN_OR_RETURN(const v1::Matter* case_matter, a.matters.Find(a.txn, c.matter_code()));
    RETURN_IF_ERROR(sync::CheckCaseTransition(c, case_matter, v1::CASE_STATE_NO_PENALTY));
  }
  if (d.decided_at_ms() <= 0) d.set_decided_at_ms(a.prepared.hlc.wall_ms);
  RETURN_IF_ERROR(a.txn.PutNoPenalty(d));
  RETURN_IF_ERROR(a.Changed(EntityKind::kNoPenalty, d.decision_id(), TownScope(c.town_id())));
  if (moves) {
    c.set_state(v1::CASE_STATE_NO_PENALTY);
    *c.mutable_state_hlc() = a.prepared.hlc.ToProto();
    c.set_deadline_ms(0);
    RETURN_IF_ERROR(a.txn.PutCase(record));
    RETURN_IF_ERROR(a.Changed(EntityKind::kCase, c.case_id(), TownScope(c.town_id())));
    // Same id (the mutation's) and text as the device's own event, so the
    // pulled timeline replaces it instead of doubling it.
    RETURN_IF_ERROR(a.SystemEvent(c, v1::CASE_EVENT_KIND_TRANSITION,
                                  "no-penalty decision (Art. 33)", from,
                                  v1::CASE_STATE_NO_PENALTY));
  }
  // The violation happened, so the next one is no longer a first violation.
  return a.PriorViolation(c, *party, d.matter_code(), d.decided_at_ms());
}

// --- Lifecycle. --------------------------------------------------------------

absl::Status ApplyTransitionCase(Apply& a) {
  const v1::TransitionCase& op = a.m().transition_case();
  ASSIGN_OR_RETURN(CaseRecord record, a.CaseInScope(op.case_id()));
  v1::Case& c = record.value;
  if (c.state() != op.from_state()) {
    return sync::FailedPrecondition(
        v1::REASON_STALE_TRANSITION,
        absl::StrCat("case ", CaseLabel(c), " is now in state ", sync::StateName(c.state()),
                     ", not ", sync::StateName(op.from_state()),
                     " as the device saw it; the move to ", sync::StateName(op.to_state()),
                     " was not made"));
  }
  ASSIGN_OR_RETURN(const v1::Matter* matter, a.matters.Find(a.txn, c.matter_code()));
  RETURN_IF_ERROR(sync::CheckCaseTransition(c, matter, op.to_state()));

  const v1::CaseState from = c.state();
  c.set_state(op.to_state());
  *c.mutable_state_hlc() = a.prepared.hlc.ToProto();
  switch (op.to_state()) {
    case v1::CASE_STATE_FILED:
      c.set_deadline_ms(a.prepared.hlc.wall_ms + (c.procedure() == v1::PROCEDURE_SUMMARY
                                                      ? kFilingDeadlineSummaryMs
                                                      : kFilingDeadlineOrdinaryMs));
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
    RETURN_IF_ERROR(EscalateIfMajor(a, c));
  }
  RETURN_IF_ERROR(a.txn.PutCase(record));
  RETURN_IF_ERROR(a.Changed(EntityKind::kCase, c.case_id(), TownScope(c.town_id())));
  if (op.to_state() == v1::CASE_STATE_DECIDED) {
    for (const v1::Party& party : c.parties()) {
      RETURN_IF_ERROR(a.PriorViolation(c, party, c.matter_code(), a.prepared.hlc.wall_ms));
    }
  }
  std::string text = absl::StrCat(sync::StateName(from), " → ", sync::StateName(op.to_state()));
  if (!op.reason().empty()) absl::StrAppend(&text, ": ", op.reason());
  return a.SystemEvent(c, v1::CASE_EVENT_KIND_TRANSITION, text, from, op.to_state());
}

absl::Status ApplyAppendCaseEvent(Apply& a) {
  v1::CaseEvent e = a.m().append_case_event().event();
  switch (e.kind()) {
    case v1::CASE_EVENT_KIND_TRANSITION:
    case v1::CASE_EVENT_KIND_CREATED:
    case v1::CASE_EVENT_KIND_EVIDENCE_WITHDRAWN:
    case v1::CASE_EVENT_KIND_TICKET_VOIDED:
      return Malformed(absl::StrCat("append_case_event.event.kind ",
                                    v1::CaseEventKind_Name(e.kind()),
                                    " is written by the server from the matching mutation"));
    default:
      break;
  }
  ASSIGN_OR_RETURN(CaseBrief brief, a.CaseBriefInScope(e.case_id()));
  ASSIGN_OR_RETURN(std::optional<v1::CaseEvent> existing, a.txn.GetEvent(e.event_id()));
  if (existing) {
    return sync::FailedPrecondition(v1::REASON_IMMUTABLE,
                                    absl::StrCat("case event ", e.event_id(),
                                                 " is already on record; the timeline is "
                                                 "append-only"));
  }
  if (e.at_ms() <= 0) e.set_at_ms(a.prepared.hlc.wall_ms);
  if (e.officer_id().empty()) e.set_officer_id(a.m().officer_id());
  RETURN_IF_ERROR(a.txn.PutEvent(e));
  return a.Changed(EntityKind::kEvent, e.event_id(), TownScope(brief.town_id));
}

absl::Status ApplyOperation(Apply& a) {
  RETURN_IF_ERROR(CheckOfficer(a));
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

void Reject(v1::MutationResult* result, const absl::Status& refusal) {
  result->set_outcome(v1::OUTCOME_REJECTED);
  result->set_reason(sync::ReasonOf(refusal));
  result->set_message(std::string(refusal.message()));
  result->clear_conflicts();
  result->clear_case_number();
  result->set_server_seq(0);
}

// --- Security (issue 5): audit entries and escalation. ----------------------

// The audit entry of one mutation's outcome (applied, with conflict, or
// rejected), in the batch's transaction.
absl::Status AuditMutation(WriteTxn& txn, const Caller& caller, const v1::Mutation& m,
                           const v1::MutationResult& result, int64_t now_ms) {
  const char* action = "mutation.applied";
  if (result.outcome() == v1::OUTCOME_APPLIED_WITH_CONFLICT) action = "mutation.conflict";
  if (result.outcome() == v1::OUTCOME_REJECTED) action = "mutation.rejected";
  // One entry per pushed mutation, so written by hand rather than through a
  // nlohmann::json object: the same bytes (keys in sorted order, as
  // nlohmann::json::dump writes them), without a map node per key.
  auto quoted = [](const std::string& s) { return nlohmann::json(s).dump(); };
  std::string details = "{";
  if (result.conflicts_size() > 0) {
    absl::StrAppend(&details, "\"conflicts\":[");
    for (int i = 0; i < result.conflicts_size(); ++i) {
      absl::StrAppend(&details, i > 0 ? "," : "", quoted(result.conflicts(i).conflict_id()));
    }
    absl::StrAppend(&details, "],");
  }
  absl::StrAppend(&details, "\"device\":", quoted(caller.device_id),
                  ",\"device_seq\":", m.device_seq());
  if (result.outcome() == v1::OUTCOME_REJECTED) {
    absl::StrAppend(&details, ",\"message\":", quoted(result.message()));
  }
  absl::StrAppend(&details, ",\"officer\":", quoted(m.officer_id()),
                  ",\"operation\":", static_cast<int>(m.operation_case()), ",\"outcome\":\"",
                  v1::Outcome_Name(result.outcome()), "\"");
  if (result.outcome() == v1::OUTCOME_REJECTED) {
    absl::StrAppend(&details, ",\"reason\":\"", v1::ReasonCode_Name(result.reason()), "\"");
  }
  details += "}";
  return AppendAudit(
      txn, now_ms, caller.actor.empty() ? absl::StrCat("device:", caller.device_id) : caller.actor,
      action, m.mutation_id(), std::move(details));
}

// --- Rejections (docs/protocol.md "Push"): the device's copy is put right. --

// The entity a mutation names: its change-log kind and id, and the case it
// belongs to (for the scope).
struct NamedEntity {
  EntityKind kind;
  std::string id;
  std::string case_id;
};

std::optional<NamedEntity> EntityNamedBy(const v1::Mutation& m) {
  switch (m.operation_case()) {
    case v1::Mutation::kRecordCase:
      return NamedEntity{EntityKind::kCase, m.record_case().case_().case_id(),
                         m.record_case().case_().case_id()};
    case v1::Mutation::kUpdateCaseFields:
      return NamedEntity{EntityKind::kCase, m.update_case_fields().case_id(),
                         m.update_case_fields().case_id()};
    case v1::Mutation::kTransitionCase:
      return NamedEntity{EntityKind::kCase, m.transition_case().case_id(),
                         m.transition_case().case_id()};
    case v1::Mutation::kAddEvidence:
      return NamedEntity{EntityKind::kEvidence, m.add_evidence().evidence().evidence_id(),
                         m.add_evidence().evidence().case_id()};
    case v1::Mutation::kWithdrawEvidence:
      return NamedEntity{EntityKind::kEvidence, m.withdraw_evidence().evidence_id(),
                         m.withdraw_evidence().case_id()};
    case v1::Mutation::kIssueTicket:
      return NamedEntity{EntityKind::kTicket, m.issue_ticket().ticket().ticket_id(),
                         m.issue_ticket().ticket().case_id()};
    case v1::Mutation::kVoidTicket:
      return NamedEntity{EntityKind::kTicket, m.void_ticket().ticket_id(),
                         m.void_ticket().case_id()};
    case v1::Mutation::kRecordNoPenalty:
      return NamedEntity{EntityKind::kNoPenalty, m.record_no_penalty().decision().decision_id(),
                         m.record_no_penalty().decision().case_id()};
    case v1::Mutation::kAppendCaseEvent:
      return NamedEntity{EntityKind::kEvent, m.append_case_event().event().event_id(),
                         m.append_case_event().event().case_id()};
    case v1::Mutation::OPERATION_NOT_SET:
      break;
  }
  return std::nullopt;
}

// After a rejection, moves the stored entity the mutation names (if there is
// one) to the head of the change log, in its case's town scope, so that the
// device's next incremental pull replaces its optimistic local copy with the
// authoritative one. An entity of another town stays out of the caller's
// scope (the scope is the entity's own town). Nothing is logged when the
// entity does not exist (e.g. a refused record_case): the device then keeps
// its local copy until a snapshot. Returns the entry's server_seq, or 0 when
// nothing was logged.
absl::StatusOr<uint64_t> RestoreNamedEntity(WriteTxn& txn, const v1::Mutation& m) {
  std::optional<NamedEntity> named = EntityNamedBy(m);
  if (!named || named->id.empty() || named->case_id.empty()) return 0;
  ASSIGN_OR_RETURN(std::optional<CaseRecord> record, txn.GetCase(named->case_id));
  if (!record) return 0;
  bool exists = false;
  switch (named->kind) {
    case EntityKind::kCase:
      exists = true;
      break;
    case EntityKind::kEvidence: {
      ASSIGN_OR_RETURN(auto e, txn.GetEvidence(named->id));
      exists = e.has_value() && e->case_id() == named->case_id;
      break;
    }
    case EntityKind::kTicket: {
      ASSIGN_OR_RETURN(auto t, txn.GetTicket(named->id));
      exists = t.has_value() && t->case_id() == named->case_id;
      break;
    }
    case EntityKind::kNoPenalty: {
      ASSIGN_OR_RETURN(auto d, txn.GetNoPenalty(named->id));
      exists = d.has_value() && d->case_id() == named->case_id;
      break;
    }
    case EntityKind::kEvent: {
      ASSIGN_OR_RETURN(auto e, txn.GetEvent(named->id));
      exists = e.has_value() && e->case_id() == named->case_id;
      break;
    }
    default:
      break;
  }
  if (!exists) return 0;
  return txn.AppendChange(named->kind, named->id, TownScope(record->value.town_id()));
}

}  // namespace

PreparedMutation PrepareMutation(const Caller& caller, v1::Mutation m, int64_t now_ms,
                                 const ApplyOptions& options) {
  PreparedMutation p;
  p.digest = sync::MutationContentDigest(m);
  if (m.device_id() != caller.device_id) {
    p.shape = sync::Refuse(
        absl::StatusCode::kPermissionDenied, v1::REASON_WRONG_DEVICE,
        absl::StrCat("the mutation names device \"", m.device_id(), "\" but was pushed by device ",
                     caller.device_id, "; a device pushes only its own mutations"));
  } else {
    p.shape = sync::CheckMutationShape(m);
  }
  p.hlc = sync::ClampHlc(sync::HlcStamp::FromProto(m.hlc()), now_ms, options.max_clock_skew_ms,
                         &p.hlc_clamped);
  p.mutation = std::move(m);
  return p;
}

absl::StatusOr<const v1::Matter*> MatterCache::Find(ReadTxn& txn, const std::string& code) {
  if (!loaded_) {
    ASSIGN_OR_RETURN(std::optional<v1::Catalog> catalog, txn.CurrentCatalog());
    matters_.clear();
    if (catalog) {
      for (const v1::Matter& matter : catalog->matters()) matters_[matter.code()] = matter;
    }
    loaded_ = true;
  }
  auto it = matters_.find(code);
  return it == matters_.end() ? nullptr : &it->second;
}

absl::Status ApplyBatch(WriteTxn& txn, MatterCache& matters, const Caller& caller,
                        const std::vector<PreparedMutation>& batch, const ApplyOptions& options,
                        int64_t now_ms, BatchOutcome* out) {
  ASSIGN_OR_RETURN(uint64_t acked, txn.AcknowledgedSeq(caller.device_id));
  const uint64_t first_acked = acked;
  for (const PreparedMutation& p : batch) {
    const v1::Mutation& m = p.mutation;
    const uint64_t seq = m.device_seq();
    v1::MutationResult result;
    result.set_mutation_id(m.mutation_id());
    result.set_device_seq(seq);

    if (seq <= acked) {
      // A resend of something already answered: the same mutation gets its
      // original outcome; anything else reusing the number is refused.
      ASSIGN_OR_RETURN(std::optional<DeviceLogEntry> entry,
                       txn.GetDeviceLog(caller.device_id, seq));
      if (!entry) {
        return absl::DataLossError(absl::StrCat("device ", caller.device_id, " sequence ", seq,
                                                " is acknowledged but has no recorded outcome"));
      }
      if (entry->mutation_id == m.mutation_id() && entry->digest == p.digest) {
        result = entry->result;
        result.set_original(entry->result.outcome());
        result.set_outcome(v1::OUTCOME_DUPLICATE);
      } else if (entry->mutation_id == m.mutation_id()) {
        Reject(&result,
               sync::InvalidArgument(v1::REASON_MUTATION_ID_REUSED,
                                     absl::StrCat("mutation ", m.mutation_id(),
                                                  " was already received with different content; "
                                                  "nothing of this one was applied")));
      } else {
        Reject(&result, sync::InvalidArgument(
                            v1::REASON_INVALID_ARGUMENT,
                            absl::StrCat("device_seq ", seq, " of device ", caller.device_id,
                                         " was already used by mutation ", entry->mutation_id,
                                         "; nothing of this one was applied")));
      }
      out->results.push_back(std::move(result));
      continue;
    }
    if (seq != acked + 1) {
      out->resend_from = acked + 1;
      break;
    }

    absl::Status refusal = p.shape;
    if (refusal.ok()) {
      ASSIGN_OR_RETURN(bool reused, txn.MutationIdKnown(m.mutation_id()));
      if (reused) {
        refusal = sync::InvalidArgument(
            v1::REASON_MUTATION_ID_REUSED,
            absl::StrCat("mutation id ", m.mutation_id(),
                         " was already used with different content; nothing of this one was "
                         "applied"));
      }
    }
    if (refusal.ok()) {
      result.set_outcome(v1::OUTCOME_APPLIED);
      result.set_hlc_clamped(p.hlc_clamped);
      Apply a{txn, matters, caller, options, p, now_ms, &result};
      a.recorded_now_after = first_acked;
      // Every operation checks all its rules before its first write, so a
      // refusal leaves nothing behind.
      absl::Status applied = ApplyOperation(a);
      if (!applied.ok()) {
        if (!IsRefusal(applied)) return applied;  // storage error: roll back the batch
        refusal = applied;
      }
    }
    DeviceLogEntry entry;
    entry.device_id = caller.device_id;
    entry.device_seq = seq;
    entry.mutation_id = m.mutation_id();
    entry.digest = p.digest;
    entry.recorded_at_ms = now_ms;
    if (!refusal.ok()) {
      Reject(&result, refusal);
      result.set_hlc_clamped(p.hlc_clamped);
      entry.mutation = m;
      ASSIGN_OR_RETURN(uint64_t restored_at, RestoreNamedEntity(txn, m));
      result.set_server_seq(restored_at);
    }
    entry.result = result;
    RETURN_IF_ERROR(txn.PutDeviceLog(entry));
    RETURN_IF_ERROR(AuditMutation(txn, caller, m, result, now_ms));
    acked = seq;
    out->results.push_back(std::move(result));
  }
  if (acked > first_acked) RETURN_IF_ERROR(txn.AdvanceDeviceSync(caller.device_id, acked, now_ms));
  out->acknowledged_seq = acked;
  return absl::OkStatus();
}

absl::Status ResubmitRejected(WriteTxn& txn, MatterCache& matters, const Caller& caller,
                              const DeviceLogEntry& entry, const ApplyOptions& options,
                              int64_t now_ms, v1::MutationResult* result) {
  if (!entry.mutation) {
    return absl::DataLossError(
        absl::StrCat("rejected mutation ", entry.mutation_id, " was recorded without its content"));
  }
  // The sequence number was consumed by the rejection; the re-application is
  // keyed by the mutation id alone and does not touch the device's sequence.
  PreparedMutation p = PrepareMutation(caller, *entry.mutation, now_ms, options);
  result->Clear();
  result->set_mutation_id(entry.mutation_id);
  result->set_device_seq(entry.device_seq);
  absl::Status refusal = p.shape;
  if (refusal.ok()) {
    result->set_outcome(v1::OUTCOME_APPLIED);
    result->set_hlc_clamped(p.hlc_clamped);
    Apply a{txn, matters, caller, options, p, now_ms, result};
    absl::Status applied = ApplyOperation(a);
    if (!applied.ok()) {
      if (!IsRefusal(applied)) return applied;
      refusal = applied;
    }
  }
  if (!refusal.ok()) {
    Reject(result, refusal);
    result->set_hlc_clamped(p.hlc_clamped);
  }
  nlohmann::json details = {{"device", entry.device_id},
                            {"device_seq", entry.device_seq},
                            {"outcome", v1::Outcome_Name(result->outcome())}};
  if (!refusal.ok()) {
    details["reason"] = v1::ReasonCode_Name(result->reason());
    details["message"] = result->message();
  }
  for (const v1::ConflictLoss& loss : result->conflicts()) {
    details["conflicts"].push_back(loss.conflict_id());
  }
  return AppendAudit(txn, now_ms, caller.actor, "mutation.resubmitted", entry.mutation_id, details);
}

absl::StatusOr<uint64_t> RestoreLosingValue(WriteTxn& txn, MatterCache& matters,
                                            const v1::ConflictLoss& loss,
                                            const std::string& officer_id,
                                            const ApplyOptions& options, int64_t now_ms) {
  ASSIGN_OR_RETURN(std::optional<CaseRecord> record, txn.GetCase(loss.case_id()));
  if (!record) {
    return absl::NotFoundError(absl::StrCat("case ", loss.case_id(), " is not on record"));
  }
  const std::string party_id = IsPartyField(loss.field()) ? loss.party_id() : "";
  // A fresh stamp after the field's current one (and after the server clock).
  sync::HlcStamp stamp{now_ms, 0};
  auto it = record->stamps.find(FieldKey(loss.field(), party_id));
  if (it != record->stamps.end() && !(it->second.hlc < stamp)) {
    stamp = {it->second.hlc.wall_ms, it->second.hlc.logical + 1};
  }
  PreparedMutation p;
  p.mutation.set_mutation_id(sync::NewUuidV7(now_ms));
  p.mutation.set_device_id(kServerWriter);
  p.mutation.set_officer_id(officer_id);
  *p.mutation.mutable_hlc() = stamp.ToProto();
  v1::UpdateCaseFields* op = p.mutation.mutable_update_case_fields();
  op->set_case_id(loss.case_id());
  v1::CaseFieldChange* change = op->add_changes();
  change->set_field(loss.field());
  change->set_party_id(party_id);
  change->set_value(loss.losing_value());
  p.hlc = stamp;
  const Caller caller{kServerWriter, record->value.town_id(), record->value.squad_id(), officer_id};
  v1::MutationResult result;
  Apply a{txn, matters, caller, options, p, now_ms, &result, /*server_write=*/true};
  RETURN_IF_ERROR(ApplyUpdateCaseFields(a));
  return result.server_seq();
}

std::string FormatCaseNumber(const std::string& format, int year, int64_t seq) {
  std::string out;
  size_t i = 0;
  while (i < format.size()) {
    if (format.compare(i, 6, "{year}") == 0) {
      absl::StrAppend(&out, year);
      i += 6;
      continue;
    }
    if (format.compare(i, 4, "{seq") == 0) {
      size_t close = format.find('}', i);
      if (close != std::string::npos) {
        absl::string_view spec(format.data() + i + 4, close - i - 4);
        int width = 0;
        if (spec.empty() || (spec.front() == ':' && absl::SimpleAtoi(spec.substr(1), &width) &&
                             width >= 0 && width <= 18)) {
          absl::StrAppend(&out, absl::StrFormat("%0*d", width, seq));
          i = close + 1;
          continue;
        }
      }
    }
    out.push_back(format[i++]);
  }
  return out;
}

int BureauYear(int64_t unix_ms) {
  const time_t seconds = static_cast<time_t>(unix_ms / 1000 + 8 * 3600);
  struct tm parts;
  gmtime_r(&seconds, &parts);
  return parts.tm_year + 1900;
}

}  // namespace palm::server
