// The palm-server child the push, first-sync and upload benchmarks run
// against (tools/common/server_child.h), started the way they need it.
#ifndef PALM_TOOLS_BENCH_SERVER_CHILD_H_
#define PALM_TOOLS_BENCH_SERVER_CHILD_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/common/server_child.h"

namespace palm::bench {

using tools::PalmServerPath;
using tools::ServerChild;

// Plaintext on loopback: `--data-dir DATA_DIR --insecure-loopback
// --log-level error` plus `extra_args`.
absl::StatusOr<std::unique_ptr<ServerChild>> StartServer(
    const std::string& data_dir, const std::vector<std::string>& extra_args = {});

// Mutual TLS: `--data-dir DATA_DIR --log-level error` plus `extra_args`,
// which must carry --tls-cert, --tls-key, --client-ca and, as TLS requires
// session tokens, usually --bootstrap-admin with --bootstrap-secret-file.
absl::StatusOr<std::unique_ptr<ServerChild>> StartTlsServer(
    const std::string& data_dir, const std::vector<std::string>& extra_args);

}  // namespace palm::bench

#endif  // PALM_TOOLS_BENCH_SERVER_CHILD_H_
