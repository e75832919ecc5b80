#include "sync/random.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace palm::sync {
namespace {

std::string Draw(size_t size) {
  std::string out(size, '\0');
  REQUIRE(RandomBytes(reinterpret_cast<uint8_t*>(out.data()), size));
  return out;
}

TEST_CASE("random bytes are never handed out twice, across block refills", "[random]") {
  // 5,000 draws of 16 bytes run through some 300 blocks; the odd sizes
  // between them shift where each block runs short, so that many draws find
  // too few bytes left and take a fresh block.
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {
    CHECK(seen.insert(Draw(16)).second);
    Draw(static_cast<size_t>(i % 7));
  }
  // Larger requests come straight from the generator.
  CHECK(Draw(1000) != Draw(1000));
  CHECK(Draw(0).empty());
}

TEST_CASE("a forked child never hands out the bytes its parent will", "[random]") {
  Draw(8);  // this thread's block is drawn and part used before the fork
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::array<uint8_t, 48> bytes{};
    const bool ok = RandomBytes(bytes.data(), bytes.size());
    const ssize_t written = write(pipe_fds[1], bytes.data(), bytes.size());
    _exit(ok && written == static_cast<ssize_t>(bytes.size()) ? 0 : 1);
  }
  close(pipe_fds[1]);
  std::array<uint8_t, 48> child{};
  size_t got = 0;
  while (got < child.size()) {
    const ssize_t n = read(pipe_fds[0], child.data() + got, child.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(pipe_fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(got == child.size());
  std::array<uint8_t, 48> parent{};
  REQUIRE(RandomBytes(parent.data(), parent.size()));
  CHECK(parent != child);
}

}  // namespace
}  // namespace palm::sync
