// palm-sim's shared declarations: the options, the simulated organisation
// (towns, squads, officers, devices), the development server it may start,
// the shift each device works and the convergence check.
//
// Phases (main.cc): set up the organisation through AdminService; start of
// shift (every device syncs: catalogue, roster, ticket numbers); each town's
// first device records the town's shared cases and the others pull them;
// the shift, offline, on a thread pool; shift-end sync of every device at
// once; a second round so that every device pulls what the others pushed;
// the convergence check against the server.
#ifndef PALM_TOOLS_SIM_SIM_H_
#define PALM_TOOLS_SIM_SIM_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "palm/client.h"
#include "palm/v1/admin.grpc.pb.h"
#include "server/pki/pki.h"
#include "tools/common/server_child.h"

namespace palm::sim {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct Options {
  int devices = 10;
  uint64_t seed = 1;
  // Makes party id numbers unique per run (set by main, not a flag).
  uint64_t salt = 0;
  int towns = 0;                // 0: one per 20 devices
  int squad_size = 10;          // devices per squad
  int cases_per_device = 10;    // own cases each device records in the shift
  int no_penalty_percent = 20;  // of the cases: no-penalty decisions (0..50)
  int shared_cases = 2;         // per town, edited by every device of the town
  int evidence_kib = 16;        // size of each evidence file
  int concurrency = 0;          // sync threads; 0: every device at once (max 64)
  bool durable = false;         // PRAGMA synchronous=FULL on the device stores
  // An external server; empty: start this build's palm-server.
  std::string server;
  std::string cert_dir;  // bureau CA dir (ca.key, ca.crt) of --server
  std::string admin_id = "admin";
  std::string admin_secret_file;
  std::string tls_server_name = "localhost";
  bool insecure_loopback = false;  // --server speaks plaintext on loopback
  std::string work_dir;            // keep device stores here (default: temp, removed)
  bool keep = false;
  bool report = false;
  bool json = false;
  bool quiet = false;
  // --help or --version: print this on stdout and exit 0.
  std::string print_and_exit;
};

// Parses argv with CLI11 (flags also from a --config file). On a usage
// error returns INVALID_ARGUMENT with the message; --help and --version set
// print_and_exit.
absl::StatusOr<Options> ParseOptions(int argc, char** argv);
// The --help text.
std::string UsageText();

// --- Progress output: a bar on a terminal, plain lines otherwise. ---------
class Progress {
 public:
  explicit Progress(bool quiet);
  // Starts a phase with `total` steps.
  void Phase(const std::string& name, uint64_t total);
  void Step(uint64_t n = 1);
  // Ends the phase, printing its duration.
  void Done();
  // A line of its own (errors, notes), not breaking the bar.
  void Line(const std::string& text);

 private:
  void Draw(bool force);
  bool quiet_;
  bool tty_;
  std::mutex mu_;
  std::string name_;
  uint64_t total_ = 0;
  uint64_t done_ = 0;
  int last_decile_ = -1;
  int64_t started_ms_ = 0;
  int64_t last_draw_ms_ = 0;
  bool active_ = false;  // between Phase and Done
};

int64_t NowMs();
// Runs fn(i) for i in [0, n) on `threads` threads.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn);
int64_t SteadyMs();

// --- The server palm-sim talks to. ----------------------------------------

// This build's palm-server as a child (tools/common/server_child.h): palm-sim
// starts it with mutual TLS, a development bureau and a bootstrapped admin.
using tools::PalmServerPath;
using tools::ServerChild;

// How palm-sim reaches the server: as the admin (operator certificate +
// admin session token) and as each device (device certificate + officer
// token); or plaintext on loopback without tokens.
struct Connection {
  std::string address;
  bool insecure = false;
  std::string tls_server_name = "localhost";
  pki::CertificateAuthority ca;  // issues device and operator certificates
  std::string ca_cert_path;
  pki::Credentials operator_creds;
  std::string admin_token;

  std::shared_ptr<grpc::Channel> Channel(const pki::Credentials* client) const;
  std::unique_ptr<grpc::ClientContext> Context(const std::string& token, int seconds = 60) const;
};

// Signs `officer` in over `channel`; returns the session token.
absl::StatusOr<std::string> SignIn(const Connection& conn,
                                   const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& officer, const std::string& secret);

// --- The organisation. -----------------------------------------------------

struct SquadInfo {
  std::string town_id;
  std::string squad_id;
  std::string leader_id;  // sworn squad leader, the second officer on tickets
  // A sworn deputy: the second credentialed officer when the device's own
  // officer is an auxiliary, who never counts (Art. 42, 55).
  std::string deputy_id;
};

struct DeviceStats {
  uint64_t mutations = 0;  // writes made on the device (one outbox entry each)
  uint64_t cases = 0;
  uint64_t tickets = 0;
  int64_t tickets_fen = 0;
  uint64_t no_penalty = 0;
  uint64_t evidence_files = 0;
  uint64_t evidence_bytes = 0;
  uint64_t shared_edits = 0;
  uint64_t write_errors = 0;
  // Summed over this device's syncs.
  uint64_t syncs = 0;
  uint64_t sync_failures = 0;  // attempts that failed (retried)
  uint64_t pushed = 0;
  uint64_t applied = 0;
  uint64_t applied_with_conflict = 0;
  uint64_t rejected = 0;
  uint64_t conflicts = 0;
  uint64_t pulled = 0;
  int64_t last_sync_ms = 0;  // duration of the shift-end sync
};

struct SimDevice {
  int index = 0;
  std::string device_id;
  SquadInfo squad;
  std::string officer_id;
  bool sworn = true;
  std::string dir;  // device store, keys, device certificate, evidence files
  std::string token;
  std::unique_ptr<Client> client;
  std::vector<std::string> shared_case_ids;  // the town's shared cases
  DeviceStats stats;
  std::string error;  // set when the device failed
  bool converged = false;
  bool failed = false;  // a phase failed for this device (it is skipped after)
};

// Secret of a simulated officer (they sign in with it).
std::string OfficerSecret(const std::string& officer_id);

// Adds the catalogue (when `load_catalog`), officers and devices through
// AdminService and writes each device's certificate directory.
absl::Status SetUpOrganisation(const Options& options, const Connection& conn,
                               const std::string& prefix, bool load_catalog,
                               std::vector<SquadInfo>* squads,
                               std::vector<std::unique_ptr<SimDevice>>* devices,
                               Progress& progress);

// Opens the device's store and signs its officer in.
absl::Status OpenDevice(const Options& options, const Connection& conn, SimDevice& device);

// Syncs the device (retrying transient failures); adds to its stats.
absl::Status SyncDevice(const Connection& conn, SimDevice& device, bool shift_end = false);

// The town's first device records the shared cases.
absl::Status RecordSharedCases(const Options& options, SimDevice& device);
// Picks up the town's shared cases from the device's store.
absl::Status FindSharedCases(SimDevice& device);

// The offline shift of one device.
absl::Status WorkShift(const Options& options, SimDevice& device);

// --- Verification. ---------------------------------------------------------

// What the server holds for one town (AdminService, admin token).
struct TownOnServer {
  std::vector<v1::CaseDetail> cases;
};

absl::StatusOr<TownOnServer> FetchTown(const Connection& conn, const std::string& town_id);

// Differences between the device and the server's town; empty when equal.
// Evidence files not yet uploaded, then internal::DiffWithServer
// (client-lib/src/convergence.h, shared with the e2e tests).
std::string DiffWithServer(SimDevice& device, const TownOnServer& town);

}  // namespace palm::sim

#endif  // PALM_TOOLS_SIM_SIM_H_
