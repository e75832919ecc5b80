// The shift report (`palmctl report shift`) as text: an aligned table for a
// terminal, CSV for a spreadsheet, JSON for scripts, and one self-contained
// HTML page a squad leader prints. Pure functions of the server's
// palm.v1.ShiftReportResponse and of what palmctl looked up besides it (the
// ReportContext of report_model.h: names, catalogue, devices, language,
// generation time); no I/O, safe from any thread.
//
// Language: the table, CSV and HTML forms are in the context's language,
// zh-CN by default, English with `--lang en` (labels from
// report_messages.h; names and free text as recorded). JSON has English
// keys and enum tokens whatever the language. Amounts are yuan with two
// decimals (the response carries fen); times are in the bureau's time zone,
// labelled (bureau_time.h).
#ifndef PALM_TOOLS_PALMCTL_REPORT_RENDER_H_
#define PALM_TOOLS_PALMCTL_REPORT_RENDER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "palm/v1/admin.pb.h"
#include "sync/quote.h"
#include "tools/palmctl/report_model.h"

namespace palm::palmctl {

// The formats of `report shift --format`.
enum class ReportFormat { kTable, kCsv, kJson, kHtml };

// The UTF-8 byte order mark the CSV form starts with, so that a spreadsheet
// on Chinese Windows reads it as UTF-8.
inline constexpr char kUtf8Bom[] = "\xEF\xBB\xBF";

// The heading (bureau, title, squad, town, date, generation time), the
// totals, what needs attention (open conflicts, rejected writes, evidence
// without receipt or upload; only the kinds that have any), the per-officer
// table, then cases (by official number), tickets, no-penalty decisions and
// device sync state, each an aligned table.
std::string RenderShiftReportTable(const palm::v1::ShiftReportResponse& report,
                                   const ReportContext& context = ReportContext());

// RFC 4180 CSV for a spreadsheet: a UTF-8 BOM, CRLF line ends, and the
// table form's sections as blocks, each a title line, a header line and its
// rows, blocks apart by an empty line. Numeric columns hold plain numbers:
// counts as integers, amounts as yuan with two decimals ("200.00"); a
// warning's amount is empty. Headers and titles are in the report's
// language; for a machine-stable form use JSON.
std::string RenderShiftReportCsv(const palm::v1::ShiftReportResponse& report,
                                 const ReportContext& context = ReportContext());

// A JSON object for people and scripts (keys in docs/shift-report.md):
// numbers as JSON numbers (counts, fen, yuan, Unix ms), names
// beside ids, enums as lowercase tokens, times also as labelled text.
// Indented, ending in a newline.
std::string RenderShiftReportJson(const palm::v1::ShiftReportResponse& report,
                                  const ReportContext& context = ReportContext());

// One HTML5 page: the table form's contents with inline SVG charts (cases
// by category, fines by officer, device sync state); inline CSS with
// @media print and page numbers (@page counters); no scripts, no external
// resources; every value HTML-escaped; UTF-8.
std::string RenderShiftReportHtml(const palm::v1::ShiftReportResponse& report,
                                  const ReportContext& context = ReportContext());

// Dispatches to the renderer of `format`.
std::string RenderShiftReport(const palm::v1::ShiftReportResponse& report, ReportFormat format,
                              const ReportContext& context = ReportContext());

// `text` with &, <, >, " and ' replaced by character references (the
// server's decision document escapes with the same function).
using sync::HtmlEscape;

// `field` as one CSV field: quoted (with doubled quotes) when it holds a
// comma, a quote, CR or LF, or starts or ends with a space; as is otherwise.
// A field a spreadsheet would run as a formula (=, +, -, @ first, then
// more) gets a leading apostrophe, unless it is a plain number.
std::string CsvField(absl::string_view field);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_REPORT_RENDER_H_
