#include "sync/notice.h"

#include "absl/strings/str_cat.h"
#include "sync/lifecycle.h"
#include "sync/status.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

std::string Label(const v1::Case& c) {
  return c.case_number().empty() ? c.case_id() : c.case_number();
}

std::string Yuan(int64_t fen) {
  return fen % 100 == 0 ? absl::StrCat(fen / 100, " yuan")
                        : absl::StrCat(fen / 100, ".", fen % 100 < 10 ? "0" : "", fen % 100,
                                       " yuan");
}

}  // namespace

absl::Status CheckNoticeMove(const v1::TransitionCase& op) {
  if (op.to_state() != v1::CASE_STATE_NOTIFIED) return absl::OkStatus();
  const int days = op.notice_period_working_days();
  if (days < 0 || days > kMaxNoticePeriodWorkingDays) {
    return InvalidArgument(
        v1::REASON_INVALID_ARGUMENT,
        absl::StrCat("transition_case.notice_period_working_days ", days,
                     " is out of range: 0 (the default, ", kDefaultNoticePeriodWorkingDays,
                     " working days) or 1 to ", kMaxNoticePeriodWorkingDays));
  }
  return absl::OkStatus();
}

void RecordNotice(v1::Case* c, const v1::TransitionCase& op, int64_t at_ms) {
  v1::CaseNotice* n = c->mutable_notice();
  n->Clear();
  n->set_notified_at_ms(at_ms);
  n->set_noticed_fine_fen(c->proposed_fine_fen());
  n->set_noticed_matter_code(c->matter_code());
  n->set_period_working_days(op.notice_period_working_days() > 0
                                 ? op.notice_period_working_days()
                                 : kDefaultNoticePeriodWorkingDays);
}

absl::StatusOr<absl::CivilDay> NoticePeriodLastDay(const v1::CaseNotice& notice,
                                                    const WorkingDayCalendar& calendar) {
  const int days = notice.period_working_days() > 0 ? notice.period_working_days()
                                                    : kDefaultNoticePeriodWorkingDays;
  return calendar.AddWorkingDays(ShanghaiDay(notice.notified_at_ms()), days);
}

absl::Status CheckDecisionAfterNotice(const v1::Case& c, const WorkingDayCalendar* calendar,
                                      int64_t at_ms) {
  if (!c.has_notice()) {
    return FailedPrecondition(
        v1::REASON_ILLEGAL_TRANSITION,
        absl::StrCat("case ", Label(c),
                     " has no notice on record (Art. 44; cases notified before notices were "
                     "recorded): give the notice again (back to INVESTIGATING, then NOTIFIED) "
                     "before the decision"));
  }
  const v1::CaseNotice& n = c.notice();
  if (c.matter_code() != n.noticed_matter_code()) {
    return FailedPrecondition(
        v1::REASON_HEAVIER_THAN_NOTICED,
        absl::StrCat("case ", Label(c), ": the matter is now ", c.matter_code(),
                     " but the notice named ", n.noticed_matter_code(),
                     "; a decision on another matter needs a fresh notice (Art. 44)"));
  }
  if (c.proposed_fine_fen() > n.noticed_fine_fen()) {
    return FailedPrecondition(
        v1::REASON_HEAVIER_THAN_NOTICED,
        absl::StrCat("case ", Label(c), ": the fine now proposed (", Yuan(c.proposed_fine_fen()),
                     ") is heavier than the ", Yuan(n.noticed_fine_fen()),
                     " the notice stated; a heavier penalty needs a fresh notice (Art. 44-45)"));
  }
  if (n.waived()) return absl::OkStatus();
  if (calendar == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("case ", Label(c),
                     ": no working-day calendar is on record, so the notice's period cannot be "
                     "counted (Art. 85); load a catalogue with the calendar"));
  }
  absl::StatusOr<absl::CivilDay> last = NoticePeriodLastDay(n, *calendar);
  if (!last.ok()) return last.status();
  if (ShanghaiDay(at_ms) <= *last) {
    return FailedPrecondition(
        v1::REASON_NOTICE_PERIOD_RUNNING,
        absl::StrCat("case ", Label(c), ": the party's period to state and defend runs to ",
                     FormatCivilDay(*last), " (", n.period_working_days(),
                     " working days from the notice of ",
                     FormatCivilDay(ShanghaiDay(n.notified_at_ms())),
                     ", Art. 44-45); decide after it, or record the party's waiver"));
  }
  return absl::OkStatus();
}

bool IsStatementKind(v1::CaseEventKind kind) {
  return kind == v1::CASE_EVENT_KIND_STATEMENT || kind == v1::CASE_EVENT_KIND_STATEMENT_WAIVED;
}

absl::Status CheckStatementEvent(const v1::Case& c, const v1::CaseEvent& e) {
  const bool open = c.has_notice() && (c.state() == v1::CASE_STATE_NOTIFIED ||
                                       c.state() == v1::CASE_STATE_HEARING ||
                                       c.state() == v1::CASE_STATE_LEGAL_REVIEW);
  if (open) return absl::OkStatus();
  return FailedPrecondition(
      v1::REASON_ILLEGAL_TRANSITION,
      absl::StrCat("case ", Label(c), " is in state ", StateName(c.state()),
                   c.has_notice() ? "" : " with no notice on record",
                   ": the party's statement or waiver is recorded after the notice and before "
                   "the decision (NOTIFIED, HEARING or LEGAL_REVIEW)"));
}

void RecordStatement(v1::Case* c, const v1::CaseEvent& e) {
  if (e.kind() == v1::CASE_EVENT_KIND_STATEMENT) c->mutable_notice()->set_statement_recorded(true);
  if (e.kind() == v1::CASE_EVENT_KIND_STATEMENT_WAIVED) c->mutable_notice()->set_waived(true);
}

}  // namespace palm::sync
