#include "tools/bench/server_child.h"

namespace palm::bench {
namespace {

absl::StatusOr<std::unique_ptr<ServerChild>> StartWith(const std::string& data_dir,
                                                       std::vector<std::string> args,
                                                       const std::vector<std::string>& extra) {
  std::vector<std::string> all = {"--data-dir", data_dir, "--log-level", "error"};
  all.insert(all.end(), args.begin(), args.end());
  all.insert(all.end(), extra.begin(), extra.end());
  return ServerChild::Start(all);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerChild>> StartServer(
    const std::string& data_dir, const std::vector<std::string>& extra_args) {
  return StartWith(data_dir, {"--insecure-loopback"}, extra_args);
}

absl::StatusOr<std::unique_ptr<ServerChild>> StartTlsServer(
    const std::string& data_dir, const std::vector<std::string>& extra_args) {
  return StartWith(data_dir, {}, extra_args);
}

}  // namespace palm::bench
