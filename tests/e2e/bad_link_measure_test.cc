// A measurement, not part of the suite (hidden tag [.measure]): how many of
// N fresh devices take their first sync of a town through a proxy that cuts
// every connection after a random 2–200 KB, each given a fixed time in
// which it may sync again and again. docs/benchmarks.md ("sync: through a
// link cut every 2–200 KB") gives the command and the figures. It uses only
// the public client API and the test proxy, so that the same file measures
// an older build too. Environment: PALM_MEASURE_DEVICES (default 20),
// PALM_MEASURE_PAGE_SIZE (500), PALM_MEASURE_SECONDS (per device, 120),
// PALM_MEASURE_SEED (1).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "support/fault_proxy.h"
#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

using palm::testing::FaultProxy;
using palm::testing::FaultProxyOptions;

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* s = std::getenv(name);
  return s != nullptr ? std::strtoll(s, nullptr, 10) : fallback;
}

TEST_CASE("measure: fresh devices converging through a link cut every 2 to 200 KB", "[.measure]") {
  const int devices = static_cast<int>(EnvInt("PALM_MEASURE_DEVICES", 20));
  const uint32_t page_size = static_cast<uint32_t>(EnvInt("PALM_MEASURE_PAGE_SIZE", 500));
  const auto window = std::chrono::seconds(EnvInt("PALM_MEASURE_SECONDS", 120));
  const uint64_t seed = static_cast<uint64_t>(EnvInt("PALM_MEASURE_SEED", 1));

  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-m");
  // 400 cases of some 1 KB each (a snapshot of about 700 KB), pushed
  // straight to the server.
  Device seeder(admin, "device-m0", town, Durability::kNormal);
  seeder.SyncUntilOk(server.address(), {}, 3);
  REQUIRE(seeder.client->SetActingOfficer(town.officers[0]).ok());
  for (int i = 0; i < 400; ++i) {
    std::string text = "共享案件 " + std::to_string(i) + " ";
    while (text.size() < 1000) text += "在庆丰路人行道设摊经营，占道约三平方米。";
    REQUIRE(seeder.client->RecordCase(NewCase(town, Procedure::kOrdinary, text)).ok());
  }
  seeder.SyncUntilOk(server.address(), {}, 3);

  FaultProxyOptions po;
  po.target = server.address();
  po.seed = seed;
  po.min_bytes = 2 * 1024;
  po.max_bytes = 200 * 1024;
  po.max_faults = 100000000;
  po.lifetime = window + std::chrono::seconds(120);
  FaultProxy proxy(po);

  std::vector<std::unique_ptr<Device>> squad;
  for (int i = 0; i < devices; ++i) {
    squad.push_back(std::make_unique<Device>(admin, "device-m" + std::to_string(i + 1), town,
                                             Durability::kNormal));
  }
  std::vector<int> syncs(devices, 0);
  std::vector<int> ok(devices, 0);  // not vector<bool>: one element per thread
  std::vector<std::thread> threads;
  for (int i = 0; i < devices; ++i) {
    threads.emplace_back([&, i] {
      const auto until = std::chrono::steady_clock::now() + window;
      while (!ok[i] && std::chrono::steady_clock::now() < until) {
        SyncOptions o;
        o.pull_page_size = page_size;
        o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (o.timeout.count() <= 0) break;
        ++syncs[i];
        ok[i] = squad[i]->Sync(proxy.address(), o).ok() ? 1 : 0;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  int converged = 0, total_syncs = 0;
  for (int i = 0; i < devices; ++i) {
    total_syncs += syncs[i];
    if (ok[i] && DiffWithServer(*squad[i], admin).empty()) ++converged;
  }
  std::cout << "bad link: " << converged << " of " << devices << " devices converged within "
            << window.count() << " s (pull_page_size " << page_size << ", seed " << seed << ", "
            << total_syncs << " syncs, " << proxy.faults() << " connections cut)" << std::endl;
  REQUIRE(devices > 0);
}

}  // namespace
}  // namespace palm::e2e
