// palmctl squad status: each device of a squad as of its last sync
// (AdminService SquadStatus).
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "palm/v1/admin.grpc.pb.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/cmd_util.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"
#include "tools/palmctl/session.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

struct StatusOptions {
  std::string squad;
  bool json = false;
};

int RunStatus(StatusOptions options, const GlobalOptions& global) {
  auto squad = SquadOrMine(options.squad);
  if (!squad.ok()) return Fail(squad.status());
  options.squad = *squad;
  v1::SquadStatusRequest request;
  request.set_squad_id(options.squad);
  return CallAllAndPrint(
      global, options.json, "SquadStatus", &v1::AdminService::Stub::SquadStatus, request,
      [](v1::SquadStatusResponse* r) { return r->mutable_devices(); },
      [&](const v1::SquadStatusResponse& response) {
        PrintTableOrEmpty(response.devices(),
                          absl::StrCat("squad ", options.squad, " has no enrolled devices\n"),
                          {"DEVICE", "LAST SYNC", "ACKED SEQ", "PENDING MUTATIONS",
                           "PENDING UPLOADS", "TICKETS LEFT", "STATE"},
                          [](const v1::DeviceStatus& s) -> std::vector<std::string> {
                            return {s.device().device_id(),
                                    FormatUnixMs(s.last_sync_ms()),
                                    absl::StrCat(s.acknowledged_seq()),
                                    absl::StrCat(s.pending_mutations()),
                                    absl::StrCat(s.pending_uploads()),
                                    absl::StrCat(s.ticket_numbers_left()),
                                    EnumLabel(v1::DeviceSyncState_descriptor(), s.state())};
                          });
      });
}

void RegisterSquad(CommandLine& cli) {
  CLI::App* group = cli.Group("squad", "Squad leaders' view of their squad's devices");
  const GlobalOptions& global = cli.global();

  auto status = std::make_shared<StatusOptions>();
  CLI::App* status_cmd = cli.Command(
      group, "status",
      "Each device of a squad: last sync, pending mutations and uploads, ticket numbers left, "
      "state (ok / behind / never synced / revoked)",
      [status, &global] { return RunStatus(*status, global); });
  status_cmd->add_option("--squad", status->squad,
                         "Squad id (default: the signed-in squad leader's squad)");
  AddJsonFlag(status_cmd, &status->json);
  SetExamples(status_cmd, {"palmctl squad status", "palmctl squad status --squad sq-a --json"});
}

}  // namespace

PALMCTL_REGISTER_GROUP(squad, RegisterSquad);

}  // namespace palm::palmctl
