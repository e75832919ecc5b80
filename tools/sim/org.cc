// The simulated organisation: set up through AdminService as an admin
// would, devices opened and signed in, syncs with retries.
#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client-lib/src/catalog_json.h"
#include "palm/v1/auth.grpc.pb.h"
#include "tools/sim/sim.h"

namespace palm::sim {
namespace {

namespace fs = std::filesystem;

absl::Status RpcError(const std::string& what, const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

}  // namespace

std::shared_ptr<grpc::Channel> Connection::Channel(const pki::Credentials* client) const {
  grpc::ChannelArguments args;
  // Each device its own connection, as real handhelds have.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (insecure) {
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca.credentials.certificate_pem;
  if (client != nullptr) {
    ssl.pem_private_key = client->key_pem;
    ssl.pem_cert_chain = client->certificate_pem;
  }
  args.SetSslTargetNameOverride(tls_server_name);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

std::unique_ptr<grpc::ClientContext> Connection::Context(const std::string& token,
                                                         int seconds) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty() && !insecure) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

absl::StatusOr<std::string> SignIn(const Connection& conn,
                                   const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& officer, const std::string& secret) {
  if (conn.insecure) return std::string();
  auto auth = v1::AuthService::NewStub(channel);
  v1::SignInRequest request;
  request.set_officer_id(officer);
  request.set_secret(secret);
  v1::SignInResponse response;
  grpc::Status s = auth->SignIn(conn.Context("").get(), request, &response);
  if (!s.ok()) return RpcError(absl::StrCat("signing in ", officer), s);
  return response.session().token();
}

std::string OfficerSecret(const std::string& officer_id) { return "pin-" + officer_id; }

absl::Status SetUpOrganisation(const Options& options, const Connection& conn,
                               const std::string& prefix, bool load_catalog,
                               std::vector<SquadInfo>* squads,
                               std::vector<std::unique_ptr<SimDevice>>* devices,
                               Progress& progress) {
  std::shared_ptr<grpc::Channel> channel = conn.Channel(&conn.operator_creds);
  auto admin = v1::AdminService::NewStub(channel);

  if (load_catalog) {
    absl::StatusOr<v1::Catalog> catalog = internal::LoadCatalogFile(PALM_SIM_SAMPLE_CATALOG);
    if (!catalog.ok()) return catalog.status();
    // With the working-day calendar, as tools/serve.sh loads it: the
    // payment and service clocks count with it.
    absl::StatusOr<v1::Catalog> calendar = internal::LoadCatalogFile(PALM_SIM_SAMPLE_CALENDAR);
    if (!calendar.ok()) return calendar.status();
    *catalog->mutable_calendar() = calendar->calendar();
    v1::LoadCatalogRequest request;
    *request.mutable_catalog() = *catalog;
    v1::LoadCatalogResponse response;
    grpc::Status s = admin->LoadCatalog(conn.Context(conn.admin_token).get(), request, &response);
    if (!s.ok()) return RpcError("LoadCatalog", s);
  }

  // Devices are spread evenly over the towns, then cut into squads.
  const int n = options.devices;
  for (int t = 0; t < options.towns; ++t) {
    const int first = t * n / options.towns;
    const int last = (t + 1) * n / options.towns;
    const std::string town = absl::StrFormat("%s-t%02d", prefix, t + 1);
    for (int i = first; i < last; ++i) {
      const int in_town = i - first;
      if (in_town % options.squad_size == 0) {
        const std::string squad = absl::StrFormat("%s-s%d", town, in_town / options.squad_size + 1);
        squads->push_back({town, squad, squad + "-lead", squad + "-deputy"});
      }
      auto d = std::make_unique<SimDevice>();
      d->index = i;
      d->device_id = absl::StrFormat("%s-d%04d", prefix, i + 1);
      d->squad = squads->back();
      d->officer_id =
          absl::StrFormat("%s-o%02d", d->squad.squad_id, in_town % options.squad_size + 1);
      // Every fourth officer is an auxiliary (辅勤), who assists and never
      // counts as one of the two credentialed officers (Art. 42, 55): the
      // squad leader and the deputy are then the two.
      d->sworn = i % 4 != 3;
      devices->push_back(std::move(d));
    }
  }

  progress.Phase("enrolling", squads->size() + devices->size());
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  absl::Status first_error;
  auto fail = [&](absl::Status s) {
    std::lock_guard<std::mutex> lock(error_mu);
    if (first_error.ok()) first_error = std::move(s);
    failed = true;
  };
  auto add_officer = [&](const std::string& id, const SquadInfo& squad, v1::Role role, bool sworn) {
    v1::AddOfficerRequest request;
    v1::Officer* o = request.mutable_officer();
    o->set_officer_id(id);
    o->set_name(id);
    o->set_role(role);
    o->set_sworn(sworn);
    o->set_certificate_number(sworn ? "ZJ-" + id : "");
    o->set_town_id(squad.town_id);
    o->set_squad_id(squad.squad_id);
    o->set_active(true);
    request.set_secret(OfficerSecret(id));
    v1::AddOfficerResponse response;
    grpc::Status s = admin->AddOfficer(conn.Context(conn.admin_token).get(), request, &response);
    if (!s.ok()) fail(RpcError("AddOfficer " + id, s));
  };
  // Setting up is I/O- and scrypt-bound on the server: a few at a time.
  ParallelFor(squads->size(), 4, [&](size_t i) {
    const SquadInfo& squad = (*squads)[i];
    if (!failed) add_officer(squad.leader_id, squad, v1::ROLE_SQUAD_LEADER, true);
    if (!failed) add_officer(squad.deputy_id, squad, v1::ROLE_OFFICER, true);
    progress.Step();
  });
  ParallelFor(devices->size(), 4, [&](size_t i) {
    SimDevice& d = *(*devices)[i];
    if (failed) return;
    add_officer(d.officer_id, d.squad, d.sworn ? v1::ROLE_OFFICER : v1::ROLE_AUXILIARY, d.sworn);
    d.dir = (fs::path(options.work_dir) / d.device_id).string();
    std::error_code ec;
    fs::create_directories(d.dir, ec);
    v1::EnrollDeviceRequest request;
    request.set_town_id(d.squad.town_id);
    request.set_squad_id(d.squad.squad_id);
    if (conn.insecure) {
      request.set_device_id(d.device_id);
    } else {
      absl::StatusOr<pki::Credentials> creds = pki::IssueDeviceCertificate(
          conn.ca, {.device_id = d.device_id, .town_id = d.squad.town_id});
      if (!creds.ok()) return fail(creds.status());
      absl::Status written = pki::WriteDeviceDirectory(d.dir + "/cert", d.device_id, *creds,
                                                       conn.ca.credentials.certificate_pem);
      if (!written.ok()) return fail(written);
      request.set_certificate_pem(creds->certificate_pem);
    }
    v1::EnrollDeviceResponse response;
    grpc::Status s = admin->EnrollDevice(conn.Context(conn.admin_token).get(), request, &response);
    if (!s.ok()) return fail(RpcError("EnrollDevice " + d.device_id, s));
    progress.Step();
  });
  progress.Done();
  return first_error;
}

absl::Status OpenDevice(const Options& options, const Connection& conn, SimDevice& device) {
  ClientOptions o;
  std::error_code ec;
  fs::create_directories(device.dir + "/data", ec);
  o.db_path = device.dir + "/data/palm.db";
  o.device_id = device.device_id;
  o.key_provider = std::make_shared<FileKeyProvider>(device.dir + "/keys");
  o.durability = options.durable ? Durability::kFull : Durability::kNormal;
  Result<std::unique_ptr<Client>> client = Client::Open(o);
  if (!client.ok()) {
    return absl::InternalError(absl::StrCat("opening the store: ", client.status().ToString()));
  }
  device.client = std::move(*client);
  if (!conn.insecure) {
    // The officer signs in on the handheld, over its own certificate.
    absl::StatusOr<std::string> cert = pki::ReadFile(device.dir + "/cert/" + pki::kDeviceCertFile);
    absl::StatusOr<std::string> key = pki::ReadFile(device.dir + "/cert/" + pki::kDeviceKeyFile);
    if (!cert.ok()) return cert.status();
    if (!key.ok()) return key.status();
    pki::Credentials creds{*key, *cert};
    absl::StatusOr<std::string> token =
        SignIn(conn, conn.Channel(&creds), device.officer_id, OfficerSecret(device.officer_id));
    if (!token.ok()) return token.status();
    device.token = *token;
  }
  return absl::OkStatus();
}

absl::Status SyncDevice(const Connection& conn, SimDevice& device, bool shift_end) {
  SyncOptions o;
  o.server_address = conn.address;
  if (conn.insecure) {
    o.insecure_loopback = true;
  } else {
    o.ca_cert_path = device.dir + "/cert/" + pki::kCaCertFile;
    o.client_cert_path = device.dir + "/cert/" + pki::kDeviceCertFile;
    o.client_key_path = device.dir + "/cert/" + pki::kDeviceKeyFile;
    o.tls_server_name = conn.tls_server_name;
    o.session_token = device.token;
  }
  o.timeout = std::chrono::minutes(5);
  o.ticket_numbers_low_water = 20;
  o.ticket_numbers_per_lease = 100;
  Result<SyncReport> r = Status(StatusCode::kUnknown, "", "not tried");
  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0) {
      ++device.stats.sync_failures;
      std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
    }
    r = device.client->Sync(o);
    // A sync whose uploads failed did not finish its job (issue 18): retry
    // it like an unreachable server; after the last attempt the device
    // counts as not converged.
    if (r.ok() && r->uploads_failed > 0) continue;
    if (r.ok()) break;
    const StatusCode code = r.status().code();
    // Only what a retry can cure.
    if (code != StatusCode::kUnavailable && code != StatusCode::kDeadlineExceeded &&
        code != StatusCode::kAborted && code != StatusCode::kResourceExhausted) {
      break;
    }
  }
  if (!r.ok()) return absl::UnavailableError(absl::StrCat("sync: ", r.status().ToString()));
  DeviceStats& s = device.stats;
  ++s.syncs;
  s.pushed += r->pushed;
  s.applied += r->applied;
  s.applied_with_conflict += r->applied_with_conflict;
  s.rejected += r->rejected;
  s.conflicts += r->conflicts;
  s.pulled += r->pulled;
  if (shift_end) s.last_sync_ms = r->duration_ms;
  if (!r->ok) return absl::InternalError(absl::StrCat("sync not ok: ", r->message));
  return absl::OkStatus();
}

}  // namespace palm::sim
