// Resync: the server is restored from an older copy of its data directory
// and given a new epoch. The device is asked to resync, takes a snapshot,
// resends what the restored server lost — each case with the official
// number it already had — and loses none of its unsent writes.
#include <catch2/catch.hpp>

#include <signal.h>

#include "server/numbering.h"
#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

std::vector<std::string> Record(Device& d, int n, const std::string& what) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    Result<std::string> id =
        d.client->RecordCase(NewCase(d.town, Procedure::kOrdinary, what + std::to_string(i)));
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  return ids;
}

TEST_CASE("a server restored from a backup makes devices resync without losing a write") {
  TempDir data;
  TempDir backup;
  namespace fs = std::filesystem;
  auto server = std::make_unique<ServerProcess>(data.path().string());
  auto admin = std::make_unique<Admin>(server->address());
  admin->LoadSampleCatalog();
  Town town = SetUpTown(*admin, "town-r");
  Device a(*admin, "device-r1", town);
  Device b(*admin, "device-r2", town);
  for (Device* d : {&a, &b}) {
    d->SyncUntilOk(server->address());
    REQUIRE(d->client->SetActingOfficer(town.officers[0]).ok());
  }
  Record(a, 3, "before backup ");
  a.SyncUntilOk(server->address());

  // Backup, taken with the server stopped cleanly.
  REQUIRE(server->Stop(SIGTERM) == 0);
  fs::copy(data.path(), backup.path(), fs::copy_options::recursive);
  server = std::make_unique<ServerProcess>(data.path().string());
  admin = std::make_unique<Admin>(server->address());

  // Work the backup will not have.
  Record(a, 3, "after backup ");
  Record(b, 2, "b after backup ");
  a.SyncUntilOk(server->address());
  b.SyncUntilOk(server->address());
  a.SyncUntilOk(server->address());
  REQUIRE(a.Cases().size() == 8);
  // The official numbers the cases were given.
  std::map<std::string, std::string> numbered;
  for (const v1::Case& c : admin->ListCases(town.town_id)) numbered[c.case_id()] = c.case_number();
  REQUIRE(numbered.size() == 8);

  // Restore the backup; the server starts a new epoch. The number fence
  // stays (docs/operations.md: it is never copied back).
  REQUIRE(server->Stop(SIGTERM) == 0);
  for (const auto& entry : fs::directory_iterator(data.path())) {
    if (entry.path().filename() != palm::server::kFenceFile) fs::remove_all(entry.path());
  }
  for (const auto& entry : fs::directory_iterator(backup.path())) {
    if (entry.path().filename() == palm::server::kFenceFile) continue;
    fs::copy(entry.path(), data.path() / entry.path().filename(), fs::copy_options::recursive);
  }
  server = std::make_unique<ServerProcess>(
      data.path().string(), std::vector<std::string>{"--insecure-loopback", "--new-epoch"});
  admin = std::make_unique<Admin>(server->address());
  CHECK(admin->ListCases(town.town_id).size() == 3);

  // Unsent writes on the device when the resync comes.
  std::vector<std::string> unsent = Record(a, 2, "unsent ");
  Result<SyncReport> r = a.Sync(server->address());
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->resync);
  CHECK(r->snapshot);
  CHECK_THAT(r->message, Catch::Contains("resync:"));
  // The restored server had lost a's three post-backup cases: a resent them
  // from its outbox (they come back as applied, not duplicates).
  CHECK(r->applied == 5);
  CHECK(a.Pending() == 0);
  for (const std::string& id : unsent) CHECK(admin->GetCase(id).case_().case_id() == id);
  auto outbox = a.store().Outbox();
  REQUIRE(outbox.ok());
  CHECK(admin->AcknowledgedSeq("device-r1") == outbox->back().mutation.device_seq());

  // b resyncs too and resends its lost cases; then everyone agrees.
  Result<SyncReport> rb = b.Sync(server->address());
  INFO(rb.status().ToString());
  REQUIRE(rb.ok());
  CHECK(rb->resync);
  a.SyncUntilOk(server->address());
  std::vector<v1::Case> cases = admin->ListCases(town.town_id);
  CHECK(cases.size() == 10);
  // Every case kept the number it was given, also those the restored store
  // had forgotten (resent with their sealed numbers); the unsent ones are
  // numbered above everything the old server reserved, so no number twice.
  std::set<std::string> numbers;
  for (const v1::Case& c : cases) {
    INFO(c.case_id());
    CHECK(numbers.insert(c.case_number()).second);
    if (numbered.count(c.case_id())) CHECK(c.case_number() == numbered.at(c.case_id()));
  }
  std::vector<int> seqs = CaseNumberSeqs(cases);
  std::sort(seqs.begin(), seqs.end());
  const int after_block = static_cast<int>(palm::server::kCaseNumberBlock);
  CHECK(seqs == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, after_block + 1, after_block + 2});
  for (Device* d : {&a, &b}) {
    INFO(d->device_id);
    CHECK(d->Cases().size() == 10);
    CHECK(DiffWithServer(*d, *admin) == "");
  }
}

}  // namespace
}  // namespace palm::e2e
