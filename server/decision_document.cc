#include "server/decision_document.h"

#include <algorithm>
#include <array>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sync/calendar.h"
#include "sync/clocks.h"
#include "sync/quote.h"
#include "sync/rules.h"
#include "sync/service.h"
#include "sync/status_macros.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

bool Blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch == ' ' || ch == '\t'; });
}

std::string Label(const v1::Case& c) {
  return c.case_number().empty() ? c.case_id() : c.case_number();
}

// 2026-09-30 as 2026年9月30日.
std::string ChineseDate(absl::CivilDay day) {
  return absl::StrFormat("%d年%d月%d日", day.year(), day.month(), day.day());
}

const char* EvidenceKindLabel(v1::EvidenceKind kind) {
  switch (kind) {
    case v1::EVIDENCE_KIND_PHOTO:
      return "照片";
    case v1::EVIDENCE_KIND_VIDEO:
      return "视频";
    case v1::EVIDENCE_KIND_AUDIO:
      return "录音";
    case v1::EVIDENCE_KIND_DOCUMENT:
      return "书证";
    case v1::EVIDENCE_KIND_RECORD:
      return "笔录";
    default:
      return "证据";
  }
}

bool DecidedState(v1::CaseState s) {
  switch (s) {
    case v1::CASE_STATE_DECIDED:
    case v1::CASE_STATE_SERVED:
    case v1::CASE_STATE_EXECUTING:
    case v1::CASE_STATE_CLOSED:
    case v1::CASE_STATE_ARCHIVED:
      return true;
    default:
      return false;
  }
}

absl::Status Missing(const v1::Case& c, absl::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat("the decision document of case ", Label(c), " cannot be made: ", what));
}

// Four digits (1..9999) in capitals, zeros inside collapsed to one 零.
std::string FourDigits(int64_t n) {
  static constexpr std::array<const char*, 10> kDigits = {"零", "壹", "贰", "叁", "肆",
                                                          "伍", "陆", "柒", "捌", "玖"};
  static constexpr std::array<const char*, 4> kUnits = {"仟", "佰", "拾", ""};
  std::string out;
  bool zero = false;
  bool started = false;
  for (int i = 0; i < 4; ++i) {
    int64_t divisor = 1;
    for (int k = i; k < 3; ++k) divisor *= 10;
    const int64_t d = (n / divisor) % 10;
    if (d == 0) {
      if (started) zero = true;
      continue;
    }
    if (zero) out += kDigits[0];
    zero = false;
    started = true;
    absl::StrAppend(&out, kDigits[d], kUnits[i]);
  }
  return out;
}

std::string ChineseInteger(int64_t n) {
  if (n == 0) return "零";
  static constexpr std::array<const char*, 4> kGroups = {"", "万", "亿", "万亿"};
  std::vector<int64_t> groups;
  for (int64_t rest = n; rest > 0; rest /= 10000) groups.push_back(rest % 10000);
  std::string out;
  bool zero = false;
  for (size_t i = groups.size(); i-- > 0;) {
    const int64_t g = groups[i];
    if (g == 0) {
      if (!out.empty()) zero = true;
      continue;
    }
    if (!out.empty() && (zero || g < 1000)) out += "零";
    zero = false;
    absl::StrAppend(&out, FourDigits(g), kGroups[i]);
  }
  return out;
}

std::string Yuan(int64_t fen) { return absl::StrFormat("%d.%02d", fen / 100, fen % 100); }

std::string RemedyText(const v1::DecisionDocument& d) {
  std::string body;
  std::string court;
  for (const v1::Remedy& r : d.remedies()) {
    if (r.kind() == v1::REMEDY_KIND_RECONSIDERATION) body = r.body();
    if (r.kind() == v1::REMEDY_KIND_LITIGATION) court = r.body();
  }
  return absl::StrCat(
      "当事人如不服本决定，可以自收到本决定书之日起六十日内向", body,
      "申请行政复议，或者自收到本决定书之日起六个月内依法向", court,
      "提起行政诉讼。行政复议或者行政诉讼期间，本决定不停止执行，法律另有规定的除外。");
}

}  // namespace

