// Payment of a ticket's fine on the device, offline (Art. 67-71): the
// ticket starts the payment clock, a collection on the spot is checked
// where the law allows it and starts the hand-over clock, and the officer
// sees both in Client::ListDeadlines with the amounts.
#include <catch2/catch.hpp>

#include "tests/client/client_test_util.h"
#include "tests/sync/sample_calendar.h"

namespace palm::testing {
namespace {

int64_t At(const char* day, int hour) {
  absl::StatusOr<absl::CivilDay> d = sync::ParseCivilDay(day, "test");
  REQUIRE(d.ok());
  return sync::ShanghaiMidnightMs(*d) + int64_t{hour} * 3600 * 1000;
}

// A device with the sample calendar (2026: Saturday 10 October worked), its
// clock on Friday 9 October 2026 at 10:00.
struct PayingDevice : Device {
  PayingDevice() {
    now_ms = At("2026-10-09", 10);
    v1::Catalog catalog = SampleCatalog();
    catalog.set_version(catalog.version() + 1);
    *catalog.mutable_calendar() = sync::testing::SampleCalendarCatalog().calendar();
    REQUIRE(store().ApplyCatalog(catalog).ok());
  }

  std::string Ticketed(int64_t fine_fen) {
    Result<std::string> recorded = client->RecordCase(SummaryCase());
    INFO(recorded.status().ToString());
    REQUIRE(recorded.ok());
    const std::string case_id = *recorded;
    Result<Ticket> t = client->IssueTicket(ValidTicket(case_id, fine_fen));
    INFO(t.status().ToString());
    REQUIRE(t.ok());
    return case_id;
  }

  std::vector<CaseClock> Clocks(const char* as_of) {
    DeadlineQuery q;
    q.within_days = 30;
    q.as_of = as_of;
    Result<std::vector<CaseClock>> clocks = client->ListDeadlines(q);
    INFO(clocks.status().ToString());
    REQUIRE(clocks.ok());
    return *clocks;
  }
};

CaseEventInput OnTheSpot(const std::string& case_id, int64_t fen, const std::string& number) {
  PaymentRecord r;
  r.channel = PaymentChannel::kOnTheSpot;
  r.paid_at_ms = At("2026-10-09", 10);
  r.ground = CollectionGround::kSmallFine;
  r.receipt_code = "33010126";
  r.receipt_number = number;
  CaseEventInput e{case_id,     CaseEventKind::kPayment, "", 0, fen, std::nullopt, std::nullopt,
                   std::nullopt};
  e.payment = r;
  return e;
}

TEST_CASE("an officer offline collects a small fine on the spot and sees the hand-over due") {
  PayingDevice d;
  const std::string id = d.Ticketed(5000);
  // The ticket is the decision, served on the spot: 15 days is Saturday 24
  // October, so the party pays by Monday 26.
  std::vector<CaseClock> clocks = d.Clocks("2026-10-09");
  REQUIRE(clocks.size() == 1);
  CHECK(clocks[0].case_id == id);
  CHECK(clocks[0].kind == ClockKind::kPayment);
  CHECK(clocks[0].last_day == "2026-10-26");
  CHECK(clocks[0].outstanding_fen == 5000);

  // The receipt in the province's format, or no collection.
  RequireRefused(d.client->AppendCaseEvent(OnTheSpot(id, 5000, "12")).status(),
                 StatusCode::kInvalidArgument, "payment",
                 "payment record: collection on the spot gives the province's receipt (Art. 70): "
                 "an 8-digit receipt_code (票据代码) and a 10-digit receipt_number (票据号码)");
  Result<std::string> paid = d.client->AppendCaseEvent(OnTheSpot(id, 5000, "0000012345"));
  INFO(paid.status().ToString());
  REQUIRE(paid.ok());
  Result<CaseView> view = d.client->GetCase(id);
  REQUIRE(view.ok());
  CHECK(view->record.paid_fen == 5000);
  REQUIRE(view->timeline.back().payment.has_value());
  CHECK(view->timeline.back().payment->receipt_number == "0000012345");

  // Paid: the payment clock has stopped; the money is to be handed over by
  // Monday 12 October (Saturday 10 is worked).
  clocks = d.Clocks("2026-10-10");
  REQUIRE(clocks.size() == 1);
  CHECK(clocks[0].kind == ClockKind::kHandOver);
  CHECK(clocks[0].last_day == "2026-10-12");
  CHECK(clocks[0].state == ClockState::kDueSoon);
  CHECK(clocks[0].outstanding_fen == 5000);
  CHECK(clocks[0].event_id == *paid);

  HandOverRecord h;
  h.handed_over_at_ms = At("2026-10-09", 16);
  h.payment_event_ids = {*paid};
  h.reference = "财务科收讫 2026-118";
  CaseEventInput hand_over{
      id, CaseEventKind::kHandOver, "", 0, 0, std::nullopt, std::nullopt, std::nullopt};
  hand_over.hand_over = h;
  d.now_ms = At("2026-10-09", 17);
  REQUIRE(d.client->AppendCaseEvent(hand_over).ok());
  CHECK(d.Clocks("2026-10-10").empty());
}

TEST_CASE("the device refuses 150 yuan on the spot and an auxiliary collecting (Art. 68)") {
  PayingDevice d;
  const std::string street = d.Ticketed(15000);
  RequireRefused(d.client->AppendCaseEvent(OnTheSpot(street, 15000, "0000012345")).status(),
                 StatusCode::kFailedPrecondition, "on_the_spot_not_allowed",
                 "case " + street +
                     ": a fine of 150 yuan is over the 100 yuan an officer may collect on the spot "
                     "(Art. 68(1)): the party pays at the designated bank or electronically (Art. "
                     "67)");
  Result<CaseView> view = d.client->GetCase(street);
  REQUIRE(view.ok());
  CHECK(view->record.paid_fen == 0);

  const std::string small = d.Ticketed(5000);
  REQUIRE(d.client->SetActingOfficer(kAux1).ok());
  RequireRefused(d.client->AppendCaseEvent(OnTheSpot(small, 5000, "0000012345")).status(),
                 StatusCode::kPermissionDenied, "on_the_spot_not_allowed",
                 std::string(kAux1) + " may not collect the fine of case " + small +
                     " on the spot: only an officer of the case holding an enforcement "
                     "credential collects (Art. 42, 68)");
}

}  // namespace
}  // namespace palm::testing
