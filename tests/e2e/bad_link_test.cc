// Syncs that finish on bad links (docs/protocol.md, "Bad links"): through a
// proxy that cuts every connection after a random 2–200 KB, a squad of
// devices takes its first snapshot with the default 500-change pages,
// pushes cases, tickets and evidence files, and pulls the others' work, each
// sync finishing within its deadline; nothing is lost or applied twice and
// every file reaches the server byte for byte. Below it, the wire pieces it
// rests on: pull pages within a byte budget, the catalogue left out of the
// pull, the reference data in parts.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "support/fault_proxy.h"
#include "sync/sha256.h"
#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

using palm::testing::FaultProxy;
using palm::testing::FaultProxyOptions;

constexpr int kSquadDevices = 10;
constexpr int kSharedCases = 400;
constexpr int kOrdinaryPerDevice = 3;
constexpr int kSummaryPerDevice = 3;
// Mutations each squad device records: an ordinary case is recorded, gets
// a file, a corrected description and a note (4); a summary case is
// recorded, gets a ticket and a file (3).
constexpr int kMutationsPerDevice = 4 * kOrdinaryPerDevice + 3 * kSummaryPerDevice;

uint64_t SeedFromEnv() {
  const char* s = std::getenv("PALM_BAD_LINK_SEED");
  return s != nullptr ? std::strtoull(s, nullptr, 10) : 20260416;
}

// A case text long enough that the town's snapshot is some 700 KB.
std::string LongText(int i) {
  std::string text = "共享案件 " + std::to_string(i) + " ";
  while (text.size() < 1000) text += "在庆丰路人行道设摊经营，占道约三平方米。";
  return text;
}

// Runs fn(i) for every device on a thread of its own and waits for all.
template <typename Fn>
void OnEveryDevice(int n, Fn fn) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back([&fn, i] { fn(i); });
  for (std::thread& t : threads) t.join();
}

struct SquadDevice {
  std::unique_ptr<Device> device;
  // Evidence id -> the file's content, as written on the device.
  std::map<std::string, std::string> files;
  std::vector<std::string> ordinary_cases;
  std::vector<std::string> summary_cases;
};

// Records the device's work; returns "" or what went wrong (Catch2 macros
// are for the test's thread).
std::string RecordWork(SquadDevice& s, std::mt19937_64& rng) {
  Device& d = *s.device;
  auto attach = [&](const std::string& case_id, int n) -> std::string {
    std::uniform_int_distribution<size_t> size(8 * 1024, 300 * 1024);
    std::string content(size(rng), '\0');
    for (char& c : content) c = static_cast<char>(rng() & 0xff);
    const std::string path = d.dir.File("photo-" + std::to_string(n) + ".jpg");
    std::ofstream(path, std::ios::binary) << content;
    EvidenceInput e;
    e.case_id = case_id;
    e.kind = EvidenceKind::kPhoto;
    e.mime_type = "image/jpeg";
    Result<std::string> id = d.client->AttachEvidenceFile(e, path);
    if (!id.ok()) return "attach: " + id.status().ToString();
    s.files[*id] = std::move(content);
    return "";
  };
  int n = 0;
  for (int i = 0; i < kOrdinaryPerDevice; ++i) {
    Result<std::string> id = d.client->RecordCase(
        NewCase(d.town, Procedure::kOrdinary, d.device_id + " 一般程序 " + std::to_string(i)));
    if (!id.ok()) return "record: " + id.status().ToString();
    s.ordinary_cases.push_back(*id);
    if (std::string e = attach(*id, n++); !e.empty()) return e;
    Status fixed = d.client->UpdateCaseFields(*id, {{CaseField::kDescription, "更正 " + *id, ""}});
    if (!fixed.ok()) return "update: " + fixed.ToString();
    Result<std::string> note = d.client->AppendCaseEvent(
        {*id, CaseEventKind::kNote, "note", 0, 0, std::nullopt, std::nullopt, std::nullopt});
    if (!note.ok()) return "note: " + note.status().ToString();
  }
  for (int i = 0; i < kSummaryPerDevice; ++i) {
    Result<std::string> id = d.client->RecordCase(
        NewCase(d.town, Procedure::kSummary, d.device_id + " 简易程序 " + std::to_string(i)));
    if (!id.ok()) return "record: " + id.status().ToString();
    s.summary_cases.push_back(*id);
    Result<Ticket> ticket = d.client->IssueTicket(NewTicket(d.town, *id));
    if (!ticket.ok()) return "ticket: " + ticket.status().ToString();
    if (std::string e = attach(*id, n++); !e.empty()) return e;
  }
  return "";
}

