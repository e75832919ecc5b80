// palm-bench: runs every benchmark Palm's issues name and prints one JSON
// document to stdout:
//
//   {"machine": {"cores": ..., "cpu_model": ..., "kernel": ..., "memory_gb": ..., ...},
//    "results": [{"name", "value", "unit", "target", "target_op", "meets_target",
//                 "floor" and "ratio" where a floor is measured, ...}]}
//
// A figure whose code does not exist yet has "value": null and "status":
// "not measured: <why>"; one whose benchmark failed has "status": "error: ...".
// Progress goes to stderr. Exit status: 0 when every benchmark ran (whether
// or not it met its target), 1 when one failed, 2 for bad arguments.
// docs/benchmarks.md explains the figures and records the latest full run.
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/bench/bench.h"
#include "tools/bench/util.h"
#include "tools/common/cli_errors.h"

namespace palm::bench {
namespace {

struct Options {
  bool quick = false;
  std::set<std::string> only;
  std::string catalog = PALM_BENCH_SAMPLE_CATALOG;
  std::string scratch;
};

// The command line; the benchmark list goes in the help's footer.
std::unique_ptr<CLI::App> MakeCli(Options* o, std::vector<std::string>* only) {
  auto app = std::make_unique<CLI::App>(
      "Runs Palm's benchmarks and prints their figures as JSON on stdout (progress on stderr). "
      "See docs/benchmarks.md.",
      "palm-bench");
  app->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app->get_formatter()->column_width(24);
  app->set_version_flag("--version", absl::StrCat("palm-bench ", PALM_VERSION));
  app->set_config("--config", "", "Read flags from this INI/TOML file")->type_name("FILE");
  app->add_flag("--quick", o->quick, "Reduced sizes, for a CI smoke run (well under 30 s)");
  app->add_option("--only", *only,
                  "Run only the benchmarks reporting these result names (or with these "
                  "benchmark ids); comma-separated, repeatable")
      ->type_name("NAMES")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  app->add_option("--catalog", o->catalog, "Matter catalogue for the benchmark devices")
      ->type_name("FILE")
      ->capture_default_str();
  app->add_option("--scratch", o->scratch,
                  "Where temporary files go (default: $TMPDIR or /tmp); a full run needs about "
                  "9 GiB free")
      ->type_name("DIR");
  std::string list = "Benchmarks (id: result names):\n";
  for (const Benchmark& b : Registry()) {
    absl::StrAppend(&list, "  ", b.id, ": ", absl::StrJoin(b.names, ", "), "\n");
  }
  app->footer(absl::StrCat(list,
                           "\nExit status: 0 when every benchmark ran (whether or not it met its "
                           "target), 1 when one failed, 2 for bad arguments."));
  return app;
}

[[noreturn]] void BadArguments(const std::string& problem, CLI::App& app) {
  std::cerr << "palm-bench: " << problem << "\n\n" << app.help();
  std::exit(2);
}

bool Selected(const Options& options, const Benchmark& b) {
  if (options.only.empty() || options.only.count(b.id)) return true;
  return std::any_of(b.names.begin(), b.names.end(),
                     [&](const std::string& n) { return options.only.count(n) > 0; });
}

Options ParseArguments(int argc, char** argv) {
  Options options;
  const char* tmp = std::getenv("TMPDIR");
  options.scratch = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  std::vector<std::string> only;
  std::unique_ptr<CLI::App> app = MakeCli(&options, &only);
  try {
    app->parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app->help();
    std::exit(0);
  } catch (const CLI::CallForVersion&) {
    std::cout << app->version() << "\n";
    std::exit(0);
  } catch (const CLI::ParseError& e) {
    BadArguments(tools::DescribeCliError(e, *app), *app);
  }
  for (const std::string& name : only) {
    if (!name.empty()) options.only.insert(name);
  }
  for (const std::string& name : options.only) {
    bool known = std::any_of(Registry().begin(), Registry().end(), [&](const Benchmark& b) {
      return b.id == name || std::find(b.names.begin(), b.names.end(), name) != b.names.end();
    });
    if (!known) BadArguments("--only: no benchmark reports " + name, *app);
  }
  return options;
}

// The first line of `path` starting with `key`, after the key and any of
// " :\t=\"", trailing quotes removed; empty when absent.
std::string FileField(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    std::string rest = line.substr(key.size());
    rest.erase(0, rest.find_first_not_of(" :\t=\""));
    while (!rest.empty() && rest.back() == '"') rest.pop_back();
    return rest;
  }
  return "";
}

// The 1-minute load average, or 0 when unknown.
double LoadAverage() {
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  return load;
}

std::string NowUtc() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

Json MachineInfo(const Options& options) {
  Json m;
  m["cores"] = std::thread::hardware_concurrency();
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    m["cores_available"] = CPU_COUNT(&set);
    // Which ones: a run pinned with taskset to one core is only comparable
    // with runs pinned to the same core. On a VM the disk's interrupts may
    // all land on one core, and a writer that waits for the disk on another
    // pays a cross-core wake-up per sync (docs/benchmarks.md, local_write).
    std::vector<int> ids;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) ids.push_back(cpu);
    }
    m["cpus_available"] = ids;
  }
  m["cpu_model"] = FileField("/proc/cpuinfo", "model name");
  std::string flags = " " + FileField("/proc/cpuinfo", "flags") + " ";
  m["cpu_sha_extensions"] = flags.find(" sha_ni ") != std::string::npos;
  utsname u{};
  if (uname(&u) == 0) m["kernel"] = absl::StrCat(u.sysname, " ", u.release, " ", u.machine);
  double mem_kib = 0;
  std::string mem = FileField("/proc/meminfo", "MemTotal");
  if (!mem.empty()) mem_kib = std::stod(mem);
  m["memory_gb"] = std::round(mem_kib / 1024 / 1024 * 10) / 10;  // GiB, one decimal
  m["os"] = FileField("/etc/os-release", "PRETTY_NAME");
  m["compiler"] = __VERSION__;
  m["build_type"] = PALM_BENCH_BUILD_TYPE;
  m["sqlite"] = sqlite3_libversion();
  m["openssl"] = OpenSSL_version(OPENSSL_VERSION);
  // Other work on the machine skews wall-clock figures: say how busy it was.
  m["load_average_1m_at_start"] = LoadAverage();
  m["mode"] = options.quick ? "quick" : "full";
  m["started_at_utc"] = NowUtc();
  return m;
}

