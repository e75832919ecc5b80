// Service of a decision (Art. 61) and the dates a case's moves stamp:
// sync/service.h, which the device and the server both run.
#include "sync/service.h"

#include <catch2/catch.hpp>

#include "sync/operations.h"
#include "tests/sync/refusal.h"
#include "tests/sync/sample_calendar.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;
constexpr absl::StatusCode kPrecondition = absl::StatusCode::kFailedPrecondition;
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

int64_t At(const char* day, int hour = 10) {
  absl::StatusOr<absl::CivilDay> d = ParseCivilDay(day, "test");
  REQUIRE(d.ok());
  return ShanghaiMidnightMs(*d) + int64_t{hour} * 3600 * 1000;
}

// A case decided on Wednesday 30 September 2026 with a 500-yuan fine. Its
// 7 working days to serve skip the National Day week (1-7 October) and
// count Saturday 10 October (worked): they end on Thursday 15 October.
v1::Case Decided() {
  v1::Case c;
  c.set_case_id("case-1");
  c.set_case_number("桐综执罚〔2026〕0123号");
  c.set_procedure(v1::PROCEDURE_ORDINARY);
  c.set_matter_code("CG-0101");
  c.set_proposed_fine_fen(50000);
  c.set_state(v1::CASE_STATE_DECIDED);
  StampMove(&c, v1::CASE_STATE_DECIDED, At("2026-09-30"));
  return c;
}

v1::Evidence Proof(const std::string& id, v1::EvidenceKind kind = v1::EVIDENCE_KIND_PHOTO) {
  v1::Evidence e;
  e.set_evidence_id(id);
  e.set_case_id("case-1");
  e.set_kind(kind);
  return e;
}

v1::CaseEvent Service(v1::ServiceMethod method, const char* day) {
  v1::CaseEvent e;
  e.set_event_id("ev-1");
  e.set_case_id("case-1");
  e.set_kind(v1::CASE_EVENT_KIND_SERVICE);
  v1::ServiceRecord* r = e.mutable_service();
  r->set_method(method);
  r->set_served_at_ms(At(day));
  r->add_proof_evidence_ids("receipt-photo");
  r->set_recipient("张三");
  return e;
}

struct Fixture {
  WorkingDayCalendar calendar = testing::SampleWorkingDays();
  std::vector<v1::Evidence> proof = {Proof("receipt-photo"),
                                     Proof("receipt-scan", v1::EVIDENCE_KIND_DOCUMENT)};
  absl::Status Check(const v1::Case& c, const v1::CaseEvent& e, const char* written = nullptr) {
    const int64_t at = written != nullptr ? At(written, 23) : e.service().served_at_ms() + 1;
    return CheckServiceEvent({.c = &c, .proof = &proof, .calendar = &calendar, .written_at_ms = at},
                             e);
  }
};

TEST_CASE("the moves stamp the filing and the decision", "[service]") {
  v1::Case c;
  c.set_procedure(v1::PROCEDURE_ORDINARY);
  c.set_proposed_fine_fen(20000);
  c.set_matter_code("CG-0101");
  StampMove(&c, v1::CASE_STATE_FILED, At("2026-09-01"));
  CHECK(c.filed_at_ms() == At("2026-09-01"));
  CHECK(FiledAtMs(c) == At("2026-09-01"));
  CHECK_FALSE(c.has_decision());
  StampMove(&c, v1::CASE_STATE_DECIDED, At("2026-09-30"));
  CHECK(c.decision().decided_at_ms() == At("2026-09-30"));
  CHECK(c.decision().fine_fen() == 20000);
  CHECK(c.decision().matter_code() == "CG-0101");
  CHECK(DecidedAtMs(c) == At("2026-09-30"));

  // A summary case's FILED is its report to the agency, no filing clock.
  v1::Case summary;
  summary.set_procedure(v1::PROCEDURE_SUMMARY);
  StampMove(&summary, v1::CASE_STATE_FILED, At("2026-09-01"));
  CHECK(summary.filed_at_ms() == 0);

  // Cases from before the stamps: the decision clock's end, the state stamp.
  v1::Case old;
  old.set_procedure(v1::PROCEDURE_ORDINARY);
  old.set_deadline_ms(At("2026-09-01") + int64_t{90} * 86400000);
  CHECK(FiledAtMs(old) == At("2026-09-01"));
  old.set_state(v1::CASE_STATE_DECIDED);
  old.mutable_state_hlc()->set_wall_ms(At("2026-09-30"));
  CHECK(DecidedAtMs(old) == At("2026-09-30"));
  old.set_state(v1::CASE_STATE_SERVED);
  CHECK(DecidedAtMs(old) == 0);
}

