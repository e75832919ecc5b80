// palmctl officer add|list|unlock: officers and their roles (AdminService
// AddOfficer, ListOfficers, UnlockOfficer). The initial secret is read from a file or
// stdin, never from the command line, where other users could see it.
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "palm/v1/admin.grpc.pb.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/cmd_util.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"
#include "tools/palmctl/validators.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

struct AddOptions {
  std::string id;
  std::string name;
  std::string role;
  std::string town;
  std::string squad;
  bool sworn = false;
  std::string certificate_number;
  bool legal_reviewer = false;
  std::string secret_file;
  bool secret_stdin = false;
  bool json = false;
};

// The secret in `in`, without the line end a text file or a terminal adds.
absl::StatusOr<std::string> ReadSecret(std::istream& in, absl::string_view source) {
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::string_view trimmed = secret;
  if (!absl::ConsumeSuffix(&trimmed, "\r\n")) absl::ConsumeSuffix(&trimmed, "\n");
  if (trimmed.empty()) return absl::InvalidArgumentError(absl::StrCat(source, " holds no secret"));
  return std::string(trimmed);
}

int RunAdd(const AddOptions& options, const GlobalOptions& global) {
  v1::AddOfficerRequest request;
  if (!options.secret_file.empty()) {
    std::ifstream in(options.secret_file, std::ios::binary);
    if (!in) return Fail(absl::StrCat("cannot read the secret file ", options.secret_file));
    auto secret = ReadSecret(in, options.secret_file);
    if (!secret.ok()) return Fail(secret.status());
    request.set_secret(*secret);
  } else if (options.secret_stdin) {
    auto secret = ReadSecret(std::cin, "stdin");
    if (!secret.ok()) return Fail(secret.status());
    request.set_secret(*secret);
  }
  v1::Officer* officer = request.mutable_officer();
  officer->set_officer_id(options.id);
  officer->set_name(options.name);
  officer->set_role(
      static_cast<v1::Role>(ParseEnum(v1::Role_descriptor(), options.role).value_or(0)));
  officer->set_town_id(options.town);
  officer->set_squad_id(options.squad);
  officer->set_sworn(options.sworn);
  officer->set_certificate_number(options.certificate_number);
  officer->set_legal_reviewer(options.legal_reviewer);
  return CallAndPrint(
      global, options.json, "AddOfficer", &v1::AdminService::Stub::AddOfficer, request,
      [&](const v1::AddOfficerResponse& response) {
        const v1::Officer& added = response.officer();
        std::cout << "added officer " << added.officer_id() << " (" << added.name() << ", "
                  << EnumLabel(v1::Role_descriptor(), added.role())
                  << (added.sworn() ? ", sworn" : "")
                  << (added.legal_reviewer() ? ", legal reviewer" : "") << ") to town "
                  << added.town_id()
                  << (added.squad_id().empty() ? "" : absl::StrCat(", squad ", added.squad_id()))
                  << (request.secret().empty() ? "; no secret set" : "")
                  << (added.sworn() && added.certificate_number().empty()
                          ? "; no credential number: does not count as one of the two "
                            "law-enforcement officers (Art. 42)"
                          : "")
                  << "\n";
      });
}

struct ListOptions {
  std::string town;
  std::string squad;
  bool json = false;
};

int RunList(const ListOptions& options, const GlobalOptions& global) {
  v1::ListOfficersRequest request;
  request.set_town_id(options.town);
  request.set_squad_id(options.squad);
  return CallAllAndPrint(
      global, options.json, "ListOfficers", &v1::AdminService::Stub::ListOfficers, request,
      [](v1::ListOfficersResponse* r) { return r->mutable_officers(); },
      [](const v1::ListOfficersResponse& response) {
        PrintTableOrEmpty(response.officers(), "no officers match\n",
                          {"OFFICER", "NAME", "ROLE", "SWORN", "CERTIFICATE", "REVIEWER", "TOWN",
                           "SQUAD", "ACTIVE"},
                          [](const v1::Officer& o) -> std::vector<std::string> {
                            return {o.officer_id(),
                                    o.name(),
                                    EnumLabel(v1::Role_descriptor(), o.role()),
                                    o.sworn() ? "yes" : "no",
                                    o.certificate_number(),
                                    o.legal_reviewer() ? "yes" : "no",
                                    o.town_id(),
                                    o.squad_id(),
                                    o.active() ? "yes" : "no"};
                          });
      });
}

