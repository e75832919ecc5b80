#include "server/deadlines.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/audit.h"
#include "sync/calendar.h"
#include "sync/case_clocks.h"
#include "sync/clocks.h"
#include "sync/service.h"
#include "sync/status_macros.h"
#include "sync/uuid.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

// Every state in which sync::CaseClocks may find a clock running.
const std::vector<v1::CaseState>& ClockStates() {
  static const std::vector<v1::CaseState>* const states = new std::vector<v1::CaseState>{
      v1::CASE_STATE_FILED,    v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_LEGAL_REVIEW,
      v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_HEARING,       v1::CASE_STATE_DECIDED,
      v1::CASE_STATE_SERVED,   v1::CASE_STATE_EXECUTING,     v1::CASE_STATE_ISSUED,
  };
  return *states;
}

constexpr uint32_t kCaseBatch = 500;

bool OnCase(const v1::Case& c, const std::string& officer_id) {
  return c.created_by_officer() == officer_id ||
         std::find(c.officer_ids().begin(), c.officer_ids().end(), officer_id) !=
             c.officer_ids().end();
}

std::string Label(const v1::Case& c) {
  return c.case_number().empty() ? c.case_id() : c.case_number();
}

}  // namespace

absl::StatusOr<DeadlineQuery> DeadlineQueryOf(const v1::ListDeadlinesRequest& request,
                                              const std::string& town, absl::CivilDay today) {
  DeadlineQuery q;
  q.town_id = town;
  q.squad_id = request.squad_id();
  q.officer_id = request.officer_id();
  q.as_of = today;
  if (!request.as_of().empty()) {
    absl::StatusOr<absl::CivilDay> day = sync::ParseCivilDay(request.as_of(), "as_of");
    if (!day.ok()) return absl::InvalidArgumentError(day.status().message());
    q.as_of = *day;
  }
  if (request.within_days() > kMaxDeadlineWindowDays) {
    return absl::InvalidArgumentError(absl::StrCat("within_days ", request.within_days(),
                                                   " is over the most, ", kMaxDeadlineWindowDays));
  }
  if (request.within_days() > 0) q.within_days = request.within_days();
  for (int kind : request.kinds()) {
    if (!v1::ClockKind_IsValid(kind) || kind == v1::CLOCK_KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("kinds: ", kind, " is not a clock kind"));
    }
    q.kinds.insert(static_cast<v1::ClockKind>(kind));
  }
  return q;
}

absl::Status FillDeadlines(ReadTxn& txn, const DeadlineQuery& q,
                           v1::ListDeadlinesResponse* response) {
  response->set_as_of(sync::FormatCivilDay(q.as_of));
  std::optional<sync::WorkingDayCalendar> calendar;
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Catalog> catalog, txn.CurrentCatalog());
  if (catalog && !catalog->calendar().empty()) {
    PALM_ASSIGN_OR_RETURN(calendar, sync::WorkingDayCalendar::From(catalog->calendar()));
  }
  std::vector<v1::CaseClock> clocks;
  std::string after;
  for (;;) {
    PALM_ASSIGN_OR_RETURN(
        std::vector<v1::Case> cases,
        txn.ListCasesInStates(q.town_id, q.squad_id, ClockStates(), after, kCaseBatch));
    for (const v1::Case& c : cases) {
      if (!q.officer_id.empty() && !OnCase(c, q.officer_id)) continue;
      absl::StatusOr<std::vector<v1::CaseClock>> of_case =
          sync::CaseClocks(c, calendar ? &*calendar : nullptr, q.as_of, q.within_days);
      if (!of_case.ok()) {
        response->add_unreadable(absl::StrCat(Label(c), ": ", of_case.status().message()));
        continue;
      }
      for (v1::CaseClock& k : *of_case) {
        if (!q.kinds.empty() && q.kinds.count(k.kind()) == 0) continue;
        if (k.days_left() > q.within_days) continue;
        clocks.push_back(std::move(k));
      }
    }
    if (cases.size() < kCaseBatch) break;
    after = cases.back().case_id();
  }
  std::sort(clocks.begin(), clocks.end(), sync::ClockBefore);
  response->set_total(clocks.size());
  for (size_t i = 0; i < clocks.size() && i < kDeadlineRows; ++i) {
    *response->add_clocks() = std::move(clocks[i]);
  }
  return absl::OkStatus();
}

