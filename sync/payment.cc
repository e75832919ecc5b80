#include "sync/payment.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "sync/clocks.h"
#include "sync/operations.h"
#include "sync/rules.h"
#include "sync/status.h"
#include "sync/status_macros.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

constexpr int kMaxHandOverPayments = 20;

std::string Label(const v1::Case& c) {
  return c.case_number().empty() ? c.case_id() : c.case_number();
}

bool Blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch == ' ' || ch == '\t'; });
}

bool Digits(const std::string& s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
}

absl::Status Bad(absl::string_view message) {
  return InvalidArgument(v1::REASON_PAYMENT, absl::StrCat("payment record: ", message));
}

bool OnCase(const v1::Case& c, const std::string& officer_id) {
  return std::find(c.officer_ids().begin(), c.officer_ids().end(), officer_id) !=
         c.officer_ids().end();
}

OnTheSpotGround GroundOf(v1::CollectionGround g) {
  switch (g) {
    case v1::COLLECTION_GROUND_SMALL_FINE:
      return OnTheSpotGround::kSmallFine;
    case v1::COLLECTION_GROUND_HARD_TO_ENFORCE_LATER:
      return OnTheSpotGround::kHardToEnforceLater;
    case v1::COLLECTION_GROUND_REMOTE_AREA_ON_REQUEST:
      return OnTheSpotGround::kRemoteAreaOnRequest;
    default:
      return OnTheSpotGround::kNone;
  }
}

// Art. 68-70: the ground, the receipt and the collector.
absl::Status CheckOnTheSpot(const PaymentFacts& facts, const v1::PaymentRecord& r) {
  const v1::Case& c = *facts.c;
  const int64_t fine = c.decision().fine_fen();
  const OnTheSpotGround ground = GroundOf(r.ground());
  if (ground != OnTheSpotGround::kNone && ground != OnTheSpotGround::kRemoteAreaOnRequest &&
      c.procedure() != v1::PROCEDURE_SUMMARY) {
    return FailedPrecondition(
        v1::REASON_ON_THE_SPOT_NOT_ALLOWED,
        absl::StrCat("case ", Label(c),
                     " was decided on the ordinary procedure: Art. 68 lets officers collect only "
                     "fines decided on the spot; after an ordinary decision only Art. 69 (a remote "
                     "area, at the party's request) allows it, otherwise the party pays at the "
                     "designated bank or electronically (Art. 67)"));
  }
  if (absl::Status lawful = CheckOnTheSpotCollection(fine, ground); !lawful.ok()) {
    return FailedPrecondition(v1::REASON_ON_THE_SPOT_NOT_ALLOWED,
                              absl::StrCat("case ", Label(c), ": ", lawful.message()));
  }
  if (ground != OnTheSpotGround::kSmallFine && Blank(r.ground_detail())) {
    return Bad(ground == OnTheSpotGround::kRemoteAreaOnRequest
                   ? "collection on the spot in a remote area (Art. 69) says where and how the "
                     "party asked for it (ground_detail)"
                   : "collection on the spot because paying later would be hard to enforce (Art. "
                     "68(2)) says why (ground_detail)");
  }
  if (!Digits(r.receipt_code(), 8) || !Digits(r.receipt_number(), 10)) {
    return Bad(
        "collection on the spot gives the province's receipt (Art. 70): an 8-digit receipt_code "
        "(票据代码) and a 10-digit receipt_number (票据号码)");
  }
  for (const v1::CasePayment& p : c.payments().entries()) {
    if (p.receipt_code() == r.receipt_code() && p.receipt_number() == r.receipt_number()) {
      return Bad(absl::StrCat("receipt ", r.receipt_code(), "-", r.receipt_number(),
                              " is already on case ", Label(c), " (payment ", p.event_id(), ")"));
    }
  }
  const v1::Officer* actor = facts.actor;
  if (actor == nullptr || !OnCase(c, actor->officer_id()) || !HoldsCredential(*actor)) {
    const std::string who = actor == nullptr ? "the acting officer" : actor->officer_id();
    return Refuse(absl::StatusCode::kPermissionDenied, v1::REASON_ON_THE_SPOT_NOT_ALLOWED,
                  absl::StrCat(who, " may not collect the fine of case ", Label(c),
                               " on the spot: only an officer of the case holding an enforcement "
                               "credential collects (Art. 42, 68)"));
  }
  return absl::OkStatus();
}

