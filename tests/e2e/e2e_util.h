// End-to-end fixtures: a real palm-server child on loopback, set up through
// the wire (AdminService) like an admin would, and devices that are real
// palm::Client stores syncing with it.
#ifndef PALM_TESTS_E2E_E2E_UTIL_H_
#define PALM_TESTS_E2E_E2E_UTIL_H_

#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "client-lib/src/catalog_json.h"
#include "client-lib/src/client_internal.h"
#include "client-lib/src/convergence.h"
#include "palm/client.h"
#include "palm/v1/admin.grpc.pb.h"
#include "palm/v1/sync.grpc.pb.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace palm::e2e {

using palm::testing::ReadFileBytes;
using palm::testing::ServerProcess;
using palm::testing::TempDir;

// Sample-catalogue matters (tools/data/sample-catalog.json, a sample).
inline constexpr char kFastTrack[] = "SR-0101";  // 50..200 yuan, fast track

// The sample catalogue with the sample working-day calendar beside it
// (tools/data/sample-calendar.json), as tools/serve.sh loads them.
inline v1::Catalog SampleCatalog() {
  absl::StatusOr<v1::Catalog> c =
      internal::LoadCatalogFile(std::string(PALM_SOURCE_DIR) + "/tools/data/sample-catalog.json");
  REQUIRE(c.ok());
  absl::StatusOr<v1::Catalog> calendar =
      internal::LoadCatalogFile(std::string(PALM_SOURCE_DIR) + "/tools/data/sample-calendar.json");
  REQUIRE(calendar.ok());
  *c->mutable_calendar() = calendar->calendar();
  return *c;
}

// AdminService through a raw stub, as palmctl would call it.
class Admin {
 public:
  explicit Admin(const std::string& address)
      : stub_(v1::AdminService::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {}

  void LoadSampleCatalog() {
    v1::LoadCatalogRequest request;
    *request.mutable_catalog() = SampleCatalog();
    v1::LoadCatalogResponse response;
    Check(stub_->LoadCatalog(Ctx().get(), request, &response), "LoadCatalog");
  }

  void AddOfficer(const std::string& id, const std::string& town, const std::string& squad,
                  bool sworn = true) {
    v1::AddOfficerRequest request;
    v1::Officer* o = request.mutable_officer();
    o->set_officer_id(id);
    o->set_name(id);
    o->set_role(sworn ? v1::ROLE_OFFICER : v1::ROLE_AUXILIARY);
    o->set_sworn(sworn);
    o->set_certificate_number(sworn ? "ZJ-" + id : "");
    o->set_town_id(town);
    o->set_squad_id(squad);
    request.set_secret("pin-" + id);
    v1::AddOfficerResponse response;
    Check(stub_->AddOfficer(Ctx().get(), request, &response), "AddOfficer");
  }

  void PutTown(const v1::Town& town) {
    v1::PutTownRequest request;
    *request.mutable_town() = town;
    v1::PutTownResponse response;
    Check(stub_->PutTown(Ctx().get(), request, &response), "PutTown");
  }

  void EnrollDevice(const std::string& device_id, const std::string& town,
                    const std::string& squad) {
    v1::EnrollDeviceRequest request;
    request.set_device_id(device_id);
    request.set_town_id(town);
    request.set_squad_id(squad);
    v1::EnrollDeviceResponse response;
    Check(stub_->EnrollDevice(Ctx().get(), request, &response), "EnrollDevice");
  }

  v1::CaseDetail GetCase(const std::string& case_id) {
    v1::GetCaseRequest request;
    request.set_case_ref(case_id);
    v1::CaseDetail detail;
    Check(stub_->GetCase(Ctx().get(), request, &detail), "GetCase " + case_id);
    return detail;
  }

  // Every case of `town` (all pages).
  std::vector<v1::Case> ListCases(const std::string& town) {
    std::vector<v1::Case> out;
    v1::ListCasesRequest request;
    request.set_town_id(town);
    request.set_page_size(1000);
    for (;;) {
      v1::ListCasesResponse response;
      Check(stub_->ListCases(Ctx().get(), request, &response), "ListCases");
      for (const auto& c : response.cases()) out.push_back(c);
      if (response.next_page_token().empty()) return out;
      request.set_page_token(response.next_page_token());
    }
  }

  // Every conflict, resolved or not (all pages).
  std::vector<v1::ConflictRecord> ListConflicts() {
    v1::ListConflictsRequest request;
    request.set_include_resolved(true);
    return AllPages<v1::ConflictRecord>(
        request, &v1::AdminService::Stub::ListConflicts, "ListConflicts",
        [](const v1::ListConflictsResponse& r) -> const auto& { return r.conflicts(); });
  }

  // Every rejected mutation, dismissed or not (all pages).
  std::vector<v1::RejectedMutation> ListRejected() {
    v1::ListRejectedRequest request;
    request.set_include_dismissed(true);
    return AllPages<v1::RejectedMutation>(
        request, &v1::AdminService::Stub::ListRejected, "ListRejected",
        [](const v1::ListRejectedResponse& r) -> const auto& { return r.rejected(); });
  }

  // Highest sequence number of `device_id` the server holds an outcome for.
  uint64_t AcknowledgedSeq(const std::string& device_id) {
    std::vector<v1::DeviceStatus> devices = AllPages<v1::DeviceStatus>(
        v1::SquadStatusRequest(), &v1::AdminService::Stub::SquadStatus, "SquadStatus",
        [](const v1::SquadStatusResponse& r) -> const auto& { return r.devices(); });
    for (const auto& d : devices) {
      if (d.device().device_id() == device_id) return d.acknowledged_seq();
    }
    return 0;
  }

 private:
  // The rows (`rows(response)`) of every page of the paged list `rpc`.
  template <typename Row, typename Request, typename Response, typename Rows>
  std::vector<Row> AllPages(Request request,
                            grpc::Status (v1::AdminService::Stub::*rpc)(grpc::ClientContext*,
                                                                        const Request&, Response*),
                            const char* name, Rows rows) {
    std::vector<Row> out;
    request.set_page_size(1000);
    for (;;) {
      Response response;
      Check(((*stub_).*rpc)(Ctx().get(), request, &response), name);
      for (const auto& row : rows(response)) out.push_back(row);
      if (response.next_page_token().empty()) return out;
      request.set_page_token(response.next_page_token());
    }
  }

  static std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return ctx;
  }
  static void Check(const grpc::Status& s, const std::string& what) {
    INFO(what << ": " << s.error_code() << " " << s.error_message());
    REQUIRE(s.ok());
  }

