#include "sync/clocks.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "sync/status_macros.h"

namespace palm::sync {
namespace {

// Art. 68(1): "一百元以下".
constexpr int64_t kSmallFineMaxFen = 100 * 100;

std::string Yuan(int64_t fen) {
  return fen % 100 == 0 ? absl::StrCat(fen / 100)
                        : absl::StrCat(fen / 100, ".", fen % 100 < 10 ? "0" : "", fen % 100);
}

}  // namespace

absl::CivilDay AddMonths(absl::CivilDay day, int months) {
  const absl::CivilMonth month = absl::CivilMonth(day) + months;
  const absl::CivilDay last_of_month = absl::CivilDay(month + 1) - 1;
  const absl::CivilDay wanted(month.year(), month.month(), 1);
  return std::min(wanted + (day.day() - 1), last_of_month);
}

absl::StatusOr<absl::CivilDay> NextWorkingDayOnOrAfter(const WorkingDayCalendar& calendar,
                                                       absl::CivilDay day) {
  PALM_ASSIGN_OR_RETURN(bool working, calendar.IsWorkingDay(day));
  if (working) return day;
  return calendar.AddWorkingDays(day, 1);
}

absl::CivilDay LimitationLastDay(absl::CivilDay act_end, LimitationKind kind) {
  const int years = kind == LimitationKind::kOrdinary ? 2 : 5;
  return AddMonths(act_end, 12 * years);
}

absl::Status CheckLimitation(absl::CivilDay act_end, absl::CivilDay discovered,
                             LimitationKind kind) {
  if (discovered < act_end) {
    return absl::InvalidArgumentError(
        absl::StrCat("the violation cannot be discovered on ", FormatCivilDay(discovered),
                     ", before it ended on ", FormatCivilDay(act_end)));
  }
  const absl::CivilDay last = LimitationLastDay(act_end, kind);
  if (discovered <= last) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "a violation not discovered within ",
      kind == LimitationKind::kOrdinary ? "2 years" : "5 years (life, health or financial safety)",
      " is not penalised (Art. 36): it ended on ", FormatCivilDay(act_end),
      ", the period ended on ", FormatCivilDay(last), ", and it was discovered on ",
      FormatCivilDay(discovered)));
}

absl::StatusOr<absl::CivilDay> DecisionLastDay(absl::CivilDay filed,
                                               const absl::CivilDay* extended_to) {
  const absl::CivilDay ordinary = filed + 90;
  if (extended_to == nullptr) return ordinary;
  if (*extended_to <= ordinary) {
    return absl::InvalidArgumentError(
        absl::StrCat("an extension must end after the 90 days of Art. 60 (",
                     FormatCivilDay(ordinary), "), not on ", FormatCivilDay(*extended_to)));
  }
  return *extended_to;
}

absl::StatusOr<absl::CivilDay> ServiceLastDay(const WorkingDayCalendar& calendar,
                                              absl::CivilDay decided) {
  return calendar.AddWorkingDays(decided, 7);
}

absl::StatusOr<absl::CivilDay> HearingRequestLastDay(const WorkingDayCalendar& calendar,
                                                     absl::CivilDay notified) {
  return calendar.AddWorkingDays(notified, 5);
}

absl::StatusOr<absl::CivilDay> EarliestHearingDay(const WorkingDayCalendar& calendar,
                                                  absl::CivilDay notice_served) {
  return calendar.AddWorkingDays(notice_served, 8);
}

absl::StatusOr<absl::CivilDay> PaymentLastDay(const WorkingDayCalendar& calendar,
                                              absl::CivilDay served,
                                              const absl::CivilDay* deferred_to) {
  if (deferred_to != nullptr) {
    if (*deferred_to <= served) {
      return absl::InvalidArgumentError(
          absl::StrCat("a deferral (Art. 66) must end after service on ", FormatCivilDay(served),
                       ", not on ", FormatCivilDay(*deferred_to)));
    }
    return NextWorkingDayOnOrAfter(calendar, *deferred_to);
  }
  return NextWorkingDayOnOrAfter(calendar, served + 15);
}

