// A restore from a backup loses nothing a device holds (issue 18), over real
// processes: palm-server --restore-from a backup taken with BackupServer.
// - Ticket numbers: a device leases a block after the backup and issues
//   tickets from it offline; after the restore another device syncs first
//   and leases; no number is held by two tickets, and every ticket the first
//   device issued is on the server.
// - Evidence: files uploaded after the backup, whose content the restored
//   server lacks, are uploaded again by the device that holds them.
#include <catch2/catch.hpp>

#include <signal.h>

#include <set>

#include "palm/v1/admin.grpc.pb.h"
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
  auto attach = [&](int n) {
    const std::string path = d.dir.File("photo-" + std::to_string(n) + ".jpg");
    WriteRandomFile(path, 200 * 1024 + n, static_cast<uint32_t>(n));
    EvidenceInput input;
    input.case_id = *case_id;
    input.kind = EvidenceKind::kPhoto;
    input.mime_type = "image/jpeg";
    Result<std::string> id = d.client->AttachEvidenceFile(input, path);
    INFO(id.status().ToString());
    REQUIRE(id.ok());
    return *id;
  };
  std::set<std::string> photos = {attach(1), attach(2)};
  SyncReport up = d.SyncUntilOk(server->address());
  REQUIRE(up.uploads_done == 2);
  photos.insert(attach(3));

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

}  // namespace
}  // namespace palm::e2e
