// Cancellation and deadlines: a sync stuck on a connection that went quiet
// stops within a second of Cancel() from another thread, or at its deadline,
// and the store is left so that the next sync finishes the job.
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "support/fault_proxy.h"
#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

using palm::testing::FaultProxy;
using palm::testing::FaultProxyOptions;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct Fixture {
  TempDir data;
  ServerProcess server{data.path().string()};
  Admin admin{server.address()};
  Town town;
  std::unique_ptr<Device> device;

  Fixture() {
    admin.LoadSampleCatalog();
    town = SetUpTown(admin, "town-c");
    device = std::make_unique<Device>(admin, "device-c1", town);
    device->SyncUntilOk(server.address());
    REQUIRE(device->client->SetActingOfficer(town.officers[0]).ok());
    for (int i = 0; i < 40; ++i) {
      REQUIRE(device->client
                  ->RecordCase(NewCase(town, Procedure::kOrdinary, "case " + std::to_string(i)))
                  .ok());
    }
  }

  // A proxy that goes quiet after a few kilobytes: the sync hangs there.
  std::unique_ptr<FaultProxy> BlackHole() {
    FaultProxyOptions po;
    po.target = server.address();
    po.mode = FaultProxyOptions::Mode::kStall;
    po.min_bytes = po.max_bytes = 3000;
    return std::make_unique<FaultProxy>(po);
  }

  void FinishAndCompare() {
    device->SyncUntilOk(server.address());
    CHECK(device->Pending() == 0);
    CHECK(admin.ListCases(town.town_id).size() == 40);
    CHECK(DiffWithServer(*device, admin) == "");
  }
};

TEST_CASE("a sync cancelled from another thread stops within a second and resumes later") {
  Fixture f;
  auto proxy = f.BlackHole();
  CancelToken cancel;
  SyncOptions o;
  o.cancel = cancel;
  o.push_batch_size = 5;
  auto running =
      std::async(std::launch::async, [&] { return f.device->Sync(proxy->address(), o); });
  // Give it time to get stuck on the quiet connection.
  REQUIRE(running.wait_for(milliseconds(700)) == std::future_status::timeout);
  CHECK(proxy->faults() == 1);

  // One sync per device at a time.
  Result<SyncReport> second = f.device->Sync(f.server.address());
  CHECK(second.status().code() == StatusCode::kAborted);
  CHECK(second.status().reason() == "sync_in_progress");

  const auto asked = steady_clock::now();
  cancel.Cancel();
  Result<SyncReport> r = running.get();
  const auto took = steady_clock::now() - asked;
  CHECK(took < milliseconds(1000));
  CHECK(r.status().code() == StatusCode::kCancelled);
  Result<SyncReport> last = f.device->client->LastSyncReport();
  CHECK_FALSE(last->ok);
  f.FinishAndCompare();

  // A token cancelled before the sync starts stops it at once.
  SyncOptions pre;
  pre.cancel.Cancel();
  CHECK(f.device->Sync(f.server.address(), pre).status().code() == StatusCode::kCancelled);
}

TEST_CASE("a sync that cannot finish by its deadline returns DEADLINE_EXCEEDED") {
  Fixture f;
  auto proxy = f.BlackHole();
  SyncOptions o;
  o.timeout = milliseconds(600);
  const auto started = steady_clock::now();
  Result<SyncReport> r = f.device->Sync(proxy->address(), o);
  const auto took = steady_clock::now() - started;
  INFO(r.status().ToString());
  CHECK(r.status().code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(r.status().message(), Catch::Contains("did not finish within 600 ms"));
  CHECK(took < milliseconds(1600));
  f.FinishAndCompare();
}

}  // namespace
}  // namespace palm::e2e
