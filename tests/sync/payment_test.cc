// Performance of a fine (Art. 66-72): sync/payment.h, which the device and
// the server both run, and the payment and hand-over clocks it feeds
// (sync/case_clocks.h).
#include "sync/payment.h"

#include <catch2/catch.hpp>

#include "sync/case_clocks.h"
#include "sync/operations.h"
#include "sync/service.h"
#include "sync/status_macros.h"
#include "tests/sync/refusal.h"
#include "tests/sync/sample_calendar.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;
constexpr absl::StatusCode kPrecondition = absl::StatusCode::kFailedPrecondition;
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kDenied = absl::StatusCode::kPermissionDenied;
constexpr char kOrdinary[] = "桐综执罚〔2026〕0123号";
constexpr char kSummary[] = "桐综执简〔2026〕0007号";

absl::CivilDay Day(const char* text) {
  absl::StatusOr<absl::CivilDay> d = ParseCivilDay(text, "test");
  REQUIRE(d.ok());
  return *d;
}

int64_t At(const char* day, int hour = 10) {
  return ShanghaiMidnightMs(Day(day)) + int64_t{hour} * 3600 * 1000;
}

v1::Officer Sworn(const std::string& id) {
  v1::Officer o;
  o.set_officer_id(id);
  o.set_sworn(true);
  o.set_active(true);
  o.set_certificate_number("33040012345");
  return o;
}

// An ordinary case decided on 30 September 2026 with a 500-yuan fine and
// served on Friday 2 October: 15 days is Saturday 17 October, so the party
// pays by Monday 19 October (Art. 67).
v1::Case Served() {
  v1::Case c;
  c.set_case_id("case-1");
  c.set_case_number(kOrdinary);
  c.set_procedure(v1::PROCEDURE_ORDINARY);
  c.set_matter_code("CG-0101");
  c.add_officer_ids("officer-1");
  c.add_officer_ids("officer-2");
  c.set_proposed_fine_fen(50000);
  StampMove(&c, v1::CASE_STATE_DECIDED, At("2026-09-30"));
  v1::CaseEvent e;
  e.set_event_id("service-1");
  e.set_kind(v1::CASE_EVENT_KIND_SERVICE);
  e.mutable_service()->set_method(v1::SERVICE_METHOD_DIRECT);
  e.mutable_service()->set_served_at_ms(At("2026-10-02"));
  RecordService(&c, e);
  c.set_state(v1::CASE_STATE_SERVED);
  return c;
}

// A summary case whose ticket of `fine_fen` was issued on Friday 9 October.
v1::Case Ticketed(int64_t fine_fen) {
  v1::Case c;
  c.set_case_id("case-2");
  c.set_case_number(kSummary);
  c.set_procedure(v1::PROCEDURE_SUMMARY);
  c.set_matter_code("SR-0101");
  c.set_state(v1::CASE_STATE_ISSUED);
  c.add_officer_ids("officer-1");
  c.add_officer_ids("officer-2");
  v1::Ticket t;
  t.set_ticket_id("ticket-1");
  t.set_case_id("case-2");
  t.set_matter_code("SR-0101");
  t.set_party_id("party-1");
  t.set_penalty(v1::PENALTY_KIND_FINE);
  t.set_fine_fen(fine_fen);
  t.set_issued_at_ms(At("2026-10-09"));
  StampTicket(&c, t);
  return c;
}

v1::CaseEvent Paid(const std::string& id, int64_t fen, v1::PaymentChannel channel,
                   const char* day) {
  v1::CaseEvent e;
  e.set_event_id(id);
  e.set_kind(v1::CASE_EVENT_KIND_PAYMENT);
  e.set_amount_fen(fen);
  e.set_at_ms(At(day, 12));
  v1::PaymentRecord* r = e.mutable_payment();
  r->set_channel(channel);
  r->set_paid_at_ms(At(day, 11));
  if (channel == v1::PAYMENT_CHANNEL_ON_THE_SPOT) {
    r->set_ground(v1::COLLECTION_GROUND_SMALL_FINE);
    r->set_receipt_code("33010126");
    r->set_receipt_number("0000012345");
  } else {
    r->set_reference("95588-2026-0001");
  }
  return e;
}

