#include "server/server.h"

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>

#include <grpc/support/log.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/audit.h"
#include "server/auth_credentials.h"
#include "server/auth_token.h"
#include "server/backup.h"
#include "server/evidence_log.h"
#include "server/log.h"
#include "server/log_lineage.h"
#include "server/numbering.h"
#include "server/party_secret.h"
#include "server/prior_violations.h"
#include "server/request_log.h"
#include "server/services.h"
#include "sync/hlc.h"
#include "sync/status_macros.h"

namespace palm::server {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, " cannot be read"));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(
    const ServerConfig& config) {
  if (!config.tls_enabled()) return grpc::InsecureServerCredentials();
  auto cert = ReadFile(config.tls_cert);
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(config.tls_key);
  if (!key.ok()) return key.status();
  auto ca = ReadFile(config.client_ca);
  if (!ca.ok()) return ca.status();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = *ca;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

namespace v1 = palm::v1;

// Another owner of `key` (an EVP_PKEY counts its references); null for null.
sync::UniqueEvpPkey SharedKey(EVP_PKEY* key) {
  if (key == nullptr || EVP_PKEY_up_ref(key) != 1) return sync::UniqueEvpPkey();
  return sync::UniqueEvpPkey(key);
}

// Runs `work` on the store's writer thread and waits for it (start-up only,
// before any reaction runs).
absl::Status WriteAndWait(ServerStore& store, ServerStore::WriteWork work) {
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  absl::Status result;
  store.SubmitWrite(std::move(work), [&](absl::Status s) {
    std::lock_guard<std::mutex> lock(m);
    result = s;
    finished = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return finished; });
  return result;
}

// --bootstrap-admin: creates (or resets the secret of) the first admin
// officer, audited as done by "server". The secret is the first line of
// --bootstrap-secret-file, or of stdin.
absl::Status BootstrapAdmin(const ServerConfig& config, ServerStore& store) {
  std::string secret;
  if (!config.bootstrap_secret_file.empty()) {
    auto text = ReadFile(config.bootstrap_secret_file);
    if (!text.ok()) return text.status();
    secret = text->substr(0, text->find('\n'));
  } else {
    std::getline(std::cin, secret);
  }
  secret = std::string(absl::StripTrailingAsciiWhitespace(secret));
  if (secret.empty()) {
    return absl::InvalidArgumentError(
        "--bootstrap-admin needs a secret (first line of --bootstrap-secret-file or of stdin)");
  }
  auto credential = NewCredential(config.bootstrap_admin, secret);
  if (!credential.ok()) return credential.status();
  return WriteAndWait(store, [&](WriteTxn& txn) -> absl::Status {
    auto town = txn.GetTown(config.bootstrap_town);
    if (!town.ok()) return town.status();
    if (!*town) {
      palm::v1::Town t;
      t.set_town_id(config.bootstrap_town);
      t.set_name(config.bootstrap_town);
      if (auto s = txn.PutTown(t); !s.ok()) return s;
      if (auto seq = txn.AppendChange(EntityKind::kTown, t.town_id(), GlobalScope()); !seq.ok()) {
        return seq.status();
      }
    }
    palm::v1::Officer officer;
    officer.set_officer_id(config.bootstrap_admin);
    officer.set_name(config.bootstrap_admin);
    officer.set_role(palm::v1::ROLE_ADMIN);
    officer.set_town_id(config.bootstrap_town);
    officer.set_active(true);
    if (auto s = txn.PutOfficer(officer); !s.ok()) return s;
    if (auto seq = txn.AppendChange(EntityKind::kOfficer, officer.officer_id(),
                                    TownScope(officer.town_id()));
        !seq.ok()) {
      return seq.status();
    }
    if (auto s = txn.PutCredential(*credential); !s.ok()) return s;
    return AppendAudit(txn, sync::SystemNowMs(), "server", "officer.bootstrap_admin",
                       officer.officer_id(), {{"town", officer.town_id()}});
  });
}

// gRPC's own diagnostics go into the structured log at debug level, so that a
// failed start prints only our one line naming the problem.
void RouteGrpcLog(gpr_log_func_args* args) {
  Log(LogLevel::kDebug, {{"event", "grpc"},
                         {"severity", gpr_log_severity_string(args->severity)},
                         {"file", args->file},
                         {"line", args->line},
                         {"message", args->message}});
}

}  // namespace

struct PalmServer::Impl {
  ServerConfig config;
  // Held until the store is closed (declared first: released last).
  std::optional<DataDirLock> data_dir_lock;
  std::unique_ptr<ServerStore> store;
  ServiceContext context;
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  bool shut_down = false;
};

