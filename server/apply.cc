// Push batches: idempotency, sequence gaps, the device log, the audit entry
// of every outcome, and what a rejection puts right on the device. The
// operations themselves are applied in apply_case.cc and apply_records.cc.
#include "server/apply.h"

#include <cstdint>
#include <ctime>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/apply_internal.h"
#include "server/audit.h"
#include "sync/mutation.h"
#include "sync/operations.h"
#include "sync/request_check.h"
#include "sync/status.h"
#include "sync/uuid.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;
using internal::Apply;
using internal::IsRefusal;

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
// scope, and a refused write names nothing of it: an entity of another town
// is left where it is in the change log (the caller could not have a copy of
// it, and that town's devices must not download it again for a write they
// never saw). Nothing is logged when the entity does not exist (e.g. a
// refused record_case): the device then keeps its local copy until a
// snapshot. Returns the entry's server_seq, or 0 when nothing was logged.
absl::StatusOr<uint64_t> RestoreNamedEntity(WriteTxn& txn, const Caller& caller,
                                            const v1::Mutation& m) {
  std::optional<NamedEntity> named = EntityNamedBy(m);
  if (!named || named->id.empty() || named->case_id.empty()) return 0;
  PALM_ASSIGN_OR_RETURN(std::optional<CaseBrief> record, txn.GetCaseBrief(named->case_id));
  if (!record || record->town_id != caller.town_id) return 0;
  bool exists = false;
  switch (named->kind) {
    case EntityKind::kCase:
      exists = true;
      break;
    case EntityKind::kEvidence: {
      PALM_ASSIGN_OR_RETURN(auto e, txn.GetEvidence(named->id));
      exists = e.has_value() && e->case_id() == named->case_id;
      break;
    }
    case EntityKind::kTicket: {
      PALM_ASSIGN_OR_RETURN(auto t, txn.GetTicket(named->id));
      exists = t.has_value() && t->case_id() == named->case_id;
      break;
    }
    case EntityKind::kNoPenalty: {
      PALM_ASSIGN_OR_RETURN(auto d, txn.GetNoPenalty(named->id));
      exists = d.has_value() && d->case_id() == named->case_id;
      break;
    }
    case EntityKind::kEvent: {
      PALM_ASSIGN_OR_RETURN(auto e, txn.GetEvent(named->id));
      exists = e.has_value() && e->case_id() == named->case_id;
      break;
    }
    default:
      break;
  }
  if (!exists) return 0;
  return txn.AppendChange(named->kind, named->id, TownScope(record->town_id));
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

absl::Status MatterCache::Load(ReadTxn& txn) {
  if (loaded_) return absl::OkStatus();
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Catalog> catalog, txn.CurrentCatalog());
  matters_.clear();
  calendar_.reset();
  if (catalog) {
    for (const v1::Matter& matter : catalog->matters()) matters_[matter.code()] = matter;
    if (catalog->calendar_size() > 0) {
      // LoadCatalog checked it; a stored calendar that does not build is a
      // storage fault, reported rather than counted with.
      PALM_ASSIGN_OR_RETURN(calendar_, sync::WorkingDayCalendar::From(catalog->calendar()));
    }
  }
  loaded_ = true;
  return absl::OkStatus();
}

absl::StatusOr<const v1::Matter*> MatterCache::Find(ReadTxn& txn, const std::string& code) {
  PALM_RETURN_IF_ERROR(Load(txn));
  auto it = matters_.find(code);
  return it == matters_.end() ? nullptr : &it->second;
}

absl::StatusOr<const std::vector<v1::Town>*> MatterCache::Towns(ReadTxn& txn) {
  if (!towns_loaded_) {
    PALM_ASSIGN_OR_RETURN(towns_, txn.ListTowns());
    towns_loaded_ = true;
  }
  return &towns_;
}

absl::StatusOr<const sync::WorkingDayCalendar*> MatterCache::Calendar(ReadTxn& txn) {
  PALM_RETURN_IF_ERROR(Load(txn));
  return calendar_ ? &*calendar_ : nullptr;
}

absl::Status ApplyBatch(WriteTxn& txn, MatterCache& matters, const Caller& caller,
                        const std::vector<PreparedMutation>& batch, const ApplyOptions& options,
                        int64_t now_ms, BatchOutcome* out) {
  PALM_ASSIGN_OR_RETURN(uint64_t acked, txn.AcknowledgedSeq(caller.device_id));
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
      PALM_ASSIGN_OR_RETURN(std::optional<DeviceLogEntry> entry,
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
      PALM_ASSIGN_OR_RETURN(bool reused, txn.MutationIdKnown(m.mutation_id()));
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
      absl::Status applied = internal::ApplyOperation(a);
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
      sync::BoundRefused(&*entry.mutation);
      PALM_ASSIGN_OR_RETURN(uint64_t restored_at, RestoreNamedEntity(txn, caller, m));
      result.set_server_seq(restored_at);
    }
    entry.result = result;
    PALM_RETURN_IF_ERROR(txn.PutDeviceLog(entry));
    PALM_RETURN_IF_ERROR(AuditMutation(txn, caller, m, result, now_ms));
    acked = seq;
    out->results.push_back(std::move(result));
  }
  if (acked > first_acked)
    PALM_RETURN_IF_ERROR(txn.AdvanceDeviceSync(caller.device_id, acked, now_ms));
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
    absl::Status applied = internal::ApplyOperation(a);
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
  PALM_ASSIGN_OR_RETURN(std::optional<CaseRecord> record, txn.GetCase(loss.case_id()));
  if (!record) {
    return absl::NotFoundError(absl::StrCat("case ", loss.case_id(), " is not on record"));
  }
  const std::string party_id = sync::IsPartyField(loss.field()) ? loss.party_id() : "";
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
  PALM_RETURN_IF_ERROR(internal::ApplyUpdateCaseFields(a));
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
