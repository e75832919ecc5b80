#include "tools/palmctl/report_render.h"

#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

// Every form renders the same model, so the figures agree between them.
//
// One record of a section. The CSV has exactly these columns; the table
// and HTML show those a section names a heading for.
struct Row {
  std::string case_ref;
  std::string item;
  std::string time;
  std::string detail;
  std::string amount_yuan;
  std::string status;
};

struct Section {
  std::string key;    // CSV section name
  std::string title;  // heading of the table and HTML forms
  // Headings of case_ref, item, time, detail, amount_yuan, status; an empty
  // heading hides the column outside CSV.
  std::vector<std::string> headings;
  std::vector<Row> rows;
};

struct Figure {
  std::string key;    // CSV item
  std::string label;  // for people
  std::string value;
};

struct ReportModel {
  std::string title;
  std::vector<Figure> figures;
  std::vector<Section> sections;
};

std::vector<std::string> Cells(const Row& row) {
  return {row.case_ref, row.item, row.time, row.detail, row.amount_yuan, row.status};
}

std::string ShortId(const std::string& id) { return id.size() > 8 ? id.substr(0, 8) : id; }

std::string EvidenceStatus(const v1::Evidence& e) {
  std::vector<std::string> parts;
  if (e.has_receipt()) {
    parts.push_back(absl::StrCat("receipt: leaf ", e.receipt().leaf_index(), " of ",
                                 e.receipt().tree_head().tree_size()));
  } else {
    parts.push_back("no receipt");
  }
  parts.push_back(e.uploaded() ? "uploaded" : "not uploaded");
  if (e.withdrawn()) parts.push_back(absl::StrCat("withdrawn: ", e.withdraw_reason()));
  return absl::StrJoin(parts, "; ");
}

