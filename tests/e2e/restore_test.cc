// A restore from a backup loses nothing a device holds (issue 18), over real
// processes: palm-server --restore-from a backup taken with BackupServer.
// - Ticket numbers: a device leases a block after the backup and issues
//   tickets from it offline; after the restore another device syncs first
//   and leases; no number is held by two tickets, and every ticket the first
//   device issued is on the server.
// - Evidence: files uploaded after the backup, whose content the restored
//   server lacks, are uploaded again by the device that holds them.
// - The evidence log: the restored server goes on under a new origin with a
//   signed transition; every receipt a device holds verifies, palmctl log
//   consistency carries an old head across the restore or explains why it
//   cannot, and the audit chain verifies.
#include <catch2/catch.hpp>

#include <signal.h>

#include <set>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "palm/v1/admin.grpc.pb.h"
#include "palm/v1/evidence.grpc.pb.h"
#include "sync/ed25519.h"
#include "sync/log_transition.h"
#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

SyncOptions Leasing(uint32_t per_lease, int64_t low_water) {
  SyncOptions o;
  o.ticket_numbers_per_lease = per_lease;
  o.ticket_numbers_low_water = low_water;
  return o;
}

// A summary case with its on-the-spot ticket, offline; the ticket's number.
int64_t Ticketed(Device& d, const std::string& what) {
  Result<std::string> id = d.client->RecordCase(NewCase(d.town, Procedure::kSummary, what));
  REQUIRE(id.ok());
  Result<Ticket> ticket = d.client->IssueTicket(NewTicket(d.town, *id));
  INFO(ticket.status().ToString());
  REQUIRE(ticket.ok());
  return ticket->ticket_number;
}

std::string Backup(const std::string& address, const std::string& name) {
  auto stub =
      v1::AdminService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::BackupServerRequest request;
  request.set_name(name);
  v1::BackupServerResponse response;
  grpc::Status s = stub->BackupServer(&ctx, request, &response);
  INFO(s.error_code() << " " << s.error_message());
  REQUIRE(s.ok());
  return response.directory();
}

// Ticket numbers on the server for `town`, with how many tickets hold each.
std::map<int64_t, int> ServerTicketNumbers(Admin& admin, const std::string& town) {
  std::map<int64_t, int> numbers;
  for (const v1::Case& c : admin.ListCases(town)) {
    const v1::CaseDetail detail = admin.GetCase(c.case_id());
    for (const v1::Ticket& t : detail.tickets()) ++numbers[t.ticket_number()];
  }
  return numbers;
}

