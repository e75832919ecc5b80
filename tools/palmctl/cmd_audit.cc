// palmctl audit verify: checks the server's hash-chained audit log
// (AdminService VerifyAudit). Exit 1 when the log is broken, naming the
// first broken entry, so that a cron job notices.
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "palm/v1/admin.grpc.pb.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

struct VerifyOptions {
  bool json = false;
};

int RunVerify(const VerifyOptions& options, const GlobalOptions& global) {
  v1::VerifyAuditRequest request;
  v1::VerifyAuditResponse response;
  if (int code = CallUnary(global, "VerifyAudit", &v1::AdminService::Stub::VerifyAudit, request,
                           &response);
      code != kExitOk) {
    return code;
  }
  // With --json the verdict is on stdout too; the exit code says it either way.
  if (options.json) PrintProtoJson(response);
  if (!response.ok()) {
    return Fail(absl::StrCat("the audit log is broken at entry ", response.first_bad_entry(),
                             " of ", response.entries(), ": ", response.problem()));
  }
  if (!options.json) {
    std::cout << "the audit log is intact: " << response.entries() << " entries verified\n";
  }
  return kExitOk;
}

void RegisterAudit(CommandLine& cli) {
  CLI::App* group = cli.Group("audit", "The tamper-evident audit log");
  const GlobalOptions& global = cli.global();

  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* verify_cmd =
      cli.Command(group, "verify", "Verify the hash chain of the whole audit log",
                  [verify, &global] { return RunVerify(*verify, global); });
  AddJsonFlag(verify_cmd, &verify->json);
}

}  // namespace

PALMCTL_REGISTER_GROUP(audit, RegisterAudit);

}  // namespace palm::palmctl