ReportModel BuildModel(const v1::ShiftReportResponse& r) {
  ReportModel model;
  model.title = absl::StrCat("Shift report 执法日报 — squad ", r.squad_id(), " — ", r.date());

  // Cases are named by their official number where this report knows it.
  std::map<std::string, std::string> numbers;
  for (const v1::Case& c : r.cases_opened()) {
    if (!c.case_number().empty()) numbers[c.case_id()] = c.case_number();
  }
  const auto case_ref = [&numbers](const std::string& case_id) {
    auto it = numbers.find(case_id);
    return it != numbers.end() ? it->second : case_id;
  };

  uint64_t fines = 0;
  uint64_t warnings = 0;
  for (const v1::Ticket& t : r.tickets())
    (t.penalty() == v1::PENALTY_KIND_WARNING ? warnings : fines)++;
  model.figures = {
      {"cases_opened", "Cases opened", absl::StrCat(r.cases_opened_size())},
      {"tickets_issued", "Tickets issued",
       absl::StrCat(r.tickets_size(), " (", fines, " fines, ", warnings, " warnings)")},
      {"tickets_total_yuan", "Fines total (yuan)", FormatYuan(r.tickets_total_fen())},
      {"no_penalty_decisions", "No-penalty decisions", absl::StrCat(r.no_penalty_size())},
      {"evidence", "Evidence items", absl::StrCat(r.evidence_size())},
      {"evidence_with_receipt", "Evidence with receipt",
       absl::StrCat(r.evidence_with_receipt(), " of ", r.evidence_size())},
      {"open_conflicts", "Conflicts open", absl::StrCat(r.open_conflicts_size())},
      {"open_rejections", "Rejections open", absl::StrCat(r.open_rejections_size())},
  };

  Section cases{
      "case", "Cases opened", {"CASE", "MATTER", "OPENED", "DESCRIPTION", "", "STATE"}, {}};
  for (const v1::Case& c : r.cases_opened()) {
    cases.rows.push_back(
        {case_ref(c.case_id()), c.matter_code(), FormatShanghaiMinute(c.created_at_ms()),
         c.place().address().empty() ? c.description()
                                     : absl::StrCat(c.description(), " @ ", c.place().address()),
         c.proposed_fine_fen() > 0 ? FormatYuan(c.proposed_fine_fen()) : "",
         absl::StrCat(EnumLabel(v1::CaseState_descriptor(), c.state()), " (",
                      EnumLabel(v1::Procedure_descriptor(), c.procedure()), ")")});
  }

  Section tickets{"ticket",
                  "Tickets issued",
                  {"CASE", "TICKET", "ISSUED", "VIOLATION", "AMOUNT (YUAN)", "STATUS"},
                  {}};
  for (const v1::Ticket& t : r.tickets()) {
    std::string number =
        t.ticket_number_text().empty() ? absl::StrCat(t.ticket_number()) : t.ticket_number_text();
    std::string status = t.voided()
                             ? absl::StrCat("voided: ", t.void_reason())
                             : EnumLabel(v1::PartySignature_descriptor(), t.party_signature());
    tickets.rows.push_back(
        {case_ref(t.case_id()), number, FormatShanghaiMinute(t.issued_at_ms()),
         absl::StrCat(t.matter_code(), " ", t.violation()),
         t.penalty() == v1::PENALTY_KIND_WARNING ? "warning" : FormatYuan(t.fine_fen()), status});
  }

  Section no_penalty{"no_penalty",
                     "No-penalty decisions",
                     {"CASE", "MATTER", "DECIDED", "EDUCATION RECORD", "", ""},
                     {}};
  for (const v1::NoPenaltyDecision& d : r.no_penalty()) {
    no_penalty.rows.push_back({case_ref(d.case_id()), d.matter_code(),
                               FormatShanghaiMinute(d.decided_at_ms()), d.education_record(), "",
                               ""});
  }

  Section evidence{
      "evidence", "Evidence", {"CASE", "EVIDENCE", "CAPTURED", "SHA-256, SIZE", "", "RECEIPT"}, {}};
  for (const v1::Evidence& e : r.evidence()) {
    evidence.rows.push_back(
        {case_ref(e.case_id()),
         absl::StrCat(EnumLabel(v1::EvidenceKind_descriptor(), e.kind()), " ",
                      ShortId(e.evidence_id())),
         FormatShanghaiMinute(e.captured_at_ms()),
         absl::StrCat(e.sha256().substr(0, 16), "…, ", e.size_bytes(), " bytes"), "",
         EvidenceStatus(e)});
  }

  Section conflicts{"conflict",
                    "Conflicts still open",
                    {"CASE", "FIELD", "RECORDED", "LOST → KEPT", "", "CONFLICT"},
                    {}};
  for (const v1::ConflictRecord& c : r.open_conflicts()) {
    const v1::ConflictLoss& loss = c.loss();
    conflicts.rows.push_back(
        {c.case_number().empty() ? case_ref(loss.case_id()) : c.case_number(),
         EnumLabel(v1::CaseField_descriptor(), loss.field()),
         FormatShanghaiMinute(c.recorded_at_ms()),
         absl::StrCat("\"", loss.losing_value(), "\" (", loss.losing_device_id(), ") → \"",
                      loss.winning_value(), "\" (", loss.winning_device_id(), ")"),
         "", loss.conflict_id()});
  }

  Section rejections{"rejection",
                     "Rejected writes still open",
                     {"CASE", "OPERATION", "RECORDED", "REASON", "", "MUTATION"},
                     {}};
  for (const v1::RejectedMutation& rm : r.open_rejections()) {
    rejections.rows.push_back(
        {case_ref(MutationCaseId(rm.mutation())),
         absl::StrCat(MutationOperation(rm.mutation()), " #", rm.mutation().device_seq(), " (",
                      rm.mutation().device_id(), ")"),
         FormatShanghaiMinute(rm.recorded_at_ms()),
         absl::StrCat(EnumLabel(v1::ReasonCode_descriptor(), rm.result().reason()), ": ",
                      rm.result().message()),
         "", rm.mutation().mutation_id()});
  }

  model.sections = {std::move(cases),    std::move(tickets),   std::move(no_penalty),
                    std::move(evidence), std::move(conflicts), std::move(rejections)};
  return model;
}

// The indices of the columns `section` shows to people.
std::vector<size_t> ShownColumns(const Section& section) {
  std::vector<size_t> shown;
  for (size_t i = 0; i < section.headings.size(); ++i) {
    if (!section.headings[i].empty()) shown.push_back(i);
  }
  return shown;
}

std::vector<std::string> Pick(const std::vector<std::string>& cells,
                              const std::vector<size_t>& columns) {
  std::vector<std::string> picked;
  for (size_t i : columns) picked.push_back(cells[i]);
  return picked;
}

