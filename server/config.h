// palm-server settings: flags, and the same keys in a config file.
#ifndef PALM_SERVER_CONFIG_H_
#define PALM_SERVER_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace palm::server {

struct ServerConfig {
  // host:port; port 0 picks a free port (tests).
  std::string listen = "127.0.0.1:7443";
  // Holds palm.db (the embedded SQLite store) and, later, evidence files.
  std::string data_dir = "./var";
  std::string config_file;
  // PEM files. With all three, the server speaks mutual TLS only.
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;
  // Plaintext, allowed only on a loopback address. For tests and development
  // before the PKI exists; never in production.
  bool insecure_loopback = false;
  // debug | info | warn | error
  std::string log_level = "info";
  // How long SIGINT/SIGTERM waits for in-flight calls before cancelling them.
  int64_t drain_timeout_ms = 10000;
  // Official case number format (赋码): {year} and {seq:N} (zero-padded).
  std::string case_number_format = "桐综执罚〔{year}〕{seq:4}号";
  // Largest HLC lead over the server clock accepted before clamping.
  int64_t max_clock_skew_ms = 5 * 60 * 1000;
  // Display prefix of leased ticket numbers ({year} is replaced).
  std::string ticket_prefix_format = "桐综执简〔{year}〕";
  // Give the store a new epoch before serving: what a restore from a backup
  // must do, so that devices resync instead of silently diverging.
  bool new_epoch = false;
  // Where AdminService.BackupServer writes backups; empty: <data_dir>/backups.
  std::string backup_dir;
  // Before serving, replace the store with the one of this backup directory
  // (server/backup.h: checked against its manifest; the store it replaces is
  // kept beside it) and give it a new epoch.
  std::string restore_from;
  // Raise the number fence (server/numbering.h) to at least these before
  // serving: what a restore into a data directory that lost its fence needs
  // (0: not given). The case-number floor is for the current year.
  int64_t ticket_number_floor = 0;
  int64_t case_number_floor = 0;

  std::string effective_backup_dir() const {
    return backup_dir.empty() ? data_dir + "/backups" : backup_dir;
  }

  // --- Security (issue 5). ---
  // Lifetime of an officer session token.
  int64_t session_ttl_ms = 12LL * 60 * 60 * 1000;
  // Require a session token on every call even in --insecure-loopback mode
  // (with TLS it is always required).
  bool require_session = false;
  // Consecutive failed sign-ins that lock an officer, and for how long.
  int64_t max_sign_in_failures = 5;
  int64_t sign_in_lockout_ms = 15LL * 60 * 1000;
  // Creates (or resets) admin officer `bootstrap_admin` of town
  // `bootstrap_town` before serving; the secret is the first line of
  // `bootstrap_secret_file`, or of stdin when that is empty.
  std::string bootstrap_admin;
  std::string bootstrap_town = "county";
  std::string bootstrap_secret_file;

  bool sessions_required() const { return tls_enabled() || require_session; }

  // --- Evidence log (issue 6; docs/evidence.md). ---
  // Log identity in signed tree heads (one line).
  std::string log_origin = "palm.tongxiang/evidence";
  // How often a tree head is signed when the log grew; 0 = only on demand.
  int64_t tree_head_interval_ms = 60000;

  // --- Audit checkpoints (issue 18; server/audit_checkpoint.h). ---
  // How often the audit chain's head is signed when it grew; 0 = only with
  // push batches, on demand and at shutdown.
  int64_t audit_checkpoint_interval_ms = 10000;
  // PRAGMA max_page_count of the store's writer (0 = SQLite's default): a
  // quota; past it every write fails RESOURCE_EXHAUSTED, as on a full disk.
  int64_t max_store_pages = 0;

  bool tls_enabled() const { return !tls_cert.empty() || !tls_key.empty() || !client_ca.empty(); }
};

// What the command line asked for.
struct ParsedArgs {
  ServerConfig config;
  // --help or --version: print `text` and exit 0.
  bool help = false;
  std::string text;
};

// Parses argv with CLI11 (flags `--name value` or `--name=value`). A
// `--config FILE` holds `key = value` lines (# comments, blank lines; keys
// are the flag names without dashes, e.g. `data-dir = /srv/palm`); flags on
// the command line override it. On error returns
// INVALID_ARGUMENT (unknown flag, missing value, bad value) or NOT_FOUND
// (config file missing) with one sentence naming the problem.
absl::StatusOr<ParsedArgs> ParseServerArgs(const std::vector<std::string>& args);

// Checks that the settings make sense together (TLS files present and
// readable, plaintext only on loopback, data dir usable). Creates the data
// dir if missing.
absl::Status ValidateConfig(const ServerConfig& config);

// True for 127.0.0.0/8, [::1] and "localhost" host parts of `listen`.
bool IsLoopbackAddress(const std::string& listen);

// The --help text.
std::string UsageText();

}  // namespace palm::server

#endif  // PALM_SERVER_CONFIG_H_