  std::unique_ptr<v1::AdminService::Stub> stub_;
};

// A town with a squad, `officers` sworn officers and the sample catalogue.
struct Town {
  std::string town_id;
  std::string squad_id;
  std::vector<std::string> officers;
};

inline Town SetUpTown(Admin& admin, const std::string& town_id, int officers = 3) {
  Town t{town_id, town_id + "-squad-1", {}};
  for (int i = 1; i <= officers; ++i) {
    t.officers.push_back(town_id + "-officer-" + std::to_string(i));
    admin.AddOfficer(t.officers.back(), t.town_id, t.squad_id);
  }
  return t;
}

// A handheld: its database in dir/data, its key in dir/keys.
struct Device {
  std::string device_id;
  Town town;
  TempDir dir;
  std::unique_ptr<Client> client;

  Device(Admin& admin, std::string id, Town t, Durability durability = Durability::kFull)
      : device_id(std::move(id)), town(std::move(t)) {
    admin.EnrollDevice(device_id, town.town_id, town.squad_id);
    std::filesystem::create_directories(dir.File("data"));
    ClientOptions o;
    o.db_path = dir.File("data") + "/palm.db";
    o.device_id = device_id;
    o.key_provider = std::make_shared<FileKeyProvider>(dir.File("keys"));
    o.durability = durability;
    Result<std::unique_ptr<Client>> c = Client::Open(o);
    INFO(c.status().ToString());
    REQUIRE(c.ok());
    client = std::move(*c);
  }

  internal::DeviceStore& store() { return internal::ClientAccess::Store(*client); }

  // Syncs with `address` over plaintext loopback.
  Result<SyncReport> Sync(const std::string& address, SyncOptions o = {}) {
    o.server_address = address;
    o.insecure_loopback = true;
    return client->Sync(o);
  }

