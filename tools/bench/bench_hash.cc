// Device hashing speed against OpenSSL's own (issue 6): how fast
// palm::sync::Sha256File streams a file through its fixed buffer, as a
// fraction of what `openssl speed -evp sha256 -bytes 16384` reports on one
// core. Target: >= 0.8.
//
// The floor is measured in-process the way `openssl speed` measures it (one
// EVP_Digest of a 16 KiB buffer after another) and interleaved with the
// device runs, so both see the same machine state. Both are divided by the
// thread's CPU time, as `openssl speed` divides by CPU time by default: the
// ratio then holds on a machine whose cores other work shares. Wall-clock
// figures are reported beside them, and the openssl CLI's own figure as a
// cross-check when /usr/bin/openssl is present.
#include <openssl/evp.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "sync/sha256.h"
#include "tools/bench/bench.h"
#include "tools/bench/util.h"

namespace palm::bench {
namespace {

constexpr Metric kHashVsOpenSsl{"hash_vs_openssl", "ratio", 0.8, Better::kHigher};
constexpr char kOpenSsl[] = "/usr/bin/openssl";
constexpr size_t kSpeedBlock = 16384;

struct FloorRun {
  double mb_per_s = 0;      // wall clock
  double mb_per_cpu_s = 0;  // this thread's CPU time
};

// Back-to-back EVP_Digest calls over one 16 KiB buffer for at least
// `seconds` of wall-clock time.
FloorRun OpenSslFloor(double seconds) {
  std::vector<unsigned char> block(kSpeedBlock, 0x5a);
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  uint64_t blocks = 0;
  Stopwatch watch;
  CpuStopwatch cpu;
  do {
    for (int i = 0; i < 64; ++i) {
      EVP_Digest(block.data(), block.size(), digest, &digest_len, sha256, nullptr);
    }
    blocks += 64;
  } while (watch.Seconds() < seconds);
  const double cpu_seconds = cpu.Seconds();
  const double wall_seconds = watch.Seconds();
  EVP_MD_free(sha256);
  const double mb = static_cast<double>(blocks * kSpeedBlock) / kMB;
  return {mb / wall_seconds, mb / cpu_seconds};
}

// Runs `openssl speed -evp sha256 -bytes 16384` and returns its MB/s (per
// CPU-second of user time, as openssl speed divides by by default), or
// nullopt when it is absent or its output is not understood.
std::optional<double> OpenSslCliMbPerS(int seconds) {
  if (!IsExecutable(kOpenSsl)) return std::nullopt;
  absl::StatusOr<std::string> out =
      RunProgram({kOpenSsl, "speed", "-evp", "sha256", "-bytes", std::to_string(kSpeedBlock),
                  "-seconds", std::to_string(seconds)});
  if (!out.ok()) return std::nullopt;
  // The last line reads e.g. "sha256    2003976.19k" (1000s of bytes/s).
  for (absl::string_view line : absl::StrSplit(*out, '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() != 2 || fields[0] != "sha256" || !absl::EndsWith(fields[1], "k")) continue;
    double thousands = 0;
    std::istringstream in{std::string(fields[1].substr(0, fields[1].size() - 1))};
    if (in >> thousands) return thousands * 1000 / kMB;
  }
  return std::nullopt;
}

}  // namespace

std::vector<Json> RunHashBench(const BenchContext& context) {
  const uint64_t file_bytes = (context.quick ? 32 : 256) * static_cast<uint64_t>(kMiB);
  const int reps = context.quick ? 3 : 5;
  const std::string path = context.scratch_dir + "/hash-input.bin";
  if (absl::Status s = WritePatternFile(path, file_bytes); !s.ok()) {
    return {Failed(kHashVsOpenSsl, s.ToString())};
  }
  // Warm-up: the page cache, OpenSSL's lazy initialisation, the CPU clock.
  if (absl::StatusOr<sync::FileDigest> d = sync::Sha256File(path); !d.ok()) {
    return {Failed(kHashVsOpenSsl, d.status().ToString())};
  }
  const double mb = static_cast<double>(file_bytes) / kMB;
  std::vector<double> device, device_wall, floor, floor_wall, ratios, wall_ratios;
  for (int r = 0; r < reps; ++r) {
    Stopwatch watch;
    CpuStopwatch cpu;
    absl::StatusOr<sync::FileDigest> digest = sync::Sha256File(path);
    const double cpu_seconds = cpu.Seconds();
    const double wall_seconds = watch.Seconds();
    if (!digest.ok()) return {Failed(kHashVsOpenSsl, digest.status().ToString())};
    device.push_back(mb / cpu_seconds);
    device_wall.push_back(mb / wall_seconds);
    FloorRun f = OpenSslFloor(std::max(wall_seconds, 0.25));
    floor.push_back(f.mb_per_cpu_s);
    floor_wall.push_back(f.mb_per_s);
    ratios.push_back(device.back() / floor.back());
    wall_ratios.push_back(device_wall.back() / floor_wall.back());
    Progress(absl::StrFormat(
        "hash: run %d/%d: Sha256File %.0f MB/cpu-s (%.0f MB/s wall), EVP floor %.0f MB/cpu-s "
        "(%.0f MB/s wall)",
        r + 1, reps, device.back(), device_wall.back(), floor.back(), floor_wall.back()));
  }
  Json j = Measured(kHashVsOpenSsl, Median(ratios));
  j["floor"] = Median(floor);
  j["floor_unit"] = "MB per CPU-second";
  j["floor_method"] =
      "in-process EVP_Digest of a 16 KiB buffer, back to back, one core (as openssl speed -evp "
      "sha256 -bytes 16384)";
  j["ratio"] = Median(ratios);
  j["device_mb_per_s"] = Median(device);
  j["device_method"] = "palm::sync::Sha256File on a page-cached file, MB per CPU-second";
  j["device_wall_mb_per_s"] = Median(device_wall);
  j["floor_wall_mb_per_s"] = Median(floor_wall);
  j["wall_ratio"] = Median(wall_ratios);
  j["file_mib"] = static_cast<double>(file_bytes) / kMiB;
  j["runs"] = reps;
  j["per_run_ratio"] = ratios;
  if (std::optional<double> cli = OpenSslCliMbPerS(context.quick ? 1 : 2)) {
    j["openssl_speed_cli_mb_per_s"] = *cli;
  }
  return {j};
}

}  // namespace palm::bench