v1::CaseEvent HandedOver(const std::string& payment_id, const char* day) {
  v1::CaseEvent e;
  e.set_event_id("hand-over-1");
  e.set_kind(v1::CASE_EVENT_KIND_HAND_OVER);
  e.set_at_ms(At(day, 16));
  v1::HandOverRecord* h = e.mutable_hand_over();
  h->set_handed_over_at_ms(At(day, 15));
  h->add_payment_event_ids(payment_id);
  h->set_reference("财务科收讫 2026-118");
  return e;
}

struct Fixture {
  WorkingDayCalendar calendar = testing::SampleWorkingDays();
  v1::Officer actor = Sworn("officer-1");

  absl::Status Check(const v1::Case& c, const v1::CaseEvent& e, const char* written = nullptr,
                     const v1::Officer* who = nullptr) {
    const PaymentFacts facts{.c = &c,
                             .actor = who != nullptr ? who : &actor,
                             .calendar = &calendar,
                             .written_at_ms = written != nullptr ? At(written, 23) : e.at_ms()};
    PALM_RETURN_IF_ERROR(CheckAppendCaseEvent(e));
    PALM_RETURN_IF_ERROR(CheckPaymentEvent(facts, e));
    return CheckHandOverEvent(facts, e);
  }

  void Record(v1::Case* c, const v1::CaseEvent& e, const char* written = nullptr) {
    const absl::Status s = Check(*c, e, written);
    INFO(s);
    REQUIRE(s.ok());
    RecordPayment(c, e, actor.officer_id());
    RecordHandOver(c, e);
  }

  std::vector<v1::CaseClock> Clocks(const v1::Case& c, const char* today) {
    absl::StatusOr<std::vector<v1::CaseClock>> clocks = CaseClocks(c, &calendar, Day(today), 7);
    INFO(clocks.status());
    REQUIRE(clocks.ok());
    return *clocks;
  }
};

TEST_CASE("a payment follows a served fine and says how it was paid (Art. 67)", "[payment]") {
  Fixture f;
  v1::Case c = Served();
  v1::CaseEvent bank = Paid("pay-1", 30000, v1::PAYMENT_CHANNEL_BANK, "2026-10-10");

  v1::Case decided = c;
  decided.set_state(v1::CASE_STATE_DECIDED);
  decided.clear_service();
  CHECK_REFUSED(
      f.Check(decided, bank), kPrecondition, v1::REASON_PAYMENT,
      "case 桐综执罚〔2026〕0123号 has no fine due (state CASE_STATE_DECIDED): a payment is "
      "recorded once a fine is decided and served");
  v1::Case warning = c;
  warning.mutable_decision()->set_fine_fen(0);
  CHECK_REFUSED(
      f.Check(warning, bank), kPrecondition, v1::REASON_PAYMENT,
      "case 桐综执罚〔2026〕0123号 has no fine due (state CASE_STATE_SERVED): a payment is "
      "recorded once a fine is decided and served");

  v1::CaseEvent e = bank;
  e.mutable_payment()->clear_channel();
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_PAYMENT,
                "payment record: the channel is missing (bank, electronic or on the spot)");
  e = bank;
  e.mutable_payment()->clear_reference();
  CHECK_REFUSED(
      f.Check(c, e), kInvalid, v1::REASON_PAYMENT,
      "payment record: a payment at the bank gives the bank's voucher number (reference)");
  e.mutable_payment()->set_channel(v1::PAYMENT_CHANNEL_ELECTRONIC);
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_PAYMENT,
                "payment record: an electronic payment gives its transaction number (reference)");
  e = bank;
  e.mutable_payment()->set_paid_at_ms(At("2026-10-01"));
  CHECK_REFUSED(
      f.Check(c, e), kInvalid, v1::REASON_PAYMENT,
      "payment record: paid before the decision of case 桐综执罚〔2026〕0123号 was served: "
      "a payment follows service");
  CHECK_REFUSED(f.Check(c, bank, "2026-10-09"), kInvalid, v1::REASON_PAYMENT,
                "payment record: paid after the event is written: a payment is recorded once made");
  e = bank;
  e.set_kind(v1::CASE_EVENT_KIND_NOTE);
  e.set_text("x");
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "append_case_event.event: only a PAYMENT event carries a payment record, not "
                "CASE_EVENT_KIND_NOTE");

  f.Record(&c, bank);
  REQUIRE(c.payments().entries_size() == 1);
  CHECK(c.payments().paid_fen() == 30000);
  CHECK(c.payments().entries(0).event_id() == "pay-1");
  CHECK(c.payments().entries(0).channel() == v1::PAYMENT_CHANNEL_BANK);
  CHECK(c.payments().entries(0).collected_by().empty());

  // Never more than is outstanding.
  CHECK_REFUSED(f.Check(c, Paid("pay-2", 25000, v1::PAYMENT_CHANNEL_BANK, "2026-10-12")),
                kPrecondition, v1::REASON_PAYMENT,
                "a payment of 250 yuan is more than the 200 yuan outstanding on case "
                "桐综执罚〔2026〕0123号 (fine 500, paid 300, surcharge 0)");
  // A payment written without a record (older clients) is a bank payment
  // on its date, and counts the same.
  v1::CaseEvent legacy = Paid("pay-2", 20000, v1::PAYMENT_CHANNEL_BANK, "2026-10-12");
  legacy.clear_payment();
  CHECK(PaymentOf(legacy).channel() == v1::PAYMENT_CHANNEL_BANK);
  CHECK(PaymentOf(legacy).paid_at_ms() == legacy.at_ms());
  f.Record(&c, legacy);
  CHECK(c.payments().paid_fen() == 50000);
  // Paid in full on time: no clock runs.
  CHECK(f.Clocks(c, "2026-10-20").empty());
  CHECK_REFUSED(f.Check(c, Paid("pay-3", 1, v1::PAYMENT_CHANNEL_BANK, "2026-10-13")), kPrecondition,
                v1::REASON_PAYMENT,
                "a payment of 0.01 yuan is more than the 0 yuan outstanding on case "
                "桐综执罚〔2026〕0123号 (fine 500, paid 500, surcharge 0)");
}