std::string ChineseAmount(int64_t fen) {
  static constexpr std::array<const char*, 10> kDigits = {"零", "壹", "贰", "叁", "肆",
                                                          "伍", "陆", "柒", "捌", "玖"};
  const int64_t yuan = fen / 100;
  const int64_t jiao = (fen / 10) % 10;
  const int64_t cents = fen % 10;
  std::string out;
  if (yuan > 0 || (jiao == 0 && cents == 0)) absl::StrAppend(&out, ChineseInteger(yuan), "元");
  if (jiao == 0 && cents == 0) return out + "整";
  if (jiao > 0) {
    absl::StrAppend(&out, kDigits[jiao], "角");
  } else if (yuan > 0) {
    out += "零";
  }
  if (cents > 0) {
    absl::StrAppend(&out, kDigits[cents], "分");
  } else {
    out += "整";
  }
  return out;
}

absl::StatusOr<v1::DecisionDocument> BuildDecisionDocument(const DecisionFacts& facts) {
  const v1::Case& c = *facts.c;
  if (c.procedure() != v1::PROCEDURE_ORDINARY) {
    return Missing(
        c, "it is on the summary procedure, whose ticket is its decision document (Art. 52)");
  }
  if (!DecidedState(c.state()) || sync::DecidedAtMs(c) <= 0) {
    return Missing(c, absl::StrCat("it is in state ", v1::CaseState_Name(c.state()),
                                   ", and the document records a decision (DECIDED or later)"));
  }
  if (c.case_number().empty()) return Missing(c, "it has no official number yet");
  if (c.parties().empty()) return Missing(c, "it names no party (Art. 59(1))");
  const std::string matter_code =
      c.decision().matter_code().empty() ? c.matter_code() : c.decision().matter_code();
  if (facts.matter == nullptr) {
    return Missing(c, absl::StrCat("matter ", matter_code,
                                   " is not in the catalogue, so its legal basis is unknown (Art. "
                                   "59(3))"));
  }
  const v1::Agency& agency = *facts.agency;
  if (Blank(agency.name()) || Blank(agency.reconsideration_body()) ||
      Blank(agency.litigation_court())) {
    return Missing(
        c,
        "the catalogue names no agency with its reconsideration body and court "
        "(Catalog.agency: name, reconsideration_body, litigation_court; Art. 59(5)-(6))");
  }
  const int64_t fine =
      c.decision().decided_at_ms() > 0 ? c.decision().fine_fen() : c.proposed_fine_fen();
  if (fine > 0 && (Blank(agency.payment_bank()) || Blank(agency.payment_account())) &&
      Blank(agency.electronic_payment())) {
    return Missing(c,
                   "the catalogue's agency says nowhere to pay the fine (payment_bank and "
                   "payment_account, or electronic_payment; Art. 59(4), 67)");
  }

  v1::DecisionDocument d;
  d.set_case_id(c.case_id());
  d.set_case_number(c.case_number());
  d.set_title("行政处罚决定书");
  d.set_agency(agency.name());
  d.set_sample_label(agency.sample_label());
  const absl::CivilDay decided = sync::ShanghaiDay(sync::DecidedAtMs(c));
  d.set_decided_on(sync::FormatCivilDay(decided));
  for (const v1::Party& p : c.parties()) {
    v1::DecisionParty* out = d.add_parties();
    out->set_kind(p.kind());
    out->set_name(p.name());
    out->set_id_number(p.id_number());
    out->set_address(p.address());
  }
  d.set_facts(c.description());
  for (const v1::Evidence& e : *facts.evidence) {
    if (e.withdrawn()) continue;
    v1::DecisionEvidence* out = d.add_evidence();
    out->set_evidence_id(e.evidence_id());
    out->set_kind(e.kind());
    out->set_description(e.description());
    if (e.captured_at_ms() > 0) {
      out->set_captured_on(sync::FormatCivilDay(sync::ShanghaiDay(e.captured_at_ms())));
    }
    out->set_sha256(e.sha256());
  }
  d.set_matter_code(matter_code);
  d.set_matter_name(facts.matter->name());
  d.set_legal_basis(facts.matter->legal_basis());
  d.set_penalty_basis(facts.matter->penalty_basis());
  if (fine > 0) {
    d.set_penalty(v1::PENALTY_KIND_FINE);
    d.set_fine_fen(fine);
    d.set_penalty_text(absl::StrCat("罚款人民币", ChineseAmount(fine), "（￥", Yuan(fine), "）"));
    std::string where;
    if (!Blank(agency.payment_bank()) && !Blank(agency.payment_account())) {
      where = absl::StrCat("到", agency.payment_bank(), "（账号：", agency.payment_account(),
                           "）缴纳罚款");
    }
    if (!Blank(agency.electronic_payment())) {
      absl::StrAppend(&where, where.empty() ? "" : "，或者", "通过", agency.electronic_payment(),
                      "缴纳罚款");
    }
    std::string text = absl::StrCat(
        "当事人应当自收到本决定书之日起十五日内，", where,
        "。到期不缴纳罚款的，本机关可以每日按罚款数额的百分之三加处罚款，加处罚款的数额不超出"
        "罚款的数额（《中华人民共和国行政处罚法》第七十二条）。");
    if (c.has_service() && facts.calendar != nullptr) {
      const absl::CivilDay served = sync::ShanghaiDay(c.service().effective_at_ms());
      if (absl::StatusOr<absl::CivilDay> last = sync::PaymentLastDay(*facts.calendar, served);
          last.ok()) {
        absl::StrAppend(&text, "本决定书于", ChineseDate(served), "送达，缴款期限至",
                        ChineseDate(*last), "。");
      }
    }
    d.set_performance(text);
  } else {
    d.set_penalty(v1::PENALTY_KIND_WARNING);
    d.set_penalty_text("警告");
    d.set_performance("本决定自送达之日起执行。");
  }
  v1::Remedy* reconsideration = d.add_remedies();
  reconsideration->set_kind(v1::REMEDY_KIND_RECONSIDERATION);
  reconsideration->set_body(agency.reconsideration_body());
  reconsideration->set_deadline_days(60);
  v1::Remedy* litigation = d.add_remedies();
  litigation->set_kind(v1::REMEDY_KIND_LITIGATION);
  litigation->set_body(agency.litigation_court());
  litigation->set_deadline_months(6);
  d.set_html(RenderDecisionHtml(d));
  return d;
}

