// Performance of a fine through a real server (Art. 66-72): payments
// recorded on the case and never more than is outstanding, the surcharge
// and the payment clock as ListDeadlines reads them, collection on the spot
// only where the law allows it and by whom, the hand-over within 2 working
// days before the case may close, and a ticket as its case's decision.
#include <catch2/catch.hpp>

#include "tests/server/after_decision.h"

namespace palm::testing {
namespace {

struct Payments : AfterDecision {
  v1::Mutation Pay(const std::string& id, int64_t fen, v1::PaymentChannel channel, const char* day,
                   const std::string& officer = kOfficerA1) {
    v1::Mutation m = AppendNote("dev-a1", seq++, id, "");
    m.set_officer_id(officer);
    v1::CaseEvent* e = m.mutable_append_case_event()->mutable_event();
    e->set_kind(v1::CASE_EVENT_KIND_PAYMENT);
    e->set_amount_fen(fen);
    v1::PaymentRecord* r = e->mutable_payment();
    r->set_channel(channel);
    r->set_paid_at_ms(At(day, 11));
    if (channel == v1::PAYMENT_CHANNEL_ON_THE_SPOT) {
      r->set_ground(v1::COLLECTION_GROUND_SMALL_FINE);
      r->set_receipt_code("33010126");
      r->set_receipt_number(absl::StrCat("00000", 10000 + seq));
    } else {
      r->set_reference(absl::StrCat("95588-", seq));
    }
    return Dated(m, At(day, 12));
  }

  v1::Mutation HandOver(const std::string& id, const std::string& payment_id, const char* day) {
    v1::Mutation m = AppendNote("dev-a1", seq++, id, "");
    v1::CaseEvent* e = m.mutable_append_case_event()->mutable_event();
    e->set_kind(v1::CASE_EVENT_KIND_HAND_OVER);
    v1::HandOverRecord* h = e->mutable_hand_over();
    h->set_handed_over_at_ms(At(day, 15));
    h->add_payment_event_ids(payment_id);
    h->set_reference("财务科收讫 2026-118");
    return Dated(m, At(day, 16));
  }

  v1::Mutation Move(const std::string& id, v1::CaseState from, v1::CaseState to, const char* day) {
    return Dated(Transition("dev-a1", seq++, id, from, to), At(day, 17));
  }

  // A summary case recorded on Friday 9 October 2026 at 09:00 and ticketed
  // at 10:00 with a fine of `fine_fen`; returns its id.
  std::string Ticketed(int64_t fine_fen) {
    std::string id;
    v1::Mutation record = RecordCase("dev-a1", seq++, &id);
    record.mutable_record_case()->mutable_case_()->set_occurred_at_ms(At("2026-10-09", 9));
    REQUIRE_APPLIED(PushOne(Dated(record, At("2026-10-09", 9))));
    v1::Mutation ticket =
        IssueTicket("dev-a1", seq++, id, lease.first_number() + ticket_offset++, fine_fen);
    ticket.mutable_issue_ticket()->mutable_ticket()->set_issued_at_ms(At("2026-10-09"));
    REQUIRE_APPLIED(PushOne(Dated(ticket, At("2026-10-09") + 1000)));
    return id;
  }

