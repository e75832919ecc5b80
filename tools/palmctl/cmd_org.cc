// palmctl town add|list, squad add: the organisation's towns (镇/街道) and
// squads (中队) with their display names (AdminService PutTown, PutSquad,
// ListOrganisation). Enrolment and `officer add` create a missing town or
// squad named by its id; these commands give it the name people read.
#include <iostream>
#include <map>
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

struct TownOptions {
  std::string id;
  std::string name;
  bool json = false;
};

int RunTownAdd(const TownOptions& options, const GlobalOptions& global) {
  v1::PutTownRequest request;
  request.mutable_town()->set_town_id(options.id);
  request.mutable_town()->set_name(options.name);
  return CallAndPrint(global, options.json, "PutTown", &v1::AdminService::Stub::PutTown, request,
                      [](const v1::PutTownResponse& response) {
                        std::cout << (response.created() ? "added town " : "renamed town ")
                                  << response.town().town_id() << " (" << response.town().name()
                                  << ")\n";
                      });
}

struct SquadOptions {
  std::string id;
  std::string town;
  std::string name;
  bool json = false;
};

int RunSquadAdd(const SquadOptions& options, const GlobalOptions& global) {
  v1::PutSquadRequest request;
  request.mutable_squad()->set_squad_id(options.id);
  request.mutable_squad()->set_town_id(options.town);
  request.mutable_squad()->set_name(options.name);
  return CallAndPrint(global, options.json, "PutSquad", &v1::AdminService::Stub::PutSquad, request,
                      [](const v1::PutSquadResponse& response) {
                        std::cout << (response.created() ? "added squad " : "renamed squad ")
                                  << response.squad().squad_id() << " (" << response.squad().name()
                                  << ") of town " << response.squad().town_id() << "\n";
                      });
}

struct ListOptions {
  bool json = false;
};

int RunTownList(const ListOptions& options, const GlobalOptions& global) {
  return CallAndPrint(global, options.json, "ListOrganisation",
                      &v1::AdminService::Stub::ListOrganisation, v1::ListOrganisationRequest(),
                      [](const v1::ListOrganisationResponse& response) {
                        // One row per squad, and one for each town without a squad.
                        std::map<std::string, int> squads_of;
                        for (const v1::Squad& s : response.squads()) ++squads_of[s.town_id()];
                        if (response.towns().empty()) {
                          std::cout << "no towns on record\n";
                          return;
                        }
                        TextTable table({"TOWN", "TOWN NAME", "SQUAD", "SQUAD NAME"});
                        for (const v1::Town& t : response.towns()) {
                          if (squads_of[t.town_id()] == 0)
                            table.AddRow({t.town_id(), t.name(), "", ""});
                          for (const v1::Squad& s : response.squads()) {
                            if (s.town_id() == t.town_id()) {
                              table.AddRow({t.town_id(), t.name(), s.squad_id(), s.name()});
                            }
                          }
                        }
                        std::cout << table.Render();
                      });
}

void RegisterOrganisation(CommandLine& cli) {
  const GlobalOptions& global = cli.global();

  CLI::App* town = cli.Group("town", "Towns and streets (镇/街道) and their squads");
  auto add = std::make_shared<TownOptions>();
  CLI::App* add_cmd = cli.Command(town, "add", "Add a town, or rename one (admin only)",
                                  [add, &global] { return RunTownAdd(*add, global); });
  add_cmd->add_option("--id", add->id, "Town id")->required();
  add_cmd->add_option("--name", add->name, "Display name, e.g. 梧桐街道")->required();
  AddJsonFlag(add_cmd, &add->json);
  SetExamples(add_cmd, {"palmctl town add --id wutong --name 梧桐街道"});

  auto list = std::make_shared<ListOptions>();
  CLI::App* list_cmd = cli.Command(town, "list", "Every town with its squads",
                                   [list, &global] { return RunTownList(*list, global); });
  AddJsonFlag(list_cmd, &list->json);

  CLI::App* squad = cli.Group("squad", "Squad leaders' view of their squad's devices");
  auto squad_add = std::make_shared<SquadOptions>();
  CLI::App* squad_cmd =
      cli.Command(squad, "add", "Add a squad to a town, or rename one (admin only)",
                  [squad_add, &global] { return RunSquadAdd(*squad_add, global); });
  squad_cmd->add_option("--id", squad_add->id, "Squad id")->required();
  squad_cmd->add_option("--town", squad_add->town, "The town it belongs to")->required();
  squad_cmd->add_option("--name", squad_add->name, "Display name, e.g. 梧桐中队")->required();
  AddJsonFlag(squad_cmd, &squad_add->json);
  SetExamples(squad_cmd, {"palmctl squad add --id wutong-1 --town wutong --name 梧桐中队"});
}

}  // namespace

PALMCTL_REGISTER_GROUP(organisation, RegisterOrganisation);

}  // namespace palm::palmctl
