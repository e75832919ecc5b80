// Honest sync results (issue 18): a sync whose evidence uploads failed says
// so — report ok false, error_reason "uploads_pending", how many files wait
// and why — instead of plain success; a store that is full answers
// RESOURCE_EXHAUSTED, not UNAVAILABLE; and a sync that wrote pulls once more,
// so that the device ends equal to the server. A real palm-server child on
// loopback, real devices.
#include <signal.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>

#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string Attach(Device& device, const std::string& case_id, const std::string& name,
                   const std::string& content) {
  const std::string path = device.dir.File(name);
  std::ofstream(path, std::ios::binary) << content;
  EvidenceInput input;
  input.case_id = case_id;
  input.kind = EvidenceKind::kPhoto;
  input.mime_type = "image/jpeg";
  Result<std::string> id = device.client->AttachEvidenceFile(input, path);
  INFO(id.status().ToString());
  REQUIRE(id.ok());
  return *id;
}

TEST_CASE("a sync whose evidence upload failed reports the pending uploads and why") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-a");
  Device device(admin, "device-a1", town);
  REQUIRE(device.client->SetActingOfficer(town.officers[0]).ok());
  REQUIRE(device.Sync(server.address()).ok());

  Result<std::string> case_id =
      device.client->RecordCase(NewCase(town, Procedure::kSummary, "占道经营"));
  REQUIRE(case_id.ok());
  Attach(device, *case_id, "photo.jpg", std::string(70000, 'p'));

  // The server's upload area broken while it runs (a file where its
  // directory of partial uploads was): every upload fails on the server.
  const std::filesystem::path partial = data.path() / "evidence" / "partial";
  std::filesystem::remove_all(partial);
  std::ofstream(partial.string()) << "not a directory";

  Result<SyncReport> failed = device.Sync(server.address());
  INFO(failed.status().ToString());
  REQUIRE(failed.ok());  // the writes and the pull are done and kept
  CHECK_FALSE(failed->ok);
  CHECK(failed->error_reason == "uploads_pending");
  CHECK(failed->pushed == 2);
  CHECK(failed->uploads_done == 0);
  CHECK(failed->uploads_failed == 1);
  CHECK(failed->uploads_pending == 1);
  CHECK(failed->upload_error_code == "INTERNAL");
  CHECK_FALSE(failed->upload_error.empty());
  CHECK(failed->message.rfind("1 evidence file(s) failed to upload (INTERNAL: ", 0) == 0);
  CHECK(Contains(failed->message, "); 1 wait for the next sync"));
  // Kept as the last report, as the app shows it after a restart.
  Result<SyncReport> last = device.client->LastSyncReport();
  REQUIRE(last.ok());
  CHECK_FALSE(last->ok);
  CHECK(last->error_reason == "uploads_pending");
  CHECK(last->uploads_pending == 1);
  CHECK(last->upload_error_code == "INTERNAL");
  CHECK(device.client->PendingCounts()->uploads == 1);

  // Repaired: the next sync uploads the file and is a plain success.
  std::filesystem::remove(partial);
  Result<SyncReport> healed = device.Sync(server.address());
  REQUIRE(healed.ok());
  CHECK(healed->ok);
  CHECK(healed->error_reason.empty());
  CHECK(healed->uploads_done == 1);
  CHECK(healed->uploads_failed == 0);
  CHECK(healed->uploads_pending == 0);
  CHECK(healed->upload_error.empty());
  CHECK(DiffWithServer(device, admin).empty());
}

TEST_CASE("a full store answers a push with RESOURCE_EXHAUSTED and the report keeps the uploads") {
  TempDir data;
  Town town;
  std::optional<ServerProcess> server(std::in_place, data.path().string());
  std::optional<Admin> admin(std::in_place, server->address());
  admin->LoadSampleCatalog();
  town = SetUpTown(*admin, "town-a");
  Device device(*admin, "device-a1", town);
  REQUIRE(device.client->SetActingOfficer(town.officers[0]).ok());
  REQUIRE(device.Sync(server->address()).ok());
  REQUIRE(server->Stop(SIGTERM) == 0);

  // Capped at its present size (--max-store-pages 1 keeps it there): the
  // next writes that need a page find the "disk" full.
  server.emplace(data.path().string(),
                 std::vector<std::string>{"--insecure-loopback", "--max-store-pages", "1"});
  const std::string padding(2000, 'x');
  std::string last_case;
  for (int i = 0; i < 400; ++i) {
    Result<std::string> id =
        device.client->RecordCase(NewCase(town, Procedure::kSummary, padding + std::to_string(i)));
    REQUIRE(id.ok());
    last_case = *id;
  }
  Attach(device, last_case, "photo.jpg", "photo bytes");
  Result<SyncReport> full = device.Sync(server->address());
  REQUIRE_FALSE(full.ok());
  INFO(full.status().ToString());
  CHECK(full.status().code() == StatusCode::kResourceExhausted);
  CHECK(Contains(full.status().message(),
                 "pushing the outbox: the server's disk is full; nothing of this call was kept: "));
  CHECK(Contains(full.status().message(), "disk full"));
  Result<SyncReport> last = device.client->LastSyncReport();
  REQUIRE(last.ok());
  CHECK_FALSE(last->ok);
  CHECK(last->uploads_pending == 1);
  REQUIRE(server->Stop(SIGTERM) == 0);

  // Room again: everything goes up, nothing was lost.
  server.emplace(data.path().string());
  admin.emplace(server->address());
  Result<SyncReport> after = device.Sync(server->address());
  INFO(after.status().ToString());
  REQUIRE(after.ok());
  CHECK(after->ok);
  CHECK(after->uploads_pending == 0);
  CHECK(device.Pending() == 0);
  CHECK(DiffWithServer(device, *admin).empty());
}

TEST_CASE("a sync that wrote pulls again and ends equal to the server") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-a");
  Device device(admin, "device-a1", town);
  REQUIRE(device.client->SetActingOfficer(town.officers[0]).ok());
  Result<SyncReport> first = device.Sync(server.address());
  REQUIRE(first.ok());
  CHECK(first->pulls == 1);  // nothing of its own to push

  Result<std::string> case_id =
      device.client->RecordCase(NewCase(town, Procedure::kSummary, "占道经营"));
  REQUIRE(case_id.ok());
  const std::string evidence_id = Attach(device, *case_id, "photo.jpg", std::string(5000, 'q'));
  Result<SyncReport> wrote = device.Sync(server.address());
  REQUIRE(wrote.ok());
  CHECK(wrote->ok);
  CHECK(wrote->pulls == 2);
  CHECK(wrote->uploads_done == 1);
  // Equal to the server right after this one sync: the evidence uploaded,
  // its receipt, its case number.
  CHECK(DiffWithServer(device, admin).empty());
  v1::CaseDetail on_server = admin.GetCase(*case_id);
  REQUIRE(on_server.evidence_size() == 1);
  CHECK(on_server.evidence(0).uploaded());
  Result<CaseView> mine = device.client->GetCase(*case_id);
  REQUIRE(mine.ok());
  REQUIRE(mine->evidence.size() == 1);
  CHECK(mine->evidence[0].evidence_id == evidence_id);
  CHECK(mine->record.case_number == on_server.case_().case_number());

  Result<SyncReport> idle = device.Sync(server.address());
  REQUIRE(idle.ok());
  CHECK(idle->pulls == 1);
}

}  // namespace
}  // namespace palm::e2e
