// Durability: a palm-server child SIGKILLed in the middle of a heavy push and
// restarted has every mutation the client saw acknowledged.
#include <signal.h>

#include <atomic>
#include <thread>

#include "support/process.h"
#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

TEST_CASE("every acknowledged mutation survives a SIGKILL during a heavy push") {
  TempDir dir;
  const std::string data = dir.File("data");
  std::vector<v1::Mutation> sent;
  std::vector<v1::MutationResult> acknowledged;
  {
    ServerProcess server(data);
    Client client(server.address());
    client.SetUpOrganisation();

    constexpr int kBatch = 100;
    std::atomic<bool> killed{false};
    std::atomic<size_t> acked_count{0};
    int stop_code = 0;
    std::thread killer([&] {
      // Let a few batches commit, then kill without warning, mid-stream.
      while (acked_count < 5 * kBatch) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      killed = true;
      stop_code = server.Stop(SIGKILL);
    });
    auto ctx = DeviceContext("dev-a1");
    auto stream = client.sync->Push(ctx.get());
    uint64_t seq = 0;
    std::vector<v1::Mutation> in_flight;
    for (int b = 0; b < 1000 && !killed; ++b) {
      v1::PushRequest request;
      for (int i = 0; i < kBatch; ++i) *request.add_mutations() = RecordCase("dev-a1", ++seq);
      if (!stream->Write(request)) break;
      v1::PushResponse response;
      if (!stream->Read(&response)) break;
      for (const auto& r : response.results()) {
        REQUIRE(r.outcome() == v1::OUTCOME_APPLIED);
        acknowledged.push_back(r);
      }
      acked_count = acknowledged.size();
      sent.insert(sent.end(), request.mutations().begin(), request.mutations().end());
    }
    // The kill lands while batches are in flight: the stream breaks.
    while (!killed) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    killer.join();
    REQUIRE(stop_code == -SIGKILL);
    (void)stream->Finish();
  }
  REQUIRE(acknowledged.size() >= 500);

  ServerProcess again(data);
  Client client(again.address());
  // Resending everything acknowledged: each is a DUPLICATE of an APPLIED, with
  // the same case number.
  for (size_t start = 0; start < acknowledged.size(); start += 500) {
    std::vector<v1::Mutation> batch(sent.begin() + start,
                                    sent.begin() + std::min(start + 500, acknowledged.size()));
    auto response = client.PushBatch("dev-a1", batch);
    REQUIRE(response.results_size() == static_cast<int>(batch.size()));
    for (int i = 0; i < response.results_size(); ++i) {
      const auto& r = response.results(i);
      INFO(r.ShortDebugString());
      REQUIRE(r.outcome() == v1::OUTCOME_DUPLICATE);
      REQUIRE(r.original() == v1::OUTCOME_APPLIED);
      REQUIRE(r.case_number() == acknowledged[start + i].case_number());
    }
  }
  // And the cases themselves are there.
  for (size_t i = 0; i < acknowledged.size(); i += 97) {
    auto detail = client.GetCase(acknowledged[i].case_number());
    REQUIRE(detail.case_().case_id() == sent[i].record_case().case_().case_id());
  }
}
