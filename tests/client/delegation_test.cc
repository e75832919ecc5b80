// Art. 24 and Art. 38 on the device: a town's case only under a matter
// delegated to it, a ticket only with the catalogue's basis.
#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

constexpr char kRefusal[] =
    "matter SR-0105 (未经批准设置户外广告设施) is not delegated to 梧桐街道 (town-wutong) "
    "(Art. 24): it is handled by 局直属一中队 (county-1); hand the case over";

// This device's town delegated SR-0101 only; the bureau's own squad beside it.
void Delegate(Device& d) {
  v1::Town town;
  town.set_town_id(kTown);
  town.set_name("梧桐街道");
  town.set_delegated(true);
  town.add_delegated_matters(kFastTrackNoPenalty);
  v1::Town county;
  county.set_town_id("county-1");
  county.set_name("局直属一中队");
  REQUIRE(d.store().UpsertTowns({town, county}).ok());
}

TEST_CASE("the device records a town's case only under a matter delegated to the town") {
  Device d;
  Delegate(d);
  Result<std::string> stall = d.client->RecordCase(OrdinaryCase(kFastTrackNoPenalty));
  INFO(stall.status().ToString());
  REQUIRE(stall.ok());
  const uint64_t outbox = d.store().Outbox()->size();
  RequireRefused(d.client->RecordCase(OrdinaryCase(kOrdinaryOnly)).status(),
                 StatusCode::kPermissionDenied, "not_delegated", kRefusal);
  // Nor may a case move to such a matter.
  RequireRefused(d.client->UpdateCaseFields(*stall, {{CaseField::kMatterCode, kOrdinaryOnly, ""}}),
                 StatusCode::kPermissionDenied, "not_delegated", kRefusal);
  CHECK(d.store().Outbox()->size() == outbox);
  CHECK(d.client->GetCase(*stall)->record.matter_code == kFastTrackNoPenalty);
}

TEST_CASE("a change of the town's delegation takes effect on the device's next write") {
  Device d;
  Delegate(d);
  REQUIRE(d.client->RecordCase(OrdinaryCase(kFastTrackNoPenalty)).ok());
  v1::Town wider;
  wider.set_town_id(kTown);
  wider.set_name("梧桐街道");
  wider.set_delegated(true);
  wider.add_delegated_matters(kFastTrackNoPenalty);
  wider.add_delegated_matters(kOrdinaryOnly);
  REQUIRE(d.store().UpsertTowns({wider}).ok());
  CHECK(d.client->RecordCase(OrdinaryCase(kOrdinaryOnly)).ok());
  v1::GetReferenceDataResponse narrower;
  *narrower.add_towns() = wider;
  narrower.mutable_towns(0)->clear_delegated_matters();
  narrower.mutable_towns(0)->add_delegated_matters(kOrdinaryOnly);
  REQUIRE(d.store().ApplyReferenceData(narrower).ok());
  RequireRefused(d.client->RecordCase(OrdinaryCase(kFastTrackNoPenalty)).status(),
                 StatusCode::kPermissionDenied, "not_delegated",
                 "matter SR-0101 (擅自占用城市道路、桥梁、广场等公共场所设摊经营、兜售物品) is not "
                 "delegated to 梧桐街道 (town-wutong) (Art. 24): it is handled by 局直属一中队 "
                 "(county-1); hand the case over");
}

TEST_CASE("a town the bureau has not delegated records cases under every matter") {
  Device d;  // the town is not on record as delegated
  CHECK(d.client->RecordCase(OrdinaryCase(kOrdinaryOnly)).ok());
}

TEST_CASE("the device issues a ticket only with the catalogue's legal basis for its matter") {
  Device d;
  Result<std::string> case_id = d.client->RecordCase(SummaryCase());
  REQUIRE(case_id.ok());
  TicketInput t = ValidTicket(*case_id);
  t.legal_basis = "《浙江省城市市容和环境卫生管理条例》第十九条";
  RequireRefused(d.client->IssueTicket(t).status(), StatusCode::kInvalidArgument,
                 "legal_basis_mismatch",
                 "the ticket's legal basis \"《浙江省城市市容和环境卫生管理条例》第十九条\" is not "
                 "the catalogue's for matter SR-0101 "
                 "(擅自占用城市道路、桥梁、广场等公共场所设摊经营、兜售物品), "
                 "\"《浙江省城市市容和环境卫生管理条例》第十九条第一款\" (Art. 38: a penalty needs "
                 "its legal basis)");
  CHECK(d.client->IssueTicket(ValidTicket(*case_id)).ok());
}

}  // namespace
}  // namespace palm::testing