constexpr char kCss[] = R"css(
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin: 1.4em 0 0.4em; border-bottom: 1px solid #999; }
.meta { color: #555; margin-top: 0; }
.summary { display: grid; grid-template-columns: repeat(4, 1fr); gap: 0.6em; margin: 1em 0; }
.figure { border: 1px solid #bbb; border-radius: 4px; padding: 0.5em 0.7em; }
.figure .value { font-size: 1.4em; font-weight: bold; display: block; }
.figure .label { color: #444; font-size: 0.85em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.45em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.amount { text-align: right; white-space: nowrap; }
.none { color: #555; font-style: italic; }
.signature { margin-top: 3em; }
@media print {
  body { margin: 1cm; font-size: 10pt; }
  .summary { grid-template-columns: repeat(4, 1fr); }
  th { background: none; }
  thead { display: table-header-group; }
  tr, .figure { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
}
)css";

}  // namespace

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

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

std::string RenderShiftReportTable(const v1::ShiftReportResponse& report) {
  const ReportModel model = BuildModel(report);
  std::string out = absl::StrCat(model.title, "\n\n");
  TextTable figures({"FIGURE", "VALUE"});
  for (const Figure& f : model.figures) figures.AddRow({f.label, f.value});
  out += figures.Render();
  for (const Section& section : model.sections) {
    absl::StrAppend(&out, "\n", absl::AsciiStrToUpper(section.title), " (", section.rows.size(),
                    ")\n");
    if (section.rows.empty()) {
      out += "  none\n";
      continue;
    }
    const std::vector<size_t> shown = ShownColumns(section);
    TextTable table(Pick(section.headings, shown));
    for (const Row& row : section.rows) table.AddRow(Pick(Cells(row), shown));
    out += table.Render();
  }
  return out;
}

std::string RenderShiftReportCsv(const v1::ShiftReportResponse& report) {
  const ReportModel model = BuildModel(report);
  const auto line = [](const std::vector<std::string>& fields) {
    std::vector<std::string> quoted;
    for (const std::string& f : fields) quoted.push_back(CsvField(f));
    return absl::StrCat(absl::StrJoin(quoted, ","), "\r\n");
  };
  std::string out = line({"section", "case", "item", "time", "detail", "amount_yuan", "status"});
  for (const Figure& f : model.figures) {
    const bool money = f.key == "tickets_total_yuan";
    out += line({"summary", "", f.key, "", money ? "" : f.value, money ? f.value : "", ""});
  }
  for (const Section& section : model.sections) {
    for (const Row& row : section.rows) {
      std::vector<std::string> fields = Cells(row);
      fields.insert(fields.begin(), section.key);
      out += line(fields);
    }
  }
  return out;
}

std::string RenderShiftReportJson(const v1::ShiftReportResponse& report) {
  return ProtoToJson(report) + "\n";
}

std::string RenderShiftReportHtml(const v1::ShiftReportResponse& report) {
  const ReportModel model = BuildModel(report);
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
      HtmlEscape(model.title), "</title>\n<style>", kCss, "</style>\n</head>\n<body>\n<h1>",
      HtmlEscape(model.title), "</h1>\n<p class=\"meta\">Squad ", HtmlEscape(report.squad_id()),
      " · ", HtmlEscape(report.date()),
      " (Asia/Shanghai) · amounts in yuan · from palm-server</p>\n<section "
      "class=\"summary\">\n");
  for (const Figure& f : model.figures) {
    absl::StrAppend(&out, "<div class=\"figure\"><span class=\"value\">", HtmlEscape(f.value),
                    "</span><span class=\"label\">", HtmlEscape(f.label), "</span></div>\n");
  }
  out += "</section>\n";
  for (const Section& section : model.sections) {
    absl::StrAppend(&out, "<section>\n<h2>", HtmlEscape(section.title), " (", section.rows.size(),
                    ")</h2>\n");
    if (section.rows.empty()) {
      out += "<p class=\"none\">None.</p>\n</section>\n";
      continue;
    }
    const std::vector<size_t> shown = ShownColumns(section);
    out += "<table>\n<thead><tr>";
    for (size_t i : shown) absl::StrAppend(&out, "<th>", HtmlEscape(section.headings[i]), "</th>");
    out += "</tr></thead>\n<tbody>\n";
    for (const Row& row : section.rows) {
      const std::vector<std::string> cells = Cells(row);
      out += "<tr>";
      for (size_t i : shown) {
        absl::StrAppend(&out, i == 4 ? "<td class=\"amount\">" : "<td>", HtmlEscape(cells[i]),
                        "</td>");
      }
      out += "</tr>\n";
    }
    out += "</tbody>\n</table>\n</section>\n";
  }
  out +=
      "<p class=\"signature\">Squad leader 中队长: ______________________ &nbsp; Date 日期: "
      "______________</p>\n</body>\n</html>\n";
  return out;
}

std::string RenderShiftReport(const v1::ShiftReportResponse& report, ReportFormat format) {
  switch (format) {
    case ReportFormat::kCsv:
      return RenderShiftReportCsv(report);
    case ReportFormat::kJson:
      return RenderShiftReportJson(report);
    case ReportFormat::kHtml:
      return RenderShiftReportHtml(report);
    case ReportFormat::kTable:
      break;
  }
  return RenderShiftReportTable(report);
}

}  // namespace palm::palmctl
