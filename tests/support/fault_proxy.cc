#include "support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace palm::testing {

struct FaultProxy::Conn {
  int client_fd = -1;
  int server_fd = -1;
  // Bytes forwarded before the fault; SIZE_MAX for none.
  size_t budget = SIZE_MAX;
  std::mutex mu;
  size_t passed = 0;    // guarded by mu
  bool failed = false;  // guarded by mu

  void Shutdown() {
    ::shutdown(client_fd, SHUT_RDWR);
    ::shutdown(server_fd, SHUT_RDWR);
  }
  ~Conn() {
    ::close(client_fd);
    ::close(server_fd);
  }
};

namespace {

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int ConnectTo(const std::string& target) {
  size_t colon = target.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(target.substr(colon + 1))));
  if (inet_pton(AF_INET, target.substr(0, colon).c_str(), &addr.sin_addr) != 1) return -1;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

FaultProxy::FaultProxy(FaultProxyOptions options) : options_(std::move(options)) {
  rng_.seed(options_.seed);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error(std::string("fault proxy cannot listen: ") + std::strerror(errno));
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stop_.store(true);
  acceptor_.join();
  std::vector<std::thread> pumps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& weak : conns_) {
      if (auto conn = weak.lock()) conn->Shutdown();
    }
    pumps.swap(pumps_);
  }
  for (std::thread& t : pumps) t.join();
  ::close(listen_fd_);
}

std::string FaultProxy::address() const { return "127.0.0.1:" + std::to_string(port_); }

void FaultProxy::AcceptLoop() {
  const auto until = std::chrono::steady_clock::now() + options_.lifetime;
  while (!stop_.load() && std::chrono::steady_clock::now() < until) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int server = ConnectTo(options_.target);
    if (server < 0) {
      ::close(client);
      continue;
    }
    auto conn = std::make_shared<Conn>();
    conn->client_fd = client;
    conn->server_fd = server;
    ++connections_;
    std::lock_guard<std::mutex> lock(mu_);
    if (enabled_.load() && faults_.load() < options_.max_faults) {
      std::uniform_int_distribution<size_t> bytes(options_.min_bytes, options_.max_bytes);
      conn->budget = bytes(rng_);
    }
    conns_.push_back(conn);
    pumps_.emplace_back([this, conn] { Pump(conn, /*upstream=*/true); });
    pumps_.emplace_back([this, conn] { Pump(conn, /*upstream=*/false); });
  }
  // Lifetime over: end every connection too.
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& weak : conns_) {
    if (auto conn = weak.lock()) conn->Shutdown();
  }
}

void FaultProxy::Pump(std::shared_ptr<Conn> conn, bool upstream) {
  const int from = upstream ? conn->client_fd : conn->server_fd;
  const int to = upstream ? conn->server_fd : conn->client_fd;
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::recv(from, buf, sizeof buf, 0);
    if (n <= 0) break;
    size_t forward = static_cast<size_t>(n);
    bool fault = false;
    {
      std::lock_guard<std::mutex> lock(conn->mu);
      if (conn->failed) {
        if (options_.mode == FaultProxyOptions::Mode::kStall) continue;  // black hole
        break;
      }
      if (conn->budget != SIZE_MAX && conn->passed + forward > conn->budget) {
        forward = conn->budget - conn->passed;
        fault = true;
        conn->failed = true;
      }
      conn->passed += forward;
    }
    if (forward > 0 && !WriteAll(to, buf, forward)) break;
    if (fault) {
      ++faults_;
      if (options_.mode == FaultProxyOptions::Mode::kDrop) break;
    }
  }
  // A peer closed, or the connection was cut: end both sides. A stalled
  // connection stays open until a peer gives up (or the proxy stops).
  conn->Shutdown();
}

}  // namespace palm::testing
