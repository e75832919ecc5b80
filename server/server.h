// PalmServer: the gRPC server process's core, usable in-process by tests.
#ifndef PALM_SERVER_SERVER_H_
#define PALM_SERVER_SERVER_H_

#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "server/config.h"

namespace palm::server {

// Owns the store, the services and the gRPC server. Start() returns once the
// server is listening. Shutdown() may be called from any thread, once.
class PalmServer {
 public:
  // Validates `config`, opens the store, binds the listening port and starts
  // serving. Errors name the problem in one sentence: unusable data dir,
  // port in use, missing certificate, newer store schema.
  static absl::StatusOr<std::unique_ptr<PalmServer>> Start(const ServerConfig& config);

  ~PalmServer();
  PalmServer(const PalmServer&) = delete;
  PalmServer& operator=(const PalmServer&) = delete;

  // The port actually bound (useful with port 0).
  int port() const;
  // "127.0.0.1:PORT" form of the bound address.
  std::string address() const;
  const ServerConfig& config() const;

  // Stops accepting calls, lets in-flight calls finish until `grace` has
  // passed (then cancels them), and closes the store cleanly.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  struct Impl;
  explicit PalmServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace palm::server

#endif  // PALM_SERVER_SERVER_H_
