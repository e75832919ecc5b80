// palmctl: the bureau's admin and squad-leader CLI. The commands live in
// cmd_*.cc and register themselves; see command.h.
#include <grpc/support/log.h>

#include "tools/palmctl/command.h"

namespace {

// gRPC's own log lines (a failed TLS handshake, a refused connection) would
// land on stderr before palmctl's one line that says the same in words
// (client_channel.h, FailRpc).
void DropGrpcLog(gpr_log_func_args*) {}

}  // namespace

int main(int argc, char** argv) {
  gpr_set_log_function(DropGrpcLog);
  return palm::palmctl::RunPalmctl(argc, argv);
}