TEST_CASE("after a restore no ticket number is issued twice and no offline ticket is lost") {
  TempDir data;
  auto server = std::make_unique<ServerProcess>(data.path().string());
  auto admin = std::make_unique<Admin>(server->address());
  admin->LoadSampleCatalog();
  Town town = SetUpTown(*admin, "town-t");
  Device a(*admin, "device-t1", town);
  Device b(*admin, "device-t2", town);
  a.SyncUntilOk(server->address(), Leasing(2, 1));
  b.SyncUntilOk(server->address(), Leasing(0, 0));
  for (Device* d : {&a, &b}) REQUIRE(d->client->SetActingOfficer(town.officers[0]).ok());
  // a uses up its first block; the tickets reach the server.
  std::set<int64_t> issued_by_a = {Ticketed(a, "设摊 1"), Ticketed(a, "设摊 2")};
  a.SyncUntilOk(server->address(), Leasing(0, 0));

  const std::string backup = Backup(server->address(), "before-the-block");

  // After the backup: a new block, and five tickets from it, offline.
  SyncReport leased = a.SyncUntilOk(server->address(), Leasing(5, 1));
  REQUIRE(leased.ticket_numbers_leased == 5);
  std::set<int64_t> from_forgotten_block;
  for (int i = 0; i < 5; ++i) from_forgotten_block.insert(Ticketed(a, "占道 " + std::to_string(i)));
  issued_by_a.insert(from_forgotten_block.begin(), from_forgotten_block.end());
  REQUIRE(issued_by_a.size() == 7);

  REQUIRE(server->Stop(SIGTERM) == 0);
  server = std::make_unique<ServerProcess>(
      data.path().string(),
      std::vector<std::string>{"--insecure-loopback", "--restore-from", backup});
  admin = std::make_unique<Admin>(server->address());
  CHECK(ServerTicketNumbers(*admin, town.town_id).size() == 2);

  // b comes first and leases its first block: above everything ever leased,
  // also the block the restored store forgot.
  SyncReport rb = b.SyncUntilOk(server->address(), Leasing(5, 3));
  CHECK(rb.resync);
  CHECK(rb.ticket_numbers_leased == 5);
  std::set<int64_t> issued_by_b;
  for (int i = 0; i < 5; ++i) issued_by_b.insert(Ticketed(b, "乱堆 " + std::to_string(i)));
  CHECK(*issued_by_b.begin() > *from_forgotten_block.rbegin());

  // a presents its leases before pushing: the forgotten one is taken back
  // and its tickets are applied, not rejected and erased.
  Result<SyncReport> ra = a.Sync(server->address(), Leasing(0, 0));
  INFO(ra.status().ToString());
  REQUIRE(ra.ok());
  CHECK(ra->resync);
  CHECK(ra->ticket_leases_restored == 2);
  CHECK(ra->ticket_leases_refused == 0);
  CHECK(ra->rejected == 0);
  CHECK(a.Pending() == 0);
  b.SyncUntilOk(server->address(), Leasing(0, 0));
  a.SyncUntilOk(server->address(), Leasing(0, 0));

  std::map<int64_t, int> on_server = ServerTicketNumbers(*admin, town.town_id);
  for (const auto& [number, holders] : on_server) {
    INFO("ticket number " << number);
    CHECK(holders == 1);
  }
  for (int64_t n : issued_by_a) CHECK(on_server.count(n) == 1);
  for (int64_t n : issued_by_b) CHECK(on_server.count(n) == 1);
  CHECK(on_server.size() == 12);
  for (Device* d : {&a, &b}) {
    INFO(d->device_id);
    CHECK(DiffWithServer(*d, *admin) == "");
  }
}

// A photo of `n` (about 100 KiB of random bytes) attached to `case_id`.
std::string AttachPhoto(Device& d, const std::string& case_id, int n) {
  const std::string path = d.dir.File("photo-" + std::to_string(n) + ".jpg");
  WriteRandomFile(path, 100 * 1024 + n, static_cast<uint32_t>(n));
  EvidenceInput input;
  input.case_id = case_id;
  input.kind = EvidenceKind::kPhoto;
  input.mime_type = "image/jpeg";
  Result<std::string> id = d.client->AttachEvidenceFile(input, path);
  INFO(id.status().ToString());
  REQUIRE(id.ok());
  return *id;
}

TEST_CASE("evidence content a restored server lacks is uploaded again by the device that has it") {
  namespace fs = std::filesystem;
  TempDir data;
  auto server = std::make_unique<ServerProcess>(data.path().string());
  auto admin = std::make_unique<Admin>(server->address());
  admin->LoadSampleCatalog();
  Town town = SetUpTown(*admin, "town-v");
  Device d(*admin, "device-v1", town);
  d.SyncUntilOk(server->address());
  REQUIRE(d.client->SetActingOfficer(town.officers[0]).ok());
  Result<std::string> case_id = d.client->RecordCase(NewCase(town, Procedure::kSummary, "设摊"));
  REQUIRE(case_id.ok());
  d.SyncUntilOk(server->address());

  const std::string backup = Backup(server->address(), "before-the-photos");

  // Two photos uploaded after the backup, one more left unsent.

  std::set<std::string> photos = {AttachPhoto(d, *case_id, 1), AttachPhoto(d, *case_id, 2)};
  SyncReport up = d.SyncUntilOk(server->address());
  REQUIRE(up.uploads_done == 2);
  photos.insert(AttachPhoto(d, *case_id, 3));

  // The restore goes where the contents uploaded after the backup are gone
  // (evidence contents are backed up on their own schedule).
  REQUIRE(server->Stop(SIGTERM) == 0);
  fs::remove_all(data.path() / "evidence" / "sha256");
  server = std::make_unique<ServerProcess>(
      data.path().string(),
      std::vector<std::string>{"--insecure-loopback", "--restore-from", backup});
  admin = std::make_unique<Admin>(server->address());

  Result<SyncReport> r = d.Sync(server->address());
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->resync);
  CHECK(r->ok);
  CHECK(r->uploads_done == 3);
  CHECK(r->uploads_pending == 0);
  CHECK(d.client->PendingCounts()->uploads == 0);
  const v1::CaseDetail detail = admin->GetCase(*case_id);
  std::set<std::string> on_server;
  for (const v1::Evidence& e : detail.evidence()) {
    INFO(e.evidence_id());
    CHECK(e.uploaded());
    on_server.insert(e.evidence_id());
    CHECK(fs::exists(data.path() / "evidence" / "sha256" / e.sha256().substr(0, 2) / e.sha256()));
  }
  CHECK(on_server == photos);
  CHECK(DiffWithServer(d, *admin) == "");
}