  // Syncs until a sync succeeds (at most `attempts` tries).
  SyncReport SyncUntilOk(const std::string& address, SyncOptions o = {}, int attempts = 200) {
    Result<SyncReport> r = Status(StatusCode::kUnknown, "", "never tried");
    for (int i = 0; i < attempts; ++i) {
      r = Sync(address, o);
      if (r.ok()) return *r;
    }
    INFO(device_id << ": " << r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  }

  // Every case on the device (all pages), by id.
  std::map<std::string, CaseRecord> Cases() {
    std::map<std::string, CaseRecord> out;
    CaseQuery q;
    q.page_size = 500;
    for (;;) {
      Result<CasePage> page = client->ListCases(q);
      REQUIRE(page.ok());
      for (CaseRecord& c : page->cases) out.emplace(c.case_id, std::move(c));
      if (page->next_page_token.empty()) return out;
      q.page_token = page->next_page_token;
    }
  }

  uint64_t Pending() {
    Result<PendingSyncCounts> p = client->PendingCounts();
    REQUIRE(p.ok());
    return p->mutations;
  }
};

inline CaseInput NewCase(const Town& town, Procedure procedure, const std::string& what) {
  CaseInput c;
  c.matter_code = kFastTrack;
  c.procedure = procedure;
  c.town_id = town.town_id;
  c.squad_id = town.squad_id;
  c.description = what;
  c.place.address = town.town_id + " 庆丰路";
  c.place.location = {30.63, 120.56, 5};
  c.officer_ids = {town.officers[0], town.officers[1]};
  Party p;
  p.kind = PartyKind::kCitizen;
  p.name = "张三";
  p.id_number = "330483199001011234";
  p.phone = "13800001111";
  c.parties = {p};
  return c;
}

// Writes `size` pseudo-random bytes (from `seed`) to `path`; returns them.
inline std::string WriteRandomFile(const std::string& path, size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string content(size, '\0');
  for (auto& c : content) c = static_cast<char>(rng() & 0xff);
  std::ofstream(path, std::ios::binary) << content;
  return content;
}

inline TicketInput NewTicket(const Town& town, const std::string& case_id) {
  TicketInput t;
  t.case_id = case_id;
  t.violation = "在庆丰路人行道设摊经营";
  t.legal_basis = "《浙江省城市市容和环境卫生管理条例》第十九条第一款";
  t.penalty_basis = "《浙江省城市市容和环境卫生管理条例》第五十一条";
  t.penalty = PenaltyKind::kFine;
  t.fine_fen = 10000;
  t.place.address = "梧桐街道庆丰路";
  t.remedies = {{RemedyKind::kReconsideration, "桐乡市人民政府", 60},
                {RemedyKind::kLitigation, "桐乡市人民法院", 0, 6}};
  t.agency = "桐乡市综合行政执法局";
  t.officer_ids = {town.officers[0], town.officers[1]};
  t.party_signature = PartySignature::kSigned;
  return t;
}

// Differences between what `device` holds and what the server holds for the
// device's town, prefixed with the device id; empty when they agree
// (internal::DiffWithServer, the check palm-sim runs too).
inline std::string DiffWithServer(Device& device, Admin& admin) {
  std::vector<v1::CaseDetail> server_cases;
  for (const v1::Case& c : admin.ListCases(device.town.town_id)) {
    server_cases.push_back(admin.GetCase(c.case_id()));
  }
  std::string diff = internal::DiffWithServer(*device.client, server_cases);
  return diff.empty() ? diff : device.device_id + ": " + diff;
}

// The sequence part of case numbers like 桐综执罚〔2026〕0123号, sorted.
inline std::vector<int> CaseNumberSeqs(const std::vector<v1::Case>& cases) {
  std::vector<int> out;
  for (const v1::Case& c : cases) {
    const std::string& n = c.case_number();
    size_t open = n.find("〕");
    size_t close = n.rfind("号");
    REQUIRE(open != std::string::npos);
    REQUIRE(close != std::string::npos);
    open += std::string("〕").size();
    out.push_back(std::stoi(n.substr(open, close - open)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// True when `seqs` (sorted) is exactly 1..n.
inline bool Gapless(const std::vector<int>& seqs) {
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i] != static_cast<int>(i) + 1) return false;
  }
  return true;
}

}  // namespace palm::e2e

#endif  // PALM_TESTS_E2E_E2E_UTIL_H_