PalmServer::PalmServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PalmServer::~PalmServer() { Shutdown(std::chrono::milliseconds(0)); }

absl::StatusOr<std::unique_ptr<PalmServer>> PalmServer::Start(const ServerConfig& config) {
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  SetLogLevel(ParseLogLevel(config.log_level));

  auto lock = DataDirLock::Acquire(config.data_dir);
  if (!lock.ok()) return lock.status();
  impl->data_dir_lock.emplace(std::move(*lock));
  std::optional<RestoreResult> restored;
  if (!config.restore_from.empty()) {
    auto result = RestoreBackup(config.restore_from, config.data_dir, sync::SystemNowMs());
    if (!result.ok()) return result.status();
    restored = std::move(*result);
    Log(LogLevel::kWarn, {{"event", "restored"},
                          {"backup", config.restore_from},
                          {"backup_name", restored->backup_name},
                          {"backup_created_at_ms", restored->backup_created_at_ms},
                          {"replaced_store_kept_in", restored->replaced_dir}});
  }
  // --new-epoch on a data dir that holds no store yet has no history to
  // part from: the store is simply new (no fence, no transition needed).
  std::error_code no_store_error;
  const bool new_store =
      !restored && !std::filesystem::exists(
                       std::filesystem::path(config.data_dir) / kBackupStoreFile, no_store_error);
  const bool new_epoch = restored.has_value() || (config.new_epoch && !new_store);
  if (config.new_epoch && new_store) {
    Log(LogLevel::kWarn, {{"event", "new_epoch_not_needed"},
                          {"detail", "the data dir holds no store yet: it starts with a new one"}});
  }
  auto store =
      OpenSqliteStore({.data_dir = config.data_dir, .max_page_count = config.max_store_pages});
  if (!store.ok()) return store.status();
  impl->store = std::move(*store);
  // The evidence log's key signs tree heads, log transitions, leases, case
  // number seals and audit checkpoints: loaded once, shared.
  sync::UniqueEvpPkey log_key;
  if (auto loaded = LoadOrCreateLogKey(config.data_dir + "/evidence/log_key.pem"); loaded.ok()) {
    log_key = std::move(*loaded);
    impl->context.log_key = SharedKey(log_key.get());
    impl->context.log_key_status = absl::OkStatus();
  } else {
    impl->context.log_key_status = loaded.status();
    Log(LogLevel::kError, {{"event", "log_key_unusable"}, {"detail", loaded.status().ToString()}});
  }
  // A restored store always starts a new epoch: its cursors are from the
  // past; and its evidence log goes on under a new origin, in the same
  // transaction (server/log_lineage.h).
  if (new_epoch) {
    std::string old_epoch = impl->store->epoch();
    const std::string reason =
        restored ? absl::StrCat("restored from backup ", restored->backup_name) : "new epoch";
    std::optional<v1::LogTransition> transition;
    ServerStore::EpochWork continue_log;
    if (log_key != nullptr) {
      continue_log = [&](WriteTxn& txn, const std::string& epoch) -> absl::Status {
        PALM_ASSIGN_OR_RETURN(
            transition, ContinueLogUnderNewOrigin(txn, log_key.get(), config.log_origin, epoch,
                                                  reason, sync::SystemNowMs()));
        return absl::OkStatus();
      };
    }
    if (absl::Status s = impl->store->AssignNewEpoch(continue_log); !s.ok()) return s;
    Log(LogLevel::kWarn, {{"event", "new_epoch"},
                          {"old_epoch", old_epoch},
                          {"epoch", impl->store->epoch()},
                          {"detail", "devices will be told to resync"}});
    if (transition) {
      Log(LogLevel::kWarn, {{"event", "evidence_log_continued"},
                            {"from_origin", transition->from_origin()},
                            {"from_tree_size", transition->from_head().tree_size()},
                            {"to_origin", transition->to_origin()},
                            {"reason", reason}});
    }
  }
  // The log's lineage, kept outside the store too (a later restore to an
  // older backup forgets the transitions after it).
  {
    std::vector<v1::LogTransition> in_store;
    absl::Status read = WriteAndWait(*impl->store, [&](WriteTxn& txn) -> absl::Status {
      PALM_ASSIGN_OR_RETURN(in_store, txn.LogTransitions());
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
    auto lineage = RecordLineage(config.data_dir + "/evidence/log_lineage", in_store);
    if (!lineage.ok()) return lineage.status();
    impl->context.log_origin = CurrentLogOrigin(in_store, config.log_origin);
    impl->context.log_lineage = std::move(*lineage);
  }
  // The party-key secret, and the prior violations of an older server
  // rekeyed under it (server/party_secret.h).
  {
    std::optional<PartyKeyOpening> opening;
    absl::Status opened = WriteAndWait(*impl->store, [&](WriteTxn& txn) -> absl::Status {
      PALM_ASSIGN_OR_RETURN(opening, OpenPartyKeySecret(config.data_dir, txn));
      if (opening->rekeyed == 0) return absl::OkStatus();
      return AppendAudit(txn, sync::SystemNowMs(), "server", "prior_violations.rekeyed",
                         opening->secret.key_id(),
                         {{"rekeyed", opening->rekeyed}, {"key_id", opening->secret.key_id()}});
    });
    if (!opened.ok()) return opened;
    if (opening->rekeyed > 0) {
      Log(LogLevel::kWarn, {{"event", "prior_violations_rekeyed"},
                            {"rekeyed", opening->rekeyed},
                            {"key_id", opening->secret.key_id()}});
    }
    impl->context.party_key = std::move(opening->secret);
  }
  // Violations recorded by tickets voided before voiding lapsed them.
  {
    int64_t lapsed = 0;
    absl::Status rechecked = WriteAndWait(*impl->store, [&](WriteTxn& txn) -> absl::Status {
      PALM_ASSIGN_OR_RETURN(lapsed, RecheckPendingViolations(txn, &*impl->context.party_key));
      if (lapsed == 0) return absl::OkStatus();
      return AppendAudit(txn, sync::SystemNowMs(), "server", "prior_violations.lapsed", "",
                         {{"lapsed", lapsed}});
    });
    if (!rechecked.ok()) return rechecked;
    if (lapsed > 0) {
      Log(LogLevel::kWarn, {{"event", "prior_violations_lapsed"}, {"lapsed", lapsed}});
    }
  }
  if (restored) {
    absl::Status audited = WriteAndWait(*impl->store, [&](WriteTxn& txn) {
      return AppendAudit(txn, sync::SystemNowMs(), "server", "server.restored",
                         restored->backup_name,
                         {{"backup", config.restore_from},
                          {"backup_epoch", restored->backup_epoch},
                          {"backup_created_at_ms", restored->backup_created_at_ms},
                          {"epoch", impl->store->epoch()},
                          {"replaced_store_kept_in", restored->replaced_dir}});
    });
    if (!audited.ok()) return audited;
  }
  // The number fence, before anything can lease or number (issue 18).
  {
    int64_t store_highest = 0;
    std::map<int32_t, int64_t> counters;
    absl::Status read = WriteAndWait(*impl->store, [&](WriteTxn& txn) -> absl::Status {
      PALM_ASSIGN_OR_RETURN(store_highest, txn.HighestLeasedNumber());
      PALM_ASSIGN_OR_RETURN(counters, txn.CaseNumberCounters());
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
    const bool after_restore = new_epoch;
    auto numbering = Numbering::Open({.data_dir = config.data_dir,
                                      .store_highest = store_highest,
                                      .store_case_counters = counters,
                                      .after_restore = after_restore,
                                      .ticket_floor = config.ticket_number_floor,
                                      .case_floor = config.case_number_floor,
                                      .floor_year = BureauYear(sync::SystemNowMs())},
                                     SharedKey(log_key.get()));
    if (!numbering.ok()) return numbering.status();
    impl->context.numbering = std::move(*numbering);
    // Numbers given that the store does not know (a restore, or a write that
    // failed after its fence): leases start above the fence; after a restore
    // case numbers resume above the reservation.
    const int64_t fence = impl->context.numbering->Highest();
    if (fence > store_highest) {
      Log(LogLevel::kWarn, {{"event", "ticket_fence_above_store"},
                            {"highest_leased", fence},
                            {"store_highest_leased", store_highest},
                            {"detail", "new leases start above the fence"}});
    }
    if (after_restore) {
      const std::map<int32_t, int64_t> reserved = impl->context.numbering->CaseReservations();
      absl::Status raised = WriteAndWait(*impl->store, [&](WriteTxn& txn) -> absl::Status {
        for (const auto& [year, last] : reserved) {
          PALM_RETURN_IF_ERROR(txn.RaiseCaseNumberCounter(year, last));
        }
        return absl::OkStatus();
      });
      if (!raised.ok()) return raised;
      for (const auto& [year, last] : reserved) {
        const auto it = counters.find(year);
        const int64_t had = it == counters.end() ? 0 : it->second;
        if (last > had) {
          Log(LogLevel::kWarn, {{"event", "case_numbers_resume_above_fence"},
                                {"year", year},
                                {"store_last", had},
                                {"resume_after", last}});
        }
      }
    }
  }
  impl->context.config = &impl->config;
  impl->context.store = impl->store.get();
  auto signer = TokenSigner::Open(config.data_dir);
  if (!signer.ok()) return signer.status();
  impl->context.signer = std::move(*signer);
  // Audit checkpoints are signed with the evidence log's key (issue 18).
  if (log_key != nullptr) {
    impl->context.audit =
        std::make_shared<AuditCheckpointer>(impl->store.get(), SharedKey(log_key.get()),
                                            config.log_origin, config.audit_checkpoint_interval_ms);
    impl->context.audit->Start();
  }
  auto sessions = EndedSessions::Load(*impl->store);
  if (!sessions.ok()) return sessions.status();
  impl->context.sessions = std::move(*sessions);
  if (config.tls_enabled()) {
    auto ca = ReadFile(config.client_ca);
    if (!ca.ok()) return ca.status();
    impl->context.client_ca_pem = *ca;
  }
  if (!config.bootstrap_admin.empty()) {
    if (absl::Status s = BootstrapAdmin(config, *impl->store); !s.ok()) return s;
    Log(LogLevel::kWarn, {{"event", "bootstrap_admin"}, {"officer", config.bootstrap_admin}});
  }

  auto credentials = MakeCredentials(config);
  if (!credentials.ok()) return credentials.status();

  gpr_set_log_function(RouteGrpcLog);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // Without this, gRPC sets SO_REUSEPORT and a second server would silently
  // share the port instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Deliberate limits (docs/protocol.md): a larger message is refused by gRPC
  // with RESOURCE_EXHAUSTED before any of our code sees it.
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // Keepalive policy (docs/protocol.md "Limits"), set deliberately rather
  // than left to gRPC's defaults (which refuse pings closer than 5 min apart
  // and answer the second with GOAWAY "too_many_pings"). Handhelds
  // (client-lib/src/channel.cc) ping every 60 s while a call is open, to
  // notice a dead cell connection during a long pull or upload; a push or
  // pull may sit without data for minutes (a device thinking, the writer
  // busy). Accept pings 30 s apart without data — half the client's period,
  // so jitter never earns a strike. The client sends no pings without calls,
  // so the server does not permit them: an idle connection pinging is a
  // misbehaving client and is closed.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kMinClientPingIntervalMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  builder.AddListeningPort(config.listen, *credentials, &impl->port);
  auto services = MakeServices(&impl->context);
  if (!services.ok()) return services.status();
  impl->services = std::move(*services);
  for (auto& service : impl->services) builder.RegisterService(service.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeRequestLogFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || impl->port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config.listen,
                                               ": the address is in use or not available"));
  }
  auto* health = impl->server->GetHealthCheckService();
  if (health != nullptr) health->SetServingStatus(true);
  Log(LogLevel::kInfo, {{"event", "started"},
                        {"listen", config.listen},
                        {"port", impl->port},
                        {"tls", config.tls_enabled()},
                        {"data_dir", config.data_dir},
                        {"epoch", impl->store->epoch()}});
  return std::unique_ptr<PalmServer>(new PalmServer(std::move(impl)));
}

int PalmServer::port() const { return impl_->port; }

std::string PalmServer::address() const {
  std::string host = impl_->config.listen.substr(0, impl_->config.listen.rfind(':'));
  return absl::StrCat(host, ":", impl_->port);
}

const ServerConfig& PalmServer::config() const { return impl_->config; }

void PalmServer::Shutdown(std::chrono::milliseconds grace) {
  if (impl_ == nullptr || impl_->shut_down) return;
  impl_->shut_down = true;
  if (auto* health = impl_->server->GetHealthCheckService()) health->SetServingStatus(false);
  impl_->server->Shutdown(std::chrono::system_clock::now() + grace);
  impl_->server->Wait();
  // A last checkpoint covers every entry written before the stop.
  if (impl_->context.audit) impl_->context.audit->Stop();
  absl::Status closed = impl_->store->Close();
  Log(closed.ok() ? LogLevel::kInfo : LogLevel::kError,
      {{"event", "stopped"}, {"store_closed", closed.ok()}, {"detail", closed.ToString()}});
}

}  // namespace palm::server