// The calendar, or one with no year when none is on record, so that both
// ends refuse a date they cannot count with the same message (the server
// holds no calendar object then, the device an empty one).
const WorkingDayCalendar& CalendarOrNone(const WorkingDayCalendar* calendar) {
  static const WorkingDayCalendar* const none = new WorkingDayCalendar(
      *WorkingDayCalendar::From(google::protobuf::RepeatedPtrField<v1::CalendarYear>()));
  return calendar != nullptr ? *calendar : *none;
}

}  // namespace

bool FineIsDue(const v1::Case& c) {
  if (c.decision().fine_fen() <= 0 || !c.has_service()) return false;
  switch (c.state()) {
    case v1::CASE_STATE_SERVED:
      return c.procedure() == v1::PROCEDURE_ORDINARY;
    case v1::CASE_STATE_ISSUED:
    case v1::CASE_STATE_FILED:
      return c.procedure() == v1::PROCEDURE_SUMMARY;
    case v1::CASE_STATE_EXECUTING:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<FineDue> FineDueOn(const v1::Case& c, const WorkingDayCalendar& calendar,
                                  absl::CivilDay as_of) {
  if (!FineIsDue(c)) {
    return FailedPrecondition(
        v1::REASON_PAYMENT,
        absl::StrCat("no fine is due on case ", Label(c), " in state ",
                     v1::CaseState_Name(c.state()), ": payments follow a fine decided and served"));
  }
  FineDue due;
  due.fine_fen = c.decision().fine_fen();
  const absl::CivilDay served = ShanghaiDay(c.service().effective_at_ms());
  absl::StatusOr<absl::CivilDay> last = PaymentLastDay(calendar, served);
  if (!last.ok()) return last.status();
  due.last_day = *last;
  std::vector<Payment> payments;
  for (const v1::CasePayment& p : c.payments().entries()) {
    const absl::CivilDay day = ShanghaiDay(p.paid_at_ms());
    if (day <= as_of && p.amount_fen() > 0) {
      payments.push_back({day, p.amount_fen()});
      due.paid_fen += p.amount_fen();
    }
  }
  absl::StatusOr<SurchargeResult> surcharge =
      LateSurcharge(due.fine_fen, due.last_day, payments, as_of);
  if (!surcharge.ok()) return surcharge.status();
  due.unpaid_fine_fen = surcharge->unpaid_fine_fen;
  due.surcharge_fen = surcharge->surcharge_fen;
  const int64_t to_surcharge = std::max<int64_t>(0, due.paid_fen - due.fine_fen);
  due.unpaid_surcharge_fen = std::max<int64_t>(0, due.surcharge_fen - to_surcharge);
  due.outstanding_fen = due.unpaid_fine_fen + due.unpaid_surcharge_fen;
  return due;
}

v1::PaymentRecord PaymentOf(const v1::CaseEvent& e) {
  if (e.has_payment()) return e.payment();
  v1::PaymentRecord r;
  r.set_channel(v1::PAYMENT_CHANNEL_BANK);
  r.set_paid_at_ms(e.at_ms());
  return r;
}

absl::Status CheckPaymentEvent(const PaymentFacts& facts, const v1::CaseEvent& e) {
  if (e.kind() != v1::CASE_EVENT_KIND_PAYMENT) return absl::OkStatus();
  const v1::Case& c = *facts.c;
  if (!FineIsDue(c)) {
    return FailedPrecondition(
        v1::REASON_PAYMENT,
        absl::StrCat("case ", Label(c), " has no fine due (state ", v1::CaseState_Name(c.state()),
                     "): a payment is recorded once a fine is decided and served"));
  }
  const v1::PaymentRecord r = PaymentOf(e);
  switch (r.channel()) {
    case v1::PAYMENT_CHANNEL_BANK:
    case v1::PAYMENT_CHANNEL_ELECTRONIC:
      if (e.has_payment() && Blank(r.reference())) {
        return Bad(r.channel() == v1::PAYMENT_CHANNEL_BANK
                       ? "a payment at the bank gives the bank's voucher number (reference)"
                       : "an electronic payment gives its transaction number (reference)");
      }
      break;
    case v1::PAYMENT_CHANNEL_ON_THE_SPOT:
      break;
    default:
      return Bad("the channel is missing (bank, electronic or on the spot)");
  }
  if (r.paid_at_ms() <= 0) return Bad("paid_at_ms is missing");
  if (r.paid_at_ms() < c.service().effective_at_ms()) {
    return Bad(absl::StrCat("paid before the decision of case ", Label(c),
                            " was served: a payment follows service"));
  }
  if (r.paid_at_ms() > facts.written_at_ms) {
    return Bad("paid after the event is written: a payment is recorded once made");
  }
  if (r.channel() == v1::PAYMENT_CHANNEL_ON_THE_SPOT) {
    PALM_RETURN_IF_ERROR(CheckOnTheSpot(facts, r));
  }
  absl::StatusOr<FineDue> due =
      FineDueOn(c, CalendarOrNone(facts.calendar), ShanghaiDay(r.paid_at_ms()));
  if (!due.ok()) return FailedPrecondition(v1::REASON_PAYMENT, due.status().message());
  if (e.amount_fen() > due->outstanding_fen) {
    return FailedPrecondition(
        v1::REASON_PAYMENT,
        absl::StrCat("a payment of ", FormatYuan(e.amount_fen()), " yuan is more than the ",
                     FormatYuan(due->outstanding_fen), " yuan outstanding on case ", Label(c),
                     " (fine ", FormatYuan(due->fine_fen), ", paid ", FormatYuan(due->paid_fen),
                     ", surcharge ", FormatYuan(due->surcharge_fen), ")"));
  }
  return absl::OkStatus();
}

void RecordPayment(v1::Case* c, const v1::CaseEvent& e, const std::string& collected_by) {
  if (e.kind() != v1::CASE_EVENT_KIND_PAYMENT) return;
  const v1::PaymentRecord r = PaymentOf(e);
  v1::CasePayments* payments = c->mutable_payments();
  v1::CasePayment* p = payments->add_entries();
  p->set_event_id(e.event_id());
  p->set_channel(r.channel());
  p->set_paid_at_ms(r.paid_at_ms());
  p->set_amount_fen(e.amount_fen());
  if (r.channel() == v1::PAYMENT_CHANNEL_ON_THE_SPOT) {
    p->set_collected_by(collected_by);
    p->set_receipt_code(r.receipt_code());
    p->set_receipt_number(r.receipt_number());
  }
  payments->set_paid_fen(payments->paid_fen() + e.amount_fen());
}

absl::Status CheckHandOverEvent(const PaymentFacts& facts, const v1::CaseEvent& e) {
  if (e.kind() != v1::CASE_EVENT_KIND_HAND_OVER) return absl::OkStatus();
  const v1::Case& c = *facts.c;
  const v1::HandOverRecord& h = e.hand_over();
  const auto malformed = [](absl::string_view message) {
    return InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                           absl::StrCat("append_case_event.event.hand_over: ", message));
  };
  if (!e.has_hand_over()) return malformed("a HAND_OVER event carries its hand-over record");
  if (h.payment_event_ids().empty()) return malformed("names no payment handed over");
  if (h.payment_event_ids_size() > kMaxHandOverPayments) {
    return malformed(absl::StrCat("names ", h.payment_event_ids_size(), " payments, more than ",
                                  kMaxHandOverPayments));
  }
  if (h.handed_over_at_ms() <= 0) return malformed("handed_over_at_ms is missing");
  if (h.handed_over_at_ms() > facts.written_at_ms) {
    return malformed("handed over after the event is written");
  }
  if (Blank(h.reference())) {
    return malformed("gives the agency's or the bank's acknowledgement (reference)");
  }
  if (facts.actor == nullptr || !OnCase(c, facts.actor->officer_id())) {
    return Refuse(
        absl::StatusCode::kPermissionDenied, v1::REASON_PERMISSION_DENIED,
        absl::StrCat(facts.actor == nullptr ? "the acting officer" : facts.actor->officer_id(),
                     " is not an officer of case ", Label(c),
                     " and may not record the hand-over of its fines"));
  }
  int64_t earliest_ms = 0;
  std::vector<std::string> seen;
  for (const std::string& id : h.payment_event_ids()) {
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) {
      return malformed(absl::StrCat("names payment ", id, " twice"));
    }
    seen.push_back(id);
    const auto entry = std::find_if(c.payments().entries().begin(), c.payments().entries().end(),
                                    [&id](const v1::CasePayment& p) { return p.event_id() == id; });
    if (entry == c.payments().entries().end() ||
        entry->channel() != v1::PAYMENT_CHANNEL_ON_THE_SPOT) {
      return FailedPrecondition(
          v1::REASON_PAYMENT,
          absl::StrCat("payment ", id, " is not a collection on the spot of case ", Label(c),
                       ": only those are handed over (Art. 71)"));
    }
    if (!entry->hand_over_event_id().empty()) {
      return FailedPrecondition(v1::REASON_PAYMENT,
                                absl::StrCat("payment ", id, " was handed over already (event ",
                                             entry->hand_over_event_id(), ")"));
    }
    if (h.handed_over_at_ms() < entry->paid_at_ms()) {
      return FailedPrecondition(
          v1::REASON_PAYMENT,
          absl::StrCat("the hand-over is dated before payment ", id, " was collected"));
    }
    if (earliest_ms == 0 || entry->paid_at_ms() < earliest_ms) earliest_ms = entry->paid_at_ms();
  }
  absl::StatusOr<absl::CivilDay> last =
      HandOverLastDay(CalendarOrNone(facts.calendar), ShanghaiDay(earliest_ms));
  if (!last.ok()) return last.status();
  if (ShanghaiDay(h.handed_over_at_ms()) > *last && Blank(h.late_reason())) {
    return FailedPrecondition(
        v1::REASON_PAYMENT,
        absl::StrCat("money collected on the spot is handed to the agency within 2 working days "
                     "(Art. 71), by ",
                     FormatCivilDay(*last), "; a later hand-over says why (late_reason)"));
  }
  return absl::OkStatus();
}

