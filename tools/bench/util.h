// Helpers shared by palm-bench's benchmarks: clocks, order statistics,
// resident-memory readings, child programs and scratch files.
#ifndef PALM_TOOLS_BENCH_UTIL_H_
#define PALM_TOOLS_BENCH_UTIL_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "palm/status.h"

namespace palm::bench {

inline constexpr double kMiB = 1024.0 * 1024.0;
// Throughputs are reported in MB/s of 10^6 bytes, as `openssl speed` does.
inline constexpr double kMB = 1e6;

// Wall-clock seconds since construction (steady clock).
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// CPU seconds (user + system) this thread spent since construction: what
// `openssl speed` divides by, and robust to other processes sharing the cores.
class CpuStopwatch {
 public:
  CpuStopwatch() : start_(Now()) {}
  double Seconds() const { return Now() - start_; }

 private:
  static double Now();
  double start_;
};

// The median of `values` (mean of the middle two for an even count); 0 when
// empty.
double Median(std::vector<double> values);

// The nearest-rank percentile `p` (0 < p <= 100) of `values`; 0 when empty.
double Percentile(std::vector<double> values, double p);

// Converts a Status of the client library's public API to absl::Status (the
// codes have the same numbers), keeping reason and message in the text.
absl::Status ToAbsl(const palm::Status& status);

// A field of /proc/self/status in MiB, e.g. "VmRSS" or "VmHWM"; nullopt when
// it cannot be read (not Linux).
std::optional<double> ProcStatusMiB(const char* field);
// The same for process `pid` (e.g. a ServerChild); 0 means this process.
std::optional<double> ProcStatusMiBOf(int pid, const char* field);

// Resets the kernel's peak-RSS mark (VmHWM) to the current RSS by writing
// "5" to /proc/self/clear_refs. Returns false when the kernel refuses.
bool ResetPeakRss();

// Runs `argv` (argv[0] an absolute path, no shell) and returns its stdout,
// or an error when it cannot start or exits non-zero. Its stderr is dropped.
absl::StatusOr<std::string> RunProgram(const std::vector<std::string>& argv);

// True when `path` names an executable file.
bool IsExecutable(const std::string& path);

// Latencies in ms of `count` fdatasync calls, each after overwriting one
// 4 KiB block of a file in `dir`: the disk's cost of one durable commit.
absl::StatusOr<std::vector<double>> FdatasyncLatenciesMs(const std::string& dir, int count);

// Writes `bytes` of deterministic, incompressible-looking content to `path`
// through a 1 MiB buffer (never more in memory), and fsyncs nothing: the
// benchmarks read it back from the page cache.
absl::Status WritePatternFile(const std::string& path, uint64_t bytes);

}  // namespace palm::bench

#endif  // PALM_TOOLS_BENCH_UTIL_H_
