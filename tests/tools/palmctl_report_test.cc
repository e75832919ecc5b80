// palmctl's shift report renderer and text helpers, as pure functions of a
// palm.v1.ShiftReportResponse and the lookups palmctl makes besides it
// (tools/palmctl/report_render.h, report_model.h, report_messages.h,
// report_svg.h, format.h).
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "palm/v1/admin.pb.h"
#include "tests/tools/shift_report_sample.h"
#include "tools/palmctl/bureau_time.h"
#include "tools/palmctl/format.h"
#include "tools/palmctl/report_messages.h"
#include "tools/palmctl/report_render.h"
#include "tools/palmctl/report_svg.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;
using sample::RealisticContext;
using sample::RealisticShift;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// Times in these tests are Asia/Shanghai, labelled CST.
void UseShanghai() { REQUIRE(SetBureauTimeZone("Asia/Shanghai").ok()); }

ReportContext English() {
  ReportContext ctx = RealisticContext();
  ctx.lang = ReportLang::kEn;
  return ctx;
}

// What palmctl has when every lookup besides ShiftReport was refused.
ReportContext NothingLookedUp() {
  ReportContext ctx;
  ctx.generated_at_ms = RealisticContext().generated_at_ms;
  ctx.unavailable = {"ListOfficers: PERMISSION_DENIED", "GetCatalog: NOT_FOUND",
                     "SquadStatus: PERMISSION_DENIED"};
  return ctx;
}

TEST_CASE("the table shift report is in Chinese by default, heading and totals first",
          "[palmctl]") {
  UseShanghai();
  const std::string table = RenderShiftReportTable(RealisticShift(), RealisticContext());
  INFO(table);
  CHECK(table.rfind("桐乡市综合行政执法局\n"
                    "执法日报\n"
                    "中队:     梧桐中队 (sq-wt)\n"
                    "镇街:     梧桐街道 (town-wt)\n"
                    "日期:     2026-03-14\n"
                    "生成时间: 2026-03-14 18:15 CST\n"
                    "\n"
                    "汇总\n"
                    "项目            数值\n"
                    "新立案件        6\n"
                    "当场处罚决定    3\n"
                    "其中罚款        2\n"
                    "其中警告        1\n"
                    "罚款合计（元）  250.00\n"
                    "不予处罚决定    1\n"
                    "证据            5\n"
                    "已取得存证回执  4\n"
                    "证据未上传      1\n"
                    "未处理冲突      1\n"
                    "未处理被拒写入  1\n"
                    "执法终端        4\n"
                    "终端未同步      2\n"
                    "\n"
                    "需处理事项\n"
                    "\n"
                    "未处理的数据冲突 (1)\n",
                    0) == 0);
  // Totals, then the exceptions, then the per-officer table and the records.
  const size_t exceptions = table.find("需处理事项");
  const size_t officers = table.find("执法人员统计 (3)");
  const size_t cases = table.find("新立案件（按案号排序） (6)");
  REQUIRE(exceptions != std::string::npos);
  REQUIRE(officers != std::string::npos);
  REQUIRE(cases != std::string::npos);
  CHECK(exceptions < officers);
  CHECK(officers < cases);
  CHECK(Contains(table, "缺少回执或未上传的证据 (1)\n"));
  CHECK(
      Contains(table, "视频 0190a000  2026-03-14 10:41 CST  李明 (off-li)  无存证回执；未上传\n"));
  // Evidence that is in order is not listed.
  CHECK_FALSE(Contains(table, "照片 0190a000"));
  CHECK(Contains(table, "终端同步状态 (4)\n"));
  CHECK(Contains(table, "dev-wt-04  从未同步  -"));
}