absl::Status ExtendDecisionDeadline(WriteTxn& txn, CaseRecord record,
                                    const v1::ExtendDecisionDeadlineRequest& request,
                                    const std::string& actor, int64_t now_ms, v1::Case* out) {
  v1::Case& c = record.value;
  const std::string label = Label(c);
  if (request.approved_by().empty() || request.approval_ref().empty()) {
    return absl::InvalidArgumentError(
        "approved_by and approval_ref are required: an extension is approved by the agency head "
        "(Art. 60), and the approval's number is part of the record");
  }
  if (request.reason().empty()) {
    return absl::InvalidArgumentError("reason is missing: an extension states why");
  }
  absl::StatusOr<absl::CivilDay> parsed = sync::ParseCivilDay(request.extended_to(), "extended_to");
  if (!parsed.ok()) return absl::InvalidArgumentError(parsed.status().message());
  const absl::CivilDay extended_to = *parsed;
  const int64_t filed_ms = sync::FiledAtMs(c);
  const bool open = c.state() == v1::CASE_STATE_FILED ||
                    c.state() == v1::CASE_STATE_INVESTIGATING ||
                    c.state() == v1::CASE_STATE_NOTIFIED || c.state() == v1::CASE_STATE_HEARING ||
                    c.state() == v1::CASE_STATE_LEGAL_REVIEW;
  if (c.procedure() != v1::PROCEDURE_ORDINARY || !open || filed_ms <= 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "case ", label, " is in state ", v1::CaseState_Name(c.state()),
        ": the time to decide is extended for an ordinary case filed and not yet decided"));
  }
  const absl::CivilDay filed = sync::ShanghaiDay(filed_ms);
  absl::StatusOr<absl::CivilDay> last = sync::DecisionLastDay(filed, &extended_to);
  if (!last.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("case ", label, ": ", last.status().message()));
  }
  v1::DecisionExtension* x = c.mutable_decision_extension();
  x->set_extended_to(sync::FormatCivilDay(extended_to));
  x->set_approved_by(request.approved_by());
  x->set_approval_ref(request.approval_ref());
  x->set_reason(request.reason());
  x->set_recorded_at_ms(now_ms);
  x->set_recorded_by(actor);

  v1::CaseEvent event;
  event.set_event_id(sync::NewUuidV7(now_ms));
  event.set_case_id(c.case_id());
  event.set_kind(v1::CASE_EVENT_KIND_NOTE);
  event.set_at_ms(now_ms);
  event.set_text(absl::StrCat("time to decide extended to ", x->extended_to(),
                              " (Art. 60): ", "approved by ", request.approved_by(), ", ",
                              request.approval_ref(), ": ", request.reason()));
  *out = c;
  PALM_RETURN_IF_ERROR(txn.PutCase(std::move(record)));
  PALM_RETURN_IF_ERROR(txn.PutEvent(event));
  PALM_ASSIGN_OR_RETURN(
      auto seq, txn.AppendChange(EntityKind::kCase, out->case_id(), TownScope(out->town_id())));
  PALM_ASSIGN_OR_RETURN(
      seq, txn.AppendChange(EntityKind::kEvent, event.event_id(), TownScope(out->town_id())));
  (void)seq;
  return AppendAudit(txn, now_ms, actor, "case.decision_deadline_extended", out->case_id(),
                     {{"case_number", out->case_number()},
                      {"extended_to", out->decision_extension().extended_to()},
                      {"approved_by", request.approved_by()},
                      {"approval_ref", request.approval_ref()},
                      {"reason", request.reason()},
                      {"event", event.event_id()}});
}

}  // namespace palm::server
