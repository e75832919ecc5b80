// A new device's first sync (issue 4): a snapshot of a town of 100,000
// cases pulled into a fresh device store, in rows/s (target >= 100,000/s),
// and the client's peak resident memory meanwhile (target <= 64 MB).
//
// Not measurable yet: the client library cannot pull (Client::Sync returns
// UNIMPLEMENTED). Replace this body when it can; keep the two names.
#include "tools/bench/bench.h"

namespace palm::bench {
namespace {

constexpr Metric kRows{"first_sync_rows_per_s", "rows/s", 100000, Better::kHigher};
constexpr Metric kPeakRss{"first_sync_peak_rss_mb", "MiB", 64, Better::kLower};
constexpr char kWhy[] =
    "the client cannot pull yet (palm::Client::Sync returns UNIMPLEMENTED; issue 4)";

}  // namespace

std::vector<Json> RunFirstSyncBench(const BenchContext& context) {
  return {NotMeasured(kRows, kWhy), NotMeasured(kPeakRss, kWhy)};
}

}  // namespace palm::bench
