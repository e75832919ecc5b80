// A TCP proxy for loopback tests that breaks connections on purpose: each
// connection it accepts is forwarded to a target, and cut (or stalled) after
// a random number of bytes, counted in both directions. Deterministic for a
// seed, up to thread timing.
#ifndef PALM_TESTS_SUPPORT_FAULT_PROXY_H_
#define PALM_TESTS_SUPPORT_FAULT_PROXY_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace palm::testing {

struct FaultProxyOptions {
  // Where to forward, "127.0.0.1:PORT".
  std::string target;
  uint64_t seed = 1;
  // A connection fails after a number of bytes drawn uniformly from
  // [min_bytes, max_bytes].
  size_t min_bytes = 256;
  size_t max_bytes = 64 * 1024;
  // After this many failed connections, later ones are forwarded untouched,
  // so a test that retries is bounded.
  int max_faults = 1000;
  enum class Mode {
    // Close both sides (the peers see the connection drop).
    kDrop,
    // Keep both sides open but forward nothing more (a black hole: only a
    // deadline, a cancellation or keepalive ends the calls).
    kStall,
  };
  Mode mode = Mode::kDrop;
  // The proxy stops by itself after this long, whatever happens.
  std::chrono::seconds lifetime{300};
};

// Listens on 127.0.0.1 on a port the kernel picked. Thread-safe. The
// destructor stops it and closes every connection.
class FaultProxy {
 public:
  explicit FaultProxy(FaultProxyOptions options);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // "127.0.0.1:PORT".
  std::string address() const;
  // Connections failed so far.
  int faults() const { return faults_.load(); }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }
  // When false, new connections are forwarded untouched.
  void set_faults_enabled(bool enabled) { enabled_.store(enabled); }

 private:
  struct Conn;
  void AcceptLoop();
  void Pump(std::shared_ptr<Conn> conn, bool upstream);

  const FaultProxyOptions options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> enabled_{true};
  std::atomic<int> faults_{0};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::mt19937_64 rng_;                     // guarded by mu_
  std::vector<std::weak_ptr<Conn>> conns_;  // guarded by mu_
  std::vector<std::thread> pumps_;          // guarded by mu_
  std::thread acceptor_;
};

}  // namespace palm::testing

#endif  // PALM_TESTS_SUPPORT_FAULT_PROXY_H_
