// Public value types <-> palm.v1 wire types. Enum values share numbers.
#include "client-lib/src/client_internal.h"

namespace palm::internal {
namespace {

v1::GeoPoint ToProto(const GeoPoint& g) {
  v1::GeoPoint out;
  out.set_latitude(g.latitude);
  out.set_longitude(g.longitude);
  out.set_accuracy_m(g.accuracy_m);
  return out;
}

v1::Place ToProto(const Place& p) {
  v1::Place out;
  out.set_address(p.address);
  *out.mutable_location() = ToProto(p.location);
  out.set_town_id(p.town_id);
  return out;
}

GeoPoint FromProto(const v1::GeoPoint& g) { return {g.latitude(), g.longitude(), g.accuracy_m()}; }

Place FromProto(const v1::Place& p) { return {p.address(), FromProto(p.location()), p.town_id()}; }

Party FromProto(const v1::Party& p) {
  return {p.party_id(), static_cast<PartyKind>(p.kind()), p.name(), p.id_number(), p.phone(),
          p.address()};
}

template <typename Repeated>
std::vector<std::string> Strings(const Repeated& r) {
  return std::vector<std::string>(r.begin(), r.end());
}

}  // namespace

v1::Party ToProto(const Party& in) {
  v1::Party out;
  out.set_party_id(in.party_id);
  out.set_kind(static_cast<v1::PartyKind>(in.kind));
  out.set_name(in.name);
  out.set_id_number(in.id_number);
  out.set_phone(in.phone);
  out.set_address(in.address);
  return out;
}

v1::Case ToProto(const CaseInput& in) {
  v1::Case out;
  out.set_matter_code(in.matter_code);
  out.set_procedure(static_cast<v1::Procedure>(in.procedure));
  out.set_town_id(in.town_id);
  out.set_squad_id(in.squad_id);
  out.set_description(in.description);
  *out.mutable_place() = ToProto(in.place);
  out.set_occurred_at_ms(in.occurred_at_ms);
  for (const std::string& id : in.officer_ids) out.add_officer_ids(id);
  for (const Party& p : in.parties) *out.add_parties() = ToProto(p);
  out.set_proposed_fine_fen(in.proposed_fine_fen);
  out.set_act_ended_at_ms(in.act_ended_at_ms);
  if (in.limitation_exception != LimitationException::kNone || !in.limitation_basis.empty()) {
    v1::LimitationException* x = out.mutable_limitation_exception();
    x->set_kind(static_cast<v1::LimitationExceptionKind>(in.limitation_exception));
    x->set_basis(in.limitation_basis);
  }
  return out;
}

v1::Evidence ToProto(const EvidenceInput& in) {
  v1::Evidence out;
  out.set_case_id(in.case_id);
  out.set_kind(static_cast<v1::EvidenceKind>(in.kind));
  out.set_mime_type(in.mime_type);
  out.set_sha256(in.sha256_hex);
  out.set_size_bytes(in.size_bytes);
  out.set_captured_at_ms(in.captured_at_ms);
  *out.mutable_location() = ToProto(in.location);
  out.set_description(in.description);
  return out;
}

v1::Ticket ToProto(const TicketInput& in) {
  v1::Ticket out;
  out.set_case_id(in.case_id);
  out.set_party_id(in.party_id);
  out.set_violation(in.violation);
  out.set_legal_basis(in.legal_basis);
  out.set_penalty_basis(in.penalty_basis);
  out.set_penalty(static_cast<v1::PenaltyKind>(in.penalty));
  out.set_fine_fen(in.fine_fen);
  out.set_mitigated(in.mitigated);
  out.set_issued_at_ms(in.issued_at_ms);
  *out.mutable_place() = ToProto(in.place);
  for (const Remedy& r : in.remedies) {
    v1::Remedy* p = out.add_remedies();
    p->set_kind(static_cast<v1::RemedyKind>(r.kind));
    p->set_body(r.body);
    p->set_deadline_days(r.deadline_days);
    p->set_deadline_months(r.deadline_months);
  }
  out.set_agency(in.agency);
  for (const std::string& id : in.officer_ids) out.add_officer_ids(id);
  out.set_party_signature(static_cast<v1::PartySignature>(in.party_signature));
  return out;
}

v1::NoPenaltyDecision ToProto(const NoPenaltyInput& in) {
  v1::NoPenaltyDecision out;
  out.set_case_id(in.case_id);
  out.set_party_id(in.party_id);
  out.set_education_record(in.education_record);
  out.set_decided_at_ms(in.decided_at_ms);
  for (const std::string& id : in.officer_ids) out.add_officer_ids(id);
  out.set_ground(static_cast<v1::NoPenaltyGround>(in.ground));
  v1::NoPenaltyCorrection* fix = out.mutable_correction();
  fix->set_what(in.correction.what);
  fix->set_corrected_at_ms(in.correction.corrected_at_ms);
  fix->set_verified_by(in.correction.verified_by);
  for (const std::string& id : in.no_fault_evidence_ids) out.add_no_fault_evidence_ids(id);
  return out;
}

v1::ServiceRecord ToProto(const ServiceRecord& in) {
  v1::ServiceRecord out;
  out.set_method(static_cast<v1::ServiceMethod>(in.method));
  out.set_served_at_ms(in.served_at_ms);
  out.set_recipient(in.recipient);
  for (const std::string& id : in.proof_evidence_ids) out.add_proof_evidence_ids(id);
  out.set_tracking_number(in.tracking_number);
  out.set_electronic_address(in.electronic_address);
  out.set_consent_at_ms(in.consent_at_ms);
  out.set_witnesses(in.witnesses);
  out.set_published_in(in.published_in);
  out.set_late_reason(in.late_reason);
  return out;
}

ServiceRecord FromProto(const v1::ServiceRecord& r) {
  ServiceRecord out;
  out.method = static_cast<ServiceMethod>(r.method());
  out.served_at_ms = r.served_at_ms();
  out.recipient = r.recipient();
  out.proof_evidence_ids = Strings(r.proof_evidence_ids());
  out.tracking_number = r.tracking_number();
  out.electronic_address = r.electronic_address();
  out.consent_at_ms = r.consent_at_ms();
  out.witnesses = r.witnesses();
  out.published_in = r.published_in();
  out.late_reason = r.late_reason();
  return out;
}

v1::PaymentRecord ToProto(const PaymentRecord& in) {
  v1::PaymentRecord out;
  out.set_channel(static_cast<v1::PaymentChannel>(in.channel));
  out.set_paid_at_ms(in.paid_at_ms);
  out.set_reference(in.reference);
  out.set_ground(static_cast<v1::CollectionGround>(in.ground));
  out.set_ground_detail(in.ground_detail);
  out.set_receipt_code(in.receipt_code);
  out.set_receipt_number(in.receipt_number);
  return out;
}

PaymentRecord FromProto(const v1::PaymentRecord& r) {
  PaymentRecord out;
  out.channel = static_cast<PaymentChannel>(r.channel());
  out.paid_at_ms = r.paid_at_ms();
  out.reference = r.reference();
  out.ground = static_cast<CollectionGround>(r.ground());
  out.ground_detail = r.ground_detail();
  out.receipt_code = r.receipt_code();
  out.receipt_number = r.receipt_number();
  return out;
}

v1::HandOverRecord ToProto(const HandOverRecord& in) {
  v1::HandOverRecord out;
  out.set_handed_over_at_ms(in.handed_over_at_ms);
  for (const std::string& id : in.payment_event_ids) out.add_payment_event_ids(id);
  out.set_reference(in.reference);
  out.set_late_reason(in.late_reason);
  return out;
}

HandOverRecord FromProto(const v1::HandOverRecord& r) {
  HandOverRecord out;
  out.handed_over_at_ms = r.handed_over_at_ms();
  out.payment_event_ids = Strings(r.payment_event_ids());
  out.reference = r.reference();
  out.late_reason = r.late_reason();
  return out;
}

CaseClock FromProto(const v1::CaseClock& k) {
  CaseClock out;
  out.case_id = k.case_id();
  out.case_number = k.case_number();
  out.kind = static_cast<ClockKind>(k.kind());
  out.started_on = k.started_on();
  out.last_day = k.last_day();
  out.opens_on = k.opens_on();
  out.state = static_cast<ClockState>(k.state());
  out.days_left = k.days_left();
  out.outstanding_fen = k.outstanding_fen();
  out.surcharge_fen = k.surcharge_fen();
  out.event_id = k.event_id();
  return out;
}

v1::CaseEvent ToProto(const CaseEventInput& in) {
  v1::CaseEvent out;
  out.set_case_id(in.case_id);
  out.set_kind(static_cast<v1::CaseEventKind>(in.kind));
  out.set_text(in.text);
  out.set_at_ms(in.at_ms);
  out.set_amount_fen(in.amount_fen);
  if (in.service) *out.mutable_service() = ToProto(*in.service);
  if (in.payment) *out.mutable_payment() = ToProto(*in.payment);
  if (in.hand_over) *out.mutable_hand_over() = ToProto(*in.hand_over);
  return out;
}

CaseRecord FromProto(const v1::Case& c) {
  CaseRecord out;
  out.case_id = c.case_id();
  out.case_number = c.case_number();
  out.matter_code = c.matter_code();
  out.procedure = static_cast<Procedure>(c.procedure());
  out.state = static_cast<CaseState>(c.state());
  out.town_id = c.town_id();
  out.squad_id = c.squad_id();
  out.description = c.description();
  out.place = FromProto(c.place());
  out.occurred_at_ms = c.occurred_at_ms();
  out.officer_ids = Strings(c.officer_ids());
  for (const v1::Party& p : c.parties()) out.parties.push_back(FromProto(p));
  out.created_by_device = c.created_by_device();
  out.created_by_officer = c.created_by_officer();
  out.created_at_ms = c.created_at_ms();
  out.review_required = c.review_required();
  out.review_approved = c.review_approved();
  out.proposed_fine_fen = c.proposed_fine_fen();
  out.filed_at_ms = c.filed_at_ms();
  out.decided_at_ms = c.decision().decided_at_ms();
  out.decided_fine_fen = c.decision().fine_fen();
  if (c.has_service()) {
    out.service = FromProto(c.service().record());
    out.service_effective_at_ms = c.service().effective_at_ms();
  }
  out.decision_extended_to = c.decision_extension().extended_to();
  out.paid_fen = c.payments().paid_fen();
  return out;
}

Evidence FromProto(const v1::Evidence& e, const std::string& content_path) {
  Evidence out;
  out.evidence_id = e.evidence_id();
  out.case_id = e.case_id();
  out.kind = static_cast<EvidenceKind>(e.kind());
  out.mime_type = e.mime_type();
  out.sha256_hex = e.sha256();
  out.size_bytes = e.size_bytes();
  out.captured_at_ms = e.captured_at_ms();
  out.location = FromProto(e.location());
  out.device_id = e.device_id();
  out.officer_id = e.officer_id();
  out.description = e.description();
  out.content_path = content_path;
  out.withdrawn = e.withdrawn();
  out.withdraw_reason = e.withdraw_reason();
  out.uploaded = e.uploaded();
  out.has_receipt = e.has_receipt();
  out.receipt_leaf_index = e.receipt().leaf_index();
  out.receipt_tree_size = e.receipt().tree_head().tree_size();
  out.capture_time_flagged = e.capture_time_flagged();
  out.capture_time_flag = e.capture_time_flag();
  return out;
}

Ticket FromProto(const v1::Ticket& t) {
  Ticket out;
  out.ticket_id = t.ticket_id();
  out.case_id = t.case_id();
  out.ticket_number = t.ticket_number();
  out.ticket_number_text = t.ticket_number_text();
  out.matter_code = t.matter_code();
  out.party_id = t.party_id();
  out.party_kind = static_cast<PartyKind>(t.party_kind());
  out.violation = t.violation();
  out.legal_basis = t.legal_basis();
  out.penalty_basis = t.penalty_basis();
  out.penalty = static_cast<PenaltyKind>(t.penalty());
  out.fine_fen = t.fine_fen();
  out.mitigated = t.mitigated();
  out.issued_at_ms = t.issued_at_ms();
  out.place = FromProto(t.place());
  for (const v1::Remedy& r : t.remedies()) {
    out.remedies.push_back(
        {static_cast<RemedyKind>(r.kind()), r.body(), r.deadline_days(), r.deadline_months()});
  }
  out.agency = t.agency();
  out.officer_ids = Strings(t.officer_ids());
  out.party_signature = static_cast<PartySignature>(t.party_signature());
  out.device_id = t.device_id();
  out.voided = t.voided();
  out.void_reason = t.void_reason();
  return out;
}

NoPenaltyDecision FromProto(const v1::NoPenaltyDecision& d) {
  return {d.decision_id(),
          d.case_id(),
          d.matter_code(),
          d.party_id(),
          d.education_record(),
          d.decided_at_ms(),
          Strings(d.officer_ids()),
          static_cast<NoPenaltyGround>(d.ground()),
          {d.correction().what(), d.correction().corrected_at_ms(), d.correction().verified_by()},
          Strings(d.no_fault_evidence_ids())};
}

CaseEvent FromProto(const v1::CaseEvent& e) {
  return {
      e.event_id(),
      e.case_id(),
      static_cast<CaseEventKind>(e.kind()),
      e.text(),
      e.at_ms(),
      e.officer_id(),
      static_cast<CaseState>(e.from_state()),
      static_cast<CaseState>(e.to_state()),
      e.amount_fen(),
      e.has_service() ? std::optional<ServiceRecord>(FromProto(e.service())) : std::nullopt,
      e.has_payment() ? std::optional<PaymentRecord>(FromProto(e.payment())) : std::nullopt,
      e.has_hand_over() ? std::optional<HandOverRecord>(FromProto(e.hand_over())) : std::nullopt};
}

namespace {

std::vector<NoPenaltyGround> Grounds(const google::protobuf::RepeatedField<int>& grounds) {
  std::vector<NoPenaltyGround> out;
  for (int g : grounds) out.push_back(static_cast<NoPenaltyGround>(g));
  return out;
}

}  // namespace

Matter FromProto(const v1::Matter& m) {
  return {m.code(),
          m.category(),
          m.name(),
          m.legal_basis(),
          m.penalty_basis(),
          m.fine_min_fen(),
          m.fine_max_fen(),
          m.delegated_to_towns(),
          m.fast_track(),
          m.no_penalty_list(),
          m.major(),
          m.major_fine_threshold_fen(),
          m.no_penalty_field(),
          m.no_penalty_conditions(),
          Grounds(m.no_penalty_grounds()),
          m.no_penalty_lookback_months()};
}

}  // namespace palm::internal
