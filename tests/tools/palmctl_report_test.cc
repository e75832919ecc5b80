// palmctl's shift report renderer and text helpers, as pure functions of a
// palm.v1.ShiftReportResponse (tools/palmctl/report_render.h, format.h).
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "palm/v1/admin.pb.h"
#include "tools/palmctl/format.h"
#include "tools/palmctl/report_render.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A shift with one of everything: a case whose description tries to inject
// markup, two tickets (a fine and a warning), a no-penalty decision, two
// evidence items (one with a receipt), an open conflict and an open
// rejection.
v1::ShiftReportResponse SampleShift() {
  v1::ShiftReportResponse r;
  r.set_squad_id("梧桐一中队");
  r.set_date("2026-03-14");
  v1::Case* c = r.add_cases_opened();
  c->set_case_id("0190a000-0000-7000-8000-000000000001");
  c->set_case_number("桐综执罚〔2026〕0123号");
  c->set_matter_code("SR-0101");
  c->set_procedure(v1::PROCEDURE_SUMMARY);
  c->set_state(v1::CASE_STATE_ISSUED);
  c->set_description("<script>alert(\"x\")</script> 占道经营, \"水果摊\"");
  c->mutable_place()->set_address("梧桐街道 1 号");
  c->set_created_at_ms(1773480000000);  // 2026-03-14 17:20 Asia/Shanghai
  v1::Ticket* fine = r.add_tickets();
  fine->set_case_id(c->case_id());
  fine->set_ticket_number(123);
  fine->set_ticket_number_text("桐综执简〔2026〕D0001-000123");
  fine->set_matter_code("SR-0101");
  fine->set_violation("占道经营");
  fine->set_penalty(v1::PENALTY_KIND_FINE);
  fine->set_fine_fen(5050);
  fine->set_party_signature(v1::PARTY_SIGNATURE_REFUSED);
  v1::Ticket* warning = r.add_tickets();
  warning->set_case_id("0190a000-0000-7000-8000-000000000002");
  warning->set_ticket_number(124);
  warning->set_penalty(v1::PENALTY_KIND_WARNING);
  r.set_tickets_total_fen(5050);
  v1::NoPenaltyDecision* d = r.add_no_penalty();
  d->set_case_id(c->case_id());
  d->set_matter_code("SR-0102");
  d->set_education_record("当场改正, 批评教育");
  v1::Evidence* with_receipt = r.add_evidence();
  with_receipt->set_evidence_id("0190a000-0000-7000-8000-0000000000e1");
  with_receipt->set_case_id(c->case_id());
  with_receipt->set_kind(v1::EVIDENCE_KIND_PHOTO);
  with_receipt->set_sha256(std::string(64, 'a'));
  with_receipt->set_size_bytes(2048);
  with_receipt->set_uploaded(true);
  with_receipt->mutable_receipt()->set_leaf_index(41);
  with_receipt->mutable_receipt()->mutable_tree_head()->set_tree_size(57);
  v1::Evidence* without = r.add_evidence();
  without->set_evidence_id("0190a000-0000-7000-8000-0000000000e2");
  without->set_case_id(c->case_id());
  without->set_kind(v1::EVIDENCE_KIND_VIDEO);
  without->set_sha256(std::string(64, 'b'));
  r.set_evidence_with_receipt(1);
  v1::ConflictRecord* conflict = r.add_open_conflicts();
  conflict->mutable_loss()->set_conflict_id("conflict-1");
  conflict->mutable_loss()->set_case_id(c->case_id());
  conflict->mutable_loss()->set_field(v1::CASE_FIELD_DESCRIPTION);
  conflict->mutable_loss()->set_losing_value("older");
  conflict->mutable_loss()->set_winning_value("newer");
  conflict->set_case_number(c->case_number());
  v1::RejectedMutation* rejected = r.add_open_rejections();
  rejected->mutable_mutation()->set_mutation_id("0190a000-0000-7000-8000-0000000000f1");
  rejected->mutable_mutation()->set_device_id("dev-a1");
  rejected->mutable_mutation()->set_device_seq(7);
  rejected->mutable_mutation()->mutable_transition_case()->set_case_id(c->case_id());
  rejected->mutable_result()->set_outcome(v1::OUTCOME_REJECTED);
  rejected->mutable_result()->set_reason(v1::REASON_STALE_TRANSITION);
  rejected->mutable_result()->set_message("the case moved on");
  return r;
}