TEST_CASE(
    "service within 7 working days: the day, the day after, and a late service with its "
    "reason (Art. 61)",
    "[service]") {
  Fixture f;
  const v1::Case c = Decided();
  CHECK(f.Check(c, Service(v1::SERVICE_METHOD_DIRECT, "2026-09-30")).ok());
  // The holiday week does not count: 8 October is only the first day.
  CHECK(f.Check(c, Service(v1::SERVICE_METHOD_DIRECT, "2026-10-14")).ok());
  CHECK(f.Check(c, Service(v1::SERVICE_METHOD_DIRECT, "2026-10-15")).ok());
  v1::CaseEvent late = Service(v1::SERVICE_METHOD_DIRECT, "2026-10-16");
  CHECK_REFUSED(f.Check(c, late), kPrecondition, v1::REASON_SERVICE_LATE,
                "case 桐综执罚〔2026〕0123号: the decision of 2026-09-30 was to be served by "
                "2026-10-15 (7 working days, Art. 61); served on 2026-10-16 — record why it was "
                "late (late_reason)");
  late.mutable_service()->set_late_reason("当事人外出务工，10月16日方返回住所");
  CHECK(f.Check(c, late).ok());

  // No calendar, or one that does not cover the days: no guess.
  CHECK_REFUSED(
      CheckServiceEvent(
          {.c = &c, .proof = &f.proof, .calendar = nullptr, .written_at_ms = At("2026-10-01")},
          Service(v1::SERVICE_METHOD_DIRECT, "2026-10-01")),
      kPrecondition, v1::REASON_UNSPECIFIED,
      "case 桐综执罚〔2026〕0123号: no working-day calendar is on record, so the 7 "
      "working days to serve cannot be counted (Art. 61, 85); load a catalogue with "
      "the calendar");
}

TEST_CASE("each method of service needs its own record and proof", "[service]") {
  Fixture f;
  const v1::Case c = Decided();
  v1::CaseEvent e = Service(v1::SERVICE_METHOD_DIRECT, "2026-10-08");
  e.mutable_service()->clear_recipient();
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF,
                "service record: direct service (直接送达) names the recipient who signed the "
                "receipt");

  e = Service(v1::SERVICE_METHOD_LEFT_AT_ADDRESS, "2026-10-08");
  e.mutable_service()->set_proof_evidence_ids(0, "receipt-scan");
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF,
                "service record: service left at the address (留置送达) names its witnesses or "
                "has a photo or video of the leaving among the proof");
  e.mutable_service()->set_witnesses("村委会主任李四");
  CHECK(f.Check(c, e).ok());
  e.mutable_service()->clear_witnesses();
  e.mutable_service()->add_proof_evidence_ids("receipt-photo");
  CHECK(f.Check(c, e).ok());

  e = Service(v1::SERVICE_METHOD_POST, "2026-10-08");
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF,
                "service record: service by post (邮寄送达) gives the tracking number");
  e.mutable_service()->set_tracking_number("1150123456789");
  CHECK(f.Check(c, e).ok());

  e = Service(v1::SERVICE_METHOD_ELECTRONIC, "2026-10-08");
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF,
                "service record: electronic service (电子送达) gives the address it was sent to");
  e.mutable_service()->set_electronic_address("zhangsan@example.invalid");
  const char* no_consent =
      "service record: electronic service (电子送达) needs the party's consent given before it "
      "(consent_at_ms, Art. 61 ¶2)";
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF, no_consent);
  e.mutable_service()->set_consent_at_ms(At("2026-10-09"));
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF, no_consent);
  e.mutable_service()->set_consent_at_ms(At("2026-09-30", 9));
  CHECK(f.Check(c, e).ok());

  e = Service(v1::SERVICE_METHOD_ANNOUNCEMENT, "2026-10-08");
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF,
                "service record: service by announcement (公告送达) says where it was published");
  e.mutable_service()->set_published_in("桐乡市人民政府网站");
  CHECK(f.Check(c, e).ok());

  e = Service(v1::SERVICE_METHOD_UNSPECIFIED, "2026-10-08");
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF,
                "service record: the method of service is missing (direct, left at the address, "
                "post, electronic or announcement)");
}