v1::GetTreeHeadResponse TreeHead(const std::string& address) {
  auto stub = v1::EvidenceService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::GetTreeHeadResponse response;
  grpc::Status s = stub->GetTreeHead(&ctx, v1::GetTreeHeadRequest(), &response);
  INFO(s.error_code() << " " << s.error_message());
  REQUIRE(s.ok());
  return response;
}

testing::CommandResult Palmctl(const std::string& address, std::vector<std::string> args) {
  args.insert(args.begin(), {testing::PalmctlBinary(), "--insecure", "--server", address});
  return testing::RunCommand(args);
}

TEST_CASE(
    "after a restore the evidence log goes on under a new origin and every receipt verifies") {
  TempDir data;
  auto server = std::make_unique<ServerProcess>(data.path().string());
  auto admin = std::make_unique<Admin>(server->address());
  admin->LoadSampleCatalog();
  Town town = SetUpTown(*admin, "town-w");
  Device d(*admin, "device-w1", town);
  d.SyncUntilOk(server->address());
  REQUIRE(d.client->SetActingOfficer(town.officers[0]).ok());
  Result<std::string> case_id = d.client->RecordCase(NewCase(town, Procedure::kSummary, "设摊"));
  REQUIRE(case_id.ok());

  // Photo 1 is registered, a head covers it and its receipt reaches the
  // device; then the backup.
  const std::string photo1 = AttachPhoto(d, *case_id, 1);
  d.SyncUntilOk(server->address());
  const std::string before = d.dir.File("before.json");
  REQUIRE(Palmctl(server->address(), {"log", "head", "--fresh", "--out", before}).exit_code == 0);
  d.SyncUntilOk(server->address());
  const std::string backup = Backup(server->address(), "before-photo-2");

  // Photo 2 after the backup: the old log reaches 2 leaves, and the device
  // holds a receipt under that head, which the restored server never signs.
  const std::string photo2 = AttachPhoto(d, *case_id, 2);
  d.SyncUntilOk(server->address());
  const std::string past = d.dir.File("past.json");
  REQUIRE(Palmctl(server->address(), {"log", "head", "--fresh", "--out", past}).exit_code == 0);
  d.SyncUntilOk(server->address());
  const std::string kept_checkpoint = d.dir.File("audit-after-backup.json");
  REQUIRE(Palmctl(server->address(), {"audit", "checkpoint", "--out", kept_checkpoint}).exit_code ==
          0);
  Result<std::string> old_receipt = d.client->ExportEvidenceReceipt(photo2);
  REQUIRE(old_receipt.ok());
  CHECK(nlohmann::json::parse(*old_receipt)["tree_head"]["tree_size"] == "2");

  REQUIRE(server->Stop(SIGTERM) == 0);
  server = std::make_unique<ServerProcess>(
      data.path().string(),
      std::vector<std::string>{"--insecure-loopback", "--restore-from", backup});
  admin = std::make_unique<Admin>(server->address());
  Result<SyncReport> r = d.Sync(server->address());
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->resync);
  const std::string now = d.dir.File("now.json");
  REQUIRE(Palmctl(server->address(), {"log", "head", "--fresh", "--out", now}).exit_code == 0);
  d.SyncUntilOk(server->address());

  // The restored server says which head of the old log it holds.
  const v1::GetTreeHeadResponse current = TreeHead(server->address());
  const std::string origin = current.tree_head().origin();
  CHECK(origin.rfind("palm.tongxiang/evidence/", 0) == 0);
  CHECK(current.tree_head().tree_size() == 2);  // photo 2, registered again
  REQUIRE(current.transitions_size() == 1);
  const v1::LogTransition& t = current.transitions(0);
  CHECK(t.from_origin() == "palm.tongxiang/evidence");
  CHECK(t.from_head().tree_size() == 1);
  CHECK(t.to_origin() == origin);
  CHECK(t.reason() == "restored from backup before-photo-2");
  auto pub = sync::LoadPublicKeyPem(current.public_key_pem());
  REQUIRE(pub.ok());
  CHECK(sync::VerifyLogTransition(pub->get(), t).ok());

  // Every receipt the device holds verifies, and so does the one it held
  // under the head the restored log never reached.
  for (const std::string& id : {photo1, photo2}) {
    INFO(id);
    Result<std::string> receipt = d.client->ExportEvidenceReceipt(id);
    REQUIRE(receipt.ok());
    const std::string file = d.dir.File(id == photo1 ? "photo-1.jpg" : "photo-2.jpg");
    Status verified = VerifyEvidenceReceipt(*receipt, current.public_key_pem(), file);
    INFO(verified.ToString());
    CHECK(verified.ok());
  }
  CHECK(VerifyEvidenceReceipt(*old_receipt, current.public_key_pem(), d.dir.File("photo-2.jpg"))
            .ok());

  // A head within what the restore kept carries across it; one past it is
  // explained, not called a fork.
  testing::CommandResult carried = Palmctl(server->address(), {"log", "consistency", before, now});
  INFO(carried.err);
  CHECK(carried.exit_code == 0);
  CHECK(carried.out.find(
            "consistent: the tree of 1 leaves is a prefix of the tree of 2 leaves\n") == 0);
  CHECK(carried.out.find("(restored from backup before-photo-2): log palm.tongxiang/evidence goes "
                         "on as log " +
                         origin + " from its head of 1 leaves\n") != std::string::npos);
  testing::CommandResult cut = Palmctl(server->address(), {"log", "consistency", past, now});
  CHECK(cut.exit_code == 1);
  const std::string at = absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(t.at_ms()),
                                          absl::UTCTimeZone());
  CHECK(cut.err == "palmctl: log palm.tongxiang/evidence reached 2 leaves, but the restore of " +
                       at +
                       " (restored from backup before-photo-2) continued log "
                       "palm.tongxiang/evidence as log " +
                       origin +
                       " from its head of 1 leaves: leaves 1 to 1 were in the history the restore "
                       "discarded. Receipts under that head still verify with the log key; "
                       "evidence the devices sent again was registered anew in log " +
                       origin + "\n");

  // Two heads of the old log, the newer past the cut: the restored server
  // cannot prove them, and says why instead of calling them inconsistent.
  testing::CommandResult old_pair =
      Palmctl(server->address(), {"log", "consistency", before, past});
  CHECK(old_pair.exit_code == 1);
  CHECK(old_pair.err.find("(restored from backup before-photo-2) continued log "
                          "palm.tongxiang/evidence as log " +
                          origin +
                          " from its head of 1 leaves: this server no longer holds the tree of 2 "
                          "leaves; check these heads with a proof saved before the restore "
                          "(--proof)\n") != std::string::npos);

  // The audit chain of the restored store verifies.
  testing::CommandResult audit = Palmctl(server->address(), {"audit", "verify"});
  INFO(audit.out << audit.err);
  CHECK(audit.exit_code == 0);
  // A checkpoint kept from after the backup names what the restore did: the
  // restored server has written as many entries since, other ones.
  testing::CommandResult against =
      Palmctl(server->address(), {"audit", "verify", "--checkpoint", kept_checkpoint});
  INFO(against.out << against.err);
  CHECK(against.exit_code == 1);
  CHECK((against.out + against.err).find(": the log was rewritten") != std::string::npos);

  // A restart keeps the new origin (it is the store's, not the flags').
  REQUIRE(server->Stop(SIGTERM) == 0);
  server = std::make_unique<ServerProcess>(data.path().string());
  CHECK(TreeHead(server->address()).tree_head().origin() == origin);
  CHECK(TreeHead(server->address()).transitions_size() == 1);
}

