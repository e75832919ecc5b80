#include "tools/bench/server_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <filesystem>
#include <regex>

#include "absl/strings/str_cat.h"

namespace palm::bench {

std::string PalmServerPath() {
  char self[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "palm-server";
  // <build>/tools/bench/palm-bench → <build>/server/palm-server
  std::filesystem::path build =
      std::filesystem::path(std::string(self, n)).parent_path() / ".." / "..";
  return (build / "server" / "palm-server").lexically_normal().string();
}

absl::StatusOr<std::unique_ptr<ServerChild>> ServerChild::Start(
    const std::string& data_dir, const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {PalmServerPath(), "--listen", "127.0.0.1:0",
                                   "--data-dir",     data_dir,   "--insecure-loopback",
                                   "--log-level",    "error"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return Launch(std::move(args));
}

absl::StatusOr<std::unique_ptr<ServerChild>> ServerChild::StartTls(
    const std::string& data_dir, const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {PalmServerPath(), "--listen",    "127.0.0.1:0", "--data-dir",
                                   data_dir,         "--log-level", "error"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return Launch(std::move(args));
}

absl::StatusOr<std::unique_ptr<ServerChild>> ServerChild::Launch(std::vector<std::string> args) {
  int out[2];
  if (pipe(out) != 0) return absl::InternalError("pipe failed");
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(devnull, 2);
    close(out[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  auto child = std::unique_ptr<ServerChild>(new ServerChild());
  child->pid_ = pid;
  std::string line;
  pollfd fd = {out[0], POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    if (poll(&fd, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, n);
  }
  close(out[0]);
  static const std::regex kListening(R"(listening on 127\.0\.0\.1:(\d+))");
  std::smatch match;
  if (!std::regex_search(line, match, kListening)) {
    return absl::UnavailableError(absl::StrCat(args[0], " did not start: '", line, "'"));
  }
  child->port_ = std::stoi(match[1]);
  return child;
}

ServerChild::~ServerChild() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
}

}  // namespace palm::bench