  int64_t ticket_offset = 0;
};

TEST_CASE(
    "a served fine is paid through the server and never more than is outstanding (Art. 67 72)") {
  Payments f;
  const std::string id = f.Decide("2026-09-21", "2026-09-30");
  const std::string number = f.client.GetCase(id).case_().case_number();
  // Paid before service: refused.
  REQUIRE_REJECTED(f.PushOne(f.Pay(id, 6000, v1::PAYMENT_CHANNEL_BANK, "2026-10-08")),
                   v1::REASON_PAYMENT,
                   absl::StrCat("case ", number,
                                " has no fine due (state CASE_STATE_DECIDED): a payment is "
                                "recorded once a fine is decided and served"));
  // Served Friday 9 October: 15 days is Saturday 24, so the party pays by
  // Monday 26 October.
  std::string proof;
  REQUIRE_APPLIED(f.PushOne(
      Dated(AddEvidence("dev-a1", f.seq++, id, "signed receipt", &proof), At("2026-10-09", 14))));
  REQUIRE_APPLIED(f.PushOne(f.Service(id, proof, "2026-10-09")));
  REQUIRE_APPLIED(
      f.PushOne(f.Move(id, v1::CASE_STATE_DECIDED, v1::CASE_STATE_SERVED, "2026-10-09")));

  const v1::Mutation first = f.Pay(id, 6000, v1::PAYMENT_CHANNEL_BANK, "2026-10-12");
  REQUIRE_APPLIED(f.PushOne(first));
  v1::Case c = f.client.GetCase(id).case_();
  CHECK(c.payments().paid_fen() == 6000);
  REQUIRE(c.payments().entries_size() == 1);
  CHECK(c.payments().entries(0).event_id() == first.append_case_event().event().event_id());
  CHECK(c.payments().entries(0).channel() == v1::PAYMENT_CHANNEL_BANK);

  REQUIRE_REJECTED(
      f.PushOne(f.Pay(id, 5000, v1::PAYMENT_CHANNEL_BANK, "2026-10-13")), v1::REASON_PAYMENT,
      absl::StrCat("a payment of 50 yuan is more than the 40 yuan outstanding on case ", number,
                   " (fine 100, paid 60, surcharge 0)"));
  // An ordinary decision is not collected on the spot on an Art. 68 ground.
  REQUIRE_REJECTED(
      f.PushOne(f.Pay(id, 4000, v1::PAYMENT_CHANNEL_ON_THE_SPOT, "2026-10-13")),
      v1::REASON_ON_THE_SPOT_NOT_ALLOWED,
      absl::StrCat("case ", number,
                   " was decided on the ordinary procedure: Art. 68 lets officers collect only "
                   "fines decided on the spot; after an ordinary decision only Art. 69 (a remote "
                   "area, at the party's request) allows it, otherwise the party pays at the "
                   "designated bank or electronically (Art. 67)"));

  // The clock: due, then overdue with the surcharge on the 40 yuan unpaid
  // (1.20 yuan a day), and the court window shown.
  v1::ListDeadlinesResponse d = f.Deadlines("2026-10-26");
  REQUIRE(d.clocks_size() == 1);
  CHECK(d.clocks(0).kind() == v1::CLOCK_KIND_PAYMENT);
  CHECK(d.clocks(0).last_day() == "2026-10-26");
  CHECK(d.clocks(0).state() == v1::CLOCK_STATE_DUE_TODAY);
  CHECK(d.clocks(0).outstanding_fen() == 4000);
  CHECK(d.clocks(0).surcharge_fen() == 0);
  // (the court window ends months away: listed in a year's window.)
  d = f.Deadlines("2026-10-28", 366);
  REQUIRE(d.clocks_size() == 2);
  CHECK(d.clocks(0).state() == v1::CLOCK_STATE_OVERDUE);
  CHECK(d.clocks(0).surcharge_fen() == 240);
  CHECK(d.clocks(1).kind() == v1::CLOCK_KIND_COURT_ENFORCEMENT);

  // The rest, and the surcharge to the day it is paid: the clocks stop.
  REQUIRE_APPLIED(f.PushOne(f.Pay(id, 4240, v1::PAYMENT_CHANNEL_ELECTRONIC, "2026-10-28")));
  CHECK(f.client.GetCase(id).case_().payments().paid_fen() == 10240);
  CHECK(f.Deadlines("2026-10-29").clocks().empty());
  REQUIRE_APPLIED(
      f.PushOne(f.Move(id, v1::CASE_STATE_SERVED, v1::CASE_STATE_EXECUTING, "2026-10-29")));
  REQUIRE_APPLIED(
      f.PushOne(f.Move(id, v1::CASE_STATE_EXECUTING, v1::CASE_STATE_CLOSED, "2026-10-29")));
}

TEST_CASE(
    "150 yuan in a city street is not collected on the spot but 50 yuan is and is handed over "
    "before the case closes (Art. 68-71)") {
  Payments f;
  const std::string street = f.Ticketed(15000);
  const v1::Case ticketed = f.client.GetCase(street).case_();
  // The ticket is the case's decision and its service.
  CHECK(ticketed.decision().decided_at_ms() == At("2026-10-09"));
  CHECK(ticketed.decision().fine_fen() == 15000);
  CHECK(ticketed.service().effective_at_ms() == At("2026-10-09"));
  REQUIRE_REJECTED(
      f.PushOne(f.Pay(street, 15000, v1::PAYMENT_CHANNEL_ON_THE_SPOT, "2026-10-09")),
      v1::REASON_ON_THE_SPOT_NOT_ALLOWED,
      absl::StrCat("case ", ticketed.case_number(),
                   ": a fine of 150 yuan is over the 100 yuan an officer may collect on the spot "
                   "(Art. 68(1)): the party pays at the designated bank or electronically (Art. "
                   "67)"));
  REQUIRE_APPLIED(f.PushOne(f.Pay(street, 15000, v1::PAYMENT_CHANNEL_ELECTRONIC, "2026-10-09")));

  const std::string small = f.Ticketed(5000);
  const std::string small_number = f.client.GetCase(small).case_().case_number();
  // An auxiliary does not collect fines.
  REQUIRE_REJECTED(
      f.PushOne(f.Pay(small, 5000, v1::PAYMENT_CHANNEL_ON_THE_SPOT, "2026-10-09", kAuxA3)),
      v1::REASON_ON_THE_SPOT_NOT_ALLOWED,
      absl::StrCat("aux-a3 may not collect the fine of case ", small_number,
                   " on the spot: only an officer of the case holding an enforcement credential "
                   "collects (Art. 42, 68)"));
  const v1::Mutation collected =
      f.Pay(small, 5000, v1::PAYMENT_CHANNEL_ON_THE_SPOT, "2026-10-09", kOfficerA2);
  const std::string payment_id = collected.append_case_event().event().event_id();
  REQUIRE_APPLIED(f.PushOne(collected));
  const v1::Case paid = f.client.GetCase(small).case_();
  REQUIRE(paid.payments().entries_size() == 1);
  CHECK(paid.payments().entries(0).collected_by() == kOfficerA2);
  CHECK(paid.payments().entries(0).receipt_code() == "33010126");

  // The hand-over clock for the collector: Saturday 10 October is worked,
  // so the 2 working days end on Monday 12.
  v1::ListDeadlinesResponse d = f.Deadlines("2026-10-10");
  REQUIRE(d.clocks_size() == 1);
  CHECK(d.clocks(0).kind() == v1::CLOCK_KIND_HAND_OVER);
  CHECK(d.clocks(0).case_id() == small);
  CHECK(d.clocks(0).last_day() == "2026-10-12");
  CHECK(d.clocks(0).outstanding_fen() == 5000);
  CHECK(d.clocks(0).event_id() == payment_id);
  REQUIRE(d.clocks(0).officer_ids_size() == 1);
  CHECK(d.clocks(0).officer_ids(0) == kOfficerA2);

  REQUIRE_APPLIED(
      f.PushOne(f.Move(small, v1::CASE_STATE_ISSUED, v1::CASE_STATE_FILED, "2026-10-10")));
  REQUIRE_APPLIED(
      f.PushOne(f.Move(small, v1::CASE_STATE_FILED, v1::CASE_STATE_EXECUTING, "2026-10-10")));
  REQUIRE_REJECTED(
      f.PushOne(f.Move(small, v1::CASE_STATE_EXECUTING, v1::CASE_STATE_CLOSED, "2026-10-10")),
      v1::REASON_PAYMENT,
      absl::StrCat("case ", small_number,
                   " cannot close: the 50 yuan collected on the spot (payment ", payment_id,
                   ") is not yet handed over to the agency (Art. 71)"));
  REQUIRE_REJECTED(f.PushOne(f.HandOver(small, payment_id, "2026-10-13")), v1::REASON_PAYMENT,
                   "money collected on the spot is handed to the agency within 2 working days "
                   "(Art. 71), by 2026-10-12; a later hand-over says why (late_reason)");
  REQUIRE_APPLIED(f.PushOne(f.HandOver(small, payment_id, "2026-10-12")));
  CHECK(f.Deadlines("2026-10-12").clocks().empty());
  REQUIRE_APPLIED(
      f.PushOne(f.Move(small, v1::CASE_STATE_EXECUTING, v1::CASE_STATE_CLOSED, "2026-10-12")));
}

TEST_CASE("a voided ticket takes its decision and payment clock with it") {
  Payments f;
  const std::string id = f.Ticketed(5000);
  const v1::Case ticketed = f.client.GetCase(id).case_();
  REQUIRE(ticketed.has_service());
  CHECK(f.Deadlines("2026-10-20").clocks_size() == 1);
  REQUIRE(f.client.GetCase(id).tickets_size() == 1);
  v1::Mutation m = NewMutation("dev-a1", f.seq++);
  m.mutable_void_ticket()->set_case_id(id);
  m.mutable_void_ticket()->set_ticket_id(f.client.GetCase(id).tickets(0).ticket_id());
  m.mutable_void_ticket()->set_reason("当事人身份登记错误，重新开具");
  REQUIRE_APPLIED(f.PushOne(Dated(m, At("2026-10-09", 12))));
  const v1::Case voided = f.client.GetCase(id).case_();
  CHECK_FALSE(voided.has_service());
  CHECK_FALSE(voided.has_decision());
  CHECK(f.Deadlines("2026-10-20").clocks().empty());
}

}  // namespace
}  // namespace palm::testing
