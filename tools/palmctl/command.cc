#include "tools/palmctl/command.h"

#include <ctime>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace palm::palmctl {
namespace {

std::map<std::string, GroupRegistrar>& Registry() {
  static auto* registry = new std::map<std::string, GroupRegistrar>();
  return *registry;
}

}  // namespace

CommandLine::CommandLine()
    : app_("palmctl: administer a Palm server — bureau PKI, devices, squads, cases, audit.",
           "palmctl") {
  app_.require_subcommand(1);
  // Global flags are accepted after the command too (`palmctl device list
  // --server X`); set before any command exists so that they inherit it.
  app_.fallthrough();
  app_.add_option("--server", global_.server, "palm-server address, HOST:PORT")
      ->envname("PALMCTL_SERVER")
      ->capture_default_str();
  app_.add_option("--cert-dir", global_.cert_dir,
                  "Client TLS material: client.crt, client.key and ca.crt (or a device "
                  "directory)")
      ->envname("PALMCTL_CERT_DIR");
  app_.add_flag("--insecure", global_.insecure,
                "Plaintext, for a loopback server started with --insecure-loopback");
}

CLI::App* CommandLine::Group(const std::string& name, const std::string& description) {
  auto it = groups_.find(name);
  if (it != groups_.end()) return it->second;
  CLI::App* group = app_.add_subcommand(name, description);
  group->require_subcommand(1);
  groups_.emplace(name, group);
  return group;
}

CLI::App* CommandLine::Command(CLI::App* parent, const std::string& name,
                               const std::string& description, Action action) {
  CLI::App* command = parent->add_subcommand(name, description);
  command->callback([this, action = std::move(action)] { chosen_ = action; });
  return command;
}

int CommandLine::Run(int argc, const char* const* argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app_.exit(e);  // --help
    // CLI11 checks required subcommands and options before it complains
    // about arguments it did not recognise; the latter are the real mistake.
    std::vector<std::string> unknown = app_.remaining(true);
    std::string problem = unknown.empty()
                              ? std::string(e.what())
                              : absl::StrCat("unexpected arguments: ", absl::StrJoin(unknown, " "));
    // help() of the root describes the innermost command parsed, with its
    // full "palmctl group command" usage line.
    std::cerr << "palmctl: " << problem << "\n\n" << app_.help();
    return kExitUsage;
  }
  if (!chosen_) {
    std::cerr << "palmctl: no command given\n\n" << app_.help();
    return kExitUsage;
  }
  return chosen_();
}

bool RegisterGroup(const char* name, GroupRegistrar registrar) {
  Registry()[name] = registrar;
  return true;
}

int RunPalmctl(int argc, const char* const* argv) {
  CommandLine cli;
  for (const auto& [name, registrar] : Registry()) registrar(cli);
  return cli.Run(argc, argv);
}

void AddJsonFlag(CLI::App* command, bool* json) {
  command->add_flag("--json", *json, "Print JSON instead of text");
}

int Fail(absl::string_view message) {
  std::cerr << "palmctl: " << message << "\n";
  return kExitFailure;
}

int Fail(const absl::Status& status) { return Fail(status.message()); }

void PrintJson(const nlohmann::json& value) { std::cout << value.dump(2) << "\n"; }

std::string FormatUnixMs(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  time_t seconds = static_cast<time_t>(unix_ms / 1000);
  struct tm tm = {};
  gmtime_r(&seconds, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace palm::palmctl