TEST_CASE("the surcharge runs on the case's unpaid fine from the day after the last day (Art. 72)",
          "[payment]") {
  Fixture f;
  v1::Case c = Served();
  f.Record(&c, Paid("pay-1", 20000, v1::PAYMENT_CHANNEL_BANK, "2026-10-10"));

  // The last day: 300 yuan unpaid, no surcharge yet.
  std::vector<v1::CaseClock> clocks = f.Clocks(c, "2026-10-19");
  REQUIRE(clocks.size() == 1);
  CHECK(clocks[0].kind() == v1::CLOCK_KIND_PAYMENT);
  CHECK(clocks[0].last_day() == "2026-10-19");
  CHECK(clocks[0].outstanding_fen() == 30000);
  CHECK(clocks[0].surcharge_fen() == 0);
  // Day 1 late: 3 % of the 300 yuan unpaid.
  clocks = f.Clocks(c, "2026-10-20");
  REQUIRE(clocks.size() == 2);
  CHECK(clocks[0].surcharge_fen() == 900);
  CHECK(clocks[1].kind() == v1::CLOCK_KIND_COURT_ENFORCEMENT);
  CHECK(clocks[1].outstanding_fen() == 30000);
  CHECK(clocks[1].surcharge_fen() == 900);
  absl::StatusOr<FineDue> due = FineDueOn(c, f.calendar, Day("2026-10-21"));
  REQUIRE(due.ok());
  CHECK(due->surcharge_fen == 1800);
  CHECK(due->outstanding_fen == 31800);

  // The fine paid on day 2: the surcharge stops growing and is still owed.
  CHECK_REFUSED(f.Check(c, Paid("pay-2", 31801, v1::PAYMENT_CHANNEL_BANK, "2026-10-21")),
                kPrecondition, v1::REASON_PAYMENT,
                "a payment of 318.01 yuan is more than the 318 yuan outstanding on case "
                "桐综执罚〔2026〕0123号 (fine 500, paid 200, surcharge 18)");
  f.Record(&c, Paid("pay-2", 30000, v1::PAYMENT_CHANNEL_BANK, "2026-10-21"));
  clocks = f.Clocks(c, "2026-11-30");
  REQUIRE(clocks.size() == 2);
  CHECK(clocks[0].outstanding_fen() == 0);
  CHECK(clocks[0].surcharge_fen() == 1800);
  f.Record(&c, Paid("pay-3", 1800, v1::PAYMENT_CHANNEL_BANK, "2026-11-30"));
  CHECK(f.Clocks(c, "2026-12-01").empty());
  CHECK(c.payments().paid_fen() == 51800);

  // Nothing paid: 15 yuan a day reaches the 500-yuan fine on day 34 and
  // stays there.
  v1::Case unpaid = Served();
  due = FineDueOn(unpaid, f.calendar, Day("2026-10-19") + 33);
  REQUIRE(due.ok());
  CHECK(due->surcharge_fen == 49500);
  due = FineDueOn(unpaid, f.calendar, Day("2026-10-19") + 34);
  REQUIRE(due.ok());
  CHECK(due->surcharge_fen == 50000);
  due = FineDueOn(unpaid, f.calendar, Day("2026-10-19") + 60);
  REQUIRE(due.ok());
  CHECK(due->surcharge_fen == 50000);
  CHECK(due->outstanding_fen == 100000);
}

