// Faults: a proxy cuts the connection after a random number of bytes (a few
// kilobytes at most), on reference data, push and pull, many times. Every
// call the link broke is retried from what was kept, and a sync that gives
// up leaves the device consistent for the next one: in the end nothing is
// missing, nothing is applied twice, and case numbers have no gap.
#include <catch2/catch.hpp>

#include "support/fault_proxy.h"
#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

using palm::testing::FaultProxy;
using palm::testing::FaultProxyOptions;

// Records `cases` cases, each with a piece of evidence, a field update and a
// note: four mutations per case.
void RecordWork(Device& d, int cases) {
  for (int i = 0; i < cases; ++i) {
    Result<std::string> id = d.client->RecordCase(
        NewCase(d.town, Procedure::kOrdinary, d.device_id + " case " + std::to_string(i)));
    REQUIRE(id.ok());
    EvidenceInput e;
    e.case_id = *id;
    e.kind = EvidenceKind::kPhoto;
    e.mime_type = "image/jpeg";
    e.sha256_hex = std::string(64, "0123456789abcdef"[i % 16]);
    e.size_bytes = 4096;
    e.content_path = "/sdcard/" + *id + ".jpg";
    REQUIRE(d.client->AddEvidenceRecord(e).ok());
    REQUIRE(d.client->UpdateCaseFields(*id, {{CaseField::kDescription, "更正 " + *id, ""}}).ok());
    REQUIRE(d.client
                ->AppendCaseEvent({*id, CaseEventKind::kNote, "note", 0, 0, std::nullopt,
                                   std::nullopt, std::nullopt})
                .ok());
  }
}

TEST_CASE("connections cut at random points on push and pull lose and duplicate nothing") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-f");
  FaultProxyOptions po;
  po.target = server.address();
  po.seed = 20260101;
  po.min_bytes = 300;
  po.max_bytes = 12000;
  po.max_faults = 150;
  FaultProxy proxy(po);

  // Small batches and pages: many checkpoints for the cuts to fall between.
  SyncOptions small;
  small.push_batch_size = 7;
  small.pull_page_size = 9;
  Device a(admin, "device-f1", town);
  Device b(admin, "device-f2", town);
  // Everything through the cutting proxy, the first syncs too (reference
  // data and snapshot). A sync retries on its own (SyncReport::retries); one
  // that still fails (the link gave nothing for eight attempts in a row) is
  // UNAVAILABLE and the next one resumes.
  int failures = 0;
  uint64_t retries = 0;
  auto sync = [&](Device& d) {
    for (int attempt = 0;; ++attempt) {
      REQUIRE(attempt < 300);
      Result<SyncReport> r = d.Sync(proxy.address(), small);
      Result<SyncReport> kept = d.client->LastSyncReport();
      REQUIRE(kept.ok());
      retries += kept->retries;
      if (r.ok()) break;
      ++failures;
      INFO(r.status().ToString());
      CHECK(r.status().code() == StatusCode::kUnavailable);
    }
  };
  for (Device* d : {&a, &b}) {
    sync(*d);
    CHECK(*d->client->CatalogVersion() > 0);
    REQUIRE(d->client->SetActingOfficer(town.officers[0]).ok());
    RecordWork(*d, 30);
  }
  // Push a's and b's outboxes, then pull each other's cases.
  for (int pass = 0; pass < 2; ++pass) {
    for (Device* d : {&a, &b}) sync(*d);
  }
  INFO("syncs failed " << failures << ", calls retried " << retries);
  CHECK(proxy.faults() >= 20);
  CHECK(retries + static_cast<uint64_t>(failures) >= 20);

  for (Device* d : {&a, &b}) {
    INFO(d->device_id);
    CHECK(d->Pending() == 0);
    auto outbox = d->store().Outbox();
    REQUIRE(outbox.ok());
    CHECK(admin.AcknowledgedSeq(d->device_id) == outbox->back().mutation.device_seq());
    CHECK(DiffWithServer(*d, admin) == "");
  }
  // Nothing twice: 60 cases, each with one piece of evidence and exactly
  // the events its four mutations make.
  std::vector<v1::Case> cases = admin.ListCases(town.town_id);
  REQUIRE(cases.size() == 60);
  CHECK(Gapless(CaseNumberSeqs(cases)));
  for (const v1::Case& c : cases) {
    v1::CaseDetail detail = admin.GetCase(c.case_id());
    CHECK(detail.evidence_size() == 1);
    CHECK(detail.case_().description() == "更正 " + c.case_id());
    int notes = 0;
    for (const auto& e : detail.timeline()) notes += e.kind() == v1::CASE_EVENT_KIND_NOTE;
    CHECK(notes == 1);
  }
  CHECK(admin.ListRejected().empty());
}

}  // namespace
}  // namespace palm::e2e
