#include "tools/palmctl/report_render.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/palmctl/format.h"
#include "tools/palmctl/report_svg.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

// The record sections after the exceptions, in the order every form shows them.
// The deadlines come first, and only when there are some.
std::vector<const Section*> RecordSections(const ReportModel& m) {
  std::vector<const Section*> sections;
  if (!m.deadlines.rows.empty()) sections.push_back(&m.deadlines);
  for (const Section* s : {&m.officers, &m.cases, &m.tickets, &m.no_penalty, &m.devices}) {
    sections.push_back(s);
  }
  return sections;
}

// "Label: value" for the heading, in the report's language.
std::vector<std::pair<std::string, std::string>> HeadingFields(const ReportModel& m) {
  std::vector<std::pair<std::string, std::string>> fields = {{Text(m.lang, Msg::kSquad), m.squad}};
  if (!m.town.empty()) fields.push_back({Text(m.lang, Msg::kTown), m.town});
  fields.push_back({Text(m.lang, Msg::kDate), m.date});
  fields.push_back({Text(m.lang, Msg::kGeneratedAt), m.generated_at});
  return fields;
}

std::vector<std::string> Headings(const Section& s) {
  std::vector<std::string> out;
  for (const Column& c : s.columns) out.push_back(c.heading);
  return out;
}

// What a section with no rows says.
std::string EmptyText(const ReportModel& m, const Section& s) {
  return &s == &m.devices && !m.devices_known ? Text(m.lang, Msg::kUnavailable)
                                              : Text(m.lang, Msg::kNone);
}

// The count beside a section's title: its records, listed or not.
int64_t RecordCount(const Section& s) { return static_cast<int64_t>(s.rows.size()) + s.not_listed; }

std::string TableSection(const ReportModel& m, const Section& s) {
  std::string out = absl::StrCat("\n", s.title, " (", RecordCount(s), ")\n");
  if (s.rows.empty() && s.remark.empty()) return absl::StrCat(out, "  ", EmptyText(m, s), "\n");
  if (!s.rows.empty()) {
    TextTable table(Headings(s));
    for (const auto& row : s.rows) table.AddRow(row);
    out += table.Render();
  }
  if (!s.remark.empty()) absl::StrAppend(&out, "  ", s.remark, "\n");
  return out;
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::vector<std::string> quoted;
  for (const std::string& f : fields) quoted.push_back(CsvField(f));
  return absl::StrCat(absl::StrJoin(quoted, ","), "\r\n");
}

std::string CsvBlock(const std::string& title, const std::vector<std::string>& header,
                     const std::vector<std::vector<std::string>>& rows,
                     const std::string& remark = "") {
  std::string out = absl::StrCat("\r\n", CsvLine({title}), CsvLine(header));
  for (const auto& row : rows) out += CsvLine(row);
  if (!remark.empty()) out += CsvLine({remark});
  return out;
}