TEST_CASE("collection on the spot only where Art. 68-69 allow and by a credentialed officer",
          "[payment]") {
  Fixture f;
  // 150 yuan ticketed in a city street: over the 100 yuan of Art. 68(1).
  v1::Case street = Ticketed(15000);
  v1::CaseEvent spot = Paid("pay-1", 15000, v1::PAYMENT_CHANNEL_ON_THE_SPOT, "2026-10-09");
  CHECK_REFUSED(
      f.Check(street, spot), kPrecondition, v1::REASON_ON_THE_SPOT_NOT_ALLOWED,
      "case 桐综执简〔2026〕0007号: a fine of 150 yuan is over the 100 yuan an officer may "
      "collect on the spot (Art. 68(1)): the party pays at the designated bank or "
      "electronically (Art. 67)");
  v1::CaseEvent e = spot;
  e.mutable_payment()->clear_ground();
  CHECK_REFUSED(f.Check(street, e), kPrecondition, v1::REASON_ON_THE_SPOT_NOT_ALLOWED,
                "case 桐综执简〔2026〕0007号: collecting a fine of 150 yuan on the spot needs a "
                "ground of Art. 68 or 69 (100 yuan or less, hard to enforce later, or a remote "
                "area at the party's request): the party pays at the designated bank or "
                "electronically (Art. 67)");
  e.mutable_payment()->set_ground(v1::COLLECTION_GROUND_HARD_TO_ENFORCE_LATER);
  CHECK_REFUSED(f.Check(street, e), kInvalid, v1::REASON_PAYMENT,
                "payment record: collection on the spot because paying later would be hard to "
                "enforce (Art. 68(2)) says why (ground_detail)");
  e.mutable_payment()->set_ground_detail("外地流动摊贩，无固定住所");
  e.mutable_payment()->set_receipt_number("12345");
  CHECK_REFUSED(f.Check(street, e), kInvalid, v1::REASON_PAYMENT,
                "payment record: collection on the spot gives the province's receipt (Art. 70): "
                "an 8-digit receipt_code (票据代码) and a 10-digit receipt_number (票据号码)");
  e.mutable_payment()->set_receipt_number("0000012345");
  v1::Officer auxiliary = Sworn("officer-2");
  auxiliary.set_sworn(false);
  CHECK_REFUSED(
      f.Check(street, e, nullptr, &auxiliary), kDenied, v1::REASON_ON_THE_SPOT_NOT_ALLOWED,
      "officer-2 may not collect the fine of case 桐综执简〔2026〕0007号 on the spot: only "
      "an officer of the case holding an enforcement credential collects (Art. 42, 68)");
  const v1::Officer stranger = Sworn("officer-9");
  CHECK_REFUSED(
      f.Check(street, e, nullptr, &stranger), kDenied, v1::REASON_ON_THE_SPOT_NOT_ALLOWED,
      "officer-9 may not collect the fine of case 桐综执简〔2026〕0007号 on the spot: only "
      "an officer of the case holding an enforcement credential collects (Art. 42, 68)");
  CHECK(f.Check(street, e).ok());

  // An ordinary decision: only Art. 69, at the party's request.
  v1::Case ordinary = Served();
  CHECK_REFUSED(
      f.Check(ordinary, Paid("pay-1", 5000, v1::PAYMENT_CHANNEL_ON_THE_SPOT, "2026-10-09")),
      kPrecondition, v1::REASON_ON_THE_SPOT_NOT_ALLOWED,
      "case 桐综执罚〔2026〕0123号 was decided on the ordinary procedure: Art. 68 lets "
      "officers collect only fines decided on the spot; after an ordinary decision only "
      "Art. 69 (a remote area, at the party's request) allows it, otherwise the party "
      "pays at the designated bank or electronically (Art. 67)");
  e = Paid("pay-1", 50000, v1::PAYMENT_CHANNEL_ON_THE_SPOT, "2026-10-09");
  e.mutable_payment()->set_ground(v1::COLLECTION_GROUND_REMOTE_AREA_ON_REQUEST);
  CHECK_REFUSED(f.Check(ordinary, e), kInvalid, v1::REASON_PAYMENT,
                "payment record: collection on the spot in a remote area (Art. 69) says where and "
                "how the party asked for it (ground_detail)");
  e.mutable_payment()->set_ground_detail("凤鸣街道偏远村，当事人书面申请当场缴纳");
  CHECK(f.Check(ordinary, e).ok());

  // 50 yuan on the small-fine ground; the receipt is used once.
  v1::Case small = Ticketed(5000);
  f.Record(&small, Paid("pay-1", 3000, v1::PAYMENT_CHANNEL_ON_THE_SPOT, "2026-10-09"));
  CHECK(small.payments().entries(0).collected_by() == "officer-1");
  CHECK(small.payments().entries(0).receipt_number() == "0000012345");
  CHECK_REFUSED(f.Check(small, Paid("pay-2", 2000, v1::PAYMENT_CHANNEL_ON_THE_SPOT, "2026-10-09")),
                kInvalid, v1::REASON_PAYMENT,
                "payment record: receipt 33010126-0000012345 is already on case "
                "桐综执简〔2026〕0007号 (payment pay-1)");
}