int Main(int argc, char** argv) {
  // Not for people: the first_sync benchmark runs each device in a child.
  if (argc >= 2 && std::string(argv[1]) == "--first-sync-device") {
    return FirstSyncDeviceMain(argc, argv);
  }
  Options options = ParseArguments(argc, argv);
  std::error_code ec;
  std::filesystem::create_directories(options.scratch, ec);
  std::string pattern = options.scratch + "/palm-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::cerr << "palm-bench: cannot create a scratch directory under " << options.scratch << "\n";
    return 1;
  }
  const std::string scratch_root = pattern;

  Json out;
  out["machine"] = MachineInfo(options);
  Json results = Json::array();
  bool failed = false;
  Stopwatch total;
  for (const Benchmark& b : Registry()) {
    if (!Selected(options, b)) continue;
    BenchContext context;
    context.quick = options.quick;
    context.catalog_path = options.catalog;
    context.scratch_dir = absl::StrCat(scratch_root, "/", b.id);
    std::filesystem::create_directories(context.scratch_dir, ec);
    Progress(absl::StrCat(b.id, ": running"));
    Stopwatch watch;
    std::vector<Json> reported = b.run(context);
    std::filesystem::remove_all(context.scratch_dir, ec);
    Progress(absl::StrFormat("%s: done in %.1f s", b.id, watch.Seconds()));
    for (const std::string& name : b.names) {
      bool present = std::any_of(reported.begin(), reported.end(),
                                 [&](const Json& r) { return r["name"] == name; });
      if (!present) {
        reported.push_back({{"name", name},
                            {"value", nullptr},
                            {"status", "error: the benchmark did not report it"}});
      }
    }
    for (Json& r : reported) {
      if (r.contains("status") && r["status"].get<std::string>().rfind("error", 0) == 0) {
        failed = true;
        Progress(absl::StrCat(r["name"].get<std::string>(), ": ", r["status"].get<std::string>()));
      }
      results.push_back(std::move(r));
    }
  }
  std::filesystem::remove_all(scratch_root, ec);
  out["machine"]["duration_s"] = std::round(total.Seconds() * 10) / 10;
  out["machine"]["load_average_1m_at_end"] = LoadAverage();
  out["results"] = std::move(results);
  std::cout << out.dump(2) << std::endl;
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace palm::bench

int main(int argc, char** argv) { return palm::bench::Main(argc, argv); }
