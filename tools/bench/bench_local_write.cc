// Local write latency and throughput through the real client library
// (issue 3): record-case, add-evidence (metadata only) and issue-ticket, on a
// fresh SQLite file per run. Target: p99 <= 1 ms and >= 5,000 writes/s on
// one core. Reported for both durability modes with one writing thread, and
// for the default mode (Durability::kFull) with two and four threads writing
// through one Client at once, as an app's UI, camera and sync threads may:
// they share the WAL's fdatasync (group commit, client-lib/src/wal_vfs.h).
#include <array>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client-lib/src/macros.h"
#include "tools/bench/bench.h"
#include "tools/bench/device.h"
#include "tools/bench/util.h"

namespace palm::bench {
namespace {

constexpr Metric kP99Full{"local_write_p99_ms", "ms", 1.0, Better::kLower};
constexpr Metric kRateFull{"local_writes_per_s", "writes/s", 5000, Better::kHigher};
constexpr Metric kP99Normal{"local_write_p99_ms_normal", "ms", 1.0, Better::kLower};
constexpr Metric kRateNormal{"local_writes_per_s_normal", "writes/s", 5000, Better::kHigher};
constexpr Metric kP99TwoThreads{"local_write_p99_ms_2_threads", "ms", 1.0, Better::kLower};
constexpr Metric kRateTwoThreads{"local_writes_per_s_2_threads", "writes/s", 5000, Better::kHigher};
constexpr Metric kP99FourThreads{"local_write_p99_ms_4_threads", "ms", 1.0, Better::kLower};
constexpr Metric kRateFourThreads{"local_writes_per_s_4_threads", "writes/s", 5000,
                                  Better::kHigher};

constexpr std::array<const char*, 3> kOps = {"record_case", "add_evidence_record", "issue_ticket"};

// One run: per-operation latencies in ms, and the wall time of the loop.
struct Run {
  std::array<std::vector<double>, kOps.size()> latency_ms;
  double seconds = 0;
  size_t writes = 0;
};

// Times `call` (returning a palm::Result or palm::Status) into `out`.
template <typename Call>
auto Timed(std::vector<double>* out, Call&& call) {
  Stopwatch watch;
  auto result = call();
  out->push_back(watch.Seconds() * 1e3);
  return result;
}

// Records cases [first, first + count) with their evidence and ticket.
absl::Status WriteCases(Client& client, int first, int count, Run* run) {
  for (int i = first; i < first + count; ++i) {
    CaseInput case_input = BenchCase(i);
    Result<std::string> case_id =
        Timed(&run->latency_ms[0], [&] { return client.RecordCase(case_input); });
    if (!case_id.ok()) return ToAbsl(case_id.status());
    EvidenceInput evidence = BenchEvidence(*case_id, i);
    Result<std::string> evidence_id =
        Timed(&run->latency_ms[1], [&] { return client.AddEvidenceRecord(evidence); });
    if (!evidence_id.ok()) return ToAbsl(evidence_id.status());
    TicketInput ticket = BenchTicket(*case_id);
    Result<Ticket> issued = Timed(&run->latency_ms[2], [&] { return client.IssueTicket(ticket); });
    if (!issued.ok()) return ToAbsl(issued.status());
  }
  return absl::OkStatus();
}

// `cases` cases (three writes each) split between `threads` threads
// writing through one Client.
absl::StatusOr<Run> RunOnce(const std::string& dir, const std::string& catalog_path,
                            Durability durability, int cases, int threads) {
  PALM_ASSIGN_OR_RETURN(std::unique_ptr<Client> client,
                        OpenSeededDevice(dir, catalog_path, durability, cases + 1));
  std::vector<Run> parts(static_cast<size_t>(threads));
  std::vector<absl::Status> statuses(static_cast<size_t>(threads));
  for (Run& part : parts) {
    for (std::vector<double>& v : part.latency_ms) v.reserve(static_cast<size_t>(cases));
  }
  Stopwatch total;
  {
    std::vector<std::jthread> writers;
    for (int t = 0; t < threads; ++t) {
      writers.emplace_back([&, t] {
        const int first = cases * t / threads;
        const int count = cases * (t + 1) / threads - first;
        statuses[static_cast<size_t>(t)] =
            WriteCases(*client, first, count, &parts[static_cast<size_t>(t)]);
      });
    }
  }
  Run run;
  run.seconds = total.Seconds();
  for (int t = 0; t < threads; ++t) {
    PALM_RETURN_IF_ERROR(statuses[static_cast<size_t>(t)]);
    for (size_t op = 0; op < kOps.size(); ++op) {
      const std::vector<double>& part = parts[static_cast<size_t>(t)].latency_ms[op];
      run.latency_ms[op].insert(run.latency_ms[op].end(), part.begin(), part.end());
    }
  }
  run.writes = static_cast<size_t>(cases) * kOps.size();
  return run;
}

// Runs `runs` fresh devices in `durability` mode with `threads` writing
// threads and reports the medians.
absl::StatusOr<std::vector<Json>> Measure(const BenchContext& context, Durability durability,
                                          int threads, const Metric& p99_metric,
                                          const Metric& rate_metric) {
  const int runs = context.quick ? 3 : 5;
  const int cases = context.quick ? 100 : 1000;
  const std::string mode = absl::StrCat(durability == Durability::kFull ? "full" : "normal",
                                        threads > 1 ? absl::StrCat("-", threads, "-threads") : "");
  std::vector<double> p50s, p99s, rates;
  std::array<std::vector<double>, kOps.size()> op_p50s, op_p99s;
  // One durable commit costs at least one fdatasync of the WAL: the floor
  // no synchronous=FULL write can beat on this disk. Probed before each run,
  // so that it sees the same disk the run does.
  std::vector<double> sync_ms;
  for (int r = 0; r < runs; ++r) {
    if (durability == Durability::kFull) {
      PALM_ASSIGN_OR_RETURN(std::vector<double> probe,
                            FdatasyncLatenciesMs(context.scratch_dir, context.quick ? 20 : 50));
      sync_ms.insert(sync_ms.end(), probe.begin(), probe.end());
    }
    PALM_ASSIGN_OR_RETURN(Run run, RunOnce(absl::StrCat(context.scratch_dir, "/", mode, "-", r),
                                           context.catalog_path, durability, cases, threads));
    std::vector<double> all;
    for (size_t op = 0; op < kOps.size(); ++op) {
      all.insert(all.end(), run.latency_ms[op].begin(), run.latency_ms[op].end());
      op_p50s[op].push_back(Percentile(run.latency_ms[op], 50));
      op_p99s[op].push_back(Percentile(run.latency_ms[op], 99));
    }
    p50s.push_back(Percentile(all, 50));
    p99s.push_back(Percentile(all, 99));
    rates.push_back(static_cast<double>(run.writes) / run.seconds);
    Progress(absl::StrFormat("local_write: %s run %d/%d: p99 %.3f ms, %.0f writes/s", mode, r + 1,
                             runs, p99s.back(), rates.back()));
  }
  Json setup = {{"durability", durability == Durability::kFull
                                   ? "kFull (default): each write synced before it returns"
                                   : "kNormal: the last writes may be lost on power failure"},
                {"runs", runs},
                {"writes_per_run", cases * static_cast<int>(kOps.size())},
                {"threads", threads}};
  Json p99 = Measured(p99_metric, Median(p99s));
  if (durability == Durability::kFull) {
    p99["disk_fdatasync_p50_ms"] = Percentile(sync_ms, 50);
    p99["disk_fdatasync_p99_ms"] = Percentile(sync_ms, 99);
  }
  p99["p50_ms"] = Median(p50s);
  Json per_op;
  for (size_t op = 0; op < kOps.size(); ++op) {
    per_op[kOps[op]] = {{"p50_ms", Median(op_p50s[op])}, {"p99_ms", Median(op_p99s[op])}};
  }
  p99["per_op"] = per_op;
  p99["per_run"] = p99s;
  p99.update(setup);
  Json rate = Measured(rate_metric, Median(rates));
  rate["per_run"] = rates;
  rate.update(setup);
  return std::vector<Json>{p99, rate};
}

}  // namespace

std::vector<Json> RunLocalWriteBench(const BenchContext& context) {
  std::vector<Json> results;
  for (auto [durability, threads, p99, rate] :
       {std::tuple{Durability::kFull, 1, &kP99Full, &kRateFull},
        std::tuple{Durability::kNormal, 1, &kP99Normal, &kRateNormal},
        std::tuple{Durability::kFull, 2, &kP99TwoThreads, &kRateTwoThreads},
        std::tuple{Durability::kFull, 4, &kP99FourThreads, &kRateFourThreads}}) {
    absl::StatusOr<std::vector<Json>> measured = Measure(context, durability, threads, *p99, *rate);
    if (measured.ok()) {
      results.insert(results.end(), measured->begin(), measured->end());
    } else {
      results.push_back(Failed(*p99, measured.status().ToString()));
      results.push_back(Failed(*rate, measured.status().ToString()));
    }
  }
  return results;
}

}  // namespace palm::bench
