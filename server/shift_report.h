// AdminService.ShiftReport's content: what a squad's day produced and what
// is still open, with every list capped so that the answer stays bounded
// whatever the store holds, and the figures exact (ShiftReportTotals).
#ifndef PALM_SERVER_SHIFT_REPORT_H_
#define PALM_SERVER_SHIFT_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "palm/v1/admin.pb.h"
#include "server/store.h"

namespace palm::server {

// Each list of the report (cases opened, tickets, no-penalty decisions,
// evidence, open conflicts, open rejections) carries its first rows: at
// most kReportListRows, and no row past kReportListBytes unless it is the
// list's first; and the lists together at most kReportBytes, filled in the
// order open conflicts, open rejections, evidence, cases, tickets,
// no-penalty decisions (what needs the leader first). A row left out is left
// out with every row after it, so each list is a prefix of its order.
inline constexpr uint32_t kReportListRows = 500;
inline constexpr size_t kReportListBytes = 384 * 1024;
inline constexpr size_t kReportBytes = 2560 * 1024;
// The report's deadlines: the squad's clocks due within this many days of
// the report's day, and every overdue one (at most kDeadlineRows, outside
// the lists' byte budget: a clock row is small).
inline constexpr int64_t kReportDeadlineDays = 3;

// Fills `response` (its squad_id and date already set) for `squad` and the
// local day [start_ms, end_ms): cases the squad opened that day; tickets,
// no-penalty decisions and evidence of the squad's cases dated that day
// (evidence without a receipt or not uploaded first); conflicts and
// rejections of the squad still open, whatever their day; the squad's
// clocks due within kReportDeadlineDays or overdue; and the totals,
// counted over everything, listed or not. Reads every case of the squad (a
// report, not a hot path).
absl::Status FillShiftReport(ReadTxn& txn, const std::string& squad, int64_t start_ms,
                             int64_t end_ms, palm::v1::ShiftReportResponse* response);

}  // namespace palm::server

#endif  // PALM_SERVER_SHIFT_REPORT_H_
