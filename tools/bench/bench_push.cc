// Shift-end reconcile (issue 4): N devices x M mutations pushed concurrently
// to a real palm-server on loopback (full: 100 x 1,000; quick: 10 x 100), in
// mutations/s (target >= 50,000/s), and as a ratio to the floor: the entity
// rows those mutations create (cases with their party, evidence, events)
// inserted straight into a fresh SQLite file with prepared statements in one
// transaction, WAL + synchronous=FULL like the server, measured in the same
// run (target: within 3x). Everything else the server does — gRPC, identity,
// validation, dedupe log, change log, per-field stamps, fsync per group — is
// overhead that counts against the ratio.
//
// Each device pushes over its own channel and stream, in batches of 500 as
// the client library does, and the clock runs from the first write to the
// last acknowledgement. Every mutation must come back APPLIED.
#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "palm/v1/admin.grpc.pb.h"
#include "palm/v1/sync.grpc.pb.h"
#include "sync/hlc.h"
#include "sync/sha256.h"
#include "sync/uuid.h"
#include "tools/bench/bench.h"
#include "tools/bench/server_child.h"
#include "tools/bench/server_setup.h"
#include "tools/bench/util.h"

namespace palm::bench {
namespace {

namespace v1 = palm::v1;

constexpr Metric kPushRate{"push_mutations_per_s", "mutations/s", 50000, Better::kHigher};
constexpr Metric kVsFloor{"push_vs_sqlite_floor", "x slower than floor", 3, Better::kLower};
constexpr char kMatter[] = "BENCH-0001";
constexpr int kBatch = 500;
constexpr int kTowns = 10;

struct Shape {
  int devices;
  int per_device;
};

std::string DeviceId(int d) { return absl::StrCat("bench-dev-", d); }
std::string OfficerId(int d) { return absl::StrCat("bench-officer-", d); }
// The second credentialed officer of device d's town (Art. 42, 55).
std::string PartnerId(int d) { return absl::StrCat("bench-officer-", d, "-partner"); }
std::string TownId(int d) { return absl::StrCat("bench-town-", d % kTowns); }

v1::Catalog BenchCatalog() {
  v1::Catalog catalog;
  catalog.set_version(1);
  catalog.set_label("SAMPLE — benchmark catalogue");
  v1::Matter* m = catalog.add_matters();
  m->set_code(kMatter);
  m->set_category("市容环境");
  m->set_name("占道经营");
  m->set_legal_basis("《城市市容和环境卫生管理条例》第十四条");
  m->set_penalty_basis("《城市市容和环境卫生管理条例》第三十六条");
  m->set_fine_max_fen(20000);
  m->set_fast_track(true);
  return catalog;
}

// One device's shift: cases, each followed by evidence, a note and a field
// correction — the mix a patrol shift produces.
std::vector<v1::Mutation> ShiftOf(int d, int count, std::mt19937_64& rng) {
  std::vector<v1::Mutation> out;
  out.reserve(count);
  sync::HybridClock clock;
  std::string case_id;
  for (int i = 0; i < count; ++i) {
    v1::Mutation m;
    m.set_mutation_id(sync::NewUuidV7());
    m.set_device_id(DeviceId(d));
    m.set_device_seq(i + 1);
    *m.mutable_hlc() = clock.Now().ToProto();
    m.set_officer_id(OfficerId(d));
    switch (i % 4) {
      case 0: {
        v1::Case* c = m.mutable_record_case()->mutable_case_();
        case_id = sync::NewUuidV7();
        c->set_case_id(case_id);
        c->set_matter_code(kMatter);
        c->set_procedure(v1::PROCEDURE_SUMMARY);
        c->set_state(v1::CASE_STATE_ISSUED);
        c->set_town_id(TownId(d));
        c->set_description("占道经营，当场责令改正");
        c->mutable_place()->set_address("梧桐街道庆丰路 88 号");
        c->mutable_place()->mutable_location()->set_latitude(30.63);
        c->mutable_place()->mutable_location()->set_longitude(120.56);
        c->set_occurred_at_ms(sync::SystemNowMs());
        c->add_officer_ids(OfficerId(d));
        c->add_officer_ids(PartnerId(d));
        v1::Party* p = c->add_parties();
        p->set_party_id("party-1");
        p->set_kind(v1::PARTY_KIND_CITIZEN);
        p->set_name("张三");
        p->set_id_number(absl::StrCat("3304831990", rng() % 100000000));
        break;
      }
      case 1: {
        v1::Evidence* e = m.mutable_add_evidence()->mutable_evidence();
        e->set_evidence_id(sync::NewUuidV7());
        e->set_case_id(case_id);
        e->set_kind(v1::EVIDENCE_KIND_PHOTO);
        e->set_mime_type("image/jpeg");
        e->set_sha256(sync::HexEncode(sync::Sha256::Of(absl::StrCat(d, ":", i, ":", rng()))));
        e->set_size_bytes(2'000'000 + rng() % 1'000'000);
        e->set_captured_at_ms(sync::SystemNowMs());
        e->set_device_id(DeviceId(d));
        e->set_officer_id(OfficerId(d));
        break;
      }
      case 2: {
        v1::CaseEvent* e = m.mutable_append_case_event()->mutable_event();
        e->set_event_id(sync::NewUuidV7());
        e->set_case_id(case_id);
        e->set_kind(v1::CASE_EVENT_KIND_NOTE);
        e->set_text("当事人已自行清理");
        e->set_at_ms(sync::SystemNowMs());
        break;
      }
      default: {
        m.mutable_update_case_fields()->set_case_id(case_id);
        v1::CaseFieldChange* ch = m.mutable_update_case_fields()->add_changes();
        ch->set_field(v1::CASE_FIELD_DESCRIPTION);
        ch->set_value("占道经营，当场责令改正，已整改");
        break;
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::shared_ptr<grpc::Channel> OwnChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per device
  args.SetMaxReceiveMessageSize(8 << 20);
  args.SetMaxSendMessageSize(8 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

absl::Status Check(const grpc::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.error_code(), " ", s.error_message()));
}

absl::Status SetUp(const std::string& address, int devices) {
  auto admin = v1::AdminService::NewStub(OwnChannel(address));
  {
    grpc::ClientContext ctx;
    v1::LoadCatalogRequest req;
    *req.mutable_catalog() = BenchCatalog();
    v1::LoadCatalogResponse resp;
    if (auto s = Check(admin->LoadCatalog(&ctx, req, &resp), "LoadCatalog"); !s.ok()) return s;
  }
  for (int d = 0; d < devices; ++d) {
    grpc::ClientContext ctx;
    v1::EnrollDeviceRequest req;
    req.set_device_id(DeviceId(d));
    req.set_town_id(TownId(d));
    req.set_squad_id(TownId(d) + "-squad");
    v1::EnrollDeviceResponse resp;
    if (auto s = Check(admin->EnrollDevice(&ctx, req, &resp), "EnrollDevice"); !s.ok()) return s;
    for (const std::string& id : {OfficerId(d), PartnerId(d)}) {
      grpc::ClientContext ctx2;
      v1::AddOfficerRequest oreq;
      v1::Officer* o = oreq.mutable_officer();
      o->set_officer_id(id);
      o->set_name(id);
      o->set_role(v1::ROLE_OFFICER);
      o->set_sworn(true);
      o->set_certificate_number("ZJ-" + id);
      o->set_town_id(TownId(d));
      o->set_squad_id(TownId(d) + "-squad");
      oreq.set_secret("bench-secret-1234");
      v1::AddOfficerResponse oresp;
      if (auto s = Check(admin->AddOfficer(&ctx2, oreq, &oresp), "AddOfficer"); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// Pushes one device's shift; returns how many came back APPLIED.
absl::StatusOr<int> PushShift(const std::string& address, const std::string& device,
                              const std::vector<v1::Mutation>& shift) {
  auto stub = v1::SyncService::NewStub(OwnChannel(address));
  grpc::ClientContext ctx;
  DevicePushContext(&ctx, device);
  auto stream = stub->Push(&ctx);
  int applied = 0;
  for (size_t at = 0; at < shift.size(); at += kBatch) {
    v1::PushRequest req;
    for (size_t i = at; i < std::min(shift.size(), at + kBatch); ++i)
      *req.add_mutations() = shift[i];
    if (!stream->Write(req)) break;
    v1::PushResponse resp;
    if (!stream->Read(&resp)) break;
    for (const auto& r : resp.results()) {
      if (r.outcome() == v1::OUTCOME_APPLIED) ++applied;
    }
  }
  stream->WritesDone();
  if (auto s = Check(stream->Finish(), "Push " + device); !s.ok()) return s;
  return applied;
}

// The floor: the rows the pushed mutations create, straight into SQLite.
absl::StatusOr<double> FloorRowsPerSecond(const std::string& path,
                                          const std::vector<std::vector<v1::Mutation>>& shifts) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return absl::InternalError("open floor db");
  auto exec = [&](const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); };
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec(
      "CREATE TABLE cases (case_id TEXT PRIMARY KEY, town_id TEXT, created_at_ms INTEGER, "
      "body BLOB)");
  exec(
      "CREATE TABLE parties (case_id TEXT, party_id TEXT, body BLOB, "
      "PRIMARY KEY (case_id, party_id))");
  exec("CREATE TABLE evidence (evidence_id TEXT PRIMARY KEY, case_id TEXT, body BLOB)");
  exec("CREATE TABLE events (event_id TEXT PRIMARY KEY, case_id TEXT, body BLOB)");
  sqlite3_stmt *put_case, *put_party, *put_evidence, *put_event, *update_case;
  sqlite3_prepare_v2(db, "INSERT INTO cases VALUES (?1, ?2, ?3, ?4)", -1, &put_case, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO parties VALUES (?1, ?2, ?3)", -1, &put_party, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO evidence VALUES (?1, ?2, ?3)", -1, &put_evidence, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?1, ?2, ?3)", -1, &put_event, nullptr);
  sqlite3_prepare_v2(db, "UPDATE cases SET body = ?2 WHERE case_id = ?1", -1, &update_case,
                     nullptr);
  auto run = [](sqlite3_stmt* s) {
    sqlite3_step(s);
    sqlite3_reset(s);
  };
  uint64_t rows = 0;
  std::string body;
  Stopwatch clock;
  exec("BEGIN");
  for (const auto& shift : shifts) {
    for (const v1::Mutation& m : shift) {
      switch (m.operation_case()) {
        case v1::Mutation::kRecordCase: {
          const v1::Case& c = m.record_case().case_();
          c.SerializeToString(&body);
          sqlite3_bind_text(put_case, 1, c.case_id().c_str(), -1, SQLITE_STATIC);
          sqlite3_bind_text(put_case, 2, c.town_id().c_str(), -1, SQLITE_STATIC);
          sqlite3_bind_int64(put_case, 3, c.occurred_at_ms());
          sqlite3_bind_blob(put_case, 4, body.data(), body.size(), SQLITE_TRANSIENT);
          run(put_case);
          for (const v1::Party& p : c.parties()) {
            p.SerializeToString(&body);
            sqlite3_bind_text(put_party, 1, c.case_id().c_str(), -1, SQLITE_STATIC);
            sqlite3_bind_text(put_party, 2, p.party_id().c_str(), -1, SQLITE_STATIC);
            sqlite3_bind_blob(put_party, 3, body.data(), body.size(), SQLITE_TRANSIENT);
            run(put_party);
            ++rows;
          }
          break;
        }
        case v1::Mutation::kAddEvidence: {
          const v1::Evidence& e = m.add_evidence().evidence();
          e.SerializeToString(&body);
          sqlite3_bind_text(put_evidence, 1, e.evidence_id().c_str(), -1, SQLITE_STATIC);
          sqlite3_bind_text(put_evidence, 2, e.case_id().c_str(), -1, SQLITE_STATIC);
          sqlite3_bind_blob(put_evidence, 3, body.data(), body.size(), SQLITE_TRANSIENT);
          run(put_evidence);
          break;
        }
        case v1::Mutation::kAppendCaseEvent: {
          const v1::CaseEvent& e = m.append_case_event().event();
          e.SerializeToString(&body);
          sqlite3_bind_text(put_event, 1, e.event_id().c_str(), -1, SQLITE_STATIC);
          sqlite3_bind_text(put_event, 2, e.case_id().c_str(), -1, SQLITE_STATIC);
          sqlite3_bind_blob(put_event, 3, body.data(), body.size(), SQLITE_TRANSIENT);
          run(put_event);
          break;
        }
        default: {
          m.update_case_fields().SerializeToString(&body);
          sqlite3_bind_text(update_case, 1, m.update_case_fields().case_id().c_str(), -1,
                            SQLITE_STATIC);
          sqlite3_bind_blob(update_case, 2, body.data(), body.size(), SQLITE_TRANSIENT);
          run(update_case);
          break;
        }
      }
      ++rows;
    }
  }
  int rc = exec("COMMIT");
  double seconds = clock.Seconds();
  for (sqlite3_stmt* s : {put_case, put_party, put_evidence, put_event, update_case}) {
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  if (rc != SQLITE_OK) return absl::InternalError("floor commit failed");
  // Rows per mutation differ (a case writes its party too); report per
  // mutation so the ratio compares like with like.
  uint64_t mutations = 0;
  for (const auto& s : shifts) mutations += s.size();
  (void)rows;
  return mutations / seconds;
}

}  // namespace

std::vector<Json> RunPushBench(const BenchContext& context) {
  Shape shape = context.quick ? Shape{10, 100} : Shape{100, 1000};
  auto fail = [&](const absl::Status& s) {
    return std::vector<Json>{Failed(kPushRate, s.ToString()), Failed(kVsFloor, s.ToString())};
  };
  std::mt19937_64 rng(7);
  std::vector<std::vector<v1::Mutation>> shifts;
  for (int d = 0; d < shape.devices; ++d) shifts.push_back(ShiftOf(d, shape.per_device, rng));
  const double total = double(shape.devices) * shape.per_device;

  std::vector<double> rates, floors;
  int runs = context.quick ? 1 : 3;
  for (int run = 0; run < runs; ++run) {
    std::string data = absl::StrCat(context.scratch_dir, "/server-", run);
    auto server = StartServer(data);
    if (!server.ok()) return fail(server.status());
    if (auto s = SetUp((*server)->address(), shape.devices); !s.ok()) return fail(s);
    // Fresh ids per run: the same mutation ids would come back DUPLICATE.
    if (run > 0) {
      rng.seed(7 + run);
      for (int d = 0; d < shape.devices; ++d) shifts[d] = ShiftOf(d, shape.per_device, rng);
    }
    Progress(absl::StrCat("push: ", shape.devices, " devices x ", shape.per_device,
                          " mutations, run ", run + 1, "/", runs));
    std::atomic<int> applied{0};
    std::atomic<bool> failed{false};
    std::string error;
    std::mutex error_mu;
    Stopwatch clock;
    std::vector<std::thread> threads;
    for (int d = 0; d < shape.devices; ++d) {
      threads.emplace_back([&, d] {
        auto n = PushShift((*server)->address(), DeviceId(d), shifts[d]);
        if (n.ok()) {
          applied += *n;
        } else {
          failed = true;
          std::lock_guard<std::mutex> lock(error_mu);
          error = n.status().ToString();
        }
      });
    }
    for (auto& t : threads) t.join();
    double seconds = clock.Seconds();
    Progress(absl::StrCat("push: run ", run + 1, "/", runs, " pushed in ",
                          absl::StrFormat("%.2f", seconds), " s"));
    if (failed) return fail(absl::InternalError(error));
    if (applied != static_cast<int>(total)) {
      return fail(absl::InternalError(
          absl::StrCat(applied.load(), " of ", total, " mutations came back APPLIED")));
    }
    rates.push_back(total / seconds);
    auto floor =
        FloorRowsPerSecond(absl::StrCat(context.scratch_dir, "/floor-", run, ".db"), shifts);
    if (!floor.ok()) return fail(floor.status());
    floors.push_back(*floor);
  }
  double rate = Median(rates);
  double floor = Median(floors);
  Json push = Measured(kPushRate, rate);
  push["devices"] = shape.devices;
  push["mutations_per_device"] = shape.per_device;
  push["runs"] = rates;
  push["transport"] = "gRPC plaintext on loopback";
  push["floor"] = floor;
  push["floor_unit"] = "mutations/s: their entity rows inserted in one transaction";
  push["ratio"] = rate / floor;
  Json slower = Measured(kVsFloor, floor / rate);
  slower["floor"] = floor;
  slower["ratio"] = rate / floor;
  return {push, slower};
}

}  // namespace palm::bench
