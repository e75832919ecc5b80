// palm-sim's command line, progress output and clocks.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/sim/sim.h"

namespace palm::sim {

const char* UsageText() {
  return R"(usage: palm-sim [flags]

Simulates handheld devices (each a real palm::Client on its own SQLite file)
working a seeded shift offline, then syncing at shift end all at once; checks
that every device converged with the server. Without --server it starts this
build's palm-server on 127.0.0.1 with a temporary store and a development
bureau PKI (mutual TLS, officer sign-in).

Shift:
  --devices N            handhelds (default 10)
  --seed S               seed of the shift (default 1)
  --towns N              towns (default: one per 20 devices)
  --squad-size N         devices per squad (default 10)
  --cases-per-device N   cases each device records (default 10)
  --no-penalty-percent P share of the cases closed with a no-penalty decision
                         (Art. 33), 0..50 (default 20); half are ticketed
  --shared-cases N       cases per town every device of the town edits (2)
  --evidence-kib N       size of each evidence file in KiB (default 16)
  --concurrency N        devices syncing at once (default: all, at most 64)
  --durable              fsync every device write (synchronous=FULL)
Server:
  --server ADDR          use a running palm-server at ADDR
  --cert-dir DIR         its bureau CA directory (ca.key, ca.crt): palm-sim
                         issues device and operator certificates with it
  --admin ID             admin officer to sign in as (default admin)
  --admin-secret-file F  that officer's secret (first line)
  --tls-server-name N    name on the server certificate (default localhost)
  --insecure-loopback    --server speaks plaintext on loopback (no TLS)
Output:
  --work-dir DIR         keep the device stores in DIR (default: a temp dir,
                         removed at the end)
  --report               print the squad's shift report at the end
  --json                 print the summary as JSON on stdout
  --quiet                no progress output
  --help                 this text

Exit status: 0 when every device synced and converged, 1 otherwise, 2 for
wrong arguments.
)";
}

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options o;
  auto bad = [](const std::string& why) { return absl::InvalidArgumentError(why); };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (i + 1 >= argc) return bad(absl::StrCat(arg, " needs a value"));
      return std::string(argv[++i]);
    };
    auto number = [&](int* out, int min, int max) -> absl::Status {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      int n = 0;
      if (!absl::SimpleAtoi(*v, &n) || n < min || n > max) {
        return bad(absl::StrCat(arg, " must be a whole number from ", min, " to ", max, ", not '",
                                *v, "'"));
      }
      *out = n;
      return absl::OkStatus();
    };
    auto text = [&](std::string* out) -> absl::Status {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      if (v->empty()) return bad(absl::StrCat(arg, " must not be empty"));
      *out = *v;
      return absl::OkStatus();
    };
    absl::Status s;
    if (arg == "--help" || arg == "-h") return absl::NotFoundError("help");
    if (arg == "--devices") {
      s = number(&o.devices, 1, 5000);
    } else if (arg == "--seed") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      if (!absl::SimpleAtoi(*v, &o.seed))
        return bad(absl::StrCat("--seed must be a number, not '", *v, "'"));
    } else if (arg == "--towns") {
      s = number(&o.towns, 1, 1000);
    } else if (arg == "--squad-size") {
      s = number(&o.squad_size, 1, 100);
    } else if (arg == "--cases-per-device") {
      s = number(&o.cases_per_device, 0, 10000);
    } else if (arg == "--no-penalty-percent") {
      s = number(&o.no_penalty_percent, 0, 50);
    } else if (arg == "--shared-cases") {
      s = number(&o.shared_cases, 0, 100);
    } else if (arg == "--evidence-kib") {
      s = number(&o.evidence_kib, 1, 1024 * 1024);
    } else if (arg == "--concurrency") {
      s = number(&o.concurrency, 1, 1000);
    } else if (arg == "--durable") {
      o.durable = true;
    } else if (arg == "--server") {
      s = text(&o.server);
    } else if (arg == "--cert-dir") {
      s = text(&o.cert_dir);
    } else if (arg == "--admin") {
      s = text(&o.admin_id);
    } else if (arg == "--admin-secret-file") {
      s = text(&o.admin_secret_file);
    } else if (arg == "--tls-server-name") {
      s = text(&o.tls_server_name);
    } else if (arg == "--insecure-loopback") {
      o.insecure_loopback = true;
    } else if (arg == "--work-dir") {
      s = text(&o.work_dir);
      o.keep = true;
    } else if (arg == "--report") {
      o.report = true;
    } else if (arg == "--json") {
      o.json = true;
    } else if (arg == "--quiet") {
      o.quiet = true;
    } else {
      return bad(absl::StrCat("unknown argument '", arg, "'"));
    }
    if (!s.ok()) return s;
  }
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
