// A push batch through the server's prepare-and-apply path (PrepareMutation,
// ApplyBatch) over a real SQLite store, as SyncService.Push runs it. The
// input is a binary palm.v1.PushRequest; each input is pushed by a device
// of its own (fz-dev-N), its mutations renumbered 1, 2, ... so that they
// reach the rules instead of stopping at a sequence gap. The store persists
// across inputs (cases an earlier input recorded can be edited by a later
// one). A storage error, a crash or a sanitizer report is a finding; a
// refusal is not.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_env.h"
#include "fuzz/fuzz_quiet.h"
#include "palm/v1/sync.pb.h"
#include "server/apply.h"

namespace {

using palm::server::ServerStore;

struct Env {
  std::unique_ptr<ServerStore> store;
  palm::server::MatterCache matters;
  palm::server::ApplyOptions options;
  uint64_t next_device = 0;
};

Env* Setup() {
  auto* env = new Env;
  char dir[] = "/tmp/palm-fuzz-push-XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  auto store = palm::server::OpenSqliteStore({.data_dir = dir, .reader_threads = 1});
  if (!store.ok()) std::abort();
  env->store = std::move(*store);
  auto catalog = palm::internal::LoadCatalogFile(PALM_SAMPLE_CATALOG);
  if (!catalog.ok()) std::abort();
  if (!palm::fuzz::WriteAndWait(*env->store, [&](palm::server::WriteTxn& txn) {
         return palm::fuzz::PutCounty(txn, *catalog);
       }).ok()) {
    std::abort();
  }
  env->options.case_number_format = "桐综执罚〔{year}〕{seq:4}号";
  env->options.max_clock_skew_ms = 5 * 60 * 1000;
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env* env = Setup();
  palm::v1::PushRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (request.mutations_size() > 64) return 0;

  palm::server::Caller caller;
  caller.device_id = absl::StrCat("fz-dev-", env->next_device++);
  caller.town_id = palm::fuzz::kTown;
  caller.squad_id = palm::fuzz::kSquad;
  caller.actor = absl::StrCat("officer:", palm::fuzz::kOfficer1);
  const int64_t now_ms = 1767225600000;  // 2026-01-01
  std::vector<palm::server::PreparedMutation> batch;
  for (int i = 0; i < request.mutations_size(); ++i) {
    palm::v1::Mutation m = request.mutations(i);
    m.set_device_id(caller.device_id);
    m.set_device_seq(static_cast<uint64_t>(i) + 1);
    batch.push_back(palm::server::PrepareMutation(caller, std::move(m), now_ms, env->options));
  }
  palm::server::BatchOutcome outcome;
  absl::Status applied = palm::fuzz::WriteAndWait(*env->store, [&](palm::server::WriteTxn& txn) {
    palm::v1::Device device;
    device.set_device_id(caller.device_id);
    device.set_town_id(caller.town_id);
    device.set_squad_id(caller.squad_id);
    if (absl::Status s = txn.PutDevice(device); !s.ok()) return s;
    return palm::server::ApplyBatch(txn, env->matters, caller, batch, env->options, now_ms,
                                    &outcome);
  });
  if (!applied.ok()) std::abort();  // only storage errors come back non-OK
  if (outcome.resend_from == 0 &&
      outcome.results.size() != static_cast<size_t>(request.mutations_size())) {
    std::abort();  // every mutation gets exactly one result
  }
  return 0;
}
