// Art. 24 (delegation to towns) and Art. 38 (the legal basis a ticket cites):
// the shared rules, each allowed and refused.
#include "sync/delegation.h"

#include <catch2/catch.hpp>

#include "sync/rules.h"
#include "tests/sync/refusal.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

v1::Matter MatterOf(const std::string& code, const std::string& name, bool delegated_to_towns) {
  v1::Matter m;
  m.set_code(code);
  m.set_name(name);
  m.set_legal_basis("《浙江省城市市容和环境卫生管理条例》第十九条第一款");
  m.set_penalty_basis("《浙江省城市市容和环境卫生管理条例》第五十一条");
  m.set_delegated_to_towns(delegated_to_towns);
  return m;
}

v1::Town TownOf(const std::string& id, const std::string& name, bool delegated,
                std::vector<std::string> matters = {}) {
  v1::Town t;
  t.set_town_id(id);
  t.set_name(name);
  t.set_delegated(delegated);
  for (std::string& code : matters) t.add_delegated_matters(std::move(code));
  return t;
}

const v1::Matter kStall = MatterOf("SR-0101", "设摊经营", true);
const v1::Matter kBillboard = MatterOf("SR-0105", "未经批准设置户外广告设施", false);

TEST_CASE("a delegated town acts on the matters delegated to it and on no other") {
  const std::vector<v1::Town> towns = {
      TownOf("county-1", "局直属一中队", false), TownOf("county-2", "局直属二中队", false),
      TownOf("town-a", "梧桐街道", true, {"SR-0101"}), TownOf("town-b", "濮院镇", true)};
  CHECK(CheckDelegated(FindTown(towns, "town-a"), kStall, towns).ok());
  CHECK_REFUSED(CheckDelegated(FindTown(towns, "town-a"), kBillboard, towns),
                absl::StatusCode::kPermissionDenied, v1::REASON_NOT_DELEGATED,
                "matter SR-0105 (未经批准设置户外广告设施) is not delegated to 梧桐街道 (town-a) "
                "(Art. 24): it is handled by 局直属一中队 (county-1), 局直属二中队 (county-2); "
                "hand the case over");
  // A town's own list decides, whatever the catalogue's flag says.
  const v1::Town listed = TownOf("town-c", "乌镇", true, {"SR-0105"});
  CHECK(CheckDelegated(&listed, kBillboard, towns).ok());
  CHECK_FALSE(MayActOn(listed, kStall));
}

TEST_CASE("a delegated town without a list acts on the catalogue's delegated matters") {
  const std::vector<v1::Town> towns = {TownOf("town-b", "濮院镇", true)};
  CHECK(CheckDelegated(&towns[0], kStall, towns).ok());
  CHECK_REFUSED(CheckDelegated(&towns[0], kBillboard, towns), absl::StatusCode::kPermissionDenied,
                v1::REASON_NOT_DELEGATED,
                "matter SR-0105 (未经批准设置户外广告设施) is not delegated to 濮院镇 (town-b) "
                "(Art. 24): the bureau itself handles it; hand the case over");
}

TEST_CASE("a unit that is not delegated, or a town not on record, acts on every matter") {
  const v1::Town county = TownOf("county-1", "局直属一中队", false);
  CHECK(MayActOn(county, kBillboard));
  CHECK(CheckDelegated(&county, kBillboard, {county}).ok());
  CHECK(CheckDelegated(nullptr, kBillboard, {}).ok());
  CHECK(FindTown({county}, "town-x") == nullptr);
}

TEST_CASE("a ticket cites the catalogue's legal and penalty basis for its matter") {
  v1::Ticket t;
  t.set_legal_basis(" 《浙江省城市市容和环境卫生管理条例》第十九条第一款 ");
  t.set_penalty_basis("《浙江省城市市容和环境卫生管理条例》第五十一条");
  CHECK(CheckTicketBasis(t, kStall).ok());
  t.set_legal_basis("《浙江省城市市容和环境卫生管理条例》第十九条");
  CHECK_REFUSED(CheckTicketBasis(t, kStall), absl::StatusCode::kInvalidArgument,
                v1::REASON_LEGAL_BASIS_MISMATCH,
                "the ticket's legal basis \"《浙江省城市市容和环境卫生管理条例》第十九条\" is not "
                "the catalogue's for matter SR-0101 (设摊经营), "
                "\"《浙江省城市市容和环境卫生管理条例》第十九条第一款\" (Art. 38: a penalty needs "
                "its legal basis)");
  t.set_legal_basis(kStall.legal_basis());
  t.set_penalty_basis("第五十条");
  CHECK_REFUSED(CheckTicketBasis(t, kStall), absl::StatusCode::kInvalidArgument,
                v1::REASON_LEGAL_BASIS_MISMATCH,
                "the ticket's penalty basis \"第五十条\" is not the catalogue's for matter "
                "SR-0101 (设摊经营), \"《浙江省城市市容和环境卫生管理条例》第五十一条\" (Art. 38: "
                "a penalty needs its legal basis)");
  // A basis the catalogue leaves empty is not compared.
  v1::Matter bare = kStall;
  bare.clear_penalty_basis();
  CHECK(CheckTicketBasis(t, bare).ok());
}

}  // namespace
}  // namespace palm::sync
