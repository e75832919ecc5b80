// This build's palm-server as a child process, for the tools that need a real
// server on loopback (palm-sim, palm-bench): 127.0.0.1 on a port the kernel
// picks, never any other address.
#ifndef PALM_TOOLS_COMMON_SERVER_CHILD_H_
#define PALM_TOOLS_COMMON_SERVER_CHILD_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace palm::tools {

// <build>/server/palm-server, found from this program's own path
// (<build>/tools/<tool>/<binary>).
std::string PalmServerPath();

// Owns the child; the destructor stops it with SIGTERM (drain) and waits.
class ServerChild {
 public:
  // Starts PalmServerPath() with `--listen 127.0.0.1:0` followed by `args`
  // (data dir, TLS material or --insecure-loopback, ...), its stderr (the
  // structured log) to `log_path` or discarded when empty, and waits up to
  // 60 s until it prints that it listens. NOT_FOUND when the binary is
  // missing; UNAVAILABLE when it does not start.
  static absl::StatusOr<std::unique_ptr<ServerChild>> Start(const std::vector<std::string>& args,
                                                            const std::string& log_path = "");
  ~ServerChild();
  ServerChild(const ServerChild&) = delete;
  ServerChild& operator=(const ServerChild&) = delete;

  // "127.0.0.1:PORT".
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }

 private:
  ServerChild() = default;
  pid_t pid_ = -1;
  // The child's stdout, kept open so that later output never hits a closed pipe.
  int out_fd_ = -1;
  int port_ = 0;
};

}  // namespace palm::tools

#endif  // PALM_TOOLS_COMMON_SERVER_CHILD_H_