TEST_CASE("the shift report with --lang en is the same report in English", "[palmctl]") {
  UseShanghai();
  const std::string table = RenderShiftReportTable(RealisticShift(), English());
  INFO(table);
  CHECK(table.rfind("桐乡市综合行政执法局\n"
                    "Shift report\n"
                    "Squad:     梧桐中队 (sq-wt)\n"
                    "Town:      梧桐街道 (town-wt)\n"
                    "Date:      2026-03-14\n"
                    "Generated: 2026-03-14 18:15 CST\n"
                    "\n"
                    "Totals\n",
                    0) == 0);
  CHECK(Contains(table, "Fines total (yuan)     250.00\n"));
  CHECK(Contains(table, "Conflicts still open (1)\n"));
  CHECK(Contains(table, "By officer (3)\n"));
  CHECK(Contains(table, "never synced"));
  CHECK_FALSE(Contains(table, "汇总"));
  CHECK_FALSE(Contains(table, "从未同步"));
  CHECK(ParseReportLang("en") == ReportLang::kEn);
  CHECK(ParseReportLang("ZH-cn") == ReportLang::kZh);
  CHECK_FALSE(ParseReportLang("fr").has_value());
}

TEST_CASE("every report message has its zh-CN and English text", "[palmctl]") {
  for (int i = 0; i < static_cast<int>(Msg::kCount_); ++i) {
    INFO("message " << i);
    CHECK(std::string(Text(ReportLang::kZh, static_cast<Msg>(i))).size() > 0);
    CHECK(std::string(Text(ReportLang::kEn, static_cast<Msg>(i))).size() > 0);
  }
  CHECK(CaseStateText(ReportLang::kZh, v1::CASE_STATE_LEGAL_REVIEW) == "法制审核");
  CHECK(CaseStateText(ReportLang::kEn, v1::CASE_STATE_LEGAL_REVIEW) == "legal review");
  CHECK(SyncStateText(ReportLang::kZh, v1::DEVICE_SYNC_STATE_BEHIND) == "落后");
}

TEST_CASE("the report shows names beside ids: squad, town, officers, matters", "[palmctl]") {
  UseShanghai();
  const std::string table = RenderShiftReportTable(RealisticShift(), RealisticContext());
  INFO(table);
  // The per-officer table: cases, tickets, fines, no-penalty decisions.
  CHECK(Contains(table,
                 "执法人员统计 (3)\n"
                 "执法人员          立案  处罚决定  罚款（元）  不予处罚\n"
                 "李明 (off-li)     2     1         200.00      0\n"
                 "王芳 (off-wang)   2     2         50.00       0\n"
                 "张伟 (off-zhang)  2     0         0.00        1\n"));
  CHECK(Contains(table, "SZ-0102 擅自占用道路"));
  CHECK(Contains(table, "SR-0101 占道经营"));
}

TEST_CASE("cases are listed by official number, cases without one last", "[palmctl]") {
  UseShanghai();
  const std::string all = RenderShiftReportTable(RealisticShift(), RealisticContext());
  const std::string table = all.substr(all.find("新立案件（按案号排序）"));
  const size_t n128 = table.find("\n桐综执罚〔2026〕0128号 ");
  const size_t n129 = table.find("\n桐综执罚〔2026〕0129号 ");
  const size_t n130 = table.find("\n桐综执罚〔2026〕0130号 ");
  const size_t n131 = table.find("\n桐综执罚〔2026〕0131号 ");
  const size_t n132 = table.find("\n桐综执罚〔2026〕0132号 ");
  const size_t none = table.find("\n0190a000-0000-7000-8000-000000000006  YL-0301 损坏绿地");
  REQUIRE(n128 != std::string::npos);
  REQUIRE(none != std::string::npos);
  CHECK(n128 < n129);
  CHECK(n129 < n130);
  CHECK(n130 < n131);
  CHECK(n131 < n132);
  CHECK(n132 < none);
}

