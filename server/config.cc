#include "server/config.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace palm::server {
namespace {

using Setter = std::function<absl::Status(ServerConfig*, const std::string&)>;

absl::Status SetInt(int64_t* out, const std::string& name, const std::string& value) {
  if (!absl::SimpleAtoi(value, out) || *out < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " needs a non-negative whole number, got '", value, "'"));
  }
  return absl::OkStatus();
}

absl::Status SetBool(bool* out, const std::string& name, const std::string& value) {
  if (value == "true" || value == "1" || value == "yes" || value.empty()) {
    *out = true;
  } else if (value == "false" || value == "0" || value == "no") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " takes true or false, got '", value, "'"));
  }
  return absl::OkStatus();
}

// The one table of settings: flag name → how to set it. Boolean flags are
// listed in kBoolFlags so that they need no value on the command line.
const std::map<std::string, Setter>& Setters() {
  static const auto* setters = new std::map<std::string, Setter>{
      {"listen",
       [](ServerConfig* c, const std::string& v) {
         c->listen = v;
         return absl::OkStatus();
       }},
      {"data-dir",
       [](ServerConfig* c, const std::string& v) {
         c->data_dir = v;
         return absl::OkStatus();
       }},
      {"tls-cert",
       [](ServerConfig* c, const std::string& v) {
         c->tls_cert = v;
         return absl::OkStatus();
       }},
      {"tls-key",
       [](ServerConfig* c, const std::string& v) {
         c->tls_key = v;
         return absl::OkStatus();
       }},
      {"client-ca",
       [](ServerConfig* c, const std::string& v) {
         c->client_ca = v;
         return absl::OkStatus();
       }},
      {"case-number-format",
       [](ServerConfig* c, const std::string& v) {
         c->case_number_format = v;
         return absl::OkStatus();
       }},
      {"log-level",
       [](ServerConfig* c, const std::string& v) {
         if (v != "debug" && v != "info" && v != "warn" && v != "error") {
           return absl::InvalidArgumentError(
               absl::StrCat("--log-level takes debug, info, warn or error, got '", v, "'"));
         }
         c->log_level = v;
         return absl::OkStatus();
       }},
      {"ticket-prefix-format",
       [](ServerConfig* c, const std::string& v) {
         c->ticket_prefix_format = v;
         return absl::OkStatus();
       }},
      {"new-epoch", [](ServerConfig* c,
                       const std::string& v) { return SetBool(&c->new_epoch, "new-epoch", v); }},
      {"insecure-loopback",
       [](ServerConfig* c, const std::string& v) {
         return SetBool(&c->insecure_loopback, "insecure-loopback", v);
       }},
      {"drain-timeout-ms",
       [](ServerConfig* c, const std::string& v) {
         return SetInt(&c->drain_timeout_ms, "drain-timeout-ms", v);
       }},
      {"max-clock-skew-ms",
       [](ServerConfig* c, const std::string& v) {
         return SetInt(&c->max_clock_skew_ms, "max-clock-skew-ms", v);
       }},
      // Security (issue 5).
      {"session-ttl-ms",
       [](ServerConfig* c, const std::string& v) {
         return SetInt(&c->session_ttl_ms, "session-ttl-ms", v);
       }},
      {"require-session",
       [](ServerConfig* c, const std::string& v) {
         return SetBool(&c->require_session, "require-session", v);
       }},
      {"max-sign-in-failures",
       [](ServerConfig* c, const std::string& v) {
         return SetInt(&c->max_sign_in_failures, "max-sign-in-failures", v);
       }},
      {"sign-in-lockout-ms",
       [](ServerConfig* c, const std::string& v) {
         return SetInt(&c->sign_in_lockout_ms, "sign-in-lockout-ms", v);
       }},
      {"bootstrap-admin",
       [](ServerConfig* c, const std::string& v) {
         c->bootstrap_admin = v;
         return absl::OkStatus();
       }},
      {"bootstrap-town",
       [](ServerConfig* c, const std::string& v) {
         c->bootstrap_town = v;
         return absl::OkStatus();
       }},
      {"bootstrap-secret-file",
       [](ServerConfig* c, const std::string& v) {
         c->bootstrap_secret_file = v;
         return absl::OkStatus();
       }},
      // Evidence log (issue 6).
      {"log-origin",
       [](ServerConfig* c, const std::string& v) {
         if (v.empty() || v.find('\n') != std::string::npos) {
           return absl::InvalidArgumentError("--log-origin needs one non-empty line");
         }
         c->log_origin = v;
         return absl::OkStatus();
       }},
      {"tree-head-interval-ms",
       [](ServerConfig* c, const std::string& v) {
         return SetInt(&c->tree_head_interval_ms, "tree-head-interval-ms", v);
       }},
      // Audit checkpoints and the store's size cap (issue 18).
      {"audit-checkpoint-interval-ms",
       [](ServerConfig* c, const std::string& v) {
         return SetInt(&c->audit_checkpoint_interval_ms, "audit-checkpoint-interval-ms", v);
       }},
      {"max-store-pages",
       [](ServerConfig* c, const std::string& v) {
         return SetInt(&c->max_store_pages, "max-store-pages", v);
       }},
  };
  return *setters;
}

