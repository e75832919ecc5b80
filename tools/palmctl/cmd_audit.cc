// palmctl audit verify|checkpoint: checks the server's hash-chained audit
// log (AdminService VerifyAudit) against its newest signed checkpoint and,
// with --checkpoint, against one the user kept; saves a fresh checkpoint
// (GetAuditCheckpoint) to keep. Exit 1 when the log is broken, cut or
// rewritten, naming what was found, so that a cron job notices.
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "palm/v1/admin.grpc.pb.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/cmd_log.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

struct VerifyOptions {
  bool json = false;
  std::string checkpoint;
};

struct CheckpointOptions {
  bool json = false;
  std::string out;
};

int RunVerify(const VerifyOptions& options, const GlobalOptions& global) {
  v1::VerifyAuditRequest request;
  if (!options.checkpoint.empty()) {
    if (absl::Status s =
            ReadMessageFile(options.checkpoint, "audit checkpoint", request.mutable_checkpoint());
        !s.ok()) {
      return Fail(s);
    }
  }
  v1::VerifyAuditResponse response;
  if (int code = CallUnary(global, "VerifyAudit", &v1::AdminService::Stub::VerifyAudit, request,
                           &response);
      code != kExitOk) {
    return code;
  }
  // With --json the verdict is on stdout too; the exit code says it either way.
  if (options.json) PrintProtoJson(response);
  if (request.has_checkpoint() && !response.kept_checkpoint_checked() && response.ok()) {
    // A server older than audit checkpoints ignores the field.
    return Fail("the server did not check the kept checkpoint: it predates audit checkpoints");
  }
  if (!response.ok()) {
    if (response.finding() == v1::AUDIT_FINDING_CUT ||
        response.finding() == v1::AUDIT_FINDING_REWRITTEN) {
      return Fail(response.problem());
    }
    return Fail(absl::StrCat("the audit log is broken at entry ", response.first_bad_entry(),
                             " of ", response.entries(), ": ", response.problem()));
  }
  if (!options.json) {
    std::cout << "the audit log is intact: " << response.entries() << " entries verified\n";
    if (response.has_stored_checkpoint()) {
      std::cout << "it agrees with the stored checkpoint of entry "
                << response.stored_checkpoint().entries() << " ("
                << FormatUnixMs(response.stored_checkpoint().timestamp_ms()) << ")";
    } else {
      std::cout << "no signed checkpoint is stored yet";
    }
    if (response.kept_checkpoint_checked()) {
      std::cout << " and with the kept checkpoint of entry " << request.checkpoint().entries()
                << " (" << FormatUnixMs(request.checkpoint().timestamp_ms()) << ")";
    }
    std::cout << "\n";
  }
  return kExitOk;
}

int RunCheckpoint(const CheckpointOptions& options, const GlobalOptions& global) {
  v1::GetAuditCheckpointRequest request;
  v1::GetAuditCheckpointResponse response;
  if (int code = CallUnary(global, "GetAuditCheckpoint",
                           &v1::AdminService::Stub::GetAuditCheckpoint, request, &response);
      code != kExitOk) {
    return code;
  }
  if (!options.out.empty()) {
    if (absl::Status s = WriteFile(options.out, ProtoToJson(response.checkpoint()) + "\n");
        !s.ok()) {
      return Fail(s);
    }
  }
  if (options.json) {
    PrintProtoJson(response);
    return kExitOk;
  }
  std::cout << "checkpoint of audit entry " << response.checkpoint().entries() << ", signed "
            << FormatUnixMs(response.checkpoint().timestamp_ms()) << " by "
            << response.checkpoint().origin();
  if (!options.out.empty()) std::cout << ", saved to " << options.out;
  std::cout << "\n";
  return kExitOk;
}

void RegisterAudit(CommandLine& cli) {
  CLI::App* group = cli.Group("audit", "The tamper-evident audit log");
  const GlobalOptions& global = cli.global();

  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* verify_cmd =
      cli.Command(group, "verify",
                  "Verify the hash chain of the whole audit log against its signed checkpoints",
                  [verify, &global] { return RunVerify(*verify, global); });
  verify_cmd->add_option("--checkpoint", verify->checkpoint,
                         "Also check against this kept checkpoint (palmctl audit checkpoint)");
  AddJsonFlag(verify_cmd, &verify->json);
  SetExamples(verify_cmd,
              {"palmctl audit verify", "palmctl audit verify --checkpoint audit-0301.json"});

  auto checkpoint = std::make_shared<CheckpointOptions>();
  CLI::App* checkpoint_cmd =
      cli.Command(group, "checkpoint", "Get a signed checkpoint of the audit log to keep",
                  [checkpoint, &global] { return RunCheckpoint(*checkpoint, global); });
  checkpoint_cmd->add_option("--out", checkpoint->out, "Save the checkpoint (JSON) to this file");
  AddJsonFlag(checkpoint_cmd, &checkpoint->json);
}

}  // namespace

PALMCTL_REGISTER_GROUP(audit, RegisterAudit);

}  // namespace palm::palmctl
