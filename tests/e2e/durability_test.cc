// Durability: the server is SIGKILLed in the middle of a heavy push and
// restarted on the same data directory; every mutation the device saw
// acknowledged is there, and the next sync finishes the job.
#include <catch2/catch.hpp>

#include <signal.h>

#include <thread>

#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

TEST_CASE("a server killed during a heavy push keeps every mutation it acknowledged") {
  TempDir data;
  auto server = std::make_unique<ServerProcess>(data.path().string());
  std::unique_ptr<Admin> admin = std::make_unique<Admin>(server->address());
  admin->LoadSampleCatalog();
  Town town = SetUpTown(*admin, "town-d");
  // The device's own fsyncs are not what is tested here.
  Device d(*admin, "device-d1", town, Durability::kNormal);
  d.SyncUntilOk(server->address());
  REQUIRE(d.client->SetActingOfficer(town.officers[0]).ok());
  constexpr int kCases = 600;
  for (int i = 0; i < kCases; ++i) {
    Result<std::string> id =
        d.client->RecordCase(NewCase(town, Procedure::kOrdinary, "case " + std::to_string(i)));
    REQUIRE(id.ok());
    REQUIRE(d.client
                ->AppendCaseEvent({*id, CaseEventKind::kNote, "note", 0, 0, std::nullopt,
                                   std::nullopt, std::nullopt})
                .ok());
  }
  const uint64_t total = d.Pending();
  REQUIRE(total == 2 * kCases);

  // Kill the server from the progress callback once a third is acknowledged:
  // batches are then in flight and being group-committed.
  SyncOptions o;
  o.push_batch_size = 20;
  const pid_t pid = server->pid();
  bool killed = false;
  o.on_progress = [&](const SyncProgress& p) {
    if (!killed && p.phase == SyncPhase::kPush && p.done >= total / 3) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
  };
  Result<SyncReport> r = d.Sync(server->address(), o);
  REQUIRE(killed);
  INFO(r.status().ToString());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  server->Stop(SIGKILL);

  auto outbox = d.store().Outbox();
  REQUIRE(outbox.ok());
  uint64_t acked = 0;
  std::vector<std::string> acked_cases;
  for (const auto& e : *outbox) {
    if (!e.acked) continue;
    acked = std::max(acked, e.mutation.device_seq());
    if (e.mutation.has_record_case())
      acked_cases.push_back(e.mutation.record_case().case_().case_id());
  }
  CHECK(acked >= total / 3);
  CHECK(acked < total);

  server = std::make_unique<ServerProcess>(data.path().string());
  admin = std::make_unique<Admin>(server->address());
  // Acknowledged ⊆ applied.
  CHECK(admin->AcknowledgedSeq("device-d1") >= acked);
  for (const std::string& id : acked_cases) CHECK(admin->GetCase(id).case_().case_id() == id);

  d.SyncUntilOk(server->address());
  CHECK(d.Pending() == 0);
  CHECK(admin->AcknowledgedSeq("device-d1") == total);
  std::vector<v1::Case> cases = admin->ListCases(town.town_id);
  CHECK(cases.size() == static_cast<size_t>(kCases));
  CHECK(Gapless(CaseNumberSeqs(cases)));
  CHECK(DiffWithServer(d, *admin) == "");
}

}  // namespace
}  // namespace palm::e2e