TEST_CASE("the HTML shift report is one self-contained, escaped, printable page", "[palmctl]") {
  const std::string html = RenderShiftReportHtml(SampleShift());
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(Contains(html, "<meta charset=\"utf-8\">"));
  CHECK(Contains(html, "<style>"));
  CHECK(Contains(html, "@media print"));
  // No external assets and nothing that runs.
  CHECK_FALSE(Contains(html, "src="));
  CHECK_FALSE(Contains(html, "href="));
  CHECK_FALSE(Contains(html, "<script"));
  CHECK_FALSE(Contains(html, "<link"));
  CHECK_FALSE(Contains(html, "url("));
  CHECK_FALSE(Contains(html, "@import"));
  // The injected markup is shown as text.
  CHECK(Contains(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
  // Title with squad and date; Chinese text as UTF-8.
  CHECK(Contains(html, "<title>Shift report 执法日报 — squad 梧桐一中队 — 2026-03-14</title>"));
  CHECK(Contains(html, "桐综执罚〔2026〕0123号"));
  // Summary figures first, then the sections.
  const size_t summary = html.find("class=\"summary\"");
  const size_t tickets = html.find("<h2>Tickets issued (2)</h2>");
  REQUIRE(summary != std::string::npos);
  REQUIRE(tickets != std::string::npos);
  CHECK(summary < tickets);
  CHECK(Contains(html, "<span class=\"value\">50.50</span><span class=\"label\">Fines total"));
  CHECK(Contains(html, "<td class=\"amount\">50.50</td>"));
  CHECK(Contains(html, "receipt: leaf 41 of 57"));
  CHECK(Contains(html, "no receipt"));
  CHECK(Contains(html, "<h2>Conflicts still open (1)</h2>"));
  CHECK(Contains(html, "<h2>Rejected writes still open (1)</h2>"));
  CHECK(Contains(html, "stale transition: the case moved on"));
}

TEST_CASE("an empty shift renders every section as none", "[palmctl]") {
  v1::ShiftReportResponse empty;
  empty.set_squad_id("sq");
  empty.set_date("2026-03-14");
  const std::string html = RenderShiftReportHtml(empty);
  CHECK(Contains(html, "<h2>Cases opened (0)</h2>\n<p class=\"none\">None.</p>"));
  CHECK_FALSE(Contains(html, "<table>"));
  const std::string table = RenderShiftReportTable(empty);
  CHECK(Contains(table, "TICKETS ISSUED (0)\n  none\n"));
  CHECK(Contains(table, "Fines total (yuan)     0.00\n"));
}

TEST_CASE("the CSV shift report quotes fields and has one row per record", "[palmctl]") {
  const std::string csv = RenderShiftReportCsv(SampleShift());
  CHECK(csv.rfind("section,case,item,time,detail,amount_yuan,status\r\n", 0) == 0);
  // A description with a comma and quotes is one quoted field.
  CHECK(Contains(
      csv, ",\"<script>alert(\"\"x\"\")</script> 占道经营, \"\"水果摊\"\" @ 梧桐街道 1 号\","));
  CHECK(Contains(csv, "summary,,tickets_total_yuan,,,50.50,\r\n"));
  CHECK(Contains(csv, "summary,,cases_opened,,1,,\r\n"));
  CHECK(Contains(csv,
                 "ticket,桐综执罚〔2026〕0123号,桐综执简〔2026〕D0001-000123,-,SR-0101 "
                 "占道经营,50.50,refused\r\n"));
  CHECK(Contains(csv, ",warning,"));
  size_t rows = 0;
  for (size_t at = csv.find("\r\n"); at != std::string::npos; at = csv.find("\r\n", at + 2)) {
    ++rows;
  }
  // header + 8 summary figures + 1 case + 2 tickets + 1 decision + 2 evidence + 1 + 1.
  CHECK(rows == 1 + 8 + 1 + 2 + 1 + 2 + 1 + 1);
}

TEST_CASE("CSV fields are quoted per RFC 4180 and formulas are defused", "[palmctl]") {
  CHECK(CsvField("plain") == "plain");
  CHECK(CsvField("a,b") == "\"a,b\"");
  CHECK(CsvField("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(CsvField("two\nlines") == "\"two\nlines\"");
  CHECK(CsvField(" padded") == "\" padded\"");
  CHECK(CsvField("=SUM(A1:A9)") == "'=SUM(A1:A9)");
  CHECK(CsvField("@cmd") == "'@cmd");
  CHECK(CsvField("-12.50") == "-12.50");
  CHECK(CsvField("") == "");
}

TEST_CASE("the JSON shift report is the protobuf mapping and parses", "[palmctl]") {
  const std::string json = RenderShiftReportJson(SampleShift());
  auto doc = nlohmann::json::parse(json);
  CHECK(doc.at("squad_id") == "梧桐一中队");
  CHECK(doc.at("tickets_total_fen") == "5050");
  CHECK(doc.at("tickets").size() == 2);
  CHECK(doc.at("open_rejections")[0].at("result").at("reason") == "REASON_STALE_TRANSITION");
}

TEST_CASE("the table shift report leads with the figures and aligns Chinese text", "[palmctl]") {
  const std::string table = RenderShiftReportTable(SampleShift());
  CHECK(table.rfind("Shift report 执法日报 — squad 梧桐一中队 — 2026-03-14\n\n", 0) == 0);
  CHECK(Contains(table, "Tickets issued         2 (1 fines, 1 warnings)\n"));
  CHECK(Contains(table, "Evidence with receipt  1 of 2\n"));
  CHECK(Contains(table, "CASES OPENED (1)\n"));
  CHECK(Contains(table, "2026-03-14 17:20"));
  CHECK(RenderShiftReport(SampleShift(), ReportFormat::kTable) == table);
}

TEST_CASE("HtmlEscape escapes the five markup characters", "[palmctl]") {
  CHECK(HtmlEscape("<a href='x'>&\"</a>") == "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  CHECK(HtmlEscape("中文") == "中文");
}

TEST_CASE("text tables align by display width, CJK counting two cells", "[palmctl]") {
  CHECK(DisplayWidth("abc") == 3);
  CHECK(DisplayWidth("张三") == 4);
  CHECK(DisplayWidth("〔2026〕") == 8);
  TextTable table({"NAME", "ROLE"});
  table.AddRow({"张三", "officer"});
  table.AddRow({"bob", ""});
  CHECK(table.Render() ==
        "NAME  ROLE\n"
        "张三  officer\n"
        "bob   -\n");
}

TEST_CASE("yuan, dates and enum names are formatted for people", "[palmctl]") {
  CHECK(FormatYuan(0) == "0.00");
  CHECK(FormatYuan(5) == "0.05");
  CHECK(FormatYuan(20000) == "200.00");
  CHECK(FormatYuan(-12345) == "-123.45");
  CHECK(ShanghaiDayStartMs("2026-03-14") == 1773446400000 - kShanghaiOffsetMs);
  CHECK(ShanghaiDayStartMs("2024-02-29").has_value());
  CHECK_FALSE(ShanghaiDayStartMs("2026-02-29").has_value());
  CHECK_FALSE(ShanghaiDayStartMs("2026-3-14").has_value());
  CHECK_FALSE(ShanghaiDayStartMs("14/03/2026").has_value());
  CHECK(FormatShanghaiMinute(1773446400000 - kShanghaiOffsetMs) == "2026-03-14 00:00");
  CHECK(EnumLabel(v1::DeviceSyncState_descriptor(), v1::DEVICE_SYNC_STATE_NEVER_SYNCED) ==
        "never synced");
  CHECK(EnumToken(v1::CaseState_descriptor(), v1::CASE_STATE_LEGAL_REVIEW) == "legal_review");
  CHECK(ParseEnum(v1::CaseState_descriptor(), "legal-review") == v1::CASE_STATE_LEGAL_REVIEW);
  CHECK(ParseEnum(v1::CaseState_descriptor(), "CASE_STATE_FILED") == v1::CASE_STATE_FILED);
  CHECK(ParseEnum(v1::Role_descriptor(), "Squad Leader") == v1::ROLE_SQUAD_LEADER);
  CHECK_FALSE(ParseEnum(v1::CaseState_descriptor(), "unspecified").has_value());
  CHECK_FALSE(ParseEnum(v1::CaseState_descriptor(), "bogus").has_value());
}

}  // namespace
}  // namespace palm::palmctl
