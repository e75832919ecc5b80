// A new device's first sync (issue 4): a snapshot of a town of 100,000
// cases (quick: 2,000) pulled into a fresh device store, in rows/s (target
// >= 100,000/s), and the client's peak resident memory meanwhile (target
// <= 64 MB).
//
// Untimed set-up: a palm-server on plaintext loopback gets the catalogue,
// the town's officers and devices through AdminService, and four writer
// devices push the town's cases as raw RecordCase mutations in batches of
// 2,000 (each batch built only when sent, so palm-bench holds nothing big).
// Timed: a fresh device — palm::Client::Open on a new SQLite file, default
// options — runs its first Client::Sync. rows/s = changes the pull applied
// into the device store (report.pulled: every case, plus the reference data
// of the scope) / seconds of the pull phase, from the last progress event of
// an earlier phase to the last pull page applied. Each fresh device runs in
// a child process of its own (palm-bench --first-sync-device ...), so that
// the peak is a device process's and not palm-bench's after the benchmarks
// before it: their freed heap and thread arenas stay partly resident (a full
// run at bb55bd4 began the first sync with 45 MiB resident, 10 MiB more than
// the run before). Peak RSS: the kernel's VmHWM of that child, reset just
// before Client::Open. Median of 3 runs, each a new device on the same
// server (quick: 1).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "palm/client.h"
#include "tools/bench/bench.h"
#include "tools/bench/server_child.h"
#include "tools/bench/server_setup.h"
#include "tools/bench/util.h"

