#include "sync/case_clocks.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "sync/clocks.h"
#include "sync/payment.h"
#include "sync/service.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

bool BeforeDecision(v1::CaseState s) {
  switch (s) {
    case v1::CASE_STATE_FILED:
    case v1::CASE_STATE_INVESTIGATING:
    case v1::CASE_STATE_NOTIFIED:
    case v1::CASE_STATE_HEARING:
    case v1::CASE_STATE_LEGAL_REVIEW:
      return true;
    default:
      return false;
  }
}

v1::ClockState StateOf(ClockState s) {
  switch (s) {
    case ClockState::kRunning:
      return v1::CLOCK_STATE_RUNNING;
    case ClockState::kDueSoon:
      return v1::CLOCK_STATE_DUE_SOON;
    case ClockState::kDueToday:
      return v1::CLOCK_STATE_DUE_TODAY;
    case ClockState::kOverdue:
      return v1::CLOCK_STATE_OVERDUE;
  }
  return v1::CLOCK_STATE_UNSPECIFIED;
}

absl::Status NoCalendar(const v1::Case& c) {
  return absl::FailedPreconditionError(absl::StrCat(
      "case ", c.case_number().empty() ? c.case_id() : c.case_number(),
      ": no working-day calendar is on record, so its clocks cannot be counted (Art. 85)"));
}

}  // namespace

absl::StatusOr<std::vector<v1::CaseClock>> CaseClocks(const v1::Case& c,
                                                      const WorkingDayCalendar* calendar,
                                                      absl::CivilDay today, int64_t warn_days) {
  std::vector<v1::CaseClock> clocks;
  auto add = [&](v1::ClockKind kind, absl::CivilDay started, absl::CivilDay last) {
    v1::CaseClock& k = clocks.emplace_back();
    k.set_case_id(c.case_id());
    k.set_case_number(c.case_number());
    k.set_kind(kind);
    k.set_started_on(FormatCivilDay(started));
    k.set_last_day(FormatCivilDay(last));
    const ClockReading reading = ReadClock(last, today, warn_days);
    k.set_state(StateOf(reading.state));
    k.set_days_left(reading.days_left);
    *k.mutable_officer_ids() = c.officer_ids();
    k.set_town_id(c.town_id());
    k.set_squad_id(c.squad_id());
    return &k;
  };

  if (c.procedure() == v1::PROCEDURE_ORDINARY && BeforeDecision(c.state())) {
    if (const int64_t filed_ms = FiledAtMs(c); filed_ms > 0) {
      const absl::CivilDay filed = ShanghaiDay(filed_ms);
      absl::CivilDay extended;
      const bool has_extension = c.decision_extension().extended_to().size() > 0;
      if (has_extension) {
        absl::StatusOr<absl::CivilDay> day =
            ParseCivilDay(c.decision_extension().extended_to(), "decision_extension.extended_to");
        if (!day.ok()) return day.status();
        extended = *day;
      }
      absl::StatusOr<absl::CivilDay> last =
          DecisionLastDay(filed, has_extension ? &extended : nullptr);
      if (!last.ok()) return last.status();
      add(v1::CLOCK_KIND_DECISION, filed, *last);
    }
  }

  if (c.state() == v1::CASE_STATE_DECIDED && !c.has_service()) {
    if (const int64_t decided_ms = DecidedAtMs(c); decided_ms > 0) {
      if (calendar == nullptr) return NoCalendar(c);
      const absl::CivilDay decided = ShanghaiDay(decided_ms);
      absl::StatusOr<absl::CivilDay> last = ServiceLastDay(*calendar, decided);
      if (!last.ok()) return last.status();
      add(v1::CLOCK_KIND_SERVICE, decided, *last);
    }
  }

  if (FineIsDue(c)) {
    if (calendar == nullptr) return NoCalendar(c);
    const absl::CivilDay served = ShanghaiDay(c.service().effective_at_ms());
    absl::StatusOr<FineDue> due = FineDueOn(c, *calendar, today);
    if (!due.ok()) return due.status();
    // Paid in full, surcharge and all: the clock has stopped.
    if (due->outstanding_fen > 0) {
      v1::CaseClock* k = add(v1::CLOCK_KIND_PAYMENT, served, due->last_day);
      k->set_outstanding_fen(due->unpaid_fine_fen);
      k->set_surcharge_fen(due->surcharge_fen);
      if (today > due->last_day) {
        const EnforcementWindow window = CourtEnforcementWindow(served);
        k = add(v1::CLOCK_KIND_COURT_ENFORCEMENT, served, window.last_day);
        k->set_opens_on(FormatCivilDay(window.first_day));
        k->set_outstanding_fen(due->unpaid_fine_fen);
        k->set_surcharge_fen(due->surcharge_fen);
      }
    }
  }

  // Money collected on the spot runs its own clock until handed over,
  // whatever the case's state.
  for (const v1::CasePayment& p : c.payments().entries()) {
    if (p.channel() != v1::PAYMENT_CHANNEL_ON_THE_SPOT || !p.hand_over_event_id().empty()) {
      continue;
    }
    if (calendar == nullptr) return NoCalendar(c);
    const absl::CivilDay collected = ShanghaiDay(p.paid_at_ms());
    absl::StatusOr<absl::CivilDay> last = HandOverLastDay(*calendar, collected);
    if (!last.ok()) return last.status();
    v1::CaseClock* k = add(v1::CLOCK_KIND_HAND_OVER, collected, *last);
    k->set_outstanding_fen(p.amount_fen());
    k->set_event_id(p.event_id());
    if (!p.collected_by().empty()) {
      k->clear_officer_ids();
      k->add_officer_ids(p.collected_by());
    }
  }
  return clocks;
}

const char* ClockKindLabel(v1::ClockKind kind) {
  switch (kind) {
    case v1::CLOCK_KIND_DECISION:
      return "办案期限 (第60条)";
    case v1::CLOCK_KIND_SERVICE:
      return "送达期限 (第61条)";
    case v1::CLOCK_KIND_PAYMENT:
      return "缴款期限 (第67条)";
    case v1::CLOCK_KIND_COURT_ENFORCEMENT:
      return "申请强制执行 (第72条)";
    case v1::CLOCK_KIND_HAND_OVER:
      return "罚款上缴 (第71条)";
    default:
      return "未知时限";
  }
}

bool ClockBefore(const v1::CaseClock& a, const v1::CaseClock& b) {
  const bool a_over = a.state() == v1::CLOCK_STATE_OVERDUE;
  const bool b_over = b.state() == v1::CLOCK_STATE_OVERDUE;
  const std::string& a_case = a.case_number().empty() ? a.case_id() : a.case_number();
  const std::string& b_case = b.case_number().empty() ? b.case_id() : b.case_number();
  return std::make_tuple(!a_over, a.last_day(), a_case, static_cast<int>(a.kind()), a.event_id()) <
         std::make_tuple(!b_over, b.last_day(), b_case, static_cast<int>(b.kind()), b.event_id());
}

}  // namespace palm::sync