void RecordHandOver(v1::Case* c, const v1::CaseEvent& e) {
  if (e.kind() != v1::CASE_EVENT_KIND_HAND_OVER) return;
  for (v1::CasePayment& p : *c->mutable_payments()->mutable_entries()) {
    for (const std::string& id : e.hand_over().payment_event_ids()) {
      if (p.event_id() == id) {
        p.set_hand_over_event_id(e.event_id());
        p.set_handed_over_at_ms(e.hand_over().handed_over_at_ms());
      }
    }
  }
}

absl::Status CheckClosingMove(const v1::Case& c, v1::CaseState to) {
  if (to != v1::CASE_STATE_CLOSED) return absl::OkStatus();
  for (const v1::CasePayment& p : c.payments().entries()) {
    if (p.channel() == v1::PAYMENT_CHANNEL_ON_THE_SPOT && p.hand_over_event_id().empty()) {
      return FailedPrecondition(
          v1::REASON_PAYMENT,
          absl::StrCat("case ", Label(c), " cannot close: the ", FormatYuan(p.amount_fen()),
                       " yuan collected on the spot (payment ", p.event_id(),
                       ") is not yet handed over to the agency (Art. 71)"));
    }
  }
  return absl::OkStatus();
}

const char* PaymentChannelLabel(v1::PaymentChannel channel) {
  switch (channel) {
    case v1::PAYMENT_CHANNEL_BANK:
      return "银行缴纳";
    case v1::PAYMENT_CHANNEL_ELECTRONIC:
      return "电子支付";
    case v1::PAYMENT_CHANNEL_ON_THE_SPOT:
      return "当场收缴";
    default:
      return "未知方式";
  }
}

}  // namespace palm::sync
