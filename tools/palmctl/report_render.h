// The shift report (`palmctl report shift`) as text: an aligned table for a
// terminal, CSV and JSON for files and scripts, and one self-contained HTML
// page a squad leader can print. Pure functions of the server's
// palm.v1.ShiftReportResponse: no I/O, safe from any thread.
//
// Amounts are shown in yuan (the response carries fen); times as
// Asia/Shanghai local time, like the report's date.
#ifndef PALM_TOOLS_PALMCTL_REPORT_RENDER_H_
#define PALM_TOOLS_PALMCTL_REPORT_RENDER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "palm/v1/admin.pb.h"

namespace palm::palmctl {

// The formats of `report shift --format`.
enum class ReportFormat { kTable, kCsv, kJson, kHtml };

// The summary figures at the top of every form, then one section per kind
// of record, each an aligned table (empty sections say "none").
std::string RenderShiftReportTable(const palm::v1::ShiftReportResponse& report);

// RFC 4180 CSV, CRLF line ends, one header line and then one row per
// record: section,case,item,time,detail,amount_yuan,status. The sections
// are summary (one row per figure, the figure in amount_yuan), case, ticket,
// no_penalty, evidence, conflict and rejection.
std::string RenderShiftReportCsv(const palm::v1::ShiftReportResponse& report);

// The response in protobuf's JSON mapping (see ProtoToJson).
std::string RenderShiftReportJson(const palm::v1::ShiftReportResponse& report);

// One HTML5 page: inline CSS (with @media print), no scripts, no external
// resources; every value HTML-escaped; UTF-8.
std::string RenderShiftReportHtml(const palm::v1::ShiftReportResponse& report);

// Dispatches to the renderer of `format`.
std::string RenderShiftReport(const palm::v1::ShiftReportResponse& report, ReportFormat format);

// `text` with &, <, >, " and ' replaced by character references.
std::string HtmlEscape(absl::string_view text);

// `field` as one CSV field: quoted (with doubled quotes) when it holds a
// comma, a quote, CR or LF, or starts or ends with a space; as is otherwise.
// A field a spreadsheet would run as a formula (=, +, -, @ first, then
// more) gets a leading apostrophe, unless it is a plain number.
std::string CsvField(absl::string_view field);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_REPORT_RENDER_H_
