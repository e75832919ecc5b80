// The table of palm-bench's benchmarks (see bench.h).
#include "tools/bench/bench.h"

namespace palm::bench {

const std::vector<Benchmark>& Registry() {
  static const std::vector<Benchmark>* const kBenchmarks = new std::vector<Benchmark>{
      {"local_write",
       {"local_write_p99_ms", "local_writes_per_s", "local_write_p99_ms_2_threads",
        "local_writes_per_s_2_threads", "local_write_p99_ms_4_threads",
        "local_writes_per_s_4_threads"},
       &RunLocalWriteBench},
      {"push", {"push_mutations_per_s", "push_vs_sqlite_floor"}, &RunPushBench},
      {"first_sync", {"first_sync_rows_per_s", "first_sync_peak_rss_mb"}, &RunFirstSyncBench},
      {"upload", {"upload_mb_per_s"}, &RunUploadBench},
      {"hash", {"hash_vs_openssl"}, &RunHashBench},
      {"attach", {"attach_1gib_matches_sha256sum", "attach_rss_growth_mb"}, &RunAttachBench},
      {"merkle", {"merkle_appends_per_s", "merkle_proof_us_at_10m"}, &RunMerkleBench},
  };
  return *kBenchmarks;
}

}  // namespace palm::bench