constexpr char kCss[] = R"css(
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       sans-serif; margin: 2em; color: #111; }
.bureau { font-size: 1.1em; letter-spacing: 0.1em; margin: 0; text-align: center; }
h1 { font-size: 1.6em; margin: 0.2em 0; text-align: center; letter-spacing: 0.3em; }
h2 { font-size: 1.15em; margin: 1.4em 0 0.4em; border-bottom: 1px solid #999; }
h3 { font-size: 1em; margin: 1em 0 0.3em; }
.meta { color: #333; margin: 0.3em 0; text-align: center; }
.note { color: #8a4b00; font-size: 0.9em; }
.summary { display: grid; grid-template-columns: repeat(4, 1fr); gap: 0.5em; margin: 0.6em 0; }
.figure { border: 1px solid #bbb; border-radius: 4px; padding: 0.4em 0.6em; }
.figure .value { font-size: 1.35em; font-weight: bold; display: block; }
.figure .label { color: #444; font-size: 0.85em; }
.figure.alert { border-color: #c0392b; }
.figure.alert .value { color: #c0392b; }
.charts { display: flex; flex-wrap: wrap; gap: 1.2em; margin: 0.8em 0; }
.chart text { font-family: inherit; fill: #111; }
.exceptions h3 { color: #c0392b; }
table { border-collapse: collapse; width: 100%; font-size: 0.88em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.45em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.number { text-align: right; white-space: nowrap; }
.none { color: #555; font-style: italic; }
.signature { margin-top: 3em; }
@media print {
  body { margin: 0; font-size: 10pt; }
  th { background: none; }
  thead { display: table-header-group; }
  tr, .figure, .chart { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
}
)css";

// The @page rule: A4 and the page number at the foot of every printed page.
std::string PageCss(ReportLang lang) {
  const char* counter = lang == ReportLang::kZh
                            ? "\"第 \" counter(page) \" 页，共 \" counter(pages) \" 页\""
                            : "\"Page \" counter(page) \" of \" counter(pages)";
  return absl::StrCat("@page { size: A4; margin: 15mm 12mm 18mm; @bottom-center { content: ",
                      counter, "; font-size: 9pt; color: #444; } }\n");
}

std::string HtmlTable(const ReportModel& m, const Section& s, const char* heading_tag) {
  std::string out = absl::StrCat("<", heading_tag, ">", HtmlEscape(s.title), " (", RecordCount(s),
                                 ")</", heading_tag, ">\n");
  const std::string remark =
      s.remark.empty() ? "" : absl::StrCat("<p class=\"note\">", HtmlEscape(s.remark), "</p>\n");
  if (s.rows.empty()) {
    if (!remark.empty()) return out + remark;
    return absl::StrCat(out, "<p class=\"none\">", HtmlEscape(EmptyText(m, s)), "</p>\n");
  }
  out += "<table>\n<thead><tr>";
  for (const Column& c : s.columns) absl::StrAppend(&out, "<th>", HtmlEscape(c.heading), "</th>");
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : s.rows) {
    out += "<tr>";
    for (size_t i = 0; i < row.size() && i < s.columns.size(); ++i) {
      absl::StrAppend(&out, s.columns[i].kind == CellKind::kText ? "<td>" : "<td class=\"number\">",
                      HtmlEscape(row[i]), "</td>");
    }
    out += "</tr>\n";
  }
  return absl::StrCat(out, "</tbody>\n</table>\n", remark);
}

// Figures that, when not zero, need the leader's attention.
bool IsAlert(const Figure& f) {
  return (f.key == "open_conflicts" || f.key == "open_rejections" ||
          f.key == "evidence_not_uploaded" || f.key == "devices_not_in_sync") &&
         f.value != "0";
}

}  // namespace

std::string CsvField(absl::string_view field) {
  std::string value(field);
  double number = 0;
  if (value.size() > 1 &&
      (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@') &&
      !absl::SimpleAtod(value, &number)) {
    value.insert(0, "'");
  }
  const bool quote = value.find_first_of(",\"\r\n") != std::string::npos ||
                     (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!quote) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string RenderShiftReportTable(const v1::ShiftReportResponse& report,
                                   const ReportContext& context) {
  const ReportModel m = BuildReportModel(report, context);
  std::string out;
  if (!m.bureau.empty()) absl::StrAppend(&out, m.bureau, "\n");
  absl::StrAppend(&out, m.title, "\n", KeyValueLines(HeadingFields(m)));
  if (!m.note.empty()) absl::StrAppend(&out, m.note, "\n");
  absl::StrAppend(&out, "\n", Text(m.lang, Msg::kTotals), "\n");
  TextTable totals({Text(m.lang, Msg::kFigure), Text(m.lang, Msg::kValue)});
  for (const Figure& f : m.totals) totals.AddRow({f.label, f.value});
  out += totals.Render();
  absl::StrAppend(&out, "\n", Text(m.lang, Msg::kExceptions), "\n");
  if (m.exceptions.empty()) absl::StrAppend(&out, "  ", Text(m.lang, Msg::kNoExceptions), "\n");
  for (const Section& s : m.exceptions) out += TableSection(m, s);
  for (const Section* s : RecordSections(m)) out += TableSection(m, *s);
  return out;
}

std::string RenderShiftReportCsv(const v1::ShiftReportResponse& report,
                                 const ReportContext& context) {
  const ReportModel m = BuildReportModel(report, context);
  std::string out = kUtf8Bom;
  out += CsvLine({m.bureau.empty() ? m.title : absl::StrCat(m.bureau, " ", m.title)});
  for (const auto& [label, value] : HeadingFields(m)) out += CsvLine({label, value});
  if (!m.note.empty()) out += CsvLine({m.note});
  std::vector<std::vector<std::string>> totals;
  for (const Figure& f : m.totals) totals.push_back({f.label, f.value});
  out += CsvBlock(Text(m.lang, Msg::kTotals),
                  {Text(m.lang, Msg::kFigure), Text(m.lang, Msg::kValue)}, totals);
  for (const Section& s : m.exceptions) out += CsvBlock(s.title, Headings(s), s.rows, s.remark);
  for (const Section* s : RecordSections(m)) {
    if (s == &m.devices && !m.devices_known) continue;
    out += CsvBlock(s->title, Headings(*s), s->rows, s->remark);
  }
  return out;
}

std::string RenderShiftReportHtml(const v1::ShiftReportResponse& report,
                                  const ReportContext& context) {
  const ReportModel m = BuildReportModel(report, context);
  const ReportLang lang = m.lang;
  const std::string title =
      absl::StrCat(m.bureau.empty() ? "" : m.bureau + " ", m.title, " — ", m.squad, " — ", m.date);
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"", ReportLangTag(lang),
      "\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
      HtmlEscape(title), "</title>\n<style>", kCss, PageCss(lang), "</style>\n</head>\n<body>\n");
  if (!m.bureau.empty())
    absl::StrAppend(&out, "<p class=\"bureau\">", HtmlEscape(m.bureau), "</p>\n");
  absl::StrAppend(&out, "<h1>", HtmlEscape(m.title), "</h1>\n<p class=\"meta\">");
  std::vector<std::string> meta;
  for (const auto& [label, value] : HeadingFields(m)) {
    meta.push_back(
        absl::StrCat(HtmlEscape(label), lang == ReportLang::kZh ? "：" : ": ", HtmlEscape(value)));
  }
  meta.push_back(HtmlEscape(Text(lang, Msg::kAmountsInYuan)));
  absl::StrAppend(&out, absl::StrJoin(meta, " · "), "</p>\n");
  if (!m.note.empty()) absl::StrAppend(&out, "<p class=\"note\">", HtmlEscape(m.note), "</p>\n");

  absl::StrAppend(&out, "<section class=\"totals\">\n<h2>", HtmlEscape(Text(lang, Msg::kTotals)),
                  "</h2>\n<div class=\"summary\">\n");
  for (const Figure& f : m.totals) {
    absl::StrAppend(&out, IsAlert(f) ? "<div class=\"figure alert\">" : "<div class=\"figure\">",
                    "<span class=\"value\">", HtmlEscape(f.value), "</span><span class=\"label\">",
                    HtmlEscape(f.label), "</span></div>\n");
  }
  out += "</div>\n<div class=\"charts\">\n";
  const std::string none = Text(lang, Msg::kNone);
  absl::StrAppend(
      &out, BarChartSvg(Text(lang, Msg::kChartCasesByCategory), m.cases_by_category, none), "\n",
      BarChartSvg(Text(lang, Msg::kChartFinesByOfficer), m.fines_by_officer, none), "\n",
      BarChartSvg(Text(lang, Msg::kChartDeviceSync), m.device_states,
                  m.devices_known ? none : Text(lang, Msg::kUnavailable)),
      "\n</div>\n</section>\n");

  absl::StrAppend(&out, "<section class=\"exceptions\">\n<h2>",
                  HtmlEscape(Text(lang, Msg::kExceptions)), "</h2>\n");
  if (m.exceptions.empty()) {
    absl::StrAppend(&out, "<p class=\"none\">", HtmlEscape(Text(lang, Msg::kNoExceptions)),
                    "</p>\n");
  }
  for (const Section& s : m.exceptions) out += HtmlTable(m, s, "h3");
  out += "</section>\n";
  for (const Section* s : RecordSections(m)) {
    absl::StrAppend(&out, "<section>\n", HtmlTable(m, *s, "h2"), "</section>\n");
  }
  absl::StrAppend(&out, "<p class=\"signature\">",
                  HtmlEscape(Text(lang, Msg::kSquadLeaderSignature)),
                  lang == ReportLang::kZh ? "：" : ": ", "______________________ &nbsp; ",
                  HtmlEscape(Text(lang, Msg::kSignatureDate)),
                  lang == ReportLang::kZh ? "：" : ": ", "______________</p>\n</body>\n</html>\n");
  return out;
}

std::string RenderShiftReport(const v1::ShiftReportResponse& report, ReportFormat format,
                              const ReportContext& context) {
  switch (format) {
    case ReportFormat::kCsv:
      return RenderShiftReportCsv(report, context);
    case ReportFormat::kJson:
      return RenderShiftReportJson(report, context);
    case ReportFormat::kHtml:
      return RenderShiftReportHtml(report, context);
    case ReportFormat::kTable:
      break;
  }
  return RenderShiftReportTable(report, context);
}

}  // namespace palm::palmctl
