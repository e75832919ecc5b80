// palmctl conflicts list|show|resolve: values that lost a last-writer-wins
// merge, kept for the squad leader (AdminService ListConflicts, GetConflict,
// ResolveConflict).
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

std::string FieldLabel(const v1::ConflictLoss& loss) {
  std::string field = EnumLabel(v1::CaseField_descriptor(), loss.field());
  return loss.party_id().empty() ? field : absl::StrCat(field, " (party ", loss.party_id(), ")");
}

std::string CaseRef(const v1::ConflictRecord& c) {
  return c.case_number().empty() ? c.loss().case_id() : c.case_number();
}

std::string ResolutionText(const v1::ConflictRecord& c) {
  if (!c.resolved()) return "open";
  return absl::StrCat("resolved by ", c.resolved_by().empty() ? "?" : c.resolved_by(),
                      c.resolution().empty() ? "" : absl::StrCat(": ", c.resolution()));
}

struct ListOptions {
  std::string squad;
  std::string case_id;
  bool all = false;
  bool json = false;
};

int RunList(const ListOptions& options, const GlobalOptions& global) {
  v1::ListConflictsRequest request;
  request.set_squad_id(options.squad);
  request.set_case_id(options.case_id);
  request.set_include_resolved(options.all);
  return CallAllAndPrint(
      global, options.json, "ListConflicts", &v1::AdminService::Stub::ListConflicts, request,
      [](v1::ListConflictsResponse* r) { return r->mutable_conflicts(); },
      [&](const v1::ListConflictsResponse& response) {
        PrintTableOrEmpty(response.conflicts(),
                          options.all ? "no conflicts on record\n" : "no open conflicts\n",
                          {"CONFLICT", "CASE", "FIELD", "LOSING VALUE", "LOSING DEVICE",
                           "KEPT VALUE", "KEPT DEVICE", "RECORDED", "STATE"},
                          [](const v1::ConflictRecord& c) -> std::vector<std::string> {
                            const v1::ConflictLoss& loss = c.loss();
                            return {loss.conflict_id(),
                                    CaseRef(c),
                                    FieldLabel(loss),
                                    loss.losing_value(),
                                    loss.losing_device_id(),
                                    loss.winning_value(),
                                    loss.winning_device_id(),
                                    FormatUnixMs(c.recorded_at_ms()),
                                    c.resolved() ? "resolved" : "open"};
                          });
      });
}

struct ShowOptions {
  std::string conflict_id;
  bool json = false;
};

int RunShow(const ShowOptions& options, const GlobalOptions& global) {
  v1::GetConflictRequest request;
  request.set_conflict_id(options.conflict_id);
  return CallAndPrint(
      global, options.json, "GetConflict", &v1::AdminService::Stub::GetConflict, request,
      [](const v1::ConflictRecord& c) {
        const v1::ConflictLoss& loss = c.loss();
        std::cout << KeyValueLines({
            {"conflict", loss.conflict_id()},
            {"case", c.case_number().empty()
                         ? loss.case_id()
                         : absl::StrCat(c.case_number(), " (", loss.case_id(), ")")},
            {"field", FieldLabel(loss)},
            {"losing value", loss.losing_value()},
            {"losing write",
             absl::StrCat("device ", loss.losing_device_id(), ", HLC ", loss.losing_hlc().wall_ms(),
                          ".", loss.losing_hlc().logical(), ", mutation ", c.mutation_id())},
            {"kept value", loss.winning_value()},
            {"kept write",
             absl::StrCat("device ", loss.winning_device_id(), ", HLC ",
                          loss.winning_hlc().wall_ms(), ".", loss.winning_hlc().logical())},
            {"recorded", FormatUnixMs(c.recorded_at_ms())},
            {"state", ResolutionText(c)},
        });
      });
}

struct ResolveOptions {
  std::string conflict_id;
  bool restore_losing = false;
  std::string note;
};

int RunResolve(const ResolveOptions& options, const GlobalOptions& global) {
  v1::ResolveConflictRequest request;
  request.set_conflict_id(options.conflict_id);
  request.set_restore_losing_value(options.restore_losing);
  request.set_note(options.note);
  v1::ConflictRecord c;
  if (int code = CallUnary(global, "ResolveConflict", &v1::AdminService::Stub::ResolveConflict,
                           request, &c);
      code != kExitOk) {
    return code;
  }
  std::cout << "resolved conflict " << options.conflict_id << ": "
            << (options.restore_losing
                    ? absl::StrCat("restored the losing value \"", c.loss().losing_value(), "\"")
                    : absl::StrCat("kept \"", c.loss().winning_value(), "\""))
            << "\n";
  return kExitOk;
}

void RegisterConflicts(CommandLine& cli) {
  CLI::App* group =
      cli.Group("conflicts", "Values that lost a last-writer-wins merge, kept for review");
  const GlobalOptions& global = cli.global();

  auto list = std::make_shared<ListOptions>();
  CLI::App* list_cmd = cli.Command(group, "list", "List open conflicts (all with --all)",
                                   [list, &global] { return RunList(*list, global); });
  list_cmd->add_option("--squad", list->squad, "Only this squad's cases");
  list_cmd->add_option("--case", list->case_id, "Only this case (id)");
  list_cmd->add_flag("--all", list->all, "Include resolved conflicts");
  AddJsonFlag(list_cmd, &list->json);

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_cmd = cli.Command(group, "show", "Show one conflict",
                                   [show, &global] { return RunShow(*show, global); });
  show_cmd->add_option("id", show->conflict_id, "Conflict id")->required();
  AddJsonFlag(show_cmd, &show->json);

  auto resolve = std::make_shared<ResolveOptions>();
  CLI::App* resolve_cmd = cli.Command(
      group, "resolve", "Close a conflict: keep the winner, or re-apply the losing value",
      [resolve, &global] { return RunResolve(*resolve, global); });
  resolve_cmd->add_option("id", resolve->conflict_id, "Conflict id")->required();
  resolve_cmd->add_flag("--restore-losing", resolve->restore_losing,
                        "Re-apply the losing value as a new write");
  resolve_cmd->add_option("--note", resolve->note, "Why (kept with the conflict)")->required();
}

}  // namespace

PALMCTL_REGISTER_GROUP(conflicts, RegisterConflicts);

}  // namespace palm::palmctl
