// The ticket-number fence and lease signatures (server/ticket_numbering.h),
// on real files: what a restored server needs to lease no number twice.
#include "server/ticket_numbering.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
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

TEST_CASE("the ticket-number fence starts at the store's highest lease and only rises, durably") {
  TempDir dir;
  const std::string path = dir.File(kTicketFenceFile);
  {
    auto numbering =
        TicketNumbering::Open({.data_dir = dir.path().string(), .store_highest = 400}, nullptr);
    REQUIRE(numbering.ok());
    CHECK((*numbering)->Highest() == 400);
    CHECK(ReadAll(path) == "palm ticket-number fence v1\n400\n");
    REQUIRE((*numbering)->Raise(600).ok());
    REQUIRE((*numbering)->Raise(500).ok());
    CHECK((*numbering)->Highest() == 600);
    CHECK(ReadAll(path) == "palm ticket-number fence v1\n600\n");
  }
  // A store that forgot the leases above 400 (restored from a backup): the
  // fence still says 600.
  auto reopened = TicketNumbering::Open(
      {.data_dir = dir.path().string(), .store_highest = 400, .after_restore = true}, nullptr);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->Highest() == 600);
  // A floor above the fence raises it; one below changes nothing.
  auto floored = TicketNumbering::Open(
      {.data_dir = dir.path().string(), .store_highest = 400, .floor = 5000}, nullptr);
  REQUIRE(floored.ok());
  CHECK((*floored)->Highest() == 5000);
  CHECK(ReadAll(path) == "palm ticket-number fence v1\n5000\n");
}

TEST_CASE("a restore into a directory without its fence is refused unless a floor is given") {
  TempDir dir;
  auto refused = TicketNumbering::Open(
      {.data_dir = dir.path().string(), .store_highest = 200, .after_restore = true}, nullptr);
  REQUIRE(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(refused.status().message() ==
        "the data directory has no ticket-number fence (" + dir.File(kTicketFenceFile) +
            "): after a restore the server cannot know which ticket numbers it leased after the "
            "backup was taken; keep the directory's fence when restoring (palm-server "
            "--restore-from does), or start with --ticket-number-floor N, N at least the highest "
            "ticket number any device may hold");
  CHECK_FALSE(std::filesystem::exists(dir.File(kTicketFenceFile)));
  auto floored = TicketNumbering::Open(
      {.data_dir = dir.path().string(), .store_highest = 200, .after_restore = true, .floor = 3000},
      nullptr);
  REQUIRE(floored.ok());
  CHECK((*floored)->Highest() == 3000);
}

TEST_CASE("a fence file that is not one is DATA_LOSS and is left for the operator") {
  TempDir dir;
  const std::string path = dir.File(kTicketFenceFile);
  for (const std::string& bad : {std::string("600\n"), std::string("palm ticket-number fence v1\n"),
                                 std::string("palm ticket-number fence v1\n-3\n"),
                                 std::string("palm ticket-number fence v1\n12x\n")}) {
    INFO(bad);
    WriteAll(path, bad);
    auto opened = TicketNumbering::Open({.data_dir = dir.path().string()}, nullptr);
    REQUIRE(opened.status().code() == absl::StatusCode::kDataLoss);
    CHECK(opened.status().message() ==
          "the ticket-number fence " + path +
              " is not one (it holds the highest ticket number ever leased); move it away and "
              "start with --ticket-number-floor N, N at least the highest ticket number any "
              "device may hold");
    CHECK(ReadAll(path) == bad);
  }
}

TEST_CASE("a lease's signature covers its grant and verifies only under the server's key") {
  TempDir dir;
  auto numbering = TicketNumbering::Open({.data_dir = dir.path().string()}, Key());
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
  auto other = TicketNumbering::Open({.data_dir = other_dir.path().string()}, Key());
  REQUIRE(other.ok());
  CHECK_FALSE((*other)->SignatureValid(lease));
  // Without a key nothing is signed and nothing verifies.
  auto keyless = TicketNumbering::Open({.data_dir = other_dir.path().string()}, nullptr);
  REQUIRE(keyless.ok());
  v1::TicketLease unsigned_lease = lease;
  unsigned_lease.clear_server_signature();
  REQUIRE((*keyless)->Sign(&unsigned_lease).ok());
  CHECK(unsigned_lease.server_signature().empty());
  CHECK_FALSE((*keyless)->SignatureValid(lease));
}

}  // namespace
}  // namespace palm::server
