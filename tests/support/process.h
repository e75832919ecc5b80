// Child processes for tests: run a command to completion, or run a real
// palm-server on an ephemeral loopback port.
#ifndef PALM_TESTS_SUPPORT_PROCESS_H_
#define PALM_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace palm::testing {

// Path of the palm-server binary of this build.
std::string PalmServerBinary();
// palmctl of this build: <build>/tools/palmctl/palmctl, beside
// <build>/server/palm-server (built by `ninja palmctl`).
std::string PalmctlBinary();

struct CommandResult {
  int exit_code = -1;  // -signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] with the arguments, stdin from /dev/null, and waits. Output is
// captured whole. Stops it with SIGKILL after `timeout_ms`.
CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_ms = 60000);

// A palm-server child process listening on 127.0.0.1 (never any other
// address) on a port the kernel picked. Killed with SIGKILL if still running
// at destruction.
class ServerProcess {
 public:
  // Starts palm-server with `--listen 127.0.0.1:0 --data-dir DATA_DIR` plus
  // `extra_args` (default: --insecure-loopback) and waits until it listens.
  // Throws std::runtime_error with the server's stderr if it does not start.
  ServerProcess(const std::string& data_dir,
                std::vector<std::string> extra_args = {"--insecure-loopback"});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  // "127.0.0.1:PORT".
  std::string address() const;
  pid_t pid() const { return pid_; }

  // Sends `signal_number` and waits for exit; returns the exit code, or
  // -signal when the process died of a signal.
  int Stop(int signal_number);
  // Everything the server wrote to stderr so far (its structured log).
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

}  // namespace palm::testing

#endif  // PALM_TESTS_SUPPORT_PROCESS_H_