struct UnlockOptions {
  std::string id;
  bool json = false;
};

int RunUnlock(const UnlockOptions& options, const GlobalOptions& global) {
  v1::UnlockOfficerRequest request;
  request.set_officer_id(options.id);
  return CallAndPrint(global, options.json, "UnlockOfficer", &v1::AdminService::Stub::UnlockOfficer,
                      request, [](const v1::UnlockOfficerResponse& response) {
                        if (response.was_locked()) {
                          std::cout << "unlocked officer " << response.officer_id()
                                    << " (locked until " << FormatUnixMs(response.locked_until_ms())
                                    << "); they may sign in again\n";
                        } else {
                          std::cout << "officer " << response.officer_id()
                                    << " was not locked; failed sign-ins cleared\n";
                        }
                      });
}

void RegisterOfficer(CommandLine& cli) {
  CLI::App* group = cli.Group("officer", "Officers, their roles and jurisdiction");
  const GlobalOptions& global = cli.global();

  auto add = std::make_shared<AddOptions>();
  CLI::App* add_cmd = cli.Command(group, "add", "Add an officer, or update one with the same id",
                                  [add, &global] { return RunAdd(*add, global); });
  add_cmd->add_option("--id", add->id, "Officer id")->required();
  add_cmd->add_option("--name", add->name, "Name")->required();
  add_cmd->add_option("--role", add->role, "Role")
      ->required()
      ->check(EnumValidator(v1::Role_descriptor(), "role"));
  add_cmd->add_option("--town", add->town, "Town id")->required();
  add_cmd->add_option("--squad", add->squad, "Squad id");
  CLI::Option* sworn = add_cmd->add_flag(
      "--sworn", add->sworn, "Holds an enforcement certificate (执法证); auxiliaries do not");
  add_cmd
      ->add_option("--certificate-number", add->certificate_number,
                   "Enforcement certificate number")
      ->needs(sworn);
  add_cmd->add_flag("--legal-reviewer", add->legal_reviewer,
                    "A qualified legal reviewer (法制审核人员, Art. 58)");
  CLI::Option* secret_file = add_cmd->add_option(
      "--secret-file", add->secret_file, "File holding the initial PIN/password (one line)");
  CLI::Option* secret_stdin = add_cmd->add_flag("--secret-stdin", add->secret_stdin,
                                                "Read the initial PIN/password from stdin");
  secret_file->excludes(secret_stdin);
  AddJsonFlag(add_cmd, &add->json);

  auto list = std::make_shared<ListOptions>();
  CLI::App* list_cmd = cli.Command(group, "list", "List officers",
                                   [list, &global] { return RunList(*list, global); });
  list_cmd->add_option("--town", list->town, "Only this town's officers");
  list_cmd->add_option("--squad", list->squad, "Only this squad's officers");
  AddJsonFlag(list_cmd, &list->json);

  auto unlock = std::make_shared<UnlockOptions>();
  CLI::App* unlock_cmd =
      cli.Command(group, "unlock",
                  "Lift the sign-in lock of an officer locked out by wrong secrets (admin only)",
                  [unlock, &global] { return RunUnlock(*unlock, global); });
  unlock_cmd->add_option("OFFICER", unlock->id, "Officer id")->required();
  AddJsonFlag(unlock_cmd, &unlock->json);
  SetExamples(unlock_cmd, {"palmctl officer unlock officer-7"});
}

}  // namespace

PALMCTL_REGISTER_GROUP(officer, RegisterOfficer);

}  // namespace palm::palmctl