std::string RenderDecisionHtml(const v1::DecisionDocument& d) {
  using sync::HtmlEscape;
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
      HtmlEscape(d.title()), " ", HtmlEscape(d.case_number()),
      "</title>\n<style>\n"
      "@page { size: A4; margin: 25mm 20mm; }\n"
      "body { font-family: 'Noto Serif CJK SC', 'Noto Sans CJK SC', serif; font-size: 12pt; "
      "line-height: 1.8; max-width: 170mm; margin: 0 auto; color: #000; }\n"
      "h1 { text-align: center; font-size: 20pt; margin: 0; letter-spacing: 2pt; }\n"
      "h2 { text-align: center; font-size: 18pt; margin: 4pt 0; letter-spacing: 6pt; }\n"
      "h3 { font-size: 12pt; margin: 12pt 0 0; }\n"
      ".number { text-align: right; margin: 0 0 12pt; }\n"
      ".sample { border: 1px solid #a00; color: #a00; padding: 2pt 6pt; text-align: center; }\n"
      ".seal { text-align: right; margin-top: 36pt; }\n"
      "p { text-indent: 2em; margin: 4pt 0; }\n"
      "ol { margin: 4pt 0 4pt 2em; }\n"
      "</style>\n</head>\n<body>\n");
  if (!d.sample_label().empty()) {
    absl::StrAppend(&html, "<p class=\"sample\" id=\"sample\">", HtmlEscape(d.sample_label()),
                    "</p>\n");
  }
  absl::StrAppend(&html, "<h1 id=\"agency\">", HtmlEscape(d.agency()), "</h1>\n<h2 id=\"title\">",
                  HtmlEscape(d.title()), "</h2>\n<p class=\"number\" id=\"number\">",
                  HtmlEscape(d.case_number()), "</p>\n<section id=\"parties\">\n");
  for (const v1::DecisionParty& p : d.parties()) {
    const bool organisation = p.kind() == v1::PARTY_KIND_ORGANISATION;
    absl::StrAppend(
        &html, "<p class=\"party\">当事人：", HtmlEscape(p.name()), organisation ? "（单位）" : "",
        "；", organisation ? "统一社会信用代码：" : "身份证号码：", HtmlEscape(p.id_number()),
        "；住址：", HtmlEscape(p.address().empty() ? "（未登记）" : p.address()), "。</p>\n");
  }
  absl::StrAppend(&html, "</section>\n<section id=\"facts\">\n<h3>违法事实</h3>\n<p>",
                  HtmlEscape(d.facts()), "</p>\n<h3>证据</h3>\n");
  if (d.evidence().empty()) {
    html += "<p id=\"evidence\">（无）</p>\n";
  } else {
    html += "<ol id=\"evidence\">\n";
    for (const v1::DecisionEvidence& e : d.evidence()) {
      absl::StrAppend(&html, "<li>", EvidenceKindLabel(e.kind()), "：",
                      HtmlEscape(e.description().empty() ? e.evidence_id() : e.description()),
                      e.captured_on().empty() ? "" : absl::StrCat("（", e.captured_on(), "采集）"),
                      "，SHA-256 ", HtmlEscape(e.sha256().substr(0, 16)), "…</li>\n");
    }
    html += "</ol>\n";
  }
  absl::StrAppend(&html,
                  "</section>\n<section id=\"penalty\">\n<h3>处罚依据和处罚决定</h3>\n<p>"
                  "当事人的上述行为（",
                  HtmlEscape(d.matter_name()), "）违反了", HtmlEscape(d.legal_basis()),
                  "的规定。依据", HtmlEscape(d.penalty_basis()),
                  "的规定，本机关决定对当事人作出如下行政处罚：", HtmlEscape(d.penalty_text()),
                  "。</p>\n</section>\n<section id=\"performance\">\n<h3>履行方式和期限</h3>\n<p>",
                  HtmlEscape(d.performance()),
                  "</p>\n</section>\n<section id=\"remedies\">\n<h3>救济途径和期限</h3>\n<p>",
                  HtmlEscape(RemedyText(d)), "</p>\n</section>\n<p class=\"seal\" id=\"seal\">",
                  HtmlEscape(d.agency()), "<br>\n");
  absl::StatusOr<absl::CivilDay> decided = sync::ParseCivilDay(d.decided_on(), "decided_on");
  absl::StrAppend(&html, decided.ok() ? ChineseDate(*decided) : HtmlEscape(d.decided_on()),
                  "</p>\n</body>\n</html>\n");
  return html;
}