TEST_CASE("money collected on the spot is handed over within 2 working days (Art. 71)",
          "[payment]") {
  Fixture f;
  v1::Case c = Ticketed(5000);
  f.Record(&c, Paid("pay-bank", 1000, v1::PAYMENT_CHANNEL_BANK, "2026-10-09"));
  // Collected Friday 9 October: Saturday 10 (worked) and Monday 12.
  f.Record(&c, Paid("pay-1", 4000, v1::PAYMENT_CHANNEL_ON_THE_SPOT, "2026-10-09"));
  std::vector<v1::CaseClock> clocks = f.Clocks(c, "2026-10-10");
  REQUIRE(clocks.size() == 1);
  CHECK(clocks[0].kind() == v1::CLOCK_KIND_HAND_OVER);
  CHECK(clocks[0].started_on() == "2026-10-09");
  CHECK(clocks[0].last_day() == "2026-10-12");
  CHECK(clocks[0].state() == v1::CLOCK_STATE_DUE_SOON);
  CHECK(clocks[0].outstanding_fen() == 4000);
  CHECK(clocks[0].event_id() == "pay-1");
  REQUIRE(clocks[0].officer_ids_size() == 1);
  CHECK(clocks[0].officer_ids(0) == "officer-1");
  CHECK(f.Clocks(c, "2026-10-12")[0].state() == v1::CLOCK_STATE_DUE_TODAY);
  CHECK(f.Clocks(c, "2026-10-13")[0].state() == v1::CLOCK_STATE_OVERDUE);

  CHECK_REFUSED(CheckClosingMove(c, v1::CASE_STATE_CLOSED), kPrecondition, v1::REASON_PAYMENT,
                "case 桐综执简〔2026〕0007号 cannot close: the 40 yuan collected on the spot "
                "(payment pay-1) is not yet handed over to the agency (Art. 71)");
  CHECK(CheckClosingMove(c, v1::CASE_STATE_EXECUTING).ok());

  CHECK_REFUSED(f.Check(c, HandedOver("pay-1", "2026-10-13")), kPrecondition, v1::REASON_PAYMENT,
                "money collected on the spot is handed to the agency within 2 working days (Art. "
                "71), by 2026-10-12; a later hand-over says why (late_reason)");
  CHECK_REFUSED(f.Check(c, HandedOver("pay-bank", "2026-10-12")), kPrecondition, v1::REASON_PAYMENT,
                "payment pay-bank is not a collection on the spot of case 桐综执简〔2026〕0007号: "
                "only those are handed over (Art. 71)");
  v1::CaseEvent e = HandedOver("pay-1", "2026-10-12");
  e.mutable_hand_over()->clear_reference();
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "append_case_event.event.hand_over: gives the agency's or the bank's "
                "acknowledgement (reference)");
  e = HandedOver("pay-1", "2026-10-12");
  e.mutable_hand_over()->add_payment_event_ids("pay-1");
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "append_case_event.event.hand_over: names payment pay-1 twice");
  e = HandedOver("pay-1", "2026-10-12");
  e.clear_hand_over();
  CHECK_REFUSED(f.Check(c, e), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "append_case_event.event: a HAND_OVER event, and only one, carries a hand-over "
                "record (CASE_EVENT_KIND_HAND_OVER without one)");
  const v1::Officer stranger = Sworn("officer-9");
  CHECK_REFUSED(f.Check(c, HandedOver("pay-1", "2026-10-12"), nullptr, &stranger), kDenied,
                v1::REASON_PERMISSION_DENIED,
                "officer-9 is not an officer of case 桐综执简〔2026〕0007号 and may not record the "
                "hand-over of its fines");

  // Late, with the reason: accepted. On time: the clock stops and the case
  // may close.
  e = HandedOver("pay-1", "2026-10-13");
  e.mutable_hand_over()->set_late_reason("10月12日台风停班，次日上缴");
  CHECK(f.Check(c, e).ok());
  f.Record(&c, HandedOver("pay-1", "2026-10-12"));
  CHECK(c.payments().entries(1).hand_over_event_id() == "hand-over-1");
  CHECK(f.Clocks(c, "2026-10-13").empty());
  CHECK(CheckClosingMove(c, v1::CASE_STATE_CLOSED).ok());
  CHECK_REFUSED(f.Check(c, HandedOver("pay-1", "2026-10-12")), kPrecondition, v1::REASON_PAYMENT,
                "payment pay-1 was handed over already (event hand-over-1)");
}