TEST_CASE("the proof is evidence of the case, not withdrawn, and the dates hold", "[service]") {
  Fixture f;
  const v1::Case c = Decided();
  v1::CaseEvent e = Service(v1::SERVICE_METHOD_DIRECT, "2026-10-08");
  e.mutable_service()->clear_proof_evidence_ids();
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF,
                "service record: no proof: cite the evidence of the case that shows it (the "
                "signed receipt, the postal receipt, the delivery record or the announcement)");
  e.mutable_service()->add_proof_evidence_ids("elsewhere");
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF,
                "service record: evidence elsewhere cited as proof is not evidence of this case");
  f.proof.push_back(Proof("other-case"));
  f.proof.back().set_case_id("case-2");
  e.mutable_service()->set_proof_evidence_ids(0, "other-case");
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF,
                "service record: evidence other-case cited as proof is not evidence of this case");
  f.proof[0].set_withdrawn(true);
  e.mutable_service()->set_proof_evidence_ids(0, "receipt-photo");
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_SERVICE_PROOF,
                "service record: evidence receipt-photo cited as proof was withdrawn");
  f.proof[0].set_withdrawn(false);

  e = Service(v1::SERVICE_METHOD_DIRECT, "2026-09-29");
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "service record: served on 2026-09-29, before the decision of 2026-09-30");
  e = Service(v1::SERVICE_METHOD_DIRECT, "2026-10-09");
  CHECK_REFUSED(f.Check(c, e, "2026-10-08"), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "service record: served_at_ms is after the event is written; service is "
                "recorded once it has happened");
  e.mutable_service()->clear_served_at_ms();
  CHECK_REFUSED(f.Check(c, e, "2026-10-08"), kInvalid, v1::REASON_SERVICE_PROOF,
                "service record: served_at_ms is missing");
}

TEST_CASE("service is recorded once, for a decided case", "[service]") {
  Fixture f;
  v1::Case c = Decided();
  const v1::CaseEvent e = Service(v1::SERVICE_METHOD_DIRECT, "2026-10-08");
  RecordService(&c, e);
  CHECK(c.service().event_id() == "ev-1");
  CHECK(c.service().effective_at_ms() == At("2026-10-08"));
  CHECK(c.service().record().recipient() == "张三");
  CHECK_REFUSED(f.Check(c, e), kPrecondition, v1::REASON_IMMUTABLE,
                "the decision of case 桐综执罚〔2026〕0123号 was served on 2026-10-08 (直接送达); "
                "service is recorded once");

  v1::Case notified = Decided();
  notified.set_state(v1::CASE_STATE_NOTIFIED);
  notified.clear_decision();
  CHECK_REFUSED(f.Check(notified, e), kPrecondition, v1::REASON_ILLEGAL_TRANSITION,
                "case 桐综执罚〔2026〕0123号 is in state NOTIFIED: service is recorded for a "
                "decision made (DECIDED), before the move to SERVED");

  // A SERVICE event without a record is a note (it needs text); a record
  // rides only on a SERVICE event.
  v1::CaseEvent note;
  note.set_kind(v1::CASE_EVENT_KIND_SERVICE);
  CHECK_REFUSED(CheckAppendCaseEvent(note), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "append_case_event.event: a CASE_EVENT_KIND_SERVICE event needs text");
  CHECK(CheckAppendCaseEvent(e).ok());
  CHECK(f.Check(Decided(), note).ok());
  v1::CaseEvent payment = e;
  payment.set_kind(v1::CASE_EVENT_KIND_PAYMENT);
  payment.set_amount_fen(100);
  CHECK_REFUSED(CheckAppendCaseEvent(payment), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "append_case_event.event: only a SERVICE event carries a service record, not "
                "CASE_EVENT_KIND_PAYMENT");
}

TEST_CASE("SERVED needs the service record and an announcement counts 30 days after publication",
          "[service]") {
  v1::Case c = Decided();
  CHECK(CheckServedMove(c, v1::CASE_STATE_CLOSED, At("2026-10-08")).ok());
  CHECK_REFUSED(CheckServedMove(c, v1::CASE_STATE_SERVED, At("2026-10-08")), kPrecondition,
                v1::REASON_NOT_SERVED,
                "case 桐综执罚〔2026〕0123号 has no service record: record how the decision was "
                "served, with its proof (a SERVICE event with a service record, Art. 61), before "
                "the move to SERVED");
  v1::CaseEvent e = Service(v1::SERVICE_METHOD_ANNOUNCEMENT, "2026-10-08");
  e.mutable_service()->set_published_in("桐乡市人民政府网站");
  RecordService(&c, e);
  CHECK(FormatCivilDay(ShanghaiDay(c.service().effective_at_ms())) == "2026-11-07");
  const char* waiting =
      "case 桐综执罚〔2026〕0123号: the announcement of 2026-10-08 counts as service on "
      "2026-11-07 (30 days, Civil Procedure Law Art. 95), not before";
  CHECK_REFUSED(CheckServedMove(c, v1::CASE_STATE_SERVED, At("2026-11-06", 23)), kPrecondition,
                v1::REASON_NOT_SERVED, waiting);
  CHECK(CheckServedMove(c, v1::CASE_STATE_SERVED, At("2026-11-07", 0)).ok());
  CHECK(CheckServedMove(c, v1::CASE_STATE_SERVED, At("2026-11-08")).ok());

  v1::Case direct = Decided();
  RecordService(&direct, Service(v1::SERVICE_METHOD_DIRECT, "2026-10-08"));
  CHECK(CheckServedMove(direct, v1::CASE_STATE_SERVED, At("2026-10-08", 11)).ok());
}

}  // namespace
}  // namespace palm::sync
