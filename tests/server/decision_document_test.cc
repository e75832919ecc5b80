// The decision document (Art. 59) through a real server: every element the
// article lists is in the structured form and on the page, and each matches
// what the server holds for the case; a document that cannot be made says
// why.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "server/decision_document.h"
#include "support/chromium.h"
#include "support/temp_dir.h"
#include "sync/quote.h"
#include "tests/server/after_decision.h"

namespace palm::testing {
namespace {

v1::Agency SampleAgency() {
  v1::Agency a;
  a.set_name("桐乡市综合行政执法局");
  a.set_reconsideration_body("桐乡市人民政府");
  a.set_litigation_court("桐乡市人民法院");
  a.set_payment_bank("中国农业银行桐乡市支行");
  a.set_payment_account("1900 0000 0000 0001");
  a.set_electronic_payment("浙江政务服务网统一公共支付平台");
  a.set_sample_label("示例机关信息");
  return a;
}

struct Documents : AfterDecision {
  void LoadAgency(const v1::Agency& agency) {
    v1::Catalog catalog = SampleCatalog(++catalog_version);
    *catalog.mutable_calendar() = sync::testing::SampleCalendarCatalog().calendar();
    *catalog.mutable_agency() = agency;
    client.LoadCatalog(catalog);
  }
  grpc::Status Document(const std::string& ref, v1::DecisionDocument* out) {
    grpc::ClientContext ctx;
    v1::GetDecisionDocumentRequest request;
    request.set_case_ref(ref);
    return client.admin->GetDecisionDocument(&ctx, request, out);
  }
  int64_t catalog_version = 2;
};

TEST_CASE("the decision document carries every element of Art. 59 as the server holds it") {
  Documents f;
  f.LoadAgency(SampleAgency());
  const std::string id = f.Decide("2026-09-21", "2026-09-30");
  std::string proof;
  REQUIRE_APPLIED(f.PushOne(
      Dated(AddEvidence("dev-a1", f.seq++, id, "signed receipt", &proof), At("2026-10-09", 14))));
  REQUIRE_APPLIED(f.PushOne(f.Service(id, proof, "2026-10-09")));
  const v1::CaseDetail held = f.client.GetCase(id);
  const v1::Case& c = held.case_();

  v1::DecisionDocument d;
  // By official number, as a leader would ask for it.
  grpc::Status s = f.Document(c.case_number(), &d);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(d.case_id() == id);
  CHECK(d.case_number() == c.case_number());
  CHECK(d.title() == "行政处罚决定书");
  // (1) the party.
  REQUIRE(d.parties_size() == 1);
  CHECK(d.parties(0).name() == c.parties(0).name());
  CHECK(d.parties(0).id_number() == c.parties(0).id_number());
  CHECK(d.parties(0).kind() == v1::PARTY_KIND_CITIZEN);
  // (2) the facts and the evidence.
  CHECK(d.facts() == c.description());
  REQUIRE(d.evidence_size() == 1);
  CHECK(d.evidence(0).evidence_id() == proof);
  CHECK(d.evidence(0).sha256() == held.evidence(0).sha256());
  CHECK(d.evidence(0).captured_on() ==
        sync::FormatCivilDay(sync::ShanghaiDay(held.evidence(0).captured_at_ms())));
  // (3) the penalty and its legal basis: the decision's fine, the matter's
  // provisions.
  CHECK(d.matter_code() == kFastMatter);
  CHECK(d.matter_name() == "占道经营");
  CHECK(d.legal_basis() == "《城市市容和环境卫生管理条例》第十四条");
  CHECK(d.penalty_basis() == "《城市市容和环境卫生管理条例》第三十六条");
  CHECK(d.penalty() == v1::PENALTY_KIND_FINE);
  CHECK(d.fine_fen() == c.decision().fine_fen());
  CHECK(d.penalty_text() == "罚款人民币壹佰元整（￥100.00）");
  // (4) how and by when: 15 days from service on 9 October end on Saturday
  // 24 October, so Monday 26.
  CHECK(d.performance() ==
        "当事人应当自收到本决定书之日起十五日内，到中国农业银行桐乡市支行（账号：1900 0000 0000 "
        "0001）缴纳罚款，或者通过浙江政务服务网统一公共支付平台缴纳罚款。到期不缴纳罚款的，本机"
        "关可以每日按罚款数额的百分之三加处罚款，加处罚款的数额不超出罚款的数额（《中华人民共和国"
        "行政处罚法》第七十二条）。本决定书于2026年10月9日送达，缴款期限至2026年10月26日。");
  // (5) the remedies and their limits.
  REQUIRE(d.remedies_size() == 2);
  CHECK(d.remedies(0).kind() == v1::REMEDY_KIND_RECONSIDERATION);
  CHECK(d.remedies(0).body() == "桐乡市人民政府");
  CHECK(d.remedies(0).deadline_days() == 60);
  CHECK(d.remedies(1).kind() == v1::REMEDY_KIND_LITIGATION);
  CHECK(d.remedies(1).body() == "桐乡市人民法院");
  CHECK(d.remedies(1).deadline_months() == 6);
  // (6) the agency and the date.
  CHECK(d.agency() == "桐乡市综合行政执法局");
  CHECK(d.decided_on() == "2026-09-30");

  // The page prints each of them.
  const std::string& html = d.html();
  CHECK(absl::StartsWith(html, "<!DOCTYPE html>"));
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("http") == std::string::npos);
  for (const std::string& element :
       {d.title(), d.case_number(), d.agency(), d.parties(0).name(), d.parties(0).id_number(),
        d.facts(), d.legal_basis(), d.penalty_basis(), d.penalty_text(), d.performance(),
        d.matter_name(), d.remedies(0).body(), d.remedies(1).body(), std::string("六十日内"),
        std::string("六个月内"), std::string("2026年9月30日"), d.evidence(0).sha256().substr(0, 16),
        d.sample_label()}) {
    INFO(element);
    CHECK(html.find(sync::HtmlEscape(element)) != std::string::npos);
  }
}

TEST_CASE("a decision document that cannot be made says why") {
  Documents f;
  const std::string id = f.Decide("2026-09-21", "2026-09-30");
  const std::string number = f.client.GetCase(id).case_().case_number();
  v1::DecisionDocument d;
  grpc::Status s = f.Document(id, &d);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message() ==
        absl::StrCat("the decision document of case ", number,
                     " cannot be made: the catalogue names no agency with its reconsideration "
                     "body and court (Catalog.agency: name, reconsideration_body, "
                     "litigation_court; Art. 59(5)-(6))"));
  v1::Agency agency = SampleAgency();
  agency.clear_payment_account();
  agency.clear_electronic_payment();
  f.LoadAgency(agency);
  s = f.Document(id, &d);
  CHECK(s.error_message() ==
        absl::StrCat("the decision document of case ", number,
                     " cannot be made: the catalogue's agency says nowhere to pay the fine "
                     "(payment_bank and payment_account, or electronic_payment; Art. 59(4), 67)"));
  f.LoadAgency(SampleAgency());
  CHECK(f.Document(id, &d).ok());