TEST_CASE("a squad syncing through a link cut every 2 to 200 KB converges and loses nothing") {
  const uint64_t seed = SeedFromEnv();
  INFO("fault proxy seed " << seed << " (PALM_BAD_LINK_SEED)");
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-l");

  // The town's shared data, pushed straight to the server by one device:
  // the squad's first pull needs many pages of it.
  Device seeder(admin, "device-l0", town, Durability::kNormal);
  seeder.SyncUntilOk(server.address(), {}, 3);
  REQUIRE(seeder.client->SetActingOfficer(town.officers[0]).ok());
  for (int i = 0; i < kSharedCases; ++i) {
    REQUIRE(seeder.client->RecordCase(NewCase(town, Procedure::kOrdinary, LongText(i))).ok());
  }
  seeder.SyncUntilOk(server.address(), {}, 3);

  FaultProxyOptions po;
  po.target = server.address();
  po.seed = seed;
  po.min_bytes = 2 * 1024;
  po.max_bytes = 200 * 1024;
  po.max_faults = 1000000;
  po.lifetime = std::chrono::seconds(1800);
  FaultProxy proxy(po);

  // Default options (500-change pages, 500-mutation batches, 1 MiB chunks)
  // and a deadline per sync.
  SyncOptions o;
  o.timeout = std::chrono::seconds(240);
  std::vector<SquadDevice> squad(kSquadDevices);
  for (int i = 0; i < kSquadDevices; ++i) {
    squad[i].device = std::make_unique<Device>(admin, "device-l" + std::to_string(i + 1), town,
                                               Durability::kNormal);
  }
  std::vector<std::vector<Result<SyncReport>>> reports(kSquadDevices);
  auto sync_all = [&] {
    OnEveryDevice(kSquadDevices,
                  [&](int i) { reports[i].push_back(squad[i].device->Sync(proxy.address(), o)); });
  };
  auto require_all_ok = [&] {
    for (int i = 0; i < kSquadDevices; ++i) {
      const Result<SyncReport>& r = reports[i].back();
      INFO(squad[i].device->device_id << ": " << r.status().ToString());
      REQUIRE(r.ok());
      INFO(r->message);
      REQUIRE(r->ok);
    }
  };

  // 1. First syncs: reference data and a snapshot of the town.
  sync_all();
  require_all_ok();
  for (int i = 0; i < kSquadDevices; ++i) {
    CHECK(reports[i].back()->snapshot);
    CHECK(reports[i].back()->pulled >= static_cast<uint64_t>(kSharedCases));
    CHECK(squad[i].device->Cases().size() == static_cast<size_t>(kSharedCases));
    CHECK(*squad[i].device->client->CatalogVersion() > 0);
    REQUIRE(squad[i].device->client->SetActingOfficer(town.officers[i % 3]).ok());
  }

  // 2. Each device records cases, tickets and evidence files offline.
  std::mt19937_64 rng(seed);
  for (SquadDevice& s : squad) {
    INFO(s.device->device_id);
    CHECK(RecordWork(s, rng) == "");
    CHECK(s.device->Pending() == static_cast<uint64_t>(kMutationsPerDevice));
  }

  // 3. Push and upload everything; 4. pull what the others pushed after.
  sync_all();
  require_all_ok();
  sync_all();
  require_all_ok();

  // The link really broke, many times, and the syncs said so.
  uint64_t retries = 0, applied = 0, rejected = 0;
  for (const auto& device_reports : reports) {
    for (const Result<SyncReport>& r : device_reports) {
      retries += r->retries;
      applied += r->applied;
      rejected += r->rejected;
    }
  }
  INFO("faults " << proxy.faults() << ", retries " << retries);
  CHECK(proxy.faults() >= 50);
  CHECK(retries >= 50);

  // Every mutation was answered APPLIED once (a resend after a lost answer
  // is DUPLICATE of it, counted under its first outcome), none refused.
  CHECK(applied == static_cast<uint64_t>(kSquadDevices * kMutationsPerDevice));
  CHECK(rejected == 0);
  CHECK(admin.ListRejected().empty());

  // Every device equals the server for its town, with nothing left to send.
  for (SquadDevice& s : squad) {
    Device& d = *s.device;
    INFO(d.device_id);
    CHECK(d.Pending() == 0);
    CHECK(d.client->PendingCounts()->uploads == 0);
    auto outbox = d.store().Outbox();
    REQUIRE(outbox.ok());
    CHECK(admin.AcknowledgedSeq(d.device_id) == outbox->back().mutation.device_seq());
    CHECK(DiffWithServer(d, admin) == "");
  }

  // Nothing twice on the server: the shared cases and each device's, every
  // one with exactly what was recorded, gapless numbers.
  std::vector<v1::Case> cases = admin.ListCases(town.town_id);
  CHECK(cases.size() == static_cast<size_t>(kSharedCases + kSquadDevices * (kOrdinaryPerDevice +
                                                                            kSummaryPerDevice)));
  CHECK(Gapless(CaseNumberSeqs(cases)));
  for (SquadDevice& s : squad) {
    INFO(s.device->device_id);
    for (const std::string& id : s.ordinary_cases) {
      v1::CaseDetail detail = admin.GetCase(id);
      CHECK(detail.evidence_size() == 1);
      CHECK(detail.tickets_size() == 0);
      CHECK(detail.case_().description() == "更正 " + id);
      int notes = 0;
      for (const auto& e : detail.timeline()) notes += e.kind() == v1::CASE_EVENT_KIND_NOTE;
      CHECK(notes == 1);
    }
    for (const std::string& id : s.summary_cases) {
      v1::CaseDetail detail = admin.GetCase(id);
      CHECK(detail.evidence_size() == 1);
      CHECK(detail.tickets_size() == 1);
    }
    // Every file on the server, byte for byte, under its hash.
    for (const auto& [evidence_id, content] : s.files) {
      INFO("evidence " << evidence_id);
      const std::string sha = sync::HexEncode(sync::Sha256::Of(content));
      const std::string stored =
          ReadFileBytes(data.path().string() + "/evidence/sha256/" + sha.substr(0, 2) + "/" + sha);
      CHECK(stored.size() == content.size());
      CHECK(stored == content);
    }
  }
}