TEST_CASE("lookups that failed leave ids in place and are named in a note", "[palmctl]") {
  UseShanghai();
  const ReportContext ctx = NothingLookedUp();
  const std::string table = RenderShiftReportTable(RealisticShift(), ctx);
  INFO(table);
  CHECK(table.rfind("执法日报\n"
                    "中队:     sq-wt\n"
                    "日期:     2026-03-14\n"
                    "生成时间: 2026-03-14 18:15 CST\n"
                    "以下名称未能取得，显示编号: ListOfficers: PERMISSION_DENIED; GetCatalog: "
                    "NOT_FOUND; SquadStatus: PERMISSION_DENIED\n",
                    0) == 0);
  CHECK(Contains(table, "off-li     2     1         200.00      0\n"));
  CHECK(Contains(table, "  SZ-0102   2026-03-14 10:40 CST  off-li  "));
  CHECK(Contains(table, "终端同步状态 (0)\n  未能取得\n"));
  CHECK_FALSE(Contains(table, "执法终端"));
  const std::string html = RenderShiftReportHtml(RealisticShift(), ctx);
  CHECK(Contains(html, "<p class=\"note\">以下名称未能取得，显示编号: ListOfficers: "));
  CHECK(Contains(html, ">未能取得</text>"));
  nlohmann::json json = nlohmann::json::parse(RenderShiftReportJson(RealisticShift(), ctx));
  CHECK(json.at("devices").is_null());
  CHECK(json.at("officers")[0].at("name") == "");
  CHECK(json.at("unavailable").size() == 3);
  CHECK_FALSE(json.at("totals").contains("devices"));
}

TEST_CASE("an empty shift says there is nothing to attend to", "[palmctl]") {
  UseShanghai();
  v1::ShiftReportResponse empty;
  empty.set_squad_id("sq");
  empty.set_date("2026-03-14");
  const std::string table = RenderShiftReportTable(empty);
  INFO(table);
  CHECK(Contains(table, "需处理事项\n  无需处理事项。\n"));
  CHECK(Contains(table, "当场处罚决定 (0)\n  无\n"));
  CHECK(Contains(table, "罚款合计（元）  0.00\n"));
  const std::string html = RenderShiftReportHtml(empty);
  CHECK(Contains(html, "<p class=\"none\">无需处理事项。</p>"));
  CHECK(Contains(html, "<h2>新立案件（按案号排序） (0)</h2>\n<p class=\"none\">无</p>"));
  CHECK_FALSE(Contains(html, "<table>"));
  CHECK(Count(html, "<svg ") == 3);
}

TEST_CASE("the CSV shift report starts with a BOM and has plain numbers in numeric columns",
          "[palmctl]") {
  UseShanghai();
  const std::string csv = RenderShiftReportCsv(RealisticShift(), RealisticContext());
  INFO(csv);
  CHECK(csv.rfind(
            std::string(kUtf8Bom) + "桐乡市综合行政执法局 执法日报\r\n中队,梧桐中队 (sq-wt)\r\n",
            0) == 0);
  CHECK(Contains(csv, "\r\n汇总\r\n项目,数值\r\n新立案件,6\r\n当场处罚决定,3\r\n"));
  CHECK(Contains(csv, "罚款合计（元）,250.00\r\n"));
  CHECK(Contains(csv,
                 "\r\n执法人员统计\r\n执法人员,立案,处罚决定,罚款（元）,不予处罚\r\n"
                 "李明 (off-li),2,1,200.00,0\r\n王芳 (off-wang),2,2,50.00,0\r\n"
                 "张伟 (off-zhang),2,0,0.00,1\r\n"));
  // A fine's amount is a number; a warning's is empty, its kind in the text.
  CHECK(Contains(csv,
                 "桐综执简〔2026〕D0001-000131,桐综执罚〔2026〕0131号,2026-03-14 09:15 CST,"
                 "李明 (off-li),SR-0101 占道经营：占道经营 水果摊,200.00,已签收\r\n"));
  CHECK(Contains(csv, "SR-0203 乱张贴：乱涂写（警告）,,拒绝签收\r\n"));
  CHECK(Contains(csv, "\r\n终端同步状态\r\n终端,同步状态,最近同步,待同步写入,待上传文件\r\n"));
  CHECK(Contains(csv, "dev-wt-03,落后,2026-03-14 11:40 CST,4,1\r\n"));
  // No figure is text with a number in it.
  CHECK_FALSE(Contains(csv, " fines, "));
  CHECK_FALSE(Contains(csv, " of 5"));
  // English headers with --lang en.
  const std::string en = RenderShiftReportCsv(RealisticShift(), English());
  CHECK(Contains(en, "\r\nBy officer\r\nOFFICER,CASES,TICKETS,AMOUNT (YUAN),NO PENALTY\r\n"));
  CHECK(Contains(en, "SR-0203 乱张贴: 乱涂写 (warning),,refused\r\n"));
}

