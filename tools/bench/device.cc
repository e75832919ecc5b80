#include "tools/bench/device.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client-lib/src/catalog_json.h"
#include "client-lib/src/client_internal.h"
#include "client-lib/src/macros.h"
#include "tools/bench/util.h"

namespace palm::bench {
namespace {

constexpr char kDeviceId[] = "bench-device-01";
constexpr char kTown[] = "town-bench";
constexpr char kSworn[] = "bench-officer-sworn";
constexpr char kSworn2[] = "bench-officer-sworn-2";
constexpr char kAuxiliary[] = "bench-officer-aux";
// Sample catalogue: 50..200 yuan, fast-track eligible.
constexpr char kMatter[] = "SR-0101";

v1::Officer MakeOfficer(const std::string& id, bool sworn) {
  v1::Officer o;
  o.set_officer_id(id);
  o.set_name(id);
  o.set_role(sworn ? v1::ROLE_OFFICER : v1::ROLE_AUXILIARY);
  o.set_sworn(sworn);
  if (sworn) o.set_certificate_number("ZJ-" + id);
  o.set_active(true);
  o.set_town_id(kTown);
  return o;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> OpenSeededDevice(const std::string& dir,
                                                         const std::string& catalog_path,
                                                         Durability durability,
                                                         int64_t ticket_numbers) {
  std::error_code ec;
  std::filesystem::create_directories(dir + "/data", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, "/data: ", ec.message()));
  ClientOptions options;
  options.db_path = dir + "/data/palm.db";
  options.device_id = kDeviceId;
  options.key_provider = std::make_shared<FileKeyProvider>(dir + "/keys");
  options.durability = durability;
  Result<std::unique_ptr<Client>> client = Client::Open(options);
  if (!client.ok()) return ToAbsl(client.status());

  internal::DeviceStore& store = internal::ClientAccess::Store(**client);
  PALM_ASSIGN_OR_RETURN(v1::Catalog catalog, internal::LoadCatalogFile(catalog_path));
  PALM_RETURN_IF_ERROR(store.ApplyCatalog(catalog));
  PALM_RETURN_IF_ERROR(store.UpsertOfficers(
      {MakeOfficer(kSworn, true), MakeOfficer(kSworn2, true), MakeOfficer(kAuxiliary, false)}));
  v1::TicketLease lease;
  lease.set_lease_id("bench-lease-1");
  lease.set_device_id(kDeviceId);
  lease.set_first_number(1);
  lease.set_last_number(ticket_numbers);
  lease.set_prefix("桐综执简〔2026〕B01-");
  PALM_RETURN_IF_ERROR(store.AddTicketLease(lease));
  PALM_RETURN_IF_ERROR(ToAbsl((*client)->SetActingOfficer(kSworn)));
  return std::move(*client);
}

CaseInput BenchCase(int64_t serial) {
  CaseInput c;
  c.matter_code = kMatter;
  c.procedure = Procedure::kSummary;
  c.town_id = kTown;
  c.description = absl::StrCat("在人行道上设摊经营（基准测试 #", serial, "）");
  c.place.address = "梧桐街道庆丰路";
  c.place.location = {30.63, 120.56, 5};
  c.place.town_id = kTown;
  c.officer_ids = {kSworn, kSworn2, kAuxiliary};  // two credentialed (Art. 55)
  Party p;
  p.kind = PartyKind::kCitizen;
  p.name = "张三";
  p.id_number = absl::StrFormat("3304831990%08d", serial % 100000000);
  p.phone = "13800001111";
  p.address = "桐乡市梧桐街道复兴路1号";
  c.parties = {p};
  return c;
}

EvidenceInput BenchEvidence(const std::string& case_id, int64_t serial) {
  EvidenceInput e;
  e.case_id = case_id;
  e.kind = EvidenceKind::kPhoto;
  e.mime_type = "image/jpeg";
  e.location = {30.63, 120.56, 5};
  e.description = "现场照片";
  e.content_path = absl::StrCat("/sdcard/palm/evidence/", serial, ".jpg");
  e.sha256_hex = absl::StrFormat("%064x", serial + 1);
  e.size_bytes = 2'500'000;
  return e;
}

TicketInput BenchTicket(const std::string& case_id) {
  TicketInput t;
  t.case_id = case_id;
  t.violation = "在庆丰路人行道设摊经营";
  t.legal_basis = "《浙江省城市市容和环境卫生管理条例》第十九条第一款";
  t.penalty_basis = "《浙江省城市市容和环境卫生管理条例》第五十一条";
  t.penalty = PenaltyKind::kFine;
  t.fine_fen = 10000;
  t.place.address = "梧桐街道庆丰路";
  t.place.town_id = kTown;
  t.remedies = {{RemedyKind::kReconsideration, "桐乡市人民政府", 60},
                {RemedyKind::kLitigation, "桐乡市人民法院", 0, 6}};
  t.agency = "桐乡市综合行政执法局";
  t.officer_ids = {kSworn, kSworn2};  // two credentialed (Art. 42)
  t.party_signature = PartySignature::kSigned;
  return t;
}

}  // namespace palm::bench
