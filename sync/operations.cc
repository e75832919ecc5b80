#include "sync/operations.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sync/lifecycle.h"
#include "sync/no_penalty.h"
#include "sync/notice.h"
#include "sync/payment.h"
#include "sync/quote.h"
#include "sync/rules.h"
#include "sync/service.h"
#include "sync/status.h"
#include "sync/status_macros.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

absl::Status Malformed(absl::string_view message) {
  return InvalidArgument(v1::REASON_INVALID_ARGUMENT, message);
}

// Parses "lat,lng[,accuracy]" within the ranges CanonicalFieldValue names.
std::optional<v1::GeoPoint> ParseLocation(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  if (parts.size() < 2 || parts.size() > 3) return std::nullopt;
  double values[3] = {0, 0, 0};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!absl::SimpleAtod(parts[i], &values[i])) return std::nullopt;
  }
  // Written so that NaN fails every comparison and is refused.
  if (!(values[0] >= -90 && values[0] <= 90 && values[1] >= -180 && values[1] <= 180 &&
        values[2] >= 0 && values[2] < 1e7)) {
    return std::nullopt;
  }
  v1::GeoPoint p;
  p.set_latitude(values[0]);
  p.set_longitude(values[1]);
  p.set_accuracy_m(values[2]);
  return p;
}

v1::Party* MutableParty(v1::Case* c, const std::string& party_id) {
  for (v1::Party& p : *c->mutable_parties()) {
    if (p.party_id() == party_id) return &p;
  }
  v1::Party* party = c->add_parties();
  party->set_party_id(party_id);
  return party;
}

const v1::Party* FindParty(const v1::Case& c, const std::string& party_id) {
  for (const v1::Party& p : c.parties()) {
    if (p.party_id() == party_id) return &p;
  }
  return nullptr;
}

}  // namespace

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