// --- The wire pieces ----------------------------------------------------------

std::unique_ptr<grpc::ClientContext> AsDevice(const std::string& device_id) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("x-palm-device-id", device_id);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

std::vector<v1::PullPage> PullAll(v1::SyncService::Stub& stub, const std::string& device_id,
                                  const v1::PullRequest& request) {
  auto ctx = AsDevice(device_id);
  auto reader = stub.Pull(ctx.get(), request);
  std::vector<v1::PullPage> pages;
  v1::PullResponse response;
  while (reader->Read(&response)) pages.push_back(response.page());
  grpc::Status s = reader->Finish();
  INFO(s.error_message());
  REQUIRE(s.ok());
  return pages;
}

TEST_CASE(
    "pull pages stay within the byte budget the device asks for and carry at least one "
    "change") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-p");
  Device seeder(admin, "device-p1", town, Durability::kNormal);
  seeder.SyncUntilOk(server.address(), {}, 3);
  REQUIRE(seeder.client->SetActingOfficer(town.officers[0]).ok());
  for (int i = 0; i < 60; ++i) {
    REQUIRE(seeder.client->RecordCase(NewCase(town, Procedure::kOrdinary, LongText(i))).ok());
  }
  seeder.SyncUntilOk(server.address(), {}, 3);
  admin.EnrollDevice("device-p2", town.town_id, town.squad_id);
  auto stub = v1::SyncService::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));

  v1::PullRequest whole;
  const std::vector<v1::PullPage> one = PullAll(*stub, "device-p2", whole);
  REQUIRE(one.size() == 1);
  const int changes = one[0].changes_size();
  bool catalog_in_pull = false;
  for (const v1::Change& c : one[0].changes()) catalog_in_pull |= c.has_catalog();
  CHECK(catalog_in_pull);

  v1::PullRequest budgeted;
  budgeted.set_max_page_bytes(8 * 1024);
  budgeted.set_omit_catalog(true);
  const std::vector<v1::PullPage> pages = PullAll(*stub, "device-p2", budgeted);
  CHECK(pages.size() > 5);
  int seen = 0;
  uint64_t last_seq = 0;
  for (const v1::PullPage& page : pages) {
    REQUIRE(page.changes_size() >= 1);
    size_t bytes = 0;
    for (const v1::Change& c : page.changes()) {
      bytes += c.ByteSizeLong();
      CHECK_FALSE(c.has_catalog());
      CHECK(c.server_seq() > last_seq);
      last_seq = c.server_seq();
    }
    CHECK((bytes <= 8 * 1024 || page.changes_size() == 1));
    CHECK(page.snapshot());
    seen += page.changes_size();
  }
  CHECK(pages.back().last());
  // The same changes, the catalogue left out.
  CHECK(seen == changes - 1);
  // A budget smaller than one change still moves: one change per page.
  v1::PullRequest tiny;
  tiny.set_max_page_bytes(1);
  tiny.set_page_size(5);
  const std::vector<v1::PullPage> singles = PullAll(*stub, "device-p2", tiny);
  CHECK(singles.size() == static_cast<size_t>(changes));
  for (const v1::PullPage& page : singles) CHECK(page.changes_size() == 1);
}

