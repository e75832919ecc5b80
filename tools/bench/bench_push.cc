// Shift-end reconcile (issue 4): 100 devices x 1,000 mutations pushed
// concurrently to a palm-server on loopback, in mutations/s (target
// >= 50,000/s), and as a ratio to the floor: the entity rows those mutations
// create inserted straight into a fresh SQLite file with prepared statements
// in one transaction, measured in the same run (target: within 3x).
//
// Not measurable yet: the client library cannot push (Client::Sync returns
// UNIMPLEMENTED). Replace this body when it can; keep the two names.
#include "tools/bench/bench.h"

namespace palm::bench {
namespace {

constexpr Metric kPushRate{"push_mutations_per_s", "mutations/s", 50000, Better::kHigher};
// floor rows/s over push mutations/s: how many times slower than the floor.
constexpr Metric kVsFloor{"push_vs_sqlite_floor", "x slower than floor", 3, Better::kLower};
constexpr char kWhy[] =
    "the client cannot push yet (palm::Client::Sync returns UNIMPLEMENTED; issue 4)";

}  // namespace

std::vector<Json> RunPushBench(const BenchContext& context) {
  return {NotMeasured(kPushRate, kWhy), NotMeasured(kVsFloor, kWhy)};
}

}  // namespace palm::bench
