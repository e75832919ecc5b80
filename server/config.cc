#include "server/config.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tools/common/cli_errors.h"

namespace palm::server {
namespace {

// `key = value` lines, # comments and blank lines: the config file format
// (keys are the flag names without dashes). Unknown keys and lines without
// `=` are refused with their line number; ParseServerArgs adds the path.
class KeyValueConfig : public CLI::Config {
 public:
  explicit KeyValueConfig(const CLI::App* app) : app_(app) {}

  std::string to_config(const CLI::App*, bool, bool, std::string) const override { return ""; }

  std::vector<CLI::ConfigItem> from_config(std::istream& in) const override {
    std::vector<CLI::ConfigItem> items;
    std::string line;
    int line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      absl::string_view text = absl::StripAsciiWhitespace(line);
      if (text.empty() || text.front() == '#') continue;
      const size_t eq = text.find('=');
      if (eq == absl::string_view::npos) {
        throw CLI::ConfigError(absl::StrCat(line_number, ": expected `key = value`"));
      }
      CLI::ConfigItem item;
      item.name = std::string(absl::StripAsciiWhitespace(text.substr(0, eq)));
      if (item.name == "config") {
        throw CLI::ConfigError(absl::StrCat(line_number, ": a config file cannot name another"));
      }
      if (item.name == "help" || item.name == "version" ||
          app_->get_option_no_throw("--" + item.name) == nullptr) {
        throw CLI::ConfigError(
            absl::StrCat(line_number, ": unknown setting ", item.name, " (see --help)"));
      }
      item.inputs = {std::string(absl::StripAsciiWhitespace(text.substr(eq + 1)))};
      items.push_back(std::move(item));
    }
    return items;
  }

 private:
  const CLI::App* app_;
};

// The one table of settings: every flag, bound to its field of `c`.
std::unique_ptr<CLI::App> MakeCli(ServerConfig* c) {
  auto app = std::make_unique<CLI::App>(
      "Runs the Palm sync server on an embedded SQLite store. Every flag may also be set as a "
      "`key = value` line of a --config file (flags on the command line win).",
      "palm-server");
  app->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app->get_formatter()->column_width(30);
  app->set_version_flag("--version", absl::StrCat("palm-server ", PALM_VERSION));
  app->config_formatter(std::make_shared<KeyValueConfig>(app.get()));
  app->set_config("--config", "", "Read `key = value` settings (the flag names) from FILE")
      ->type_name("FILE");
  const auto text = [&](const char* name, std::string* field, const char* type, const char* help) {
    app->add_option(name, *field, help)->type_name(type)->capture_default_str();
  };
  const auto count = [&](const char* name, int64_t* field, const char* help) {
    app->add_option(name, *field, help)
        ->type_name("N")
        ->capture_default_str()
        ->check(tools::WholeNumber<int64_t>(0, std::numeric_limits<int64_t>::max()));
  };
  text("--listen", &c->listen, "ADDR", "host:port to listen on (port 0: any free port)");
  text("--data-dir", &c->data_dir, "DIR", "Where the store lives");
  text("--tls-cert", &c->tls_cert, "FILE", "Server certificate chain, PEM");
  text("--tls-key", &c->tls_key, "FILE", "Server private key, PEM");
  text("--client-ca", &c->client_ca, "FILE", "CA that client certificates must chain to");
  app->add_flag("--insecure-loopback", c->insecure_loopback,
                "Plaintext, loopback only (development and tests)");
  app->add_option("--log-level", c->log_level, "How much the structured log (stderr) says")
      ->type_name("LEVEL")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  count("--drain-timeout-ms", &c->drain_timeout_ms, "Grace for in-flight calls on SIGINT/SIGTERM");
  text("--case-number-format", &c->case_number_format, "F",
       "Official case number format, with {year} and {seq:N}");
  count("--max-clock-skew-ms", &c->max_clock_skew_ms,
        "HLC lead over server time accepted before clamping");
  text("--ticket-prefix-format", &c->ticket_prefix_format, "F",
       "Display prefix of ticket numbers, with {year}");
  app->add_flag("--new-epoch", c->new_epoch,
                "Give the store a new epoch before serving (after restoring palm.db from a "
                "backup: devices resync)");
  text("--backup-dir", &c->backup_dir, "DIR",
       "Where AdminService.BackupServer (palmctl server backup) writes backups (default "
       "<data-dir>/backups)");
  text("--restore-from", &c->restore_from, "DIR",
       "Before serving, replace the store with the backup in DIR (checked against its "
       "manifest; the replaced store is kept beside it) and give it a new epoch");
  count("--ticket-number-floor", &c->ticket_number_floor,
        "Lease no ticket number at or below N (a restore into a data directory that lost its "
        "numbers.fence: N at least the highest ticket number any device may hold)");
  count("--case-number-floor", &c->case_number_floor,
        "Give no case number of this year at or below N (with --ticket-number-floor, for a "
        "restore into a data directory that lost its numbers.fence)");
  count("--session-ttl-ms", &c->session_ttl_ms, "Lifetime of officer session tokens (12 h)");
  app->add_flag("--require-session", c->require_session,
                "Require session tokens also with --insecure-loopback");
  count("--max-sign-in-failures", &c->max_sign_in_failures, "Failed sign-ins that lock an officer");
  count("--sign-in-lockout-ms", &c->sign_in_lockout_ms, "How long such a lock lasts (15 min)");
  text("--bootstrap-admin", &c->bootstrap_admin, "ID",
       "Create or reset admin officer ID before serving; the secret is the first line of "
       "--bootstrap-secret-file, else of stdin");
  text("--bootstrap-town", &c->bootstrap_town, "T", "Town of that admin officer");
  text("--bootstrap-secret-file", &c->bootstrap_secret_file, "FILE",
       "File holding the bootstrap admin's secret");
  app->add_option("--log-origin", c->log_origin,
                  "Evidence log identity in signed tree heads (after a restore: NAME/<epoch>)")
      ->type_name("NAME")
      ->capture_default_str()
      ->check([](const std::string& v) {
        return v.empty() || v.find('\n') != std::string::npos ? "needs one non-empty line" : "";
      });
  count("--tree-head-interval-ms", &c->tree_head_interval_ms,
        "Sign a tree head this often when the evidence log grew (0: only on demand)");
  count("--audit-checkpoint-interval-ms", &c->audit_checkpoint_interval_ms,
        "Sign a checkpoint of the audit chain this often when it grew (0: only with push "
        "batches, on demand and at shutdown)");
  count("--max-store-pages", &c->max_store_pages,
        "Cap palm.db at N pages (16 KiB each; 0: no cap); past it writes fail as on a full disk");
  app->footer(
      "Exit codes: 0 clean stop, 1 could not start, 2 bad invocation. SIGINT/SIGTERM drain "
      "in-flight calls and close the store.");
  return app;
}

bool Readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

// One sentence for a parse error of CLI11's, naming the flag or the config
// file (and its line).
std::string DescribeParseError(const CLI::ParseError& e, CLI::App& app,
                               const std::vector<std::string>& args) {
  if (dynamic_cast<const CLI::ConfigError*>(&e) != nullptr ||
      dynamic_cast<const CLI::FileError*>(&e) != nullptr) {
    std::string path;
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--config" && i + 1 < args.size()) path = args[i + 1];
      if (absl::StartsWith(args[i], "--config=")) path = args[i].substr(9);
    }
    if (dynamic_cast<const CLI::FileError*>(&e) != nullptr) {
      return absl::StrCat("config file ", path, " cannot be read");
    }
    return absl::StrCat(path, ":", e.what());
  }
  return tools::DescribeCliError(e, app);
}

}  // namespace