absl::Status FillDecisionDocument(ReadTxn& txn, const std::string& case_id,
                                  v1::DecisionDocument* out) {
  PALM_ASSIGN_OR_RETURN(v1::CaseDetail detail, txn.GetCaseDetail(case_id));
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Catalog> catalog, txn.CurrentCatalog());
  const v1::Case& c = detail.case_();
  const std::string code =
      c.decision().matter_code().empty() ? c.matter_code() : c.decision().matter_code();
  const v1::Matter* matter = nullptr;
  v1::Agency agency;
  std::optional<sync::WorkingDayCalendar> calendar;
  if (catalog) {
    for (const v1::Matter& m : catalog->matters()) {
      if (m.code() == code) matter = &m;
    }
    agency = catalog->agency();
    if (!catalog->calendar().empty()) {
      absl::StatusOr<sync::WorkingDayCalendar> built =
          sync::WorkingDayCalendar::From(catalog->calendar());
      if (built.ok()) calendar = *std::move(built);
    }
  }
  const std::vector<v1::Evidence> evidence(detail.evidence().begin(), detail.evidence().end());
  PALM_ASSIGN_OR_RETURN(*out, BuildDecisionDocument({.c = &c,
                                                     .evidence = &evidence,
                                                     .matter = matter,
                                                     .agency = &agency,
                                                     .calendar = calendar ? &*calendar : nullptr}));
  return absl::OkStatus();
}

}  // namespace palm::server