// The issue's whole scenario at once: a squad works on after a backup (a
// case numbered, tickets from a new lease, a photo uploaded, a write left
// unsent), the backup's store is copied back by hand and the server started
// with --new-epoch, every device syncs, and nothing is lost or duplicated.
TEST_CASE("a squad restored by hand with --new-epoch loses nothing and duplicates nothing") {
  namespace fs = std::filesystem;
  TempDir data;
  auto server = std::make_unique<ServerProcess>(data.path().string());
  auto admin = std::make_unique<Admin>(server->address());
  admin->LoadSampleCatalog();
  Town town = SetUpTown(*admin, "town-s");
  Device a(*admin, "device-s1", town);
  Device b(*admin, "device-s2", town);
  Device c(*admin, "device-s3", town);
  a.SyncUntilOk(server->address(), Leasing(2, 1));
  for (Device* d : {&b, &c}) d->SyncUntilOk(server->address(), Leasing(0, 0));
  for (Device* d : {&a, &b, &c}) REQUIRE(d->client->SetActingOfficer(town.officers[0]).ok());
  std::set<int64_t> issued = {Ticketed(a, "设摊 1"), Ticketed(a, "设摊 2")};
  Result<std::string> b_case = b.client->RecordCase(NewCase(town, Procedure::kSummary, "占道"));
  REQUIRE(b_case.ok());
  const std::string photo1 = AttachPhoto(b, *b_case, 1);
  for (Device* d : {&a, &b, &c}) d->SyncUntilOk(server->address(), Leasing(0, 0));
  REQUIRE(Palmctl(server->address(), {"log", "head", "--fresh"}).exit_code == 0);
  for (Device* d : {&a, &b, &c}) d->SyncUntilOk(server->address(), Leasing(0, 0));

  const std::string backup = Backup(server->address(), "squad");

  // After the backup: a leases again and tickets offline; b numbers a case
  // and uploads a photo, whose receipt it gets; c records a case, unsent.
  REQUIRE(a.SyncUntilOk(server->address(), Leasing(4, 1)).ticket_numbers_leased == 4);
  std::set<int64_t> forgotten;
  for (int i = 0; i < 4; ++i) forgotten.insert(Ticketed(a, "乱堆 " + std::to_string(i)));
  issued.insert(forgotten.begin(), forgotten.end());
  Result<std::string> b_later = b.client->RecordCase(NewCase(town, Procedure::kSummary, "乱停"));
  REQUIRE(b_later.ok());
  const std::string photo2 = AttachPhoto(b, *b_later, 2);
  b.SyncUntilOk(server->address(), Leasing(0, 0));
  REQUIRE(Palmctl(server->address(), {"log", "head", "--fresh"}).exit_code == 0);
  b.SyncUntilOk(server->address(), Leasing(0, 0));
  Result<std::string> c_case = c.client->RecordCase(NewCase(town, Procedure::kSummary, "噪声"));
  REQUIRE(c_case.ok());
  std::map<std::string, std::string> numbers;  // case id -> official number
  for (const std::string& id : {*b_case, *b_later}) {
    numbers[id] = b.client->GetCase(id)->record.case_number;
    REQUIRE_FALSE(numbers[id].empty());
  }
  Result<std::string> receipt2 = b.client->ExportEvidenceReceipt(photo2);
  REQUIRE(receipt2.ok());

  // By hand: the server stopped, the backup's store copied over the live
  // one, photo 2's content gone with the disk it was on; --new-epoch.
  REQUIRE(server->Stop(SIGTERM) == 0);
  for (const char* f : {"palm.db", "palm.db-wal", "palm.db-shm"}) fs::remove(data.path() / f);
  fs::copy_file(fs::path(backup) / "palm.db", data.path() / "palm.db");
  const std::string sha2 = b.client->GetCase(*b_later)->evidence.at(0).sha256_hex;
  REQUIRE(fs::remove(data.path() / "evidence" / "sha256" / sha2.substr(0, 2) / sha2));
  server = std::make_unique<ServerProcess>(
      data.path().string(), std::vector<std::string>{"--insecure-loopback", "--new-epoch"});
  admin = std::make_unique<Admin>(server->address());

  // c comes first and leases; then everyone syncs, twice round.
  SyncReport rc = c.SyncUntilOk(server->address(), Leasing(3, 1));
  CHECK(rc.resync);
  CHECK(rc.ticket_numbers_leased == 3);
  const int64_t c_ticket = Ticketed(c, "夜市");
  CHECK(forgotten.count(c_ticket) == 0);
  issued.insert(c_ticket);
  for (int round = 0; round < 2; ++round) {
    for (Device* d : {&a, &b, &c}) d->SyncUntilOk(server->address(), Leasing(0, 0));
  }
  REQUIRE(Palmctl(server->address(), {"log", "head", "--fresh"}).exit_code == 0);
  for (Device* d : {&a, &b, &c}) d->SyncUntilOk(server->address(), Leasing(0, 0));

  // No ticket number twice, none issued missing.
  const std::map<int64_t, int> on_server = ServerTicketNumbers(*admin, town.town_id);
  for (const auto& [number, holders] : on_server) {
    INFO("ticket number " << number);
    CHECK(holders == 1);
  }
  for (int64_t number : issued) {
    INFO("ticket number " << number);
    CHECK(on_server.count(number) == 1);
  }
  // Every case keeps its number; the unsent one is on the server.
  for (const auto& [id, number] : numbers)
    CHECK(admin->GetCase(id).case_().case_number() == number);
  CHECK_FALSE(admin->GetCase(*c_case).case_().case_number().empty());
  // Every evidence file has its content on the server.
  for (const std::string& id : {*b_case, *b_later}) {
    const v1::CaseDetail detail = admin->GetCase(id);
    for (const v1::Evidence& e : detail.evidence()) {
      INFO(e.evidence_id());
      CHECK(e.uploaded());
      CHECK(fs::exists(data.path() / "evidence" / "sha256" / e.sha256().substr(0, 2) / e.sha256()));
    }
  }
  // Every receipt on every device verifies, the one from before too.
  const std::string key = TreeHead(server->address()).public_key_pem();
  for (Device* d : {&a, &b, &c}) {
    Result<CasePage> page = d->client->ListCases(CaseQuery());
    REQUIRE(page.ok());
    for (const CaseRecord& record : page->cases) {
      Result<CaseView> view = d->client->GetCase(record.case_id);
      REQUIRE(view.ok());
      for (const Evidence& e : view->evidence) {
        INFO(d->device_id << " " << e.evidence_id);
        REQUIRE(e.has_receipt);
        Result<std::string> receipt = d->client->ExportEvidenceReceipt(e.evidence_id);
        REQUIRE(receipt.ok());
        CHECK(VerifyEvidenceReceipt(*receipt, key, e.content_path).ok());
      }
    }
  }
  CHECK(VerifyEvidenceReceipt(*receipt2, key, b.dir.File("photo-2.jpg")).ok());
  // The audit chain verifies; devices equal the server.
  testing::CommandResult audit = Palmctl(server->address(), {"audit", "verify"});
  INFO(audit.out << audit.err);
  CHECK(audit.exit_code == 0);
  for (Device* d : {&a, &b, &c}) {
    INFO(d->device_id);
    CHECK(d->Pending() == 0);
    CHECK(DiffWithServer(*d, *admin) == "");
  }
}

}  // namespace
}  // namespace palm::e2e