absl::StatusOr<ParsedArgs> ParseServerArgs(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  std::unique_ptr<CLI::App> app = MakeCli(&parsed.config);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11's order
  try {
    app->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    parsed.help = true;
    parsed.text = app->help();
    return parsed;
  } catch (const CLI::CallForVersion&) {
    parsed.help = true;
    parsed.text = absl::StrCat(app->version(), "\n");
    return parsed;
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(DescribeParseError(e, *app, args));
  }
  if (auto* config = app->get_config_ptr(); config != nullptr && config->count() > 0) {
    parsed.config.config_file = config->as<std::string>();
  }
  return parsed;
}

bool IsLoopbackAddress(const std::string& listen) {
  std::string host = listen;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
    return host == "::1";
  }
  host = host.substr(0, host.rfind(':'));
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

absl::Status ValidateConfig(const ServerConfig& config) {
  if (config.listen.rfind(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen needs host:port, got '", config.listen, "'"));
  }
  if (config.tls_enabled()) {
    for (const auto& [flag, path] :
         {std::pair{"--tls-cert", config.tls_cert}, std::pair{"--tls-key", config.tls_key},
          std::pair{"--client-ca", config.client_ca}}) {
      if (path.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("TLS needs --tls-cert, --tls-key and --client-ca; ", flag, " is missing"));
      }
      if (!Readable(path)) {
        return absl::NotFoundError(
            absl::StrCat(flag, " ", path, " cannot be read: ", std::strerror(errno)));
      }
    }
    if (config.insecure_loopback) {
      return absl::InvalidArgumentError("--insecure-loopback cannot be combined with TLS flags");
    }
  } else {
    if (!config.insecure_loopback) {
      return absl::FailedPreconditionError(
          "no TLS material: give --tls-cert, --tls-key and --client-ca, or --insecure-loopback "
          "for plaintext on a loopback address");
    }
    if (!IsLoopbackAddress(config.listen)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--insecure-loopback listens only on a loopback address, not ", config.listen));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("data dir ", config.data_dir, " cannot be created: ", ec.message()));
  }
  if (::access(config.data_dir.c_str(), W_OK | X_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("data dir ", config.data_dir, " is not writable: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string UsageText() {
  ServerConfig config;
  return MakeCli(&config)->help();
}

}  // namespace palm::server
