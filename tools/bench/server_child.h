// A palm-server child process for the benchmarks that need a real server on
// loopback (push, first sync, upload): the binary of this same build, a
// scratch data dir, 127.0.0.1 on a port the kernel picks.
#ifndef PALM_TOOLS_BENCH_SERVER_CHILD_H_
#define PALM_TOOLS_BENCH_SERVER_CHILD_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace palm::bench {

class ServerChild {
 public:
  // Starts <build>/server/palm-server (found next to this palm-bench binary)
  // with `--listen 127.0.0.1:0 --data-dir DATA_DIR --insecure-loopback
  // --log-level error` plus `extra_args`, and waits until it listens.
  static absl::StatusOr<std::unique_ptr<ServerChild>> Start(
      const std::string& data_dir, const std::vector<std::string>& extra_args = {});
  // The same without --insecure-loopback: `extra_args` must carry the TLS
  // material (--tls-cert, --tls-key, --client-ca) and, as TLS requires
  // session tokens, usually --bootstrap-admin with --bootstrap-secret-file.
  static absl::StatusOr<std::unique_ptr<ServerChild>> StartTls(
      const std::string& data_dir, const std::vector<std::string>& extra_args);
  // Stops it with SIGTERM (drain) and waits.
  ~ServerChild();

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }

 private:
  ServerChild() = default;
  static absl::StatusOr<std::unique_ptr<ServerChild>> Launch(std::vector<std::string> args);
  pid_t pid_ = -1;
  int port_ = 0;
};

// Path of the palm-server binary of the build palm-bench belongs to.
std::string PalmServerPath();

}  // namespace palm::bench

#endif  // PALM_TOOLS_BENCH_SERVER_CHILD_H_
