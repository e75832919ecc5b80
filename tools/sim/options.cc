// palm-sim's command line, progress output and clocks.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/common/cli_errors.h"
#include "tools/sim/sim.h"

namespace palm::sim {

namespace {

// Every flag, bound to its field of `o`, in the groups --help shows.
std::unique_ptr<CLI::App> MakeCli(Options* o) {
  auto app = std::make_unique<CLI::App>(
      "Simulates handheld devices (each a real palm::Client on its own SQLite file) working a "
      "seeded shift offline, then syncing at shift end all at once; checks that every device "
      "converged with the server. Without --server it starts this build's palm-server on "
      "127.0.0.1 with a temporary store and a development bureau PKI (mutual TLS, officer "
      "sign-in).",
      "palm-sim");
  app->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app->get_formatter()->column_width(32);
  app->set_version_flag("--version", absl::StrCat("palm-sim ", PALM_VERSION));
  app->set_config("--config", "", "Read flags from this INI/TOML file (the flag names as keys)")
      ->type_name("FILE");
  const auto number = [&](const char* name, int* field, int min, int max, const char* help) {
    app->add_option(name, *field, help)
        ->type_name("N")
        ->check(tools::WholeNumber(min, max))
        ->group("Shift");
  };
  const auto text = [&](const char* name, std::string* field, const char* type, const char* help,
                        const char* group) {
    return app->add_option(name, *field, help)
        ->type_name(type)
        ->check([name](const std::string& v) {
          return v.empty() ? absl::StrCat(name, " must not be empty") : std::string();
        })
        ->group(group);
  };
  number("--devices", &o->devices, 1, 5000, "Handhelds (default 10)");
  app->add_option("--seed", o->seed, "Seed of the shift")
      ->type_name("S")
      ->capture_default_str()
      ->group("Shift");
  number("--towns", &o->towns, 1, 1000, "Towns (default: one per 20 devices)");
  number("--squad-size", &o->squad_size, 1, 100, "Devices per squad (default 10)");
  number("--cases-per-device", &o->cases_per_device, 0, 10000,
         "Cases each device records (default 10)");
  number("--no-penalty-percent", &o->no_penalty_percent, 0, 50,
         "Share of the cases closed with a no-penalty decision (Art. 33), default 20; half are "
         "ticketed");
  number("--shared-cases", &o->shared_cases, 0, 100,
         "Cases per town every device of it edits (default 2)");
  number("--evidence-kib", &o->evidence_kib, 1, 1024 * 1024,
         "Size of each evidence file, KiB (default 16)");
  number("--concurrency", &o->concurrency, 1, 1000,
         "Devices syncing at once (default: all, at most 64)");
  app->add_flag("--durable", o->durable, "fsync every device write (synchronous=FULL)")
      ->group("Shift");
  text("--server", &o->server, "ADDR", "Use a running palm-server at ADDR", "Server");
  text("--cert-dir", &o->cert_dir, "DIR",
       "Its bureau CA directory (ca.key, ca.crt): palm-sim issues device and operator "
       "certificates with it",
       "Server");
  text("--admin", &o->admin_id, "ID", "Admin officer to sign in as", "Server")
      ->capture_default_str();
  text("--admin-secret-file", &o->admin_secret_file, "FILE", "That officer's secret (first line)",
       "Server");
  text("--tls-server-name", &o->tls_server_name, "NAME", "Name on the server certificate", "Server")
      ->capture_default_str();
  app->add_flag("--insecure-loopback", o->insecure_loopback,
                "--server speaks plaintext on loopback (no TLS)")
      ->group("Server");
  text("--work-dir", &o->work_dir, "DIR",
       "Keep the device stores in DIR (default: a temp dir, removed at the end)", "Output");
  app->add_flag("--report", o->report, "Print the squad's shift report at the end")
      ->group("Output");
  app->add_flag("--json", o->json, "Print the summary as JSON on stdout")->group("Output");
  app->add_flag("--quiet", o->quiet, "No progress output")->group("Output");
  app->footer(
      "Exit status: 0 when every device synced and converged, 1 otherwise, 2 for wrong "
      "arguments.");
  return app;
}

}  // namespace

std::string UsageText() {
  Options o;
  return MakeCli(&o)->help();
}

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options o;
  auto bad = [](const std::string& why) { return absl::InvalidArgumentError(why); };
  std::unique_ptr<CLI::App> app = MakeCli(&o);
  try {
    app->parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    o.print_and_exit = app->help();
    return o;
  } catch (const CLI::CallForVersion&) {
    o.print_and_exit = absl::StrCat(app->version(), "\n");
    return o;
  } catch (const CLI::ParseError& e) {
    return bad(tools::DescribeCliError(e, *app));
  }
  o.keep = !o.work_dir.empty();
  if (o.server.empty()) {
    if (!o.cert_dir.empty() || !o.admin_secret_file.empty() || o.insecure_loopback) {
      return bad("--cert-dir, --admin-secret-file and --insecure-loopback go with --server");
    }
  } else if (!o.insecure_loopback && (o.cert_dir.empty() || o.admin_secret_file.empty())) {
    return bad("--server needs --cert-dir and --admin-secret-file (or --insecure-loopback)");
  }
  if (o.towns == 0) o.towns = std::max(1, o.devices / 20);
  if (o.towns > o.devices) return bad("--towns must not exceed --devices");
  return o;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Progress::Progress(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) == 1) {}

