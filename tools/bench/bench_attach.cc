// Issue 3's proof that attaching a large evidence file streams it: a 1 GiB
// file (64 MiB with --quick) attached through palm::Client hashes to what
// `sha256sum` prints, while the process's resident memory stays flat.
//
// Peak RSS is the kernel's own high-water mark (VmHWM), reset just before
// the attach through /proc/self/clear_refs; where the kernel refuses the
// reset, a thread sampling VmRSS every millisecond stands in.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "tools/bench/bench.h"
#include "tools/bench/device.h"
#include "tools/bench/util.h"

namespace palm::bench {
namespace {

constexpr Metric kRssGrowth{"attach_rss_growth_mb", "MiB", 16, Better::kLower};
constexpr char kMatchesName[] = "attach_1gib_matches_sha256sum";
constexpr char kSha256Sum[] = "/usr/bin/sha256sum";

// The attach-matches-sha256sum result: a boolean, true when proven.
Json MatchResult(std::optional<bool> matches, std::string_view status) {
  Json j;
  j["name"] = kMatchesName;
  j["value"] = matches.has_value() ? Json(*matches) : Json(nullptr);
  j["unit"] = "bool";
  j["target"] = true;
  j["target_op"] = "==";
  if (matches.has_value()) j["meets_target"] = *matches;
  if (!status.empty()) j["status"] = status;
  return j;
}

std::vector<Json> FailAll(std::string_view error) {
  return {MatchResult(std::nullopt, std::string("error: ").append(error)),
          Failed(kRssGrowth, error)};
}

// Samples VmRSS until destroyed; max_mib() is the largest reading.
class RssSampler {
 public:
  RssSampler()
      : thread_([this] {
          while (!stop_.load()) {
            double now = ProcStatusMiB("VmRSS").value_or(0);
            double seen = max_mib_.load();
            while (now > seen && !max_mib_.compare_exchange_weak(seen, now)) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }) {}
  ~RssSampler() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  double max_mib() const { return max_mib_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<double> max_mib_{0};
  std::thread thread_;
};

}  // namespace

std::vector<Json> RunAttachBench(const BenchContext& context) {
  const uint64_t file_bytes = (context.quick ? 64 : 1024) * static_cast<uint64_t>(kMiB);
  const std::string path = context.scratch_dir + "/evidence.bin";
  Progress(absl::StrFormat("attach: writing a %.0f MiB evidence file",
                           static_cast<double>(file_bytes) / kMiB));
  if (absl::Status s = WritePatternFile(path, file_bytes); !s.ok()) return FailAll(s.ToString());
  absl::StatusOr<std::unique_ptr<Client>> client =
      OpenSeededDevice(context.scratch_dir + "/device", context.catalog_path, Durability::kFull, 1);
  if (!client.ok()) return FailAll(client.status().ToString());
  Result<std::string> case_id = (*client)->RecordCase(BenchCase(0));
  if (!case_id.ok()) return FailAll(case_id.status().ToString());
  EvidenceInput input;
  input.case_id = *case_id;
  input.kind = EvidenceKind::kVideo;
  input.mime_type = "video/mp4";
  input.description = "执法记录仪视频";

  // Measure only the attach: everything it allocates counts.
  const bool hwm_reset = ResetPeakRss();
  const double baseline_mib = ProcStatusMiB("VmRSS").value_or(0);
  RssSampler sampler;
  Stopwatch watch;
  Result<std::string> evidence_id = (*client)->AttachEvidenceFile(input, path);
  const double seconds = watch.Seconds();
  sampler.Stop();
  if (!evidence_id.ok()) return FailAll(evidence_id.status().ToString());
  const double peak_mib =
      hwm_reset ? ProcStatusMiB("VmHWM").value_or(0) : std::max(sampler.max_mib(), baseline_mib);

  Result<CaseView> view = (*client)->GetCase(*case_id);
  if (!view.ok()) return FailAll(view.status().ToString());
  std::string recorded;
  for (const Evidence& e : view->evidence) {
    if (e.evidence_id == *evidence_id) recorded = e.sha256_hex;
  }

  std::vector<Json> results;
  if (!IsExecutable(kSha256Sum)) {
    results.push_back(MatchResult(std::nullopt, "not measured: /usr/bin/sha256sum is not present"));
  } else {
    absl::StatusOr<std::string> out = RunProgram({kSha256Sum, path});
    if (!out.ok()) {
      results.push_back(MatchResult(std::nullopt, "error: " + out.status().ToString()));
    } else {
      std::string printed(*absl::StrSplit(*out, ' ').begin());
      Json j = MatchResult(printed == recorded, "");
      j["client_sha256"] = recorded;
      j["sha256sum"] = printed;
      j["file_mib"] = static_cast<double>(file_bytes) / kMiB;
      results.push_back(j);
    }
  }
  Json rss = Measured(kRssGrowth, std::max(0.0, peak_mib - baseline_mib));
  rss["baseline_rss_mib"] = baseline_mib;
  rss["peak_rss_mib"] = peak_mib;
  rss["method"] = hwm_reset ? "VmHWM after clear_refs reset" : "VmRSS sampled every 1 ms";
  rss["file_mib"] = static_cast<double>(file_bytes) / kMiB;
  rss["attach_mb_per_s"] = static_cast<double>(file_bytes) / seconds / kMB;
  results.push_back(rss);
  Progress(absl::StrFormat("attach: %.0f MB/s, RSS %.1f -> %.1f MiB",
                           rss["attach_mb_per_s"].get<double>(), baseline_mib, peak_mib));
  return results;
}

}  // namespace palm::bench