TEST_CASE("a ticket is its case's decision and service, so the payment clock runs from it",
          "[payment]") {
  Fixture f;
  v1::Case c = Ticketed(5000);
  CHECK(c.decision().decided_at_ms() == At("2026-10-09"));
  CHECK(c.decision().fine_fen() == 5000);
  CHECK(c.service().event_id() == "ticket-1");
  CHECK(c.service().effective_at_ms() == At("2026-10-09"));
  // 15 days from Friday 9 October is Saturday 24 October: Monday 26.
  std::vector<v1::CaseClock> clocks = f.Clocks(c, "2026-10-20");
  REQUIRE(clocks.size() == 1);
  CHECK(clocks[0].kind() == v1::CLOCK_KIND_PAYMENT);
  CHECK(clocks[0].last_day() == "2026-10-26");
  CHECK(clocks[0].outstanding_fen() == 5000);
  for (v1::CaseState s : {v1::CASE_STATE_FILED, v1::CASE_STATE_EXECUTING}) {
    c.set_state(s);
    CHECK(f.Clocks(c, "2026-10-20").size() == 1);
  }
  c.set_state(v1::CASE_STATE_CLOSED);
  CHECK(f.Clocks(c, "2026-10-20").empty());
  // Voiding the ticket takes its decision and service away; another
  // ticket's void does not.
  c.set_state(v1::CASE_STATE_ISSUED);
  ClearTicketStamp(&c, "ticket-0");
  CHECK(c.has_service());
  ClearTicketStamp(&c, "ticket-1");
  CHECK_FALSE(c.has_service());
  CHECK_FALSE(c.has_decision());
  CHECK(f.Clocks(c, "2026-10-20").empty());
  // A warning ticket decides no fine.
  v1::Case warned = Ticketed(5000);
  v1::Ticket t;
  t.set_ticket_id("ticket-w");
  t.set_penalty(v1::PENALTY_KIND_WARNING);
  t.set_fine_fen(5000);
  t.set_issued_at_ms(At("2026-10-09"));
  StampTicket(&warned, t);
  CHECK(warned.decision().fine_fen() == 0);
  CHECK(f.Clocks(warned, "2026-10-20").empty());
}

}  // namespace
}  // namespace palm::sync
