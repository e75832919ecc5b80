#include "tools/common/server_child.h"

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

namespace palm::tools {

std::string PalmServerPath() {
  char self[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "palm-server";
  std::filesystem::path build =
      std::filesystem::path(std::string(self, n)).parent_path() / ".." / "..";
  return (build / "server" / "palm-server").lexically_normal().string();
}

absl::StatusOr<std::unique_ptr<ServerChild>> ServerChild::Start(
    const std::vector<std::string>& extra_args, const std::string& log_path) {
  std::vector<std::string> args = {PalmServerPath(), "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  if (!std::filesystem::exists(args[0])) {
    return absl::NotFoundError(
        absl::StrCat("palm-server not found at ", args[0], " (build it: ninja palm-server)"));
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  const std::string log_file = log_path.empty() ? "/dev/null" : log_path;
  const int log = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log < 0) return absl::InternalError(absl::StrCat("cannot create ", log_file));
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(log, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  close(log);
  auto child = std::unique_ptr<ServerChild>(new ServerChild());
  child->pid_ = pid;
  child->out_fd_ = out[0];
  std::string line;
  pollfd fd = {out[0], POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    if (poll(&fd, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, n);
  }
  static const std::regex kListening(R"(listening on 127\.0\.0\.1:(\d+))");
  std::smatch match;
  if (!std::regex_search(line, match, kListening)) {
    return absl::UnavailableError(
        absl::StrCat(args[0], " did not start",
                     log_path.empty() ? "" : absl::StrCat(" (its log: ", log_path, ")")));
  }
  child->port_ = std::stoi(match[1]);
  return child;
}

ServerChild::~ServerChild() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
}

}  // namespace palm::tools
