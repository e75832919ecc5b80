// palm-server: the Palm sync server. See `palm-server --help`.
#include <signal.h>
#include <sqlite3.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "server/log.h"
#include "server/server.h"

namespace {

// Exit codes: 0 clean stop, 1 could not start, 2 bad invocation.
constexpr int kExitStartFailed = 1;
constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  using palm::server::PalmServer;
  // Before SQLite initialises: no process-wide memory statistics, whose
  // global mutex every sqlite3_malloc would otherwise take (mutex lock and
  // unlock were 6% of the push profile with them, under 1% without;
  // docs/benchmarks.md). palm-server never reads them.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = palm::server::ParseServerArgs(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "palm-server: %s\n", std::string(parsed.status().message()).c_str());
    return kExitUsage;
  }
  if (parsed->help) {
    std::cout << parsed->text;
    return 0;
  }

  // Block the stop signals in every thread (gRPC's included); the main
  // thread takes them synchronously with sigwait and drains.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto server = PalmServer::Start(parsed->config);
  if (!server.ok()) {
    std::fprintf(stderr, "palm-server: %s\n", std::string(server.status().message()).c_str());
    return kExitStartFailed;
  }
  const auto& config = (*server)->config();
  std::printf("palm-server listening on %s (%s), store %s/palm.db\n", (*server)->address().c_str(),
              config.tls_enabled() ? "mutual TLS" : "plaintext, loopback only",
              config.data_dir.c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  palm::server::Log(
      palm::server::LogLevel::kInfo,
      {{"event", "draining"}, {"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*server)->Shutdown(std::chrono::milliseconds(config.drain_timeout_ms));
  server->reset();
  return 0;
}
