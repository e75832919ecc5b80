#include "sync/mutation.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "sync/sha256.h"
#include "sync/status.h"
#include "sync/status_macros.h"
#include "sync/uuid.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

absl::Status Malformed(absl::string_view message) {
  return InvalidArgument(v1::REASON_INVALID_ARGUMENT, message);
}

absl::Status RequireUuid(absl::string_view field, absl::string_view value) {
  if (value.empty()) return Malformed(absl::StrCat(field, " is missing"));
  if (!IsValidUuid(value)) return Malformed(absl::StrCat(field, " \"", value, "\" is not a UUID"));
  return absl::OkStatus();
}

absl::Status RequireText(absl::string_view field, absl::string_view value) {
  if (absl::StripAsciiWhitespace(value).empty()) {
    return Malformed(absl::StrCat(field, " is missing"));
  }
  return absl::OkStatus();
}

bool IsCaseFieldOfParty(v1::CaseField field) {
  switch (field) {
    case v1::CASE_FIELD_PARTY_NAME:
    case v1::CASE_FIELD_PARTY_ID_NUMBER:
    case v1::CASE_FIELD_PARTY_PHONE:
    case v1::CASE_FIELD_PARTY_ADDRESS:
    case v1::CASE_FIELD_PARTY_KIND:
      return true;
    default:
      return false;
  }
}

absl::Status CheckOperation(const v1::Mutation& m) {
  switch (m.operation_case()) {
    case v1::Mutation::kRecordCase: {
      if (!m.record_case().has_case_()) return Malformed("record_case.case is missing");
      return RequireUuid("record_case.case.case_id", m.record_case().case_().case_id());
    }
    case v1::Mutation::kUpdateCaseFields: {
      const v1::UpdateCaseFields& op = m.update_case_fields();
      PALM_RETURN_IF_ERROR(RequireUuid("update_case_fields.case_id", op.case_id()));
      if (op.changes().empty()) return Malformed("update_case_fields.changes is empty");
      for (int i = 0; i < op.changes_size(); ++i) {
        const v1::CaseFieldChange& change = op.changes(i);
        if (change.field() == v1::CASE_FIELD_UNSPECIFIED ||
            !v1::CaseField_IsValid(change.field())) {
          return Malformed(absl::StrCat("update_case_fields.changes[", i, "].field is not set"));
        }
        if (IsCaseFieldOfParty(change.field()) && change.party_id().empty()) {
          return Malformed(absl::StrCat("update_case_fields.changes[", i,
                                        "].party_id is missing for a party field"));
        }
      }
      return absl::OkStatus();
    }
    case v1::Mutation::kAddEvidence: {
      const v1::Evidence& e = m.add_evidence().evidence();
      PALM_RETURN_IF_ERROR(RequireUuid("add_evidence.evidence.evidence_id", e.evidence_id()));
      PALM_RETURN_IF_ERROR(RequireUuid("add_evidence.evidence.case_id", e.case_id()));
      if (!IsLowerHexSha256(e.sha256())) {
        return Malformed("add_evidence.evidence.sha256 must be 64 lowercase hex characters");
      }
      if (e.size_bytes() == 0) return Malformed("add_evidence.evidence.size_bytes is missing");
      return absl::OkStatus();
    }
    case v1::Mutation::kWithdrawEvidence: {
      const v1::WithdrawEvidence& op = m.withdraw_evidence();
      PALM_RETURN_IF_ERROR(RequireUuid("withdraw_evidence.case_id", op.case_id()));
      PALM_RETURN_IF_ERROR(RequireUuid("withdraw_evidence.evidence_id", op.evidence_id()));
      return RequireText("withdraw_evidence.reason", op.reason());
    }
    case v1::Mutation::kIssueTicket: {
      const v1::Ticket& t = m.issue_ticket().ticket();
      PALM_RETURN_IF_ERROR(RequireUuid("issue_ticket.ticket.ticket_id", t.ticket_id()));
      return RequireUuid("issue_ticket.ticket.case_id", t.case_id());
    }
    case v1::Mutation::kVoidTicket: {
      const v1::VoidTicket& op = m.void_ticket();
      PALM_RETURN_IF_ERROR(RequireUuid("void_ticket.case_id", op.case_id()));
      PALM_RETURN_IF_ERROR(RequireUuid("void_ticket.ticket_id", op.ticket_id()));
      return RequireText("void_ticket.reason", op.reason());
    }
    case v1::Mutation::kRecordNoPenalty: {
      const v1::NoPenaltyDecision& d = m.record_no_penalty().decision();
      PALM_RETURN_IF_ERROR(RequireUuid("record_no_penalty.decision.decision_id", d.decision_id()));
      return RequireUuid("record_no_penalty.decision.case_id", d.case_id());
    }
    case v1::Mutation::kTransitionCase: {
      const v1::TransitionCase& op = m.transition_case();
      PALM_RETURN_IF_ERROR(RequireUuid("transition_case.case_id", op.case_id()));
      if (op.from_state() == v1::CASE_STATE_UNSPECIFIED ||
          !v1::CaseState_IsValid(op.from_state())) {
        return Malformed("transition_case.from_state is not set");
      }
      if (op.to_state() == v1::CASE_STATE_UNSPECIFIED || !v1::CaseState_IsValid(op.to_state())) {
        return Malformed("transition_case.to_state is not set");
      }
      return absl::OkStatus();
    }
    case v1::Mutation::kAppendCaseEvent: {
      const v1::CaseEvent& e = m.append_case_event().event();
      PALM_RETURN_IF_ERROR(RequireUuid("append_case_event.event.event_id", e.event_id()));
      PALM_RETURN_IF_ERROR(RequireUuid("append_case_event.event.case_id", e.case_id()));
      if (e.kind() == v1::CASE_EVENT_KIND_UNSPECIFIED || !v1::CaseEventKind_IsValid(e.kind())) {
        return Malformed("append_case_event.event.kind is not set");
      }
      return absl::OkStatus();
    }
    case v1::Mutation::OPERATION_NOT_SET:
      break;
  }
  return Malformed("the mutation carries no operation");
}

}  // namespace

