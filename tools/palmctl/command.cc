#include "tools/palmctl/command.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/palmctl/bureau_time.h"

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
  app_.add_option("--tz", global_.time_zone,
                  "The bureau's time zone (IANA name), for the times palmctl prints and the "
                  "dates it reads")
      ->envname("PALMCTL_TZ")
      ->capture_default_str();
  const char* home = std::getenv("HOME");
  app_.set_config(
          "--config",
          (std::filesystem::path(home != nullptr ? home : ".") / ".palmctl" / "config").string(),
          "Read flags (server, cert-dir, tz ...) from this INI/TOML file, if it exists")
      ->envname("PALMCTL_CONFIG");
  app_.set_version_flag("--version", absl::StrCat("palmctl ", PALM_VERSION));
  SetExamples(&app_, {"palmctl --server 127.0.0.1:7443 --cert-dir ~/palm-operator auth login "
                      "--officer leader-1",
                      "palmctl squad status", "palmctl report shift --date yesterday",
                      "palmctl cases list --state legal_review --json"});
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

CLI::App* CommandLine::TopCommand(const std::string& name, const std::string& description,
                                  Action action) {
  return Command(&app_, name, description, std::move(action));
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
  if (absl::Status s = SetBureauTimeZone(global_.time_zone); !s.ok()) {
    std::cerr << "palmctl: " << s.message() << "\n";
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

std::string FormatUnixMs(int64_t unix_ms) { return FormatBureauTime(unix_ms); }

void SetExamples(CLI::App* command, const std::vector<std::string>& examples) {
  std::string text = "Examples:";
  for (const std::string& e : examples) absl::StrAppend(&text, "\n  ", e);
  command->footer(text);
}

}  // namespace palm::palmctl
