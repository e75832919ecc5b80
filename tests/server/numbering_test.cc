// The number fence, lease signatures and case-number seals (server/
// numbering.h), on real files: what a restored server needs to give no
// number twice and to give back the numbers it forgot.
#include "server/numbering.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <vector>

#include "tests/support/temp_dir.h"

namespace palm::server {
namespace {

using palm::testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

sync::UniqueEvpPkey Key() {
  absl::StatusOr<sync::UniqueEvpPkey> key = sync::GenerateEd25519Key();
  REQUIRE(key.ok());
  return std::move(*key);
}

// Options for a data directory `dir`; the rest as given.
NumberingOptions In(const TempDir& dir) {
  NumberingOptions o;
  o.data_dir = dir.path().string();
  return o;
}

TEST_CASE("the number fence starts at the store's figures and only rises, durably") {
  TempDir dir;
  const std::string path = dir.File(kFenceFile);
  {
    NumberingOptions o = In(dir);
    o.store_highest = 400;
    o.store_case_counters = {{2026, 17}};
    auto numbering = Numbering::Open(o, nullptr);
    REQUIRE(numbering.ok());
    CHECK((*numbering)->Highest() == 400);
    CHECK(ReadAll(path) == "palm number fence v1\ntickets 400\ncases 2026 17\n");
    REQUIRE((*numbering)->Raise(600).ok());
    REQUIRE((*numbering)->Raise(500).ok());
    CHECK((*numbering)->Highest() == 600);
    // Case numbers: the fence moves a block ahead once, then not until the
    // block is used.
    REQUIRE((*numbering)->ReserveCaseNumber(2026, 17).ok());
    CHECK(ReadAll(path) == "palm number fence v1\ntickets 600\ncases 2026 17\n");
    REQUIRE((*numbering)->ReserveCaseNumber(2026, 18).ok());
    CHECK(ReadAll(path) == "palm number fence v1\ntickets 600\ncases 2026 1017\n");
    REQUIRE((*numbering)->ReserveCaseNumber(2026, 1017).ok());
    REQUIRE((*numbering)->ReserveCaseNumber(2027, 1).ok());
    CHECK(ReadAll(path) == "palm number fence v1\ntickets 600\ncases 2026 1017\ncases 2027 1000\n");
    CHECK((*numbering)->CaseReservations() ==
          std::map<int32_t, int64_t>{{2026, 1017}, {2027, 1000}});
  }
  // A store that forgot what it gave after a backup: the fence did not.
  NumberingOptions restored = In(dir);
  restored.store_highest = 400;
  restored.store_case_counters = {{2026, 17}};
  restored.after_restore = true;
  auto reopened = Numbering::Open(restored, nullptr);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->Highest() == 600);
  CHECK((*reopened)->CaseReservations().at(2026) == 1017);
  // Floors above the fence raise it; below, they change nothing.
  NumberingOptions floored = In(dir);
  floored.ticket_floor = 5000;
  floored.case_floor = 10;
  floored.floor_year = 2026;
  auto raised = Numbering::Open(floored, nullptr);
  REQUIRE(raised.ok());
  CHECK((*raised)->Highest() == 5000);
  CHECK(ReadAll(path) == "palm number fence v1\ntickets 5000\ncases 2026 1017\ncases 2027 1000\n");
}

TEST_CASE("a restore into a directory without its fence is refused unless both floors are given") {
  TempDir dir;
  NumberingOptions o = In(dir);
  o.store_highest = 200;
  o.after_restore = true;
  o.ticket_floor = 3000;  // the case-number floor is missing
  o.floor_year = 2026;
  auto refused = Numbering::Open(o, nullptr);
  REQUIRE(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(refused.status().message() ==
        "the data directory has no number fence (" + dir.File(kFenceFile) +
            "): after a restore the server cannot know which ticket and case numbers it gave "
            "after the backup was taken; keep the directory's fence when restoring (palm-server "
            "--restore-from does), or start with --ticket-number-floor N and --case-number-floor "
            "M, N at least the highest ticket number any device may hold and M at least the "
            "highest case number of this year given since the backup");
  CHECK_FALSE(std::filesystem::exists(dir.File(kFenceFile)));
  o.case_floor = 800;
  auto floored = Numbering::Open(o, nullptr);
  REQUIRE(floored.ok());
  CHECK((*floored)->Highest() == 3000);
  CHECK((*floored)->CaseReservations().at(2026) == 800);
}

TEST_CASE("a fence file that is not one is DATA_LOSS and is left for the operator") {
  TempDir dir;
  const std::string path = dir.File(kFenceFile);
  for (const std::string& bad :
       {std::string("600\n"), std::string("palm number fence v1\n"),
        std::string("palm number fence v1\ntickets -3\n"),
        std::string("palm number fence v1\ntickets 12x\n"),
        std::string("palm number fence v1\ntickets 1\ncases 2026\n"),
        std::string("palm number fence v1\ntickets 1\ncases 2026 4\ncases 2026 5\n"),
        std::string("palm number fence v1\ntickets 1")}) {
    INFO(bad);
    WriteAll(path, bad);
    auto opened = Numbering::Open(In(dir), nullptr);
    REQUIRE(opened.status().code() == absl::StatusCode::kDataLoss);
    CHECK(opened.status().message() ==
          "the number fence " + path +
              " is not one (it holds the highest ticket number ever leased and the case numbers "
              "reserved); move it away and start with --ticket-number-floor N and "
              "--case-number-floor M, N at least the highest ticket number any device may hold "
              "and M at least the highest case number of this year given since the backup");
    CHECK(ReadAll(path) == bad);
  }
}

TEST_CASE("a case number's seal covers the case and its number and verifies only here") {
  TempDir dir;
  auto numbering = Numbering::Open(In(dir), Key());
  REQUIRE(numbering.ok());
  v1::Case c;
  c.set_case_id("0192d7a4-0000-7000-8000-000000000009");
  c.set_case_number("桐综执罚〔2026〕0042号");
  (*numbering)->SealCaseNumber(&c, 2026, 42);
  REQUIRE(c.case_number_seal().mac().size() == 16);
  CHECK(c.case_number_seal().year() == 2026);
  CHECK(c.case_number_seal().seq() == 42);
  v1::CaseNumberClaim claim;
  claim.set_case_id(c.case_id());
  claim.set_case_number(c.case_number());
  *claim.mutable_seal() = c.case_number_seal();
  CHECK((*numbering)->CaseNumberSealValid(claim));
  for (auto change : std::vector<std::function<void(v1::CaseNumberClaim&)>>{
           [](v1::CaseNumberClaim& k) { k.set_case_id("0192d7a4-0000-7000-8000-00000000000a"); },
           [](v1::CaseNumberClaim& k) { k.set_case_number("桐综执罚〔2026〕0041号"); },
           [](v1::CaseNumberClaim& k) { k.mutable_seal()->set_seq(41); },
           [](v1::CaseNumberClaim& k) { k.mutable_seal()->set_year(2027); },
           [](v1::CaseNumberClaim& k) { k.mutable_seal()->mutable_mac()->back() ^= 1; },
           [](v1::CaseNumberClaim& k) { k.mutable_seal()->clear_mac(); }}) {
    v1::CaseNumberClaim forged = claim;
    change(forged);
    CHECK_FALSE((*numbering)->CaseNumberSealValid(forged));
  }
  TempDir other_dir;
  auto other = Numbering::Open(In(other_dir), Key());
  REQUIRE(other.ok());
  CHECK_FALSE((*other)->CaseNumberSealValid(claim));
}

TEST_CASE("a lease's signature covers its grant and verifies only under the server's key") {
  TempDir dir;
  auto numbering = Numbering::Open(In(dir), Key());
  REQUIRE(numbering.ok());
  v1::TicketLease lease;
  lease.set_lease_id("0192d7a4-0000-7000-8000-000000000001");
  lease.set_device_id("dev-a1");
  lease.set_first_number(2001);
  lease.set_last_number(2200);
  lease.set_prefix("桐综执简〔2026〕");
  lease.set_leased_at_ms(1764000000000);
  REQUIRE((*numbering)->Sign(&lease).ok());
  CHECK(lease.server_signature().size() == 64);
  CHECK((*numbering)->SignatureValid(lease));
  // Returning a block does not touch what was signed.
  v1::TicketLease returned = lease;
  returned.set_returned(true);
  returned.set_returned_from(2100);
  CHECK((*numbering)->SignatureValid(returned));
  // Any change to the grant breaks it.
  for (auto change : std::vector<std::function<void(v1::TicketLease&)>>{
           [](v1::TicketLease& l) { l.set_last_number(2400); },
           [](v1::TicketLease& l) { l.set_first_number(1); },
           [](v1::TicketLease& l) { l.set_device_id("dev-a2"); },
           [](v1::TicketLease& l) { l.set_lease_id("0192d7a4-0000-7000-8000-000000000002"); },
           [](v1::TicketLease& l) { l.set_prefix("桐综执简〔2027〕"); },
           [](v1::TicketLease& l) { l.set_leased_at_ms(1); },
           [](v1::TicketLease& l) { l.clear_server_signature(); }}) {
    v1::TicketLease forged = lease;
    change(forged);
    CHECK_FALSE((*numbering)->SignatureValid(forged));
  }
  // Another server's key does not verify it.
  TempDir other_dir;
  auto other = Numbering::Open(In(other_dir), Key());
  REQUIRE(other.ok());
  CHECK_FALSE((*other)->SignatureValid(lease));
  // Without a key nothing is signed and nothing verifies.
  auto keyless = Numbering::Open(In(other_dir), nullptr);
  REQUIRE(keyless.ok());
  v1::TicketLease unsigned_lease = lease;
  unsigned_lease.clear_server_signature();
  REQUIRE((*keyless)->Sign(&unsigned_lease).ok());
  CHECK(unsigned_lease.server_signature().empty());
  CHECK_FALSE((*keyless)->SignatureValid(lease));
}

}  // namespace
}  // namespace palm::server
