// palm-sim: a squad or a whole county of handhelds working a shift offline
// and syncing at shift end; see UsageText() (options.cc) and sim.h.
#include <unistd.h>

#include <algorithm>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/palmctl/report_render.h"
#include "tools/sim/sim.h"

namespace palm::sim {
namespace {

namespace fs = std::filesystem;

struct Durations {
  int64_t setup_ms = 0;
  int64_t start_ms = 0;
  int64_t shift_ms = 0;
  int64_t sync_ms = 0;
  int64_t catch_up_ms = 0;
  int64_t verify_ms = 0;
  int64_t total_ms = 0;
};

// What the server holds for the simulated towns (AdminService).
struct ServerCounts {
  uint64_t cases = 0;
  uint64_t tickets = 0;
  int64_t tickets_fen = 0;
  uint64_t no_penalty = 0;
  uint64_t evidence = 0;
  uint64_t evidence_uploaded = 0;
  uint64_t conflicts = 0;
  uint64_t rejected = 0;
};

std::string RandomHex(int digits) {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(getpid()));
  std::string out;
  for (int i = 0; i < digits; ++i) out += "0123456789abcdef"[rng() % 16];
  return out;
}

// Today's date in Asia/Shanghai (UTC+8, no daylight saving), YYYY-MM-DD.
std::string ShanghaiToday() {
  const time_t t = time(nullptr) + 8 * 3600;
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[16];
  strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

class Sim {
 public:
  explicit Sim(Options options) : o_(std::move(options)), progress_(o_.quiet) {}

  int Run() {
    const int64_t t0 = SteadyMs();
    if (absl::Status s = Prepare(); !s.ok()) {
      progress_.Line(absl::StrCat("setting up failed: ", s.ToString()));
      return kExitFailure;
    }
    durations_.setup_ms = SteadyMs() - t0;
    StartOfShift();
    Shift();
    ShiftEndSync();
    Verify();
    durations_.total_ms = SteadyMs() - t0;
    PrintSummary();
    if (o_.report) PrintReport();
    return Ok() ? kExitOk : kExitFailure;
  }

  ~Sim() {
    devices_.clear();  // close every store first
    server_.reset();
    if (!o_.keep && !o_.work_dir.empty()) {
      std::error_code ec;
      fs::remove_all(o_.work_dir, ec);
    }
  }

 private:
  int Threads() const {
    return std::max(2, 2 * static_cast<int>(std::thread::hardware_concurrency()));
  }
  int SyncThreads() const {
    return o_.concurrency > 0 ? o_.concurrency : std::min<int>(o_.devices, 64);
  }

  bool Ok() const {
    for (const auto& d : devices_) {
      if (!d->converged) return false;
    }
    return verified_;
  }

  void DeviceFailed(SimDevice& d, const std::string& what, const absl::Status& s) {
    if (!d.failed) {
      d.failed = true;
      progress_.Line(absl::StrCat(d.device_id, ": ", what, ": ", s.message()));
    }
  }

  absl::Status Prepare() {
    if (o_.work_dir.empty()) {
      std::string tmpl = (fs::temp_directory_path() / "palm-sim-XXXXXX").string();
      if (mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("mkdtemp failed");
      o_.work_dir = tmpl;
    } else {
      std::error_code ec;
      fs::create_directories(o_.work_dir, ec);
      if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot create ", o_.work_dir));
    }
    std::string prefix = "sim";
    std::string admin_secret;
    if (o_.server.empty()) {
      o_.salt = o_.seed;
      // A development bureau: CA, server certificate, bootstrap admin.
      const std::string pki_dir = o_.work_dir + "/pki";
      std::error_code ec;
      fs::create_directories(pki_dir, ec);
      absl::StatusOr<pki::CertificateAuthority> ca =
          pki::CreateCertificateAuthority({.bureau = "Palm Sim Bureau"});
      if (!ca.ok()) return ca.status();
      conn_.ca = *ca;
      absl::StatusOr<pki::Credentials> server = pki::IssueServerCertificate(conn_.ca, {});
      if (!server.ok()) return server.status();
      const std::string server_dir = pki_dir + "/server";
      if (auto s =
              pki::WriteServerDirectory(server_dir, *server, conn_.ca.credentials.certificate_pem);
          !s.ok())
        return s;
      admin_secret = RandomHex(24);
      const std::string secret_file = pki_dir + "/admin.secret";
      if (auto s = pki::WriteNewFile(secret_file, admin_secret + "\n", 0600); !s.ok()) return s;
      std::vector<std::string> args = {"--data-dir",
                                       o_.work_dir + "/server",
                                       "--tls-cert",
                                       server_dir + "/" + pki::kServerCertFile,
                                       "--tls-key",
                                       server_dir + "/" + pki::kServerKeyFile,
                                       "--client-ca",
                                       server_dir + "/" + pki::kCaCertFile,
                                       "--log-level",
                                       "warn",
                                       "--bootstrap-admin",
                                       o_.admin_id,
                                       "--bootstrap-secret-file",
                                       secret_file};
      absl::StatusOr<std::unique_ptr<ServerChild>> child =
          ServerChild::Start(args, o_.work_dir + "/server.log");
      if (!child.ok()) return child.status();
      server_ = std::move(*child);
      conn_.address = server_->address();
      progress_.Line(absl::StrCat("started palm-server on ", conn_.address, " (mutual TLS)"));
    } else {
      conn_.address = o_.server;
      conn_.tls_server_name = o_.tls_server_name;
      prefix = "sim" + RandomHex(6);
      o_.salt = std::strtoull(RandomHex(6).c_str(), nullptr, 16);
      if (o_.insecure_loopback) {
        conn_.insecure = true;
      } else {
        absl::StatusOr<pki::CertificateAuthority> ca = pki::LoadCertificateAuthority(o_.cert_dir);
        if (!ca.ok()) return ca.status();
        conn_.ca = *ca;
        absl::StatusOr<std::string> secret = pki::ReadFile(o_.admin_secret_file);
        if (!secret.ok()) return secret.status();
        admin_secret = secret->substr(0, secret->find_first_of("\r\n"));
      }
    }
    if (!conn_.insecure) {
      absl::StatusOr<pki::Credentials> op =
          pki::IssueOperatorCertificate(conn_.ca, {.name = "palm-sim"});
      if (!op.ok()) return op.status();
      conn_.operator_creds = *op;
      absl::StatusOr<std::string> token =
          SignIn(conn_, conn_.Channel(&conn_.operator_creds), o_.admin_id, admin_secret);
      if (!token.ok()) return token.status();
      conn_.admin_token = *token;
    }
    bool load_catalog = o_.server.empty();
    if (!load_catalog) {
      // A running server keeps its catalogue; load the sample only into an empty one.
      auto admin = v1::AdminService::NewStub(conn_.Channel(&conn_.operator_creds));
      v1::GetCatalogRequest request;
      v1::Catalog catalog;
      grpc::Status s = admin->GetCatalog(conn_.Context(conn_.admin_token).get(), request, &catalog);
      load_catalog = !s.ok() || catalog.matters_size() == 0;
    }
    absl::Status s =
        SetUpOrganisation(o_, conn_, prefix, load_catalog, &squads_, &devices_, progress_);
    return s;
  }

  // Devices open their stores and sign in; the first device of each town
  // records the town's shared cases (ongoing cases from earlier shifts);
  // then every device syncs: catalogue, roster, ticket numbers, cases.
  void StartOfShift() {
    const int64_t t0 = SteadyMs();
    progress_.Phase("start of shift", devices_.size());
    ParallelFor(devices_.size(), SyncThreads(), [&](size_t i) {
      SimDevice& d = *devices_[i];
      if (absl::Status s = OpenDevice(o_, conn_, d); !s.ok()) DeviceFailed(d, "opening", s);
      progress_.Step();
    });
    std::map<std::string, SimDevice*> first_of_town;
    for (auto& d : devices_) first_of_town.emplace(d->squad.town_id, d.get());
    std::vector<SimDevice*> owners;
    for (auto& [town, d] : first_of_town) owners.push_back(d);
    ParallelFor(owners.size(), SyncThreads(), [&](size_t i) {
      SimDevice& d = *owners[i];
      if (d.failed) return;
      // Catalogue and roster first; the shared cases go to the server
      // before any other device of the town syncs.
      absl::Status s = SyncDevice(conn_, d);
      if (s.ok()) s = RecordSharedCases(o_, d);
      if (s.ok()) s = SyncDevice(conn_, d);
      if (!s.ok()) DeviceFailed(d, "shared cases", s);
    });
    ParallelFor(devices_.size(), SyncThreads(), [&](size_t i) {
      SimDevice& d = *devices_[i];
      if (d.failed) return;
      absl::Status s = SyncDevice(conn_, d);
      if (s.ok()) s = FindSharedCases(d);
      if (!s.ok()) DeviceFailed(d, "start-of-shift sync", s);
    });
    progress_.Done();
    durations_.start_ms = SteadyMs() - t0;
  }

  void Shift() {
    const int64_t t0 = SteadyMs();
    progress_.Phase("shift (offline)", devices_.size());
    ParallelFor(devices_.size(), Threads(), [&](size_t i) {
      SimDevice& d = *devices_[i];
      if (!d.failed) {
        if (absl::Status s = WorkShift(o_, d); !s.ok()) DeviceFailed(d, "shift", s);
      }
      progress_.Step();
    });
    progress_.Done();
    durations_.shift_ms = SteadyMs() - t0;
    for (const auto& d : devices_) {
      if (d->stats.write_errors > 0) {
        progress_.Line(absl::StrCat(d->device_id, ": ", d->stats.write_errors,
                                    " write(s) refused on the device; first: ", d->error));
      }
    }
  }

  void ShiftEndSync() {
    int64_t t0 = SteadyMs();
    progress_.Phase("shift-end sync", devices_.size());
    ParallelFor(devices_.size(), SyncThreads(), [&](size_t i) {
      SimDevice& d = *devices_[i];
      if (!d.failed) {
        if (absl::Status s = SyncDevice(conn_, d, true); !s.ok())
          DeviceFailed(d, "shift-end sync", s);
      }
      progress_.Step();
    });
    progress_.Done();
    durations_.sync_ms = SteadyMs() - t0;
    // Devices that synced early have not seen what the later ones pushed.
    t0 = SteadyMs();
    progress_.Phase("catch-up pull", devices_.size());
    ParallelFor(devices_.size(), SyncThreads(), [&](size_t i) {
      SimDevice& d = *devices_[i];
      if (!d.failed) {
        if (absl::Status s = SyncDevice(conn_, d); !s.ok()) DeviceFailed(d, "catch-up sync", s);
      }
      progress_.Step();
    });
    progress_.Done();
    durations_.catch_up_ms = SteadyMs() - t0;
  }

  void Verify() {
    const int64_t t0 = SteadyMs();
    std::set<std::string> town_ids;
    for (const SquadInfo& s : squads_) town_ids.insert(s.town_id);
    std::vector<std::string> towns(town_ids.begin(), town_ids.end());
    progress_.Phase("convergence check", towns.size() + devices_.size());
    std::map<std::string, TownOnServer> on_server;
    std::mutex mu;
    bool fetched = true;
    ParallelFor(towns.size(), 4, [&](size_t i) {
      absl::StatusOr<TownOnServer> t = FetchTown(conn_, towns[i]);
      std::lock_guard<std::mutex> lock(mu);
      if (!t.ok()) {
        progress_.Line(
            absl::StrCat("reading town ", towns[i], " from the server: ", t.status().ToString()));
        fetched = false;
      } else {
        on_server.emplace(towns[i], *std::move(t));
      }
      progress_.Step();
    });
    ParallelFor(devices_.size(), Threads(), [&](size_t i) {
      SimDevice& d = *devices_[i];
      auto town = on_server.find(d.squad.town_id);
      if (!d.failed && town != on_server.end()) {
        const std::string diff = DiffWithServer(d, town->second);
        if (diff.empty()) {
          d.converged = true;
        } else {
          progress_.Line(absl::StrCat(d.device_id, " did not converge: ", diff.substr(0, 400)));
        }
      }
      progress_.Step();
    });
    progress_.Done();
    verified_ = fetched;
    // Direct counts from the server, for the summary.
    std::set<std::string> case_ids;
    for (const auto& [town, t] : on_server) {
      for (const v1::CaseDetail& c : t.cases) {
        case_ids.insert(c.case_().case_id());
        ++counts_.cases;
        counts_.tickets += c.tickets_size();
        for (const auto& tk : c.tickets()) counts_.tickets_fen += tk.fine_fen();
        counts_.no_penalty += c.no_penalty_size();
        counts_.evidence += c.evidence_size();
        for (const auto& e : c.evidence()) counts_.evidence_uploaded += e.uploaded() ? 1 : 0;
      }
    }
    auto admin = v1::AdminService::NewStub(conn_.Channel(&conn_.operator_creds));
    // Both lists come in pages (docs/protocol.md): every page is counted.
    v1::ListConflictsRequest conflicts_request;
    conflicts_request.set_include_resolved(true);
    conflicts_request.set_page_size(1000);
    for (;;) {
      v1::ListConflictsResponse conflicts;
      if (!admin
               ->ListConflicts(conn_.Context(conn_.admin_token).get(), conflicts_request,
                               &conflicts)
               .ok()) {
        break;
      }
      for (const auto& c : conflicts.conflicts())
        counts_.conflicts += case_ids.count(c.loss().case_id());
      if (conflicts.next_page_token().empty()) break;
      conflicts_request.set_page_token(conflicts.next_page_token());
    }
    std::set<std::string> ours;
    for (const auto& d : devices_) ours.insert(d->device_id);
    v1::ListRejectedRequest rejected_request;
    rejected_request.set_include_dismissed(true);
    rejected_request.set_page_size(1000);
    for (;;) {
      v1::ListRejectedResponse rejected;
      if (!admin->ListRejected(conn_.Context(conn_.admin_token).get(), rejected_request, &rejected)
               .ok()) {
        break;
      }
      for (const auto& r : rejected.rejected())
        counts_.rejected += ours.count(r.mutation().device_id());
      if (rejected.next_page_token().empty()) break;
      rejected_request.set_page_token(rejected.next_page_token());
    }
    durations_.verify_ms = SteadyMs() - t0;
  }

  void PrintSummary() {
    DeviceStats sum;
    uint64_t converged = 0, failed = 0;
    std::vector<int64_t> sync_ms;
    for (const auto& d : devices_) {
      const DeviceStats& s = d->stats;
      sum.mutations += s.mutations;
      sum.cases += s.cases;
      sum.tickets += s.tickets;
      sum.tickets_fen += s.tickets_fen;
      sum.no_penalty += s.no_penalty;
      sum.evidence_files += s.evidence_files;
      sum.evidence_bytes += s.evidence_bytes;
      sum.shared_edits += s.shared_edits;
      sum.write_errors += s.write_errors;
      sum.syncs += s.syncs;
      sum.sync_failures += s.sync_failures;
      sum.pushed += s.pushed;
      sum.applied += s.applied;
      sum.applied_with_conflict += s.applied_with_conflict;
      sum.rejected += s.rejected;
      sum.conflicts += s.conflicts;
      sum.pulled += s.pulled;
      converged += d->converged ? 1 : 0;
      failed += d->failed ? 1 : 0;
      if (s.last_sync_ms > 0) sync_ms.push_back(s.last_sync_ms);
    }
    std::sort(sync_ms.begin(), sync_ms.end());
    auto pct = [&](double p) -> int64_t {
      if (sync_ms.empty()) return 0;
      return sync_ms[std::min(sync_ms.size() - 1, static_cast<size_t>(p * sync_ms.size()))];
    };
    nlohmann::json j = {{"server", conn_.address},
                        {"seed", o_.seed},
                        {"devices", devices_.size()},
                        {"towns", o_.towns},
                        {"squads", squads_.size()},
                        {"devices_failed", failed},
                        {"devices_converged", converged},
                        {"converged", Ok()},
                        {"mutations", sum.mutations},
                        {"write_errors", sum.write_errors},
                        {"pushed", sum.pushed},
                        {"applied", sum.applied},
                        {"applied_with_conflict", sum.applied_with_conflict},
                        {"conflicts", sum.conflicts},
                        {"rejected", sum.rejected},
                        {"cases", sum.cases},
                        {"tickets", sum.tickets},
                        {"tickets_fen", sum.tickets_fen},
                        {"no_penalty", sum.no_penalty},
                        {"shared_case_edits", sum.shared_edits},
                        {"evidence_files", sum.evidence_files},
                        {"evidence_bytes_uploaded", sum.evidence_bytes},
                        {"syncs", sum.syncs},
                        {"sync_retries", sum.sync_failures},
                        {"on_server",
                         {{"cases", counts_.cases},
                          {"tickets", counts_.tickets},
                          {"tickets_fen", counts_.tickets_fen},
                          {"no_penalty", counts_.no_penalty},
                          {"evidence", counts_.evidence},
                          {"evidence_uploaded", counts_.evidence_uploaded},
                          {"conflicts", counts_.conflicts},
                          {"rejected", counts_.rejected}}},
                        {"durations_ms",
                         {{"setup", durations_.setup_ms},
                          {"start_of_shift", durations_.start_ms},
                          {"shift", durations_.shift_ms},
                          {"shift_end_sync", durations_.sync_ms},
                          {"catch_up_pull", durations_.catch_up_ms},
                          {"verify", durations_.verify_ms},
                          {"total", durations_.total_ms},
                          {"device_sync_p50", pct(0.5)},
                          {"device_sync_p95", pct(0.95)},
                          {"device_sync_max", sync_ms.empty() ? 0 : sync_ms.back()}}}};
    if (o_.json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    auto secs = [](int64_t ms) { return absl::StrFormat("%.1fs", ms / 1000.0); };
    std::cout << absl::StrFormat(
        "palm-sim summary (seed %d, server %s)\n"
        "  devices      %d in %d towns, %d squads; %d converged, %d failed\n"
        "  mutations    %d written offline (%d write errors), %d pushed\n"
        "  outcomes     %d applied (%d with a conflict), %d rejected; %d field values lost (LWW)\n"
        "  shift        %d cases, %d tickets (%.2f yuan), %d no-penalty decisions, %d shared-case "
        "edits\n"
        "  evidence     %d files, %d bytes uploaded\n"
        "  server       %d cases, %d tickets, %d no-penalty, %d evidence (%d uploaded), %d "
        "conflicts, %d rejected\n"
        "  durations    setup %s, start of shift %s, shift %s, shift-end sync %s (per device p50 "
        "%s, p95 %s, max %s), catch-up %s, check %s, total %s\n"
        "  result       %s\n",
        o_.seed, conn_.address, devices_.size(), o_.towns, squads_.size(), converged, failed,
        sum.mutations, sum.write_errors, sum.pushed, sum.applied, sum.applied_with_conflict,
        sum.rejected, sum.conflicts, sum.cases, sum.tickets, sum.tickets_fen / 100.0,
        sum.no_penalty, sum.shared_edits, sum.evidence_files, sum.evidence_bytes, counts_.cases,
        counts_.tickets, counts_.no_penalty, counts_.evidence, counts_.evidence_uploaded,
        counts_.conflicts, counts_.rejected, secs(durations_.setup_ms), secs(durations_.start_ms),
        secs(durations_.shift_ms), secs(durations_.sync_ms), secs(pct(0.5)), secs(pct(0.95)),
        secs(sync_ms.empty() ? 0 : sync_ms.back()), secs(durations_.catch_up_ms),
        secs(durations_.verify_ms), secs(durations_.total_ms),
        Ok() ? "every device converged with the server" : "FAILED: not every device converged");
  }

  void PrintReport() {
    if (squads_.empty()) return;
    const SquadInfo& squad = squads_.front();
    auto admin = v1::AdminService::NewStub(conn_.Channel(&conn_.operator_creds));
    v1::ShiftReportRequest request;
    request.set_squad_id(squad.squad_id);
    request.set_date(ShanghaiToday());
    v1::ShiftReportResponse response;
    grpc::Status s = admin->ShiftReport(conn_.Context(conn_.admin_token).get(), request, &response);
    std::ostream& out = o_.json ? std::cerr : std::cout;
    if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      out << "\nThe server does not support ShiftReport yet: no shift report.\n";
      return;
    }
    if (!s.ok()) {
      out << "\nShiftReport failed: " << s.error_message() << "\n";
      return;
    }
    out << "\nShift report of squad " << squad.squad_id << " for " << request.date() << "\n"
        << palmctl::RenderShiftReportTable(response);
  }

  Options o_;
  Progress progress_;
  Connection conn_;
  std::unique_ptr<ServerChild> server_;
  std::vector<SquadInfo> squads_;
  std::vector<std::unique_ptr<SimDevice>> devices_;
  bool verified_ = false;
  Durations durations_;
  ServerCounts counts_;
};

}  // namespace
}  // namespace palm::sim

int main(int argc, char** argv) {
  using namespace palm::sim;
  absl::StatusOr<Options> options = ParseOptions(argc, argv);
  if (!options.ok()) {
    std::cerr << "palm-sim: " << options.status().message() << "\n\n" << UsageText();
    return kExitUsage;
  }
  if (!options->print_and_exit.empty()) {
    std::cout << options->print_and_exit;
    return kExitOk;
  }
  Sim sim(*std::move(options));
  return sim.Run();
}