absl::StatusOr<SurchargeResult> LateSurcharge(int64_t fine_fen, absl::CivilDay last_day,
                                              const std::vector<Payment>& payments,
                                              absl::CivilDay as_of) {
  if (fine_fen <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the fine must be positive to accrue a surcharge, not ", fine_fen, " fen"));
  }
  for (const Payment& p : payments) {
    if (p.fen <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("a payment on ", FormatCivilDay(p.day),
                                                     " must be positive, not ", p.fen, " fen"));
    }
  }
  // Fine paid before (or on) each day: payments apply to the fine first.
  const auto paid_before = [&payments](absl::CivilDay day) {
    int64_t paid = 0;
    for (const Payment& p : payments) {
      if (p.day < day) paid += p.fen;
    }
    return paid;
  };
  SurchargeResult result;
  int64_t paid_by_as_of = 0;
  for (const Payment& p : payments) {
    if (p.day <= as_of) paid_by_as_of += p.fen;
  }
  result.unpaid_fine_fen = std::max<int64_t>(0, fine_fen - paid_by_as_of);
  if (as_of <= last_day) return result;
  result.days_late = as_of - last_day;
  for (absl::CivilDay day = last_day + 1; day <= as_of; ++day) {
    const int64_t unpaid = std::max<int64_t>(0, fine_fen - paid_before(day));
    if (unpaid == 0) break;
    result.surcharge_fen += unpaid * 3 / 100;
    if (result.surcharge_fen >= fine_fen) {
      result.surcharge_fen = fine_fen;
      result.capped = true;
      break;
    }
  }
  return result;
}

absl::Status CheckOnTheSpotCollection(int64_t fine_fen, OnTheSpotGround ground) {
  switch (ground) {
    case OnTheSpotGround::kSmallFine:
      if (fine_fen <= kSmallFineMaxFen) return absl::OkStatus();
      return absl::FailedPreconditionError(absl::StrCat(
          "a fine of ", Yuan(fine_fen),
          " yuan is over the 100 yuan an officer may collect on the spot (Art. 68(1)): the "
          "party pays at the designated bank or electronically (Art. 67)"));
    case OnTheSpotGround::kHardToEnforceLater:
    case OnTheSpotGround::kRemoteAreaOnRequest:
      return absl::OkStatus();
    case OnTheSpotGround::kNone:
      break;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "collecting a fine of ", Yuan(fine_fen),
      " yuan on the spot needs a ground of Art. 68 or 69 (100 yuan or less, hard to enforce "
      "later, or a remote area at the party's request): the party pays at the designated bank or "
      "electronically (Art. 67)"));
}

absl::StatusOr<absl::CivilDay> HandOverLastDay(const WorkingDayCalendar& calendar,
                                               absl::CivilDay collected) {
  return calendar.AddWorkingDays(collected, 2);
}

absl::StatusOr<absl::CivilDay> PublicationWithdrawalLastDay(const WorkingDayCalendar& calendar,
                                                            absl::CivilDay changed) {
  return calendar.AddWorkingDays(changed, 3);
}

EnforcementWindow CourtEnforcementWindow(absl::CivilDay served) {
  // Litigation (6 months) outlasts reconsideration (60 days).
  const absl::CivilDay remedies_end = std::max(AddMonths(served, 6), served + 60);
  return {remedies_end + 1, AddMonths(remedies_end, 3)};
}

ClockReading ReadClock(absl::CivilDay last_day, absl::CivilDay today, int64_t warn_days) {
  ClockReading reading;
  reading.days_left = last_day - today;
  if (reading.days_left < 0) {
    reading.state = ClockState::kOverdue;
  } else if (reading.days_left == 0) {
    reading.state = ClockState::kDueToday;
  } else if (reading.days_left <= warn_days) {
    reading.state = ClockState::kDueSoon;
  }
  return reading;
}

}  // namespace palm::sync