void Progress::Phase(const std::string& name, uint64_t total) {
  std::lock_guard<std::mutex> lock(mu_);
  name_ = name;
  total_ = total;
  done_ = 0;
  last_decile_ = -1;
  started_ms_ = SteadyMs();
  last_draw_ms_ = 0;
  active_ = true;
  if (quiet_) return;
  if (!tty_) std::cerr << "palm-sim: " << name_ << " (" << total_ << ")\n";
  Draw(true);
}

void Progress::Step(uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += n;
  Draw(false);
}

void Progress::Draw(bool force) {
  if (quiet_ || !active_) return;
  if (tty_) {
    const int64_t now = SteadyMs();
    if (!force && now - last_draw_ms_ < 100 && done_ < total_) return;
    last_draw_ms_ = now;
    constexpr int kWidth = 30;
    const int filled = total_ == 0 ? kWidth : static_cast<int>(kWidth * done_ / total_);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    std::cerr << absl::StrFormat("\r\033[K%-22s [%s] %d/%d  %.1fs", name_, bar, done_, total_,
                                 (now - started_ms_) / 1000.0)
              << std::flush;
    return;
  }
  // Plain lines: one per tenth done.
  if (total_ == 0) return;
  const int decile = static_cast<int>(10 * done_ / total_);
  if (decile != last_decile_ && done_ > 0 && decile < 10) {
    last_decile_ = decile;
    std::cerr << "palm-sim:   " << name_ << " " << done_ << "/" << total_ << "\n";
  }
}

void Progress::Done() {
  std::lock_guard<std::mutex> lock(mu_);
  if (quiet_) return;
  const double secs = (SteadyMs() - started_ms_) / 1000.0;
  if (tty_) {
    Draw(true);
    std::cerr << "\n";
    active_ = false;
  } else {
    active_ = false;
    std::cerr << absl::StrFormat("palm-sim: %s done: %d/%d in %.1fs\n", name_, done_, total_, secs);
  }
}

void Progress::Line(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  if (tty_ && !quiet_ && active_) std::cerr << "\r\033[K";
  std::cerr << "palm-sim: " << text << "\n";
  if (tty_) Draw(true);
}

}  // namespace palm::sim

namespace palm::sim {

void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  const size_t count = std::min<size_t>(n, static_cast<size_t>(std::max(1, threads)));
  for (size_t t = 0; t < count; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  }
  for (std::thread& t : pool) t.join();
}

}  // namespace palm::sim