absl::StatusOr<std::string> CanonicalFieldValue(const v1::CaseFieldChange& change,
                                                absl::string_view where) {
  const std::string& value = change.value();
  auto bad = [&](absl::string_view what) {
    return Malformed(absl::StrCat(where, ".value \"", QuotePrefix(value), "\" is not ", what));
  };
  if (IsPartyField(change.field()) && change.party_id().empty()) {
    return Malformed(absl::StrCat(where, " changes a party field but names no party_id"));
  }
  int64_t number = 0;
  switch (change.field()) {
    case v1::CASE_FIELD_DESCRIPTION:
    case v1::CASE_FIELD_ADDRESS:
    case v1::CASE_FIELD_PARTY_NAME:
    case v1::CASE_FIELD_PARTY_ID_NUMBER:
    case v1::CASE_FIELD_PARTY_PHONE:
    case v1::CASE_FIELD_PARTY_ADDRESS:
      return value;
    case v1::CASE_FIELD_LOCATION: {
      std::optional<v1::GeoPoint> p = ParseLocation(value);
      if (!p) return bad("\"lat,lng[,accuracy]\" with a valid position and accuracy >= 0");
      // Rounded, then read back, so that canonical text and stored value agree.
      return FormatLocation(*p);
    }
    case v1::CASE_FIELD_OCCURRED_AT:
      if (!absl::SimpleAtoi(value, &number) || number <= 0) {
        return bad("a positive number of Unix milliseconds");
      }
      return absl::StrCat(number);
    case v1::CASE_FIELD_PROPOSED_FINE:
      if (!absl::SimpleAtoi(value, &number) || number < 0) {
        return bad("a non-negative whole number of fen");
      }
      return absl::StrCat(number);
    case v1::CASE_FIELD_PARTY_KIND:
      if (!absl::SimpleAtoi(value, &number) ||
          (number != v1::PARTY_KIND_CITIZEN && number != v1::PARTY_KIND_ORGANISATION)) {
        return bad(absl::StrCat("a party kind (", static_cast<int>(v1::PARTY_KIND_CITIZEN),
                                " citizen or ", static_cast<int>(v1::PARTY_KIND_ORGANISATION),
                                " organisation)"));
      }
      return absl::StrCat(number);
    case v1::CASE_FIELD_MATTER_CODE:
      if (value.empty()) return bad("a matter code");
      return value;
    default:
      return Malformed(
          absl::StrCat(where, ".field ", static_cast<int>(change.field()), " is not a case field"));
  }
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

void SetFieldValue(v1::Case* c, v1::CaseField field, const std::string& party_id,
                   const std::string& canonical) {
  v1::Party* party = IsPartyField(field) ? MutableParty(c, party_id) : nullptr;
  int64_t number = 0;
  switch (field) {
    case v1::CASE_FIELD_DESCRIPTION:
      c->set_description(canonical);
      break;
    case v1::CASE_FIELD_ADDRESS:
      c->mutable_place()->set_address(canonical);
      break;
    case v1::CASE_FIELD_LOCATION:
      if (std::optional<v1::GeoPoint> p = ParseLocation(canonical)) {
        *c->mutable_place()->mutable_location() = *p;
      }
      break;
    case v1::CASE_FIELD_OCCURRED_AT:
      (void)absl::SimpleAtoi(canonical, &number);
      c->set_occurred_at_ms(number);
      break;
    case v1::CASE_FIELD_MATTER_CODE:
      c->set_matter_code(canonical);
      break;
    case v1::CASE_FIELD_PROPOSED_FINE:
      (void)absl::SimpleAtoi(canonical, &number);
      c->set_proposed_fine_fen(number);
      break;
    case v1::CASE_FIELD_PARTY_NAME:
      party->set_name(canonical);
      break;
    case v1::CASE_FIELD_PARTY_ID_NUMBER:
      party->set_id_number(canonical);
      break;
    case v1::CASE_FIELD_PARTY_PHONE:
      party->set_phone(canonical);
      break;
    case v1::CASE_FIELD_PARTY_ADDRESS:
      party->set_address(canonical);
      break;
    case v1::CASE_FIELD_PARTY_KIND:
      (void)absl::SimpleAtoi(canonical, &number);
      party->set_kind(static_cast<v1::PartyKind>(number));
      break;
    default:
      break;
  }
}

absl::Status CheckCaseEditable(const v1::Case& c, absl::string_view case_label) {
  if (c.state() != v1::CASE_STATE_ARCHIVED) return absl::OkStatus();
  return FailedPrecondition(
      v1::REASON_IMMUTABLE,
      absl::StrCat("case ", case_label, " is archived and can no longer change"));
}

absl::Status CheckMatterKnown(const std::string& code, const v1::Matter* matter) {
  if (matter != nullptr) return absl::OkStatus();
  return InvalidArgument(v1::REASON_UNKNOWN_MATTER,
                         absl::StrCat("matter code ", code, " is not in the catalogue"));
}

absl::Status CheckOfficersOnRoster(const google::protobuf::RepeatedPtrField<std::string>& ids,
                                   absl::string_view where, const OfficerLookup& roster) {
  for (const std::string& id : ids) {
    const v1::Officer* officer = roster(id);
    if (officer == nullptr) {
      return FailedPrecondition(
          v1::REASON_UNKNOWN_OFFICER,
          absl::StrCat(where, " names officer ", id, ", who is not on this town's roster"));
    }
    if (!officer->active()) {
      return Refuse(absl::StatusCode::kPermissionDenied, v1::REASON_PERMISSION_DENIED,
                    absl::StrCat(where, " names officer ", id, ", who is not active"));
    }
  }
  return absl::OkStatus();
}

bool HoldsCredential(const v1::Officer& officer) {
  return officer.sworn() && officer.active() &&
         !absl::StripAsciiWhitespace(officer.certificate_number()).empty();
}

absl::Status CheckCredentialedOfficers(const google::protobuf::RepeatedPtrField<std::string>& ids,
                                       CredentialedAct act, const OfficerLookup& roster) {
  std::set<std::string> counted;
  std::set<std::string> seen;
  std::vector<std::string> gaps;
  for (const std::string& raw : ids) {
    const std::string id(absl::StripAsciiWhitespace(raw));
    if (id.empty() || !seen.insert(id).second) continue;
    const v1::Officer* officer = roster(id);
    if (officer != nullptr && HoldsCredential(*officer)) {
      counted.insert(id);
    } else if (officer == nullptr || !officer->active()) {
      gaps.push_back(
          absl::StrCat(id, " is not an active officer on the roster and does not count"));
    } else if (!officer->sworn()) {
      gaps.push_back(absl::StrCat(id, " is an auxiliary and does not count"));
    } else {
      gaps.push_back(
          absl::StrCat(id, " has no enforcement credential number on record and does not count"));
    }
  }
  if (counted.size() >= 2) return absl::OkStatus();
  const char* what = "a ticket";
  const char* article = "Art. 42";
  switch (act) {
    case CredentialedAct::kTicket:
      break;
    case CredentialedAct::kInspectionRecord:
      what = "an inspection or investigation record";
      article = "Art. 55";
      break;
    case CredentialedAct::kNoPenalty:
      what = "a no-penalty decision";
      break;
  }
  std::string message = absl::StrCat(
      what, " needs at least two law-enforcement officers holding credentials (", article, "); ");
  if (gaps.empty()) {
    absl::StrAppend(&message,
                    counted.size() == 1 ? "only 1 officer is named" : "no officer is named");
  } else {
    absl::StrAppend(&message, absl::StrJoin(gaps, "; "));
  }
  return InvalidArgument(v1::REASON_TOO_FEW_OFFICERS, message);
}

absl::Status CaseAlreadyRecorded(const std::string& case_id) {
  return Refuse(
      absl::StatusCode::kAlreadyExists, v1::REASON_ALREADY_EXISTS,
      absl::StrCat("case ", case_id, " is already on record; record_case creates a case once"));
}

absl::Status CheckCaseParties(const v1::Case& c) {
  std::set<std::string> ids;
  for (int i = 0; i < c.parties_size(); ++i) {
    const std::string& id = c.parties(i).party_id();
    if (id.empty()) {
      return Malformed(absl::StrCat("record_case.case.parties[", i, "].party_id is missing"));
    }
    if (!ids.insert(id).second) {
      return Malformed(
          absl::StrCat("record_case.case.parties[", i, "].party_id ", id, " appears twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status DeriveTicket(const v1::Case& c, absl::string_view case_label, v1::Ticket* t) {
  if (c.procedure() != v1::PROCEDURE_SUMMARY) {
    return InvalidArgument(v1::REASON_NOT_FAST_TRACK,
                           absl::StrCat("case ", case_label,
                                        " follows the ordinary procedure; an on-the-spot ticket "
                                        "needs a summary-procedure case (Art. 51)"));
  }
  const v1::Party* party = FindParty(c, t->party_id());
  if (party == nullptr) {
    return Malformed(absl::StrCat("issue_ticket.ticket.party_id \"", t->party_id(),
                                  "\" names no party of case ", case_label));
  }
  t->set_matter_code(c.matter_code());
  t->set_party_kind(party->kind());
  return absl::OkStatus();
}

absl::Status TicketAlreadyIssued(const std::string& ticket_id) {
  return FailedPrecondition(v1::REASON_IMMUTABLE,
                            absl::StrCat("ticket ", ticket_id,
                                         " is already issued; a ticket is never edited (void it "
                                         "and issue a new one)"));
}

absl::Status CheckVoidTicket(const v1::VoidTicket& op, const v1::Ticket* stored,
                             absl::string_view case_label) {
  if (stored == nullptr || stored->case_id() != op.case_id()) {
    return FailedPrecondition(
        v1::REASON_UNKNOWN_TICKET,
        absl::StrCat("ticket ", op.ticket_id(), " is not on record for case ", case_label));
  }
  if (stored->voided()) {
    return FailedPrecondition(v1::REASON_ALREADY_VOIDED,
                              absl::StrCat("ticket ", stored->ticket_number_text(),
                                           " was already voided: ", stored->void_reason()));
  }
  return absl::OkStatus();
}

absl::Status CheckWithdrawEvidence(const v1::WithdrawEvidence& op, const v1::Evidence* stored,
                                   absl::string_view case_label) {
  if (stored == nullptr || stored->case_id() != op.case_id()) {
    return FailedPrecondition(
        v1::REASON_UNKNOWN_EVIDENCE,
        absl::StrCat("evidence ", op.evidence_id(), " is not on record for case ", case_label));
  }
  if (stored->withdrawn()) {
    return FailedPrecondition(v1::REASON_ALREADY_WITHDRAWN,
                              absl::StrCat("evidence ", op.evidence_id(),
                                           " was already withdrawn: ", stored->withdraw_reason()));
  }
  return absl::OkStatus();
}

absl::Status CheckAddEvidence(const v1::Evidence& e) {
  if (e.kind() == v1::EVIDENCE_KIND_UNSPECIFIED || !v1::EvidenceKind_IsValid(e.kind())) {
    return Malformed(absl::StrCat("add_evidence.evidence.kind ", static_cast<int>(e.kind()),
                                  " is not an evidence kind"));
  }
  return absl::OkStatus();
}

absl::Status EvidenceAlreadyRecorded(const std::string& evidence_id) {
  return FailedPrecondition(v1::REASON_IMMUTABLE,
                            absl::StrCat("evidence ", evidence_id,
                                         " is already on record; evidence is never edited "
                                         "(withdraw it and add new evidence)"));
}

absl::Status DeriveNoPenalty(const v1::Case& c, absl::string_view case_label,
                             v1::NoPenaltyDecision* d, const v1::Party** party) {
  const v1::Party* found = FindParty(c, d->party_id());
  if (found == nullptr) {
    return Malformed(absl::StrCat("record_no_penalty.decision.party_id \"", d->party_id(),
                                  "\" names no party of case ", case_label));
  }
  if (found->id_number().empty()) {
    return Malformed(
        absl::StrCat("party ", d->party_id(),
                     " has no ID number, which the first-violation check (Art. 33) needs"));
  }
  d->set_matter_code(c.matter_code());
  *party = found;
  return absl::OkStatus();
}

std::optional<v1::PriorViolation> PriorViolationOf(const PartyKeySecret* secret, const v1::Case& c,
                                                   const v1::Party& party,
                                                   const std::string& matter_code, int64_t at_ms) {
  if (party.id_number().empty()) return std::nullopt;
  v1::PriorViolation v;
  v.set_party_key(PartyKey(secret, party.id_number()));
  if (secret != nullptr) v.set_key_id(secret->key_id());
  v.set_matter_code(matter_code);
  v.set_case_number(c.case_number());
  v.set_decided_at_ms(at_ms);
  v.set_violation_id(PriorViolationId(c.case_id(), party.party_id(), matter_code));
  return v;
}

v1::PriorViolation PriorViolationForDevice(v1::PriorViolation v) {
  v.clear_case_number();
  return v;
}

absl::Status DecisionAlreadyRecorded(const std::string& decision_id) {
  return FailedPrecondition(v1::REASON_IMMUTABLE, absl::StrCat("no-penalty decision ", decision_id,
                                                               " is already on record"));
}

bool NoPenaltyMovesCase(const v1::Case& c) { return c.state() != v1::CASE_STATE_NO_PENALTY; }

absl::Status CheckTransitionCase(const v1::Case& c, const v1::Matter* matter,
                                 const v1::TransitionCase& op, absl::string_view case_label,
                                 const v1::Officer* actor, const WorkingDayCalendar* calendar,
                                 int64_t at_ms) {
  if (c.state() != op.from_state()) {
    return FailedPrecondition(
        v1::REASON_STALE_TRANSITION,
        absl::StrCat("case ", case_label, " is now in state ", StateName(c.state()), ", not ",
                     StateName(op.from_state()), " as the device saw it; the move to ",
                     StateName(op.to_state()), " was not made"));
  }
  if (op.to_state() == v1::CASE_STATE_NO_PENALTY) {
    return InvalidArgument(
        v1::REASON_ILLEGAL_TRANSITION,
        "a case reaches NO_PENALTY only through a no-penalty decision (record_no_penalty), "
        "which carries the Art. 33 checks");
  }
  PALM_RETURN_IF_ERROR(CheckNoticeMove(op));
  PALM_RETURN_IF_ERROR(CheckCaseTransition(c, matter, op.to_state(), actor));
  PALM_RETURN_IF_ERROR(CheckServedMove(c, op.to_state(), at_ms));
  PALM_RETURN_IF_ERROR(CheckClosingMove(c, op.to_state()));
  if (op.to_state() != v1::CASE_STATE_DECIDED) return absl::OkStatus();
  return CheckDecisionAfterNotice(c, calendar, at_ms);
}

absl::Status CheckAppendCaseEvent(const v1::CaseEvent& e) {
  if (e.has_service() && e.kind() != v1::CASE_EVENT_KIND_SERVICE) {
    return Malformed(absl::StrCat(
        "append_case_event.event: only a SERVICE event carries a "
        "service record, not ",
        v1::CaseEventKind_IsValid(e.kind()) ? v1::CaseEventKind_Name(e.kind())
                                            : absl::StrCat(static_cast<int>(e.kind()))));
  }
  const auto kind_name = [&e] {
    return v1::CaseEventKind_IsValid(e.kind()) ? v1::CaseEventKind_Name(e.kind())
                                               : absl::StrCat(static_cast<int>(e.kind()));
  };
  if (e.has_payment() && e.kind() != v1::CASE_EVENT_KIND_PAYMENT) {
    return Malformed(
        absl::StrCat("append_case_event.event: only a PAYMENT event carries a payment record, not ",
                     kind_name()));
  }
  if (e.has_hand_over() != (e.kind() == v1::CASE_EVENT_KIND_HAND_OVER)) {
    return Malformed(absl::StrCat(
        "append_case_event.event: a HAND_OVER event, and only one, carries a hand-over record (",
        kind_name(), e.has_hand_over() ? " with one)" : " without one)"));
  }
  switch (e.kind()) {
    case v1::CASE_EVENT_KIND_HAND_OVER:
      return absl::OkStatus();
    case v1::CASE_EVENT_KIND_SERVICE:
      // A service record speaks for itself; a service note needs text.
      if (e.has_service()) return absl::OkStatus();
      [[fallthrough]];
    case v1::CASE_EVENT_KIND_NOTE:
    case v1::CASE_EVENT_KIND_NOTIFICATION:
    case v1::CASE_EVENT_KIND_STATEMENT:
    case v1::CASE_EVENT_KIND_STATEMENT_WAIVED:
      if (e.text().empty()) {
        return Malformed(absl::StrCat("append_case_event.event: a ",
                                      v1::CaseEventKind_Name(e.kind()), " event needs text"));
      }
      return absl::OkStatus();
    case v1::CASE_EVENT_KIND_PAYMENT:
      if (e.amount_fen() <= 0) {
        return Malformed("append_case_event.event: a payment event needs a positive amount_fen");
      }
      return absl::OkStatus();
    default:
      return Malformed(absl::StrCat(
          "append_case_event.event.kind ",
          v1::CaseEventKind_IsValid(e.kind()) ? v1::CaseEventKind_Name(e.kind())
                                              : absl::StrCat(static_cast<int>(e.kind())),
          " is not one an officer appends (notes, notifications, services, payments, hand-overs, "
          "the party's statement or waiver); the "
          "system writes the others from the matching mutation"));
  }
}

absl::Status EventAlreadyRecorded(const std::string& event_id) {
  return FailedPrecondition(
      v1::REASON_IMMUTABLE,
      absl::StrCat("case event ", event_id, " is already on record; the timeline is append-only"));
}

}  // namespace palm::sync
