// Evidence files and receipts through Client::Sync (issue 6): the sync
// uploads attached files after its push, keeps each pending until the server
// acknowledged it, and brings back a receipt that verifies offline.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>

#include "palm/v1/evidence.grpc.pb.h"
#include "sync/ed25519.h"
#include "sync/evidence_receipt.h"
#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

TEST_CASE("a sync uploads attached evidence files and brings back receipts that verify offline") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-a");
  Device device(admin, "device-a1", town);
  REQUIRE(device.client->SetActingOfficer(town.officers[0]).ok());
  REQUIRE(device.Sync(server.address()).ok());

  Result<std::string> case_id =
      device.client->RecordCase(NewCase(town, Procedure::kSummary, "设摊"));
  REQUIRE(case_id.ok());
  const std::string photo = device.dir.File("photo.jpg");
  const std::string content = WriteRandomFile(photo, 3 * 1024 * 1024 + 5, 7);
  EvidenceInput input;
  input.case_id = *case_id;
  input.kind = EvidenceKind::kPhoto;
  input.mime_type = "image/jpeg";
  Result<std::string> evidence_id = device.client->AttachEvidenceFile(input, photo);
  INFO(evidence_id.status().ToString());
  REQUIRE(evidence_id.ok());
  REQUIRE(device.client->PendingCounts()->uploads == 1);

  std::vector<SyncProgress> uploads;
  SyncOptions options;
  options.on_progress = [&](const SyncProgress& p) {
    if (p.phase == SyncPhase::kUpload) uploads.push_back(p);
  };
  Result<SyncReport> report = device.Sync(server.address(), options);
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  CHECK(report->ok);
  REQUIRE_FALSE(uploads.empty());
  CHECK(uploads.back().done == content.size());
  CHECK(uploads.back().total == content.size());
  CHECK(device.client->PendingCounts()->uploads == 0);

  // The server holds the file and says so.
  const palm::v1::CaseDetail detail = admin.GetCase(*case_id);
  REQUIRE(detail.evidence_size() == 1);
  CHECK(detail.evidence(0).uploaded());

  Result<CaseView> view = device.client->GetCase(*case_id);
  REQUIRE(view.ok());
  REQUIRE(view->evidence.size() == 1);
  const Evidence& e = view->evidence[0];
  CHECK(e.uploaded);
  CHECK(e.has_receipt);
  CHECK(e.receipt_tree_size >= 1);
  CHECK_FALSE(e.capture_time_flagged);

  Result<std::string> exported = device.client->ExportEvidenceReceipt(*evidence_id);
  INFO(exported.status().ToString());
  REQUIRE(exported.ok());
  Result<std::string> binary = device.client->ExportEvidenceReceipt(*evidence_id, false);
  REQUIRE(binary.ok());
  palm::v1::EvidenceReceipt receipt;
  REQUIRE(receipt.ParseFromString(*binary));

  // Offline verification with the log's public key.
  auto stub = palm::v1::EvidenceService::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  palm::v1::GetTreeHeadResponse head;
  REQUIRE(stub->GetTreeHead(&ctx, palm::v1::GetTreeHeadRequest(), &head).ok());
  auto key = sync::LoadPublicKeyPem(head.public_key_pem());
  REQUIRE(key.ok());
  sync::FileFacts facts{sync::Sha256::Of(content), content.size()};
  absl::Status verified = sync::VerifyEvidenceReceipt(key->get(), receipt, facts);
  INFO(verified.ToString());
  REQUIRE(verified.ok());

  // Nothing left to do: the next sync uploads nothing.
  uploads.clear();
  REQUIRE(device.Sync(server.address(), options).ok());
  CHECK((uploads.empty() || uploads.back().total == 0));
}

}  // namespace
}  // namespace palm::e2e
