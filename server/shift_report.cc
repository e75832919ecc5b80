#include "server/shift_report.h"

#include <utility>

#include <google/protobuf/repeated_ptr_field.h>

#include "server/admin_lists.h"
#include "server/deadlines.h"
#include "server/list_pages.h"
#include "sync/calendar.h"
#include "sync/rules.h"
#include "sync/status_macros.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

bool Within(int64_t at_ms, int64_t start, int64_t end) { return at_ms >= start && at_ms < end; }

// The first rows of one list of the report: fewer than kReportListRows,
// and within kReportListBytes but for the first. Once a row is left out,
// every later one is too.
template <typename Row>
class CappedList {
 public:
  void Add(Row row) {
    const size_t size = row.ByteSizeLong();
    if (full_ || static_cast<uint32_t>(rows_.size()) == kReportListRows ||
        (!rows_.empty() && bytes_ + size > kReportListBytes)) {
      full_ = true;
      return;
    }
    bytes_ += size;
    *rows_.Add() = std::move(row);
  }

  // Moves the rows into `list` while the report stays within kReportBytes
  // (`*report_bytes` counts what it holds so far).
  void MoveTo(google::protobuf::RepeatedPtrField<Row>* list, size_t* report_bytes) {
    for (Row& row : rows_) {
      const size_t size = row.ByteSizeLong();
      if (*report_bytes + size > kReportBytes) return;
      *report_bytes += size;
      *list->Add() = std::move(row);
    }
  }

 private:
  bool full_ = false;
  size_t bytes_ = 0;
  google::protobuf::RepeatedPtrField<Row> rows_;
};

// Rows read from the store per query while the report walks a list.
constexpr uint32_t kChunk = 256;

}  // namespace

absl::Status FillShiftReport(ReadTxn& txn, const std::string& squad, int64_t start, int64_t end,
                             v1::ShiftReportResponse* response) {
  v1::ShiftReportTotals* totals = response->mutable_totals();
  CappedList<v1::Case> cases_list;
  CappedList<v1::Ticket> tickets_list;
  CappedList<v1::NoPenaltyDecision> no_penalty_list;
  // Evidence that needs nothing goes after the evidence that does; it waits
  // in its own list meanwhile.
  CappedList<v1::Evidence> evidence_list, waiting_list;
  CappedList<v1::ConflictRecord> conflicts_list;
  CappedList<v1::RejectedMutation> rejections_list;
  int64_t total_fen = 0;
  uint64_t with_receipt = 0;

  CaseFilter filter;
  filter.squad_id = squad;
  filter.limit = kMaxPageSize;
  while (true) {
    PALM_ASSIGN_OR_RETURN(std::vector<v1::Case> cases, txn.ListCases(filter));
    for (const v1::Case& c : cases) {
      if (Within(c.created_at_ms(), start, end)) {
        totals->set_cases_opened(totals->cases_opened() + 1);
        cases_list.Add(c);
      }
      PALM_ASSIGN_OR_RETURN(v1::CaseDetail detail, txn.GetCaseDetail(c.case_id()));
      for (v1::Ticket& t : *detail.mutable_tickets()) {
        if (!Within(t.issued_at_ms(), start, end)) continue;
        totals->set_tickets(totals->tickets() + 1);
        switch (sync::CountTicket(t)) {
          case sync::TicketCount::kFine:
            totals->set_fines(totals->fines() + 1);
            break;
          case sync::TicketCount::kWarning:
            totals->set_warnings(totals->warnings() + 1);
            break;
          case sync::TicketCount::kVoided:
            break;
        }
        if (!t.voided()) total_fen += t.fine_fen();
        tickets_list.Add(std::move(t));
      }
      for (v1::NoPenaltyDecision& d : *detail.mutable_no_penalty()) {
        if (!Within(d.decided_at_ms(), start, end)) continue;
        totals->set_no_penalty(totals->no_penalty() + 1);
        no_penalty_list.Add(std::move(d));
      }
      for (v1::Evidence& e : *detail.mutable_evidence()) {
        if (!Within(e.captured_at_ms(), start, end)) continue;
        totals->set_evidence(totals->evidence() + 1);
        if (e.has_receipt()) ++with_receipt;
        if (!e.uploaded()) totals->set_evidence_not_uploaded(totals->evidence_not_uploaded() + 1);
        if (e.has_receipt() && e.uploaded()) {
          waiting_list.Add(std::move(e));
          continue;
        }
        totals->set_evidence_needing_attention(totals->evidence_needing_attention() + 1);
        evidence_list.Add(std::move(e));
      }
    }
    if (cases.size() < filter.limit) break;
    filter.after_created_ms = cases.back().created_at_ms();
    filter.after_case_id = cases.back().case_id();
  }
  response->set_tickets_total_fen(total_fen);
  response->set_evidence_with_receipt(with_receipt);

  ConflictFilter conflicts;
  conflicts.squad_id = squad;
  conflicts.limit = kChunk;
  while (true) {
    PALM_ASSIGN_OR_RETURN(std::vector<v1::ConflictRecord> page, txn.ListConflicts(conflicts));
    for (v1::ConflictRecord& c : page) {
      totals->set_open_conflicts(totals->open_conflicts() + 1);
      conflicts.after.emplace(c.recorded_at_ms(), c.loss().conflict_id());
      conflicts_list.Add(std::move(c));
    }
    if (page.size() < kChunk) break;
  }
  RejectedFilter rejected;
  rejected.squad_id = squad;
  rejected.limit = kChunk;
  while (true) {
    PALM_ASSIGN_OR_RETURN(std::vector<DeviceLogEntry> page, txn.ListRejected(rejected));
    for (const DeviceLogEntry& r : page) {
      totals->set_open_rejections(totals->open_rejections() + 1);
      rejected.after = RejectedFilter::Position{r.recorded_at_ms, r.device_id, r.device_seq};
      rejections_list.Add(RejectedOf(r));
    }
    if (page.size() < kChunk) break;
  }
  // The squad's clocks due within the next days or overdue, as of the
  // report's day (ListDeadlines' rows, capped there).
  DeadlineQuery deadlines;
  deadlines.squad_id = squad;
  deadlines.as_of = sync::ShanghaiDay(start);
  deadlines.within_days = kReportDeadlineDays;
  v1::ListDeadlinesResponse clocks;
  PALM_RETURN_IF_ERROR(FillDeadlines(txn, deadlines, &clocks));
  response->set_deadlines_total(clocks.total());
  *response->mutable_deadlines() = std::move(*clocks.mutable_clocks());

  size_t bytes = 0;
  conflicts_list.MoveTo(response->mutable_open_conflicts(), &bytes);
  rejections_list.MoveTo(response->mutable_open_rejections(), &bytes);
  evidence_list.MoveTo(response->mutable_evidence(), &bytes);
  cases_list.MoveTo(response->mutable_cases_opened(), &bytes);
  tickets_list.MoveTo(response->mutable_tickets(), &bytes);
  no_penalty_list.MoveTo(response->mutable_no_penalty(), &bytes);
  waiting_list.MoveTo(response->mutable_evidence(), &bytes);
  return absl::OkStatus();
}

}  // namespace palm::server
