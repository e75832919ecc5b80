// palmctl's command framework: global flags, a registry of command groups,
// exit codes and output helpers.
//
// A group of commands (e.g. `device enroll|register|list|revoke`) lives in
// its own tools/palmctl/cmd_<group>.cc and registers itself from a static
// initialiser; CMake compiles every cmd_*.cc into palmctl, so adding a group
// touches no other file:
//
//   namespace palm::palmctl {
//   namespace {
//   void RegisterSquad(CommandLine& cli) {
//     CLI::App* group = cli.Group("squad", "Squad leaders' views");
//     auto options = std::make_shared<StatusOptions>();  // outlives parsing
//     CLI::App* status = cli.Command(group, "status", "Each device of a squad",
//                                    [options, &cli] { return RunStatus(*options, cli.global());
//                                    });
//     status->add_option("--squad", options->squad, "Squad id")->required();
//     AddJsonFlag(status, &options->json);
//   }
//   }  // namespace
//   PALMCTL_REGISTER_GROUP(squad, RegisterSquad);
//   }  // namespace palm::palmctl
//
// Commands that call palm-server use CallUnary() from client_channel.h, which
// makes the channel from the global flags and reports failed calls alike.
//
// Exit codes: 0 success, 1 the command failed (one "palmctl: ..." line on
// stderr says why), 2 the command line was wrong (the line and the usage of
// the command concerned on stderr). Every read command takes --json.
#ifndef PALM_TOOLS_PALMCTL_COMMAND_H_
#define PALM_TOOLS_PALMCTL_COMMAND_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace palm::palmctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// The flags that come before (or after) any command.
struct GlobalOptions {
  // gRPC target of palm-server.
  std::string server = "127.0.0.1:7443";
  // Client TLS material: client.crt, client.key and ca.crt (an operator dir,
  // `palmctl operator cert`), or a device dir (device.crt, device.key, ca.crt).
  std::string cert_dir;
  // Plaintext to a loopback server started with --insecure-loopback.
  bool insecure = false;
  // The bureau's time zone (bureau_time.h), for times printed and dates read.
  std::string time_zone = "Asia/Shanghai";
};

// What a command does once its command line parsed. Returns the exit code.
using Action = std::function<int()>;

// The command line under construction, handed to each group's registrar.
// Single-threaded; lives for the whole run of palmctl.
class CommandLine {
 public:
  CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  // Returns the top-level command group `name`, creating it with
  // `description` on first use; a group needs one of its commands.
  CLI::App* Group(const std::string& name, const std::string& description);

  // Adds command `name` under `parent` (a group). `action` runs if this is
  // the command chosen, after the whole command line parsed; the variables
  // its options write to must live at least as long (capture them in it).
  CLI::App* Command(CLI::App* parent, const std::string& name, const std::string& description,
                    Action action);

  // Adds a top-level command `name` that takes no sub-command (e.g.
  // `palmctl deadlines`); `action` runs as for Command.
  CLI::App* TopCommand(const std::string& name, const std::string& description, Action action);

  const GlobalOptions& global() const { return global_; }
  CLI::App* root() { return &app_; }

  // Parses argv and runs the chosen command. Returns the exit code.
  int Run(int argc, const char* const* argv);

 private:
  CLI::App app_;
  GlobalOptions global_;
  std::map<std::string, CLI::App*> groups_;
  Action chosen_;
};

// Adds the commands of one group to `cli`.
using GroupRegistrar = void (*)(CommandLine& cli);

// Records `registrar` to be called by RunPalmctl. Registrars run in the
// order of `name`, so that help lists groups alike on every build. Returns
// true (for use in a static initialiser; see PALMCTL_REGISTER_GROUP).
bool RegisterGroup(const char* name, GroupRegistrar registrar);

#define PALMCTL_REGISTER_GROUP(name, registrar)                          \
  [[maybe_unused]] static const bool palmctl_group_##name##_registered = \
      ::palm::palmctl::RegisterGroup(#name, registrar)

// Builds the command line from every registered group and runs it.
int RunPalmctl(int argc, const char* const* argv);

// Adds the --json flag every read command has.
void AddJsonFlag(CLI::App* command, bool* json);

// Prints "palmctl: <message>" to stderr and returns kExitFailure.
int Fail(absl::string_view message);

// Fail() with the status' message (not its code: the message is written for
// people).
int Fail(const absl::Status& status);

// Prints `value` as indented JSON and a newline to stdout.
void PrintJson(const nlohmann::json& value);

// Formats Unix milliseconds in the bureau's time zone with its label,
// "2026-03-14 17:26 CST" (FormatBureauTime); 0 as "-".
std::string FormatUnixMs(int64_t unix_ms);

// Sets the examples `command --help` shows after its options, one command
// line per entry.
void SetExamples(CLI::App* command, const std::vector<std::string>& examples);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_COMMAND_H_