namespace palm::bench {
namespace {

constexpr Metric kRows{"first_sync_rows_per_s", "rows/s", 100000, Better::kHigher};
constexpr Metric kPeakRss{"first_sync_peak_rss_mb", "MiB", 64, Better::kLower};
constexpr char kTown[] = "bench-town";
constexpr char kSquad[] = "bench-town-squad";
constexpr char kMatter[] = "SR-0101";  // sample catalogue, fast track
constexpr int kWriters = 4;

std::string WriterId(int w) { return absl::StrCat("bench-writer-", w); }
std::string WriterOfficer(int w) { return absl::StrCat("bench-officer-", w); }
std::string FreshId(int run) { return absl::StrCat("bench-fresh-", run); }

absl::Status BuildTown(const std::string& address, const std::string& catalog_path, int64_t cases,
                       int runs) {
  AdminClient admin(PlainChannel(address));
  absl::StatusOr<v1::Catalog> catalog = CatalogFromFile(catalog_path);
  if (!catalog.ok()) return catalog.status();
  if (auto s = admin.LoadCatalog(*catalog); !s.ok()) return s;
  if (auto s = admin.AddOfficer(kPartnerOfficer, kTown, kSquad, true, "bench-secret-1234");
      !s.ok()) {
    return s;
  }
  for (int w = 0; w < kWriters; ++w) {
    if (auto s = admin.AddOfficer(WriterOfficer(w), kTown, kSquad, true, "bench-secret-1234");
        !s.ok()) {
      return s;
    }
    if (auto s = admin.EnrollDevice(WriterId(w), kTown, kSquad); !s.ok()) return s;
  }
  for (int run = 0; run < runs; ++run) {
    if (auto s = admin.EnrollDevice(FreshId(run), kTown, kSquad); !s.ok()) return s;
  }
  std::vector<absl::Status> results(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    const int64_t share = cases / kWriters + (w < cases % kWriters ? 1 : 0);
    threads.emplace_back([&, w, share] {
      results[w] = PushCases(address, WriterId(w), WriterOfficer(w), kTown, kMatter, share);
    });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// CPU seconds (user + system) process `pid` used so far, from /proc/<pid>/stat.
double ProcessCpuSeconds(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) fields >> skip;  // state .. cmajflt
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct RunFigures {
  double rows_per_s = 0;
  double sync_rows_per_s = 0;
  uint64_t rows = 0;
  double pull_seconds = 0;
  double sync_seconds = 0;
  double baseline_rss_mib = 0;
  double peak_rss_mib = 0;
  bool rss_reset = false;
  double client_cpu_seconds = 0;
  double server_cpu_seconds = 0;
};

absl::StatusOr<RunFigures> FirstSync(const std::string& address, int server_pid,
                                     const std::string& dir, const std::string& device_id,
                                     int64_t cases) {
  std::filesystem::create_directories(dir + "/data");
  RunFigures f;
  f.rss_reset = ResetPeakRss();
  f.baseline_rss_mib = ProcStatusMiB("VmRSS").value_or(0);
  const double client_cpu = SelfCpuSeconds();
  const double server_cpu = ProcessCpuSeconds(server_pid);
  Stopwatch clock;
  double pull_start = 0, pull_end = 0;
  {
    ClientOptions options;
    options.db_path = dir + "/data/palm.db";
    options.device_id = device_id;
    options.key_provider = std::make_shared<FileKeyProvider>(dir + "/keys");
    Result<std::unique_ptr<Client>> client = Client::Open(options);
    if (!client.ok()) return ToAbsl(client.status());
    SyncOptions sync;
    sync.server_address = address;
    sync.insecure_loopback = true;
    sync.on_progress = [&](const SyncProgress& p) {
      const double now = clock.Seconds();
      if (p.phase == SyncPhase::kPull) {
        pull_end = now;
      } else {
        pull_start = now;
      }
    };
    Result<SyncReport> report = (*client)->Sync(sync);
    f.sync_seconds = clock.Seconds();
    f.client_cpu_seconds = SelfCpuSeconds() - client_cpu;
    f.server_cpu_seconds = ProcessCpuSeconds(server_pid) - server_cpu;
    if (!report.ok()) return ToAbsl(report.status());
    if (!report->snapshot) return absl::InternalError("the first sync was not a snapshot");
    if (report->pulled < static_cast<uint64_t>(cases)) {
      return absl::InternalError(
          absl::StrCat("the first sync pulled ", report->pulled, " changes for ", cases, " cases"));
    }
    f.rows = report->pulled;
  }
  f.peak_rss_mib = ProcStatusMiB("VmHWM").value_or(0);
  f.pull_seconds = pull_end - pull_start;
  if (f.pull_seconds <= 0) return absl::InternalError("no pull progress was reported");
  f.rows_per_s = f.rows / f.pull_seconds;
  f.sync_rows_per_s = f.rows / f.sync_seconds;
  return f;
}

// Runs FirstSync in a child: palm-bench --first-sync-device ... (below).
absl::StatusOr<RunFigures> FirstSyncInChild(const std::string& address, int server_pid,
                                            const std::string& dir, const std::string& device_id,
                                            int64_t cases) {
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) return absl::InternalError(absl::StrCat("cannot find palm-bench itself: ", ec.message()));
  absl::StatusOr<std::string> text =
      RunProgram({self, "--first-sync-device", address, std::to_string(server_pid), dir, device_id,
                  std::to_string(cases)});
  if (!text.ok()) return text.status();
  const Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InternalError(absl::StrCat("the first-sync device printed no JSON: ", *text));
  }
  if (j.contains("error")) return absl::InternalError(j["error"].get<std::string>());
  RunFigures f;
  try {
    f.rows_per_s = j.at("rows_per_s").get<double>();
    f.sync_rows_per_s = j.at("sync_rows_per_s").get<double>();
    f.rows = j.at("rows").get<uint64_t>();
    f.pull_seconds = j.at("pull_seconds").get<double>();
    f.sync_seconds = j.at("sync_seconds").get<double>();
    f.baseline_rss_mib = j.at("baseline_rss_mib").get<double>();
    f.peak_rss_mib = j.at("peak_rss_mib").get<double>();
    f.rss_reset = j.at("rss_reset").get<bool>();
    f.client_cpu_seconds = j.at("client_cpu_seconds").get<double>();
    f.server_cpu_seconds = j.at("server_cpu_seconds").get<double>();
  } catch (const Json::exception& e) {
    return absl::InternalError(absl::StrCat("the first-sync device's figures: ", e.what()));
  }
  return f;
}

}  // namespace

int FirstSyncDeviceMain(int argc, char** argv) {
  Json out;
  if (argc != 7) {
    out["error"] =
        "usage: palm-bench --first-sync-device ADDRESS SERVER_PID DIR DEVICE_ID CASES "
        "(run by the first_sync benchmark)";
    std::cout << out.dump() << std::endl;
    return 2;
  }
  int server_pid = 0;
  int64_t cases = 0;
  if (!absl::SimpleAtoi(argv[3], &server_pid) || !absl::SimpleAtoi(argv[6], &cases)) {
    out["error"] = absl::StrCat("--first-sync-device: SERVER_PID and CASES are numbers, got \"",
                                argv[3], "\" and \"", argv[6], "\"");
    std::cout << out.dump() << std::endl;
    return 2;
  }
  absl::StatusOr<RunFigures> f = FirstSync(argv[2], server_pid, argv[4], argv[5], cases);
  if (!f.ok()) {
    out["error"] = f.status().ToString();
  } else {
    out["rows_per_s"] = f->rows_per_s;
    out["sync_rows_per_s"] = f->sync_rows_per_s;
    out["rows"] = f->rows;
    out["pull_seconds"] = f->pull_seconds;
    out["sync_seconds"] = f->sync_seconds;
    out["baseline_rss_mib"] = f->baseline_rss_mib;
    out["peak_rss_mib"] = f->peak_rss_mib;
    out["rss_reset"] = f->rss_reset;
    out["client_cpu_seconds"] = f->client_cpu_seconds;
    out["server_cpu_seconds"] = f->server_cpu_seconds;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

std::vector<Json> RunFirstSyncBench(const BenchContext& context) {
  const int64_t cases = context.quick ? 2000 : 100000;
  const int runs = context.quick ? 1 : 3;
  auto fail = [&](const absl::Status& s) {
    return std::vector<Json>{Failed(kRows, s.ToString()), Failed(kPeakRss, s.ToString())};
  };
  auto server = StartServer(context.scratch_dir + "/server");
  if (!server.ok()) return fail(server.status());
  const std::string address = (*server)->address();
  Progress(
      absl::StrCat("first sync: seeding a town of ", cases, " cases from ", kWriters, " devices"));
  Stopwatch seeding;
  if (auto s = BuildTown(address, context.catalog_path, cases, runs); !s.ok()) return fail(s);
  const double seed_seconds = seeding.Seconds();

  std::vector<RunFigures> figures;
  for (int run = 0; run < runs; ++run) {
    Progress(absl::StrCat("first sync: fresh device, run ", run + 1, "/", runs));
    auto f =
        FirstSyncInChild(address, (*server)->pid(),
                         absl::StrCat(context.scratch_dir, "/device-", run), FreshId(run), cases);
    if (!f.ok()) return fail(f.status());
    figures.push_back(*f);
    std::error_code ec;
    std::filesystem::remove_all(absl::StrCat(context.scratch_dir, "/device-", run), ec);
  }
  std::vector<double> rates, sync_rates, peaks, baselines, pull_seconds, client_cpu, server_cpu;
  for (const RunFigures& f : figures) {
    rates.push_back(f.rows_per_s);
    sync_rates.push_back(f.sync_rows_per_s);
    peaks.push_back(f.peak_rss_mib);
    baselines.push_back(f.baseline_rss_mib);
    pull_seconds.push_back(f.pull_seconds);
    client_cpu.push_back(f.client_cpu_seconds);
    server_cpu.push_back(f.server_cpu_seconds);
  }
  Json rows = Measured(kRows, Median(rates));
  rows["cases"] = cases;
  rows["rows"] = figures.front().rows;
  rows["runs"] = rates;
  rows["pull_seconds"] = pull_seconds;
  rows["whole_sync_rows_per_s"] = Median(sync_rates);
  // Where the time goes: CPU seconds of the device (palm-bench) and of the
  // server child over each whole sync.
  rows["client_cpu_seconds"] = client_cpu;
  rows["server_cpu_seconds"] = server_cpu;
  rows["seed_seconds"] = seed_seconds;
  rows["transport"] = "gRPC plaintext on loopback";
  rows["page_size"] = SyncOptions().pull_page_size;
  const double peak = *std::max_element(peaks.begin(), peaks.end());
  Json rss = Measured(kPeakRss, peak);
  rss["baseline_rss_mib"] = Median(baselines);
  rss["growth_mib"] = peak - Median(baselines);
  rss["runs"] = peaks;
  rss["method"] = figures.front().rss_reset
                      ? "VmHWM of a palm-bench child running only the device, reset via "
                        "/proc/self/clear_refs before Client::Open"
                      : "VmHWM of a palm-bench child running only the device, since its start "
                        "(the kernel refused a reset)";
  rss["server_peak_rss_mib"] = ProcStatusMiBOf((*server)->pid(), "VmHWM").value_or(0);
  return {rows, rss};
}

}  // namespace palm::bench