v1::GetReferenceDataResponse Reference(v1::SyncService::Stub& stub,
                                       const v1::GetReferenceDataRequest& request,
                                       grpc::Status* status = nullptr) {
  auto ctx = AsDevice("device-r1");
  v1::GetReferenceDataResponse response;
  grpc::Status s = stub.GetReferenceData(ctx.get(), request, &response);
  if (status != nullptr) {
    *status = s;
  } else {
    INFO(s.error_message());
    REQUIRE(s.ok());
  }
  return response;
}

TEST_CASE("the reference data comes in parts of the asked size that make up the whole catalogue") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-r");
  admin.EnrollDevice("device-r1", town.town_id, town.squad_id);
  auto stub = v1::SyncService::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  const v1::Catalog sample = SampleCatalog();

  // Asked for whole (as older devices do): the catalogue in one piece.
  const v1::GetReferenceDataResponse whole = Reference(*stub, v1::GetReferenceDataRequest());
  REQUIRE(whole.has_catalog());
  CHECK_FALSE(whole.has_catalog_part());
  CHECK(whole.officers_size() == 3);

  v1::GetReferenceDataRequest request;
  request.set_max_response_bytes(4096);
  v1::Catalog assembled;
  int parts = 0;
  for (;;) {
    const v1::GetReferenceDataResponse r = Reference(*stub, request);
    REQUIRE(r.has_catalog_part());
    CHECK_FALSE(r.has_catalog());
    CHECK(r.catalog_matter_offset() == static_cast<uint32_t>(assembled.matters_size()));
    CHECK(r.catalog_matters_total() == static_cast<uint32_t>(sample.matters_size()));
    CHECK(r.catalog_part().matters_size() >= 1);
    // Every part within the budget, unless one matter alone is larger.
    CHECK((r.ByteSizeLong() <= 4096 + 64 || r.catalog_part().matters_size() == 1));
    if (parts == 0) {
      CHECK(r.officers_size() == 3);
      CHECK(r.catalog_part().calendar_size() == sample.calendar_size());
      assembled = r.catalog_part();
    } else {
      CHECK(r.officers_size() == 0);
      CHECK(r.towns_size() == 0);
      CHECK(r.catalog_part().calendar_size() == 0);
      for (const v1::Matter& m : r.catalog_part().matters()) *assembled.add_matters() = m;
    }
    ++parts;
    if (assembled.matters_size() >= static_cast<int>(r.catalog_matters_total())) break;
    request.set_catalog_matter_offset(static_cast<uint32_t>(assembled.matters_size()));
    request.set_catalog_part_version(assembled.version());
  }
  CHECK(parts > 2);
  CHECK(assembled.SerializeAsString() == whole.catalog().SerializeAsString());

  // Parts of a catalogue that is no longer current: the current one from
  // its first part.
  v1::GetReferenceDataRequest stale;
  stale.set_max_response_bytes(4096);
  stale.set_catalog_matter_offset(3);
  stale.set_catalog_part_version(assembled.version() - 1);
  const v1::GetReferenceDataResponse restarted = Reference(*stub, stale);
  CHECK(restarted.catalog_matter_offset() == 0);
  CHECK(restarted.catalog_part().version() == assembled.version());
  CHECK(restarted.officers_size() == 3);

  // An offset past the end of the current catalogue.
  v1::GetReferenceDataRequest beyond;
  beyond.set_max_response_bytes(4096);
  beyond.set_catalog_matter_offset(static_cast<uint32_t>(sample.matters_size()));
  beyond.set_catalog_part_version(assembled.version());
  grpc::Status refused;
  Reference(*stub, beyond, &refused);
  CHECK(refused.error_code() == grpc::StatusCode::OUT_OF_RANGE);
  CHECK(refused.error_message() ==
        "catalog_matter_offset " + std::to_string(sample.matters_size()) + " is beyond the " +
            std::to_string(sample.matters_size()) + " matters of catalogue version " +
            std::to_string(assembled.version()));

  // Up to date: no part, the roster only.
  v1::GetReferenceDataRequest current;
  current.set_max_response_bytes(4096);
  current.set_catalog_version(assembled.version());
  const v1::GetReferenceDataResponse up_to_date = Reference(*stub, current);
  CHECK_FALSE(up_to_date.has_catalog_part());
  CHECK_FALSE(up_to_date.has_catalog());
  CHECK(up_to_date.officers_size() == 3);
}

}  // namespace
}  // namespace palm::e2e
