#include "tools/palmctl/terminal.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "absl/strings/ascii.h"

namespace palm::palmctl {
namespace {

// Echo off on a terminal for as long as it lives.
class NoEcho {
 public:
  explicit NoEcho(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) return;
    struct termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    active_ = tcsetattr(fd_, TCSANOW, &quiet) == 0;
  }
  ~NoEcho() {
    if (active_) tcsetattr(fd_, TCSANOW, &saved_);
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  int fd_;
  struct termios saved_ = {};
  bool active_ = false;
};

}  // namespace

absl::StatusOr<std::string> ReadSecretLine(const std::string& prompt) {
  std::string line;
  bool read = false;
  if (isatty(STDIN_FILENO)) {
    NoEcho quiet(STDIN_FILENO);  // before the prompt: whatever follows it is not echoed
    std::cerr << prompt << std::flush;
    read = static_cast<bool>(std::getline(std::cin, line));
  } else {
    read = static_cast<bool>(std::getline(std::cin, line));
  }
  line = std::string(absl::StripTrailingAsciiWhitespace(line));
  if (!read && line.empty()) return absl::InvalidArgumentError("no secret on stdin");
  if (line.empty()) return absl::InvalidArgumentError("the secret is empty");
  return line;
}

}  // namespace palm::palmctl