TEST_CASE("a CSV field with markup, commas and quotes stays one field", "[palmctl]") {
  v1::ShiftReportResponse r = RealisticShift();
  r.mutable_cases_opened(0)->set_description("<b>\"水果摊\"</b>, 占道");
  const std::string csv = RenderShiftReportCsv(r, RealisticContext());
  CHECK(Contains(csv, ",\"<b>\"\"水果摊\"\"</b>, 占道 @ 梧桐街道 庆丰路 12 号\","));
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

TEST_CASE("the JSON shift report has numbers as numbers and names beside ids", "[palmctl]") {
  UseShanghai();
  const nlohmann::json doc =
      nlohmann::json::parse(RenderShiftReportJson(RealisticShift(), RealisticContext()));
  CHECK(doc.at("bureau") == "桐乡市综合行政执法局");
  CHECK(doc.at("squad_id") == "sq-wt");
  CHECK(doc.at("squad_name") == "梧桐中队");
  CHECK(doc.at("town_name") == "梧桐街道");
  CHECK(doc.at("generated_at") == "2026-03-14 18:15 CST");
  CHECK(doc.at("generated_at_ms") == RealisticContext().generated_at_ms);
  const nlohmann::json& totals = doc.at("totals");
  CHECK(totals.at("cases_opened").is_number_integer());
  CHECK(totals.at("cases_opened") == 6);
  CHECK(totals.at("fines_total_fen") == 25000);
  CHECK(totals.at("fines_total_yuan").is_number());
  CHECK(totals.at("fines_total_yuan") == 250.0);
  CHECK(totals.at("evidence_with_receipt") == 4);
  CHECK(totals.at("devices_not_in_sync") == 2);
  const nlohmann::json& li = doc.at("officers")[0];
  CHECK(li == nlohmann::json{{"officer_id", "off-li"},
                             {"name", "李明"},
                             {"cases", 2},
                             {"tickets", 1},
                             {"fines_total_fen", 20000},
                             {"fines_total_yuan", 200.0},
                             {"no_penalty", 0}});
  // Cases by number, with matter and officer names.
  REQUIRE(doc.at("cases_opened").size() == 6);
  CHECK(doc.at("cases_opened")[0].at("case_number") == "桐综执罚〔2026〕0128号");
  CHECK(doc.at("cases_opened")[2].at("matter_name") == "擅自占用道路");
  CHECK(doc.at("cases_opened")[2].at("category") == "市政公用");
  CHECK(doc.at("cases_opened")[2].at("proposed_fine_yuan") == 2000.0);
  CHECK(doc.at("cases_opened")[2].at("state") == "investigating");
  CHECK(doc.at("tickets")[0].at("ticket_number") == 131);
  CHECK(doc.at("tickets")[0].at("fine_fen") == 20000);
  CHECK(doc.at("tickets")[0].at("officer_name") == "李明");
  CHECK(doc.at("evidence")[3].at("receipt") == false);
  CHECK(doc.at("evidence")[0].at("receipt_leaf_index") == 40);
  CHECK(doc.at("open_rejections")[0].at("reason") == "stale_transition");
  CHECK(doc.at("open_rejections")[0].at("device_seq") == 17);
  CHECK(doc.at("open_conflicts")[0].at("field") == "address");
  CHECK(doc.at("devices")[2].at("pending_mutations") == 4);
  CHECK(doc.at("devices")[2].at("state") == "behind");
  CHECK(doc.at("unavailable").empty());
  // JSON keys do not change with the language.
  CHECK(nlohmann::json::parse(RenderShiftReportJson(RealisticShift(), English())) == doc);
}

TEST_CASE("the HTML shift report is one self-contained, escaped, printable page", "[palmctl]") {
  UseShanghai();
  v1::ShiftReportResponse r = RealisticShift();
  r.mutable_cases_opened(0)->set_description("<script>alert(\"x\")</script> 占道经营");
  ReportContext ctx = RealisticContext();
  ctx.officer_names["off-li"] = "李<明>";
  ctx.matters["SZ-0102"].set_category("市政&公用");
  const std::string html = RenderShiftReportHtml(r, ctx);
  CHECK(html.rfind("<!DOCTYPE html>\n<html lang=\"zh-CN\">", 0) == 0);
  CHECK(Contains(html, "<meta charset=\"utf-8\">"));
  CHECK(Contains(html, "@media print"));
  // Page numbers in print.
  CHECK(Contains(html, "@page { size: A4;"));
  CHECK(Contains(html, "content: \"第 \" counter(page) \" 页，共 \" counter(pages) \" 页\";"));
  // No external assets and nothing that runs.
  CHECK_FALSE(Contains(html, "src="));
  CHECK_FALSE(Contains(html, "href="));
  CHECK_FALSE(Contains(html, "<script"));
  CHECK_FALSE(Contains(html, "<link"));
  CHECK_FALSE(Contains(html, "url("));
  CHECK_FALSE(Contains(html, "@import"));
  CHECK(Contains(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
  CHECK(Contains(html,
                 "<title>桐乡市综合行政执法局 执法日报 — 梧桐中队 (sq-wt) — 2026-03-14</title>"));
  CHECK(Contains(html, "<p class=\"bureau\">桐乡市综合行政执法局</p>\n<h1>执法日报</h1>"));
  CHECK(Contains(html, "生成时间：2026-03-14 18:15 CST"));
  // Totals first, then what needs attention, then the officers.
  const size_t totals = html.find("<h2>汇总</h2>");
  const size_t attention = html.find("<h2>需处理事项</h2>");
  const size_t officers = html.find("<h2>执法人员统计 (3)</h2>");
  REQUIRE(totals != std::string::npos);
  REQUIRE(attention != std::string::npos);
  REQUIRE(officers != std::string::npos);
  CHECK(totals < attention);
  CHECK(attention < officers);
  CHECK(Contains(html, "<h3>未处理的数据冲突 (1)</h3>"));
  CHECK(Contains(html,
                 "<div class=\"figure alert\"><span class=\"value\">1</span><span "
                 "class=\"label\">未处理冲突</span></div>"));
  CHECK(Contains(html, "<td class=\"number\">200.00</td>"));
  // Three inline charts, their text escaped.
  CHECK(Count(html, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"") == 3);
  CHECK(Contains(html, "<title>按类别统计案件</title>"));
  CHECK(Contains(html, "<title>按执法人员统计罚款（元）</title>"));
  CHECK(Contains(html, "<title>终端同步状态</title>"));
  CHECK(Contains(html, ">市政&amp;公用</text>"));
  CHECK(Contains(html, ">李&lt;明&gt;</text>"));
  CHECK_FALSE(Contains(html, "李<明>"));
  CHECK(Contains(html,
                 ">市容环境</text>\n<rect x=\"126\" y=\"26\" width=\"178\" height=\"16\" "
                 "fill=\"#3b6ea5\"/>\n<text x=\"308\" y=\"39\" font-size=\"12\">4</text>"));
  CHECK(Contains(html, "fill=\"#c0392b\"/>"));  // never synced
  // English with --lang en.
  const std::string en = RenderShiftReportHtml(RealisticShift(), English());
  CHECK(en.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0) == 0);
  CHECK(Contains(en, "content: \"Page \" counter(page) \" of \" counter(pages);"));
  CHECK(Contains(en, "<title>Cases by category</title>"));
  CHECK(Contains(en, "<h2>Needs attention</h2>"));
}

// The realistic shift with two clocks the server listed: a payment overdue
// with its surcharge, and a hand-over due today.
v1::ShiftReportResponse WithDeadlines() {
  v1::ShiftReportResponse r = RealisticShift();
  v1::CaseClock* pay = r.add_deadlines();
  pay->set_case_id("case-9");
  pay->set_case_number("桐综执罚〔2026〕0042号");
  pay->set_kind(v1::CLOCK_KIND_PAYMENT);
  pay->set_started_on("2026-02-20");
  pay->set_last_day("2026-03-09");
  pay->set_state(v1::CLOCK_STATE_OVERDUE);
  pay->set_days_left(-5);
  pay->set_outstanding_fen(4000);
  pay->set_surcharge_fen(600);
  v1::CaseClock* hand = r.add_deadlines();
  hand->set_case_id("case-10");
  hand->set_kind(v1::CLOCK_KIND_HAND_OVER);
  hand->set_started_on("2026-03-12");
  hand->set_last_day("2026-03-14");
  hand->set_state(v1::CLOCK_STATE_DUE_TODAY);
  hand->set_outstanding_fen(5000);
  r.set_deadlines_total(3);
  return r;
}

TEST_CASE("the shift report lists the squad's clocks first in every form", "[palmctl]") {
  UseShanghai();
  const v1::ShiftReportResponse r = WithDeadlines();
  const std::string table = RenderShiftReportTable(r, RealisticContext());
  INFO(table);
  CHECK(Contains(table, "办案时限（3日内到期及已逾期）"));
  CHECK(Contains(table, "缴款期限 (第67条)"));
  CHECK(Contains(table, "已逾期 5 天"));
  CHECK(Contains(table, "欠缴 40 元，加处罚款 6 元"));
  CHECK(Contains(table, "罚款上缴 (第71条)"));
  CHECK(Contains(table, "今日到期"));
  CHECK(Contains(table, "另有 1 条未列出"));
  // Before the per-officer table.
  CHECK(table.find("办案时限") < table.find(Text(ReportLang::kZh, Msg::kOfficersSection)));
  const std::string csv = RenderShiftReportCsv(r, RealisticContext());
  CHECK(
      Contains(csv, "桐综执罚〔2026〕0042号,缴款期限 (第67条),2026-02-20,2026-03-09,已逾期 5 天"));
  const std::string html = RenderShiftReportHtml(r, English());
  CHECK(Contains(html, "Deadlines (due within 3 days, and overdue)"));
  CHECK(Contains(html, "40 yuan unpaid, surcharge 6"));
  CHECK(Contains(html, "hand over (Art. 71)"));
  const nlohmann::json doc = nlohmann::json::parse(RenderShiftReportJson(r, RealisticContext()));
  REQUIRE(doc.at("deadlines").size() == 2);
  CHECK(doc.at("deadlines")[0].at("kind") == "payment");
  CHECK(doc.at("deadlines")[0].at("surcharge_fen") == 600);
  CHECK(doc.at("deadlines_total") == 3);
  // None listed: no section.
  CHECK_FALSE(Contains(RenderShiftReportTable(RealisticShift(), RealisticContext()), "办案时限"));
}

TEST_CASE("bar charts scale to the largest value and cut long labels", "[palmctl]") {
  const std::string svg =
      BarChartSvg("图<表>", {{"甲", 2, "2", ""}, {"乙乙乙乙乙乙乙乙乙乙", 1, "1", "#777"}}, "无");
  CHECK(svg.rfind("<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
                  "width=\"360\" height=\"80\" viewBox=\"0 0 360 80\" aria-label=\"图&lt;表&gt;\">",
                  0) == 0);
  CHECK(Contains(svg, "<rect x=\"126\" y=\"26\" width=\"178\" height=\"16\" fill=\"#3b6ea5\"/>"));
  CHECK(Contains(svg, "<rect x=\"126\" y=\"50\" width=\"89\" height=\"16\" fill=\"#777\"/>"));
  CHECK(Contains(svg, ">乙乙乙乙乙乙乙…</text>"));
  CHECK(svg.size() > 0);
  CHECK(svg.substr(svg.size() - 6) == "</svg>");
  CHECK(Contains(BarChartSvg("t", {}, "无"), ">无</text>"));
  CHECK(TruncateToWidth("abc", 3) == "abc");
  CHECK(TruncateToWidth("abcdef", 4) == "abc…");
  CHECK(TruncateToWidth("张三李四", 5) == "张三…");
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
