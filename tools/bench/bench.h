// palm-bench: the registry of benchmarks and the vocabulary they report in.
//
// Each benchmark is one function in its own file, tools/bench/bench_<area>.cc,
// declared below and listed in the table in registry.cc. It returns one JSON
// object per figure (see Measured / NotMeasured / Failed): the headline names
// that issue 7 fixes, plus any extra figures it has (suffixed names, e.g.
// local_write_p99_ms_normal). To add a benchmark: write its file, declare its
// function here, add one row to the table.
//
// Benchmarks run one after another on the main thread; each gets a context
// and must leave nothing behind outside context.scratch_dir. Progress and
// diagnostics go to stderr (Progress()); stdout carries only the final JSON.
#ifndef PALM_TOOLS_BENCH_BENCH_H_
#define PALM_TOOLS_BENCH_BENCH_H_

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace palm::bench {

// Keys keep the order they were added in, so the output reads in order.
using Json = nlohmann::ordered_json;

struct BenchContext {
  // --quick: reduced sizes for a CI smoke run (the whole run well under 30 s,
  // even in a Debug build).
  bool quick = false;
  // A fresh directory for this benchmark alone, removed after it ran.
  std::string scratch_dir;
  // The matter catalogue to install on benchmark devices (--catalog).
  std::string catalog_path;
};

// Which way a figure is good.
enum class Better { kHigher, kLower };

// A figure a benchmark reports: its name, unit and target.
struct Metric {
  std::string_view name;
  std::string_view unit;
  double target;
  Better better;
};

// {"name", "value", "unit", "target", "target_op", "meets_target"}; callers
// add "floor", "ratio" and whatever else describes the measurement.
Json Measured(const Metric& metric, double value);

// A figure whose code is not there yet: value null, status "not measured: <why>".
Json NotMeasured(const Metric& metric, std::string_view why);

// A figure whose benchmark failed: value null, status "error: <error>".
// palm-bench exits 1 when any result is Failed.
Json Failed(const Metric& metric, std::string_view error);

// Writes "[palm-bench] <line>" to stderr.
void Progress(std::string_view line);

// A benchmark: runs with `context` and returns its figures.
using BenchFunction = std::vector<Json> (*)(const BenchContext& context);

struct Benchmark {
  // Short name, e.g. "merkle"; accepted by --only like the result names.
  std::string id;
  // The headline result names it reports (issue 7's list); --only NAME runs
  // the benchmark that reports NAME.
  std::vector<std::string> names;
  BenchFunction run;
};

// Every benchmark, in the order palm-bench runs them. The memory-hungry
// Merkle benchmark runs last so that it cannot distort the RSS figures of
// the others.
const std::vector<Benchmark>& Registry();

// --- The benchmarks (one file each). ---

// bench_local_write.cc: local_write_p99_ms, local_writes_per_s (issue 3).
std::vector<Json> RunLocalWriteBench(const BenchContext& context);
// bench_push.cc: push_mutations_per_s, push_vs_sqlite_floor (issue 4).
std::vector<Json> RunPushBench(const BenchContext& context);
// bench_first_sync.cc: first_sync_rows_per_s, first_sync_peak_rss_mb (issue 4).
std::vector<Json> RunFirstSyncBench(const BenchContext& context);
// The child process of one first-sync device: `palm-bench --first-sync-device
// ADDRESS SERVER_PID DIR DEVICE_ID CASES`, run by RunFirstSyncBench; prints
// its figures (or {"error": ...}) as one JSON object on stdout.
int FirstSyncDeviceMain(int argc, char** argv);
// bench_upload.cc: upload_mb_per_s (issue 6).
std::vector<Json> RunUploadBench(const BenchContext& context);
// bench_hash.cc: hash_vs_openssl (issue 6).
std::vector<Json> RunHashBench(const BenchContext& context);
// bench_attach.cc: attach_1gib_matches_sha256sum, attach_rss_growth_mb
// (issue 3's 1 GiB attach proof).
std::vector<Json> RunAttachBench(const BenchContext& context);
// bench_merkle.cc: merkle_appends_per_s, merkle_proof_us_at_10m (issue 6).
std::vector<Json> RunMerkleBench(const BenchContext& context);

}  // namespace palm::bench

#endif  // PALM_TOOLS_BENCH_BENCH_H_
