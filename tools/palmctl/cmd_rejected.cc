// palmctl rejected list|show|dismiss|resubmit: device writes the server
// refused, kept so that nothing an officer recorded is lost (AdminService
// ListRejected, GetRejected, DismissRejected, ResubmitRejected).
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "palm/v1/admin.grpc.pb.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/cmd_util.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

std::string ReasonText(const v1::MutationResult& result) {
  return absl::StrCat(EnumLabel(v1::ReasonCode_descriptor(), result.reason()), ": ",
                      result.message());
}

std::string StateText(const v1::RejectedMutation& r) {
  if (!r.dismissed()) return "open";
  return absl::StrCat("dismissed by ", r.dismissed_by().empty() ? "?" : r.dismissed_by(),
                      r.note().empty() ? "" : absl::StrCat(": ", r.note()));
}

struct ListOptions {
  std::string squad;
  bool all = false;
  bool json = false;
};

int RunList(const ListOptions& options, const GlobalOptions& global) {
  v1::ListRejectedRequest request;
  request.set_squad_id(options.squad);
  request.set_include_dismissed(options.all);
  return CallAllAndPrint(
      global, options.json, "ListRejected", &v1::AdminService::Stub::ListRejected, request,
      [](v1::ListRejectedResponse* r) { return r->mutable_rejected(); },
      [&](const v1::ListRejectedResponse& response) {
        PrintTableOrEmpty(
            response.rejected(),
            options.all ? "no rejected mutations on record\n" : "no open rejected mutations\n",
            {"MUTATION", "DEVICE", "SEQ", "OPERATION", "CASE", "REASON", "RECORDED", "STATE"},
            [](const v1::RejectedMutation& r) -> std::vector<std::string> {
              const v1::Mutation& m = r.mutation();
              return {m.mutation_id(),
                      m.device_id(),
                      absl::StrCat(m.device_seq()),
                      MutationOperation(m),
                      MutationCaseId(m),
                      ReasonText(r.result()),
                      FormatUnixMs(r.recorded_at_ms()),
                      r.dismissed() ? "dismissed" : "open"};
            });
      });
}

struct ShowOptions {
  std::string mutation_id;
  bool json = false;
};

int RunShow(const ShowOptions& options, const GlobalOptions& global) {
  v1::GetRejectedRequest request;
  request.set_mutation_id(options.mutation_id);
  return CallAndPrint(global, options.json, "GetRejected", &v1::AdminService::Stub::GetRejected,
                      request, [](const v1::RejectedMutation& r) {
                        const v1::Mutation& m = r.mutation();
                        std::cout << KeyValueLines({
                            {"mutation", m.mutation_id()},
                            {"device", absl::StrCat(m.device_id(), ", seq ", m.device_seq())},
                            {"officer", m.officer_id()},
                            {"written", FormatUnixMs(m.hlc().wall_ms())},
                            {"operation", MutationOperation(m)},
                            {"case", MutationCaseId(m)},
                            {"reason", ReasonText(r.result())},
                            {"recorded", FormatUnixMs(r.recorded_at_ms())},
                            {"state", StateText(r)},
                        });
                        // What the officer recorded, in full: the squad leader decides on it.
                        std::cout << "content:\n" << ProtoToJson(m) << "\n";
                      });
}

struct DismissOptions {
  std::string mutation_id;
  std::string note;
};

int RunDismiss(const DismissOptions& options, const GlobalOptions& global) {
  v1::DismissRejectedRequest request;
  request.set_mutation_id(options.mutation_id);
  request.set_note(options.note);
  v1::RejectedMutation r;
  if (int code = CallUnary(global, "DismissRejected", &v1::AdminService::Stub::DismissRejected,
                           request, &r);
      code != kExitOk) {
    return code;
  }
  std::cout << "dismissed rejected mutation " << options.mutation_id << ": " << options.note
            << "\n";
  return kExitOk;
}

struct ResubmitOptions {
  std::string mutation_id;
  bool json = false;
};

int RunResubmit(const ResubmitOptions& options, const GlobalOptions& global) {
  v1::ResubmitRejectedRequest request;
  request.set_mutation_id(options.mutation_id);
  // Still rejected is an answer, not a failure of palmctl: exit 0.
  return CallAndPrint(
      global, options.json, "ResubmitRejected", &v1::AdminService::Stub::ResubmitRejected, request,
      [&](const v1::ResubmitRejectedResponse& response) {
        const v1::MutationResult& result = response.result();
        std::cout << "resubmitted mutation " << options.mutation_id << ": "
                  << EnumLabel(v1::Outcome_descriptor(), result.outcome());
        if (result.outcome() == v1::OUTCOME_REJECTED)
          std::cout << " again (" << ReasonText(result) << ")";
        if (result.conflicts_size() > 0) {
          std::cout << ", " << result.conflicts_size() << " value(s) lost to newer writes";
        }
        std::cout << "\n";
      });
}

void RegisterRejected(CommandLine& cli) {
  CLI::App* group =
      cli.Group("rejected", "Device writes the server refused, kept for the squad leader");
  const GlobalOptions& global = cli.global();

  auto list = std::make_shared<ListOptions>();
  CLI::App* list_cmd = cli.Command(group, "list", "List open rejected writes (all with --all)",
                                   [list, &global] { return RunList(*list, global); });
  list_cmd->add_option("--squad", list->squad, "Only this squad's devices");
  list_cmd->add_flag("--all", list->all, "Include dismissed ones");
  AddJsonFlag(list_cmd, &list->json);

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_cmd = cli.Command(group, "show", "Show one rejected write with its content",
                                   [show, &global] { return RunShow(*show, global); });
  show_cmd->add_option("mutation_id", show->mutation_id, "Mutation id")->required();
  AddJsonFlag(show_cmd, &show->json);

  auto dismiss = std::make_shared<DismissOptions>();
  CLI::App* dismiss_cmd =
      cli.Command(group, "dismiss", "Close a rejected write without applying it",
                  [dismiss, &global] { return RunDismiss(*dismiss, global); });
  dismiss_cmd->add_option("mutation_id", dismiss->mutation_id, "Mutation id")->required();
  dismiss_cmd->add_option("--note", dismiss->note, "Why (kept with the write)")->required();

  auto resubmit = std::make_shared<ResubmitOptions>();
  CLI::App* resubmit_cmd = cli.Command(
      group, "resubmit", "Run a rejected write again against the server's current state",
      [resubmit, &global] { return RunResubmit(*resubmit, global); });
  resubmit_cmd->add_option("mutation_id", resubmit->mutation_id, "Mutation id")->required();
  AddJsonFlag(resubmit_cmd, &resubmit->json);
}

}  // namespace

PALMCTL_REGISTER_GROUP(rejected, RegisterRejected);

}  // namespace palm::palmctl