bool IsBoolFlag(const std::string& name) {
  return name == "insecure-loopback" || name == "new-epoch" || name == "require-session";
}

absl::Status Apply(ServerConfig* config, const std::string& name, const std::string& value) {
  auto it = Setters().find(name);
  if (it == Setters().end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
  }
  return it->second(config, value);
}

bool Readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

}  // namespace

absl::Status LoadConfigFile(const std::string& path, ServerConfig* config) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("config file ", path, " cannot be read: ", std::strerror(errno)));
  }
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text.front() == '#') continue;
    size_t eq = text.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": expected `key = value`"));
    }
    std::string key(absl::StripAsciiWhitespace(text.substr(0, eq)));
    std::string value(absl::StripAsciiWhitespace(text.substr(eq + 1)));
    if (key == "config") {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": a config file cannot name another"));
    }
    absl::Status status = Apply(config, key, value);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ParsedArgs> ParseServerArgs(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  std::vector<std::pair<std::string, std::string>> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
      continue;
    }
    if (!absl::ConsumePrefix(&arg, "--") || arg.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", args[i], "' (see --help)"));
    }
    std::string name(arg), value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (!IsBoolFlag(name)) {
      if (name != "config" && !Setters().count(name)) {
        return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
      }
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
      value = args[++i];
    }
    flags.emplace_back(std::move(name), std::move(value));
  }
  for (const auto& [name, value] : flags) {
    if (name == "config") {
      parsed.config.config_file = value;
      if (absl::Status s = LoadConfigFile(value, &parsed.config); !s.ok()) return s;
    }
  }
  for (const auto& [name, value] : flags) {
    if (name == "config") continue;
    if (absl::Status s = Apply(&parsed.config, name, value); !s.ok()) return s;
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
  return R"(usage: palm-server [flags]

Runs the Palm sync server on an embedded SQLite store.

  --listen ADDR            host:port to listen on (default 127.0.0.1:7443)
  --data-dir DIR           where the store lives (default ./var)
  --config FILE            read `key = value` settings (same names as flags)
  --tls-cert FILE          server certificate chain, PEM
  --tls-key FILE           server private key, PEM
  --client-ca FILE         CA that device client certificates must chain to
  --insecure-loopback      plaintext, loopback only (development and tests)
  --log-level LEVEL        debug | info | warn | error (default info)
  --drain-timeout-ms N     grace for in-flight calls on SIGINT/SIGTERM (10000)
  --case-number-format F   case number format, {year} and {seq:N}
  --max-clock-skew-ms N    HLC lead over server time before clamping (300000)
  --ticket-prefix-format F display prefix of ticket numbers, {year}
  --new-epoch              give the store a new epoch before serving (after
                           restoring palm.db from a backup: devices resync)
  --session-ttl-ms N       lifetime of officer session tokens (43200000 = 12 h)
  --require-session        require session tokens also with --insecure-loopback
  --max-sign-in-failures N failed sign-ins that lock an officer (5)
  --sign-in-lockout-ms N   how long such a lock lasts (900000 = 15 min)
  --bootstrap-admin ID     create or reset admin officer ID before serving;
                           the secret is read from --bootstrap-secret-file
                           FILE (first line) or else from stdin
  --bootstrap-town T       town of that admin officer (default county)
  --log-origin NAME        evidence log identity in signed tree heads
                           (default palm.tongxiang/evidence)
  --tree-head-interval-ms N  sign a tree head this often when the evidence
                           log grew (60000; 0 = only on demand)
  --audit-checkpoint-interval-ms N  sign a checkpoint of the audit chain
                           this often when it grew (10000; 0 = only with
                           push batches, on demand and at shutdown)
  --max-store-pages N      cap palm.db at N pages (16 KiB each; 0 = no cap);
                           past it writes fail as on a full disk
  --help                   this text
)";
}

}  // namespace palm::server
