// palmctl town add|delegate|list, squad add: the organisation's towns (镇/街道) and
// squads (中队) with their display names (AdminService PutTown, PutSquad,
// ListOrganisation). Enrolment and `officer add` create a missing town or
// squad named by its id; these commands give it the name people read.
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

// The town `id` as the server holds it; its name empty when there is none.
// Returns the exit code of a failed call, else kExitOk.
int CurrentTown(const GlobalOptions& global, const std::string& id, v1::Town* town) {
  v1::ListOrganisationResponse organisation;
  if (int code = CallUnary(global, "ListOrganisation", &v1::AdminService::Stub::ListOrganisation,
                           v1::ListOrganisationRequest(), &organisation);
      code != kExitOk) {
    return code;
  }
  town->set_town_id(id);
  for (const v1::Town& t : organisation.towns()) {
    if (t.town_id() == id) *town = t;
  }
  return kExitOk;
}

int RunTownAdd(const TownOptions& options, const GlobalOptions& global) {
  v1::PutTownRequest request;
  // A rename keeps the town's delegation (PutTown replaces the whole town).
  if (int code = CurrentTown(global, options.id, request.mutable_town()); code != kExitOk) {
    return code;
  }
  request.mutable_town()->set_name(options.name);
  return CallAndPrint(global, options.json, "PutTown", &v1::AdminService::Stub::PutTown, request,
                      [](const v1::PutTownResponse& response) {
                        std::cout << (response.created() ? "added town " : "renamed town ")
                                  << response.town().town_id() << " (" << response.town().name()
                                  << ")\n";
                      });
}

struct DelegateOptions {
  std::string id;
  std::vector<std::string> matters;
  bool catalogue = false;
  bool none = false;
  bool json = false;
};

// palmctl town delegate: which matters the town may act on (Art. 24).
int RunTownDelegate(const DelegateOptions& options, const GlobalOptions& global) {
  if (static_cast<int>(!options.matters.empty()) + options.catalogue + options.none != 1) {
    std::cerr << "palmctl: give exactly one of --matters, --catalogue and --none\n";
    return kExitUsage;
  }
  v1::PutTownRequest request;
  v1::Town* town = request.mutable_town();
  if (int code = CurrentTown(global, options.id, town); code != kExitOk) return code;
  if (town->name().empty()) {
    std::cerr << "palmctl: town " << options.id << " is not on record; add it first (palmctl "
              << "town add)\n";
    return kExitFailure;
  }
  town->set_delegated(!options.none);
  town->clear_delegated_matters();
  for (const std::string& code : options.matters) town->add_delegated_matters(code);
  return CallAndPrint(global, options.json, "PutTown", &v1::AdminService::Stub::PutTown, request,
                      [](const v1::PutTownResponse& response) {
                        const v1::Town& t = response.town();
                        std::cout << "town " << t.town_id() << " (" << t.name() << ") ";
                        if (!t.delegated()) {
                          std::cout << "is not delegated: it acts on every matter\n";
                        } else if (t.delegated_matters().empty()) {
                          std::cout << "acts on the catalogue's delegated matters\n";
                        } else {
                          std::cout << "acts on " << t.delegated_matters_size()
                                    << " delegated matters: "
                                    << absl::StrJoin(t.delegated_matters(), ", ") << "\n";
                        }
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

  auto delegate = std::make_shared<DelegateOptions>();
  CLI::App* delegate_cmd =
      cli.Command(town, "delegate", "Set the matters a town may act on (赋权, Art. 24; admin only)",
                  [delegate, &global] { return RunTownDelegate(*delegate, global); });
  delegate_cmd->add_option("--id", delegate->id, "Town id")->required();
  delegate_cmd->add_option("--matters", delegate->matters, "The delegated matter codes")
      ->delimiter(',');
  delegate_cmd->add_flag("--catalogue", delegate->catalogue,
                         "Delegated: the catalogue's matters marked delegated to towns");
  delegate_cmd->add_flag("--none", delegate->none,
                         "Not delegated: a unit of the bureau, acting on every matter");
  AddJsonFlag(delegate_cmd, &delegate->json);
  SetExamples(delegate_cmd, {"palmctl town delegate --id wutong --matters SR-0101,SR-0102",
                             "palmctl town delegate --id county-1 --none"});

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