absl::Status CheckMutationShape(const v1::Mutation& m) {
  if (m.mutation_id().empty()) return Malformed("mutation_id is missing");
  if (!IsValidUuid(m.mutation_id())) {
    return Malformed(absl::StrCat("mutation_id \"", m.mutation_id(), "\" is not a UUID"));
  }
  if (m.device_id().empty()) return Malformed("device_id is missing");
  if (m.device_seq() == 0) return Malformed("device_seq is missing (sequences start at 1)");
  if (m.hlc().wall_ms() <= 0) return Malformed("hlc.wall_ms is missing");
  if (m.officer_id().empty()) return Malformed("officer_id is missing");
  return CheckOperation(m);
}

std::string MutationContentDigest(const v1::Mutation& m) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return HexEncode(Sha256::Of(bytes));
}

absl::string_view OperationName(const v1::Mutation& m) {
  if (m.operation_case() == v1::Mutation::OPERATION_NOT_SET) return "none";
  const google::protobuf::FieldDescriptor* field =
      v1::Mutation::descriptor()->FindFieldByNumber(static_cast<int>(m.operation_case()));
  return field == nullptr ? absl::string_view("unknown") : absl::string_view(field->name());
}

std::string CaseIdOf(const v1::Mutation& m) {
  switch (m.operation_case()) {
    case v1::Mutation::kRecordCase:
      return m.record_case().case_().case_id();
    case v1::Mutation::kUpdateCaseFields:
      return m.update_case_fields().case_id();
    case v1::Mutation::kAddEvidence:
      return m.add_evidence().evidence().case_id();
    case v1::Mutation::kWithdrawEvidence:
      return m.withdraw_evidence().case_id();
    case v1::Mutation::kIssueTicket:
      return m.issue_ticket().ticket().case_id();
    case v1::Mutation::kVoidTicket:
      return m.void_ticket().case_id();
    case v1::Mutation::kRecordNoPenalty:
      return m.record_no_penalty().decision().case_id();
    case v1::Mutation::kTransitionCase:
      return m.transition_case().case_id();
    case v1::Mutation::kAppendCaseEvent:
      return m.append_case_event().event().case_id();
    case v1::Mutation::OPERATION_NOT_SET:
      break;
  }
  return "";
}

}  // namespace palm::sync
