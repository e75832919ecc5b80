// Faults: a proxy cuts the connection after a random number of bytes, on
// push and on pull, many times. Every sync that fails leaves the device
// consistent, and the next one resumes: in the end nothing is missing,
// nothing is applied twice, and case numbers have no gap.
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
    REQUIRE(d.client->AppendCaseEvent({*id, CaseEventKind::kNote, "note", 0, 0}).ok());
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
  int failures = 0;
  for (Device* d : {&a, &b}) {
    // The first sync straight to the server: the reference data (catalogue
    // and working-day calendar) is one response larger than most segments
    // the proxy lets through, and would spend every cut (issue 16, item 4:
    // responses that adapt to the link). The cuts are for the pushes and
    // pulls below.
    d->SyncUntilOk(server.address(), small, 300);
    REQUIRE(d->client->SetActingOfficer(town.officers[0]).ok());
    RecordWork(*d, 30);
  }
  // Push a's and b's outboxes, then pull each other's cases, all through
  // the cutting proxy; count the syncs that were cut.
  for (int pass = 0; pass < 2; ++pass) {
    for (Device* d : {&a, &b}) {
      for (int attempt = 0;; ++attempt) {
        REQUIRE(attempt < 300);
        Result<SyncReport> r = d->Sync(proxy.address(), small);
        if (r.ok()) break;
        ++failures;
        INFO(r.status().ToString());
        CHECK(r.status().code() == StatusCode::kUnavailable);
      }
    }
  }
  CHECK(proxy.faults() >= 20);
  CHECK(failures >= 20);

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