  const std::string undecided = f.Decide("2026-09-21", nullptr);
  s = f.Document(undecided, &d);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message() ==
        absl::StrCat("the decision document of case ",
                     f.client.GetCase(undecided).case_().case_number(),
                     " cannot be made: it is in state CASE_STATE_NOTIFIED, and the document "
                     "records a decision (DECIDED or later)"));
  s = f.Document(f.case_id, &d);
  CHECK(s.error_message() ==
        absl::StrCat("the decision document of case ", f.case_number,
                     " cannot be made: it is on the summary procedure, whose ticket is its "
                     "decision document (Art. 52)"));
  s = f.Document("桐综执罚〔2026〕9999号", &d);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message() == "no case with id or number \"桐综执罚〔2026〕9999号\" is on record");
  s = f.Document("", &d);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "case_ref is missing");
}

// PALM_DECISION_PNG=FILE keeps the screenshot in FILE; that is how
// docs/images/decision-document-zh.png is made.
TEST_CASE("the decision document prints as a page in headless Chromium") {
  const std::string chromium = Chromium();
  if (chromium.empty()) {
    WARN("SKIP: chromium is not installed (tools/setup.sh installs it): the page was not rendered");
    return;
  }
  Documents f;
  f.LoadAgency(SampleAgency());
  const std::string id = f.Decide("2026-09-21", "2026-09-30");
  v1::DecisionDocument d;
  REQUIRE(f.Document(id, &d).ok());
  TempDir dir;
  const std::string html_path = dir.File("decision.html");
  const std::string png_path = dir.File("decision.png");
  {
    std::ofstream html(html_path, std::ios::binary);
    html << d.html();
  }
  const CommandResult run =
      Screenshot(chromium, dir.path().string(), html_path, png_path, 900, 1270);
  INFO("chromium exit " << run.exit_code << "\n" << run.err);
  REQUIRE(run.exit_code == 0);
  const std::string png = ReadAll(png_path);
  REQUIRE(png.size() > 24);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  CHECK(BigEndian32(png, 16) == 900);
  // A blank page compresses to a few kilobytes; a page of Chinese text
  // does not.
  CHECK(png.size() > 20000);
  if (const char* keep = std::getenv("PALM_DECISION_PNG"); keep != nullptr && *keep != '\0') {
    std::filesystem::copy_file(png_path, keep, std::filesystem::copy_options::overwrite_existing);
  }
}

TEST_CASE("amounts are written in the capital numerals of Chinese financial writing") {
  CHECK(server::ChineseAmount(50000) == "伍佰元整");
  CHECK(server::ChineseAmount(1000) == "壹拾元整");
  CHECK(server::ChineseAmount(12345) == "壹佰贰拾叁元肆角伍分");
  CHECK(server::ChineseAmount(100050) == "壹仟元伍角整");
  CHECK(server::ChineseAmount(100500) == "壹仟零伍元整");
  CHECK(server::ChineseAmount(1001000) == "壹万零壹拾元整");
  CHECK(server::ChineseAmount(10000000) == "壹拾万元整");
  CHECK(server::ChineseAmount(200000000) == "贰佰万元整");
  CHECK(server::ChineseAmount(10000100000) == "壹亿零壹仟元整");
  CHECK(server::ChineseAmount(105) == "壹元零伍分");
  CHECK(server::ChineseAmount(5) == "伍分");
  CHECK(server::ChineseAmount(0) == "零元整");
}

}  // namespace
}  // namespace palm::testing
