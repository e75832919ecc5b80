// Official numbers across a restore of the store (issue 18), on an
// in-process server whose palm.db is put back from an earlier copy while its
// number fence stays: leases are signed and taken back, no ticket number is
// leased twice, and a resent case keeps the number it was given.
#include <sqlite3.h>

#include <filesystem>

#include "server/numbering.h"
#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

namespace {

v1::RestoreTicketLeasesResponse Restore(Client& client, const std::string& device,
                                        const std::vector<v1::TicketLease>& leases) {
  auto ctx = DeviceContext(device);
  v1::RestoreTicketLeasesRequest request;
  for (const v1::TicketLease& l : leases) *request.add_leases() = l;
  v1::RestoreTicketLeasesResponse response;
  grpc::Status s = client.sync->RestoreTicketLeases(ctx.get(), request, &response);
  INFO(s.error_code() << " " << s.error_message());
  REQUIRE(s.ok());
  return response;
}

// Audit entries of `action` on `subject`, read from the live store.
int AuditCount(const std::string& db_path, const std::string& action, const std::string& subject) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT count(*) FROM audit_log WHERE action = ?1 AND subject = ?2",
                             -1, &stmt, nullptr) == SQLITE_OK);
  sqlite3_bind_text(stmt, 1, action.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(stmt, 2, subject.c_str(), -1, SQLITE_TRANSIENT);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const int n = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

// The store files of a data directory, copied to or from `dir` (the server
// stopped): what a restore of palm.db from a backup puts back. The fence
// beside them is left where it is unless `with_fence`.
void CopyStore(const std::string& from, const std::string& to, bool with_fence = false) {
  namespace fs = std::filesystem;
  fs::create_directories(to);
  for (const char* name : {"palm.db", "palm.db-wal", "palm.db-shm"}) {
    fs::remove(to + "/" + name);
    if (fs::exists(from + "/" + name)) fs::copy_file(from + "/" + name, to + "/" + name);
  }
  if (with_fence) {
    fs::copy_file(from + "/" + palm::server::kFenceFile, to + "/" + palm::server::kFenceFile,
                  fs::copy_options::overwrite_existing);
  }
}

}  // namespace

TEST_CASE(
    "every lease is signed, and only this server's signed leases of the calling device are held") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  const v1::TicketLease lease = client.Lease("dev-a1", 20);
  REQUIRE(lease.server_signature().size() == 64);

  // Presented to the server that holds it: answered as held, nothing new.
  v1::RestoreTicketLeasesResponse held = Restore(client, "dev-a1", {lease});
  REQUIRE(held.leases_size() == 1);
  CHECK(held.leases(0).SerializeAsString() == lease.SerializeAsString());
  CHECK(held.refused_size() == 0);

  v1::TicketLease forged = lease;
  forged.set_last_number(lease.last_number() + 500);
  v1::TicketLease unsigned_lease = lease;
  unsigned_lease.clear_server_signature();
  v1::RestoreTicketLeasesResponse refused = Restore(client, "dev-a1", {forged, unsigned_lease});
  CHECK(refused.leases_size() == 0);
  REQUIRE(refused.refused_size() == 2);
  CHECK(refused.refused(0).lease_id() == lease.lease_id());
  CHECK(refused.refused(0).message() ==
        "ticket lease " + lease.lease_id() +
            " carries a signature that does not verify under this server's key");
  CHECK(refused.refused(1).message() ==
        "ticket lease " + lease.lease_id() +
            " carries no server signature (granted by an older server)");
  v1::RestoreTicketLeasesResponse other = Restore(client, "dev-a2", {lease});
  REQUIRE(other.refused_size() == 1);
  CHECK(other.refused(0).message() ==
        "ticket lease " + lease.lease_id() + " was granted to device dev-a1, not to dev-a2");
  // The forged range was not taken: the next lease follows the real one.
  CHECK(client.Lease("dev-a2", 5).first_number() == lease.last_number() + 1);

  // More than 1000 leases in one call: INVALID_ARGUMENT, naming the field.
  auto ctx = DeviceContext("dev-a1");
  v1::RestoreTicketLeasesRequest big;
  for (int i = 0; i < 1001; ++i) *big.add_leases() = lease;
  v1::RestoreTicketLeasesResponse big_response;
  grpc::Status s = client.sync->RestoreTicketLeases(ctx.get(), big, &big_response);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() ==
        "SyncService.RestoreTicketLeases: leases: at most 1000 elements, this one has 1001");
}

TEST_CASE("a restored store leases no number twice and takes back the lease it forgot") {
  TempDir data;
  TempDir backup;
  const std::string dir = data.File("data");
  std::string case_id;
  {
    TestServer server(dir);
    Client client(server.address());
    client.SetUpOrganisation();
    client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
    client.Lease("dev-a1", 10);
  }
  CopyStore(dir, backup.path().string());  // the backup
  v1::TicketLease forgotten;
  {
    TestServer server(dir);
    Client client(server.address());
    forgotten = client.Lease("dev-a1", 10);  // after the backup
  }
  CopyStore(backup.path().string(), dir);  // the restore, fence kept

  TestServer server(dir, -1, /*new_epoch=*/true);
  Client client(server.address());
  // The restored store forgot the block, the fence did not.
  v1::TicketLease next = client.Lease("dev-a2", 10);
  CHECK(next.first_number() == forgotten.last_number() + 1);
  // A ticket numbered from the forgotten block is refused until the device
  // presents the lease, then accepted.
  auto before =
      client.PushBatch("dev-a1", {IssueTicket("dev-a1", 2, case_id, forgotten.first_number())});
  CHECK(before.results(0).reason() == v1::REASON_TICKET_NUMBER_NOT_LEASED);
  v1::RestoreTicketLeasesResponse restored = Restore(client, "dev-a1", {forgotten});
  REQUIRE(restored.refused_size() == 0);
  REQUIRE(restored.leases_size() == 1);
  CHECK(restored.leases(0).lease_id() == forgotten.lease_id());
  auto after =
      client.PushBatch("dev-a1", {IssueTicket("dev-a1", 3, case_id, forgotten.first_number() + 1)});
  REQUIRE_APPLIED(after.results(0));
  // Taking it back is audited, with the block.
  CHECK(AuditCount(dir + "/palm.db", "lease.restored", forgotten.lease_id()) == 1);
}

TEST_CASE("a store restored together with an old fence cannot take back a lease it re-issued") {
  TempDir data;
  TempDir backup;
  const std::string dir = data.File("data");
  {
    TestServer server(dir);
    Client client(server.address());
    client.SetUpOrganisation();
  }
  CopyStore(dir, backup.path().string(), /*with_fence=*/true);
  v1::TicketLease forgotten;
  {
    TestServer server(dir);
    Client client(server.address());
    forgotten = client.Lease("dev-a1", 10);
  }
  // Copied back by hand, fence and all: the numbers are leased again.
  CopyStore(backup.path().string(), dir, /*with_fence=*/true);
  TestServer server(dir, -1, /*new_epoch=*/true);
  Client client(server.address());
  v1::TicketLease again = client.Lease("dev-a2", 10);
  REQUIRE(again.first_number() == forgotten.first_number());
  // The device's lease is then refused, by name, not silently merged.
  v1::RestoreTicketLeasesResponse r = Restore(client, "dev-a1", {forgotten});
  REQUIRE(r.refused_size() == 1);
  CHECK(r.refused(0).message() ==
        "ticket lease " + forgotten.lease_id() + " (numbers " +
            std::to_string(forgotten.first_number()) + " to " +
            std::to_string(forgotten.last_number()) + ") overlaps lease " + again.lease_id() +
            " of device dev-a2 (numbers " + std::to_string(again.first_number()) + " to " +
            std::to_string(again.last_number()) + ")");
}

namespace {

// Pushes one batch of `device` carrying `claims`; returns its response.
v1::PushResponse PushWithClaims(Client& client, const std::string& device,
                                const std::vector<v1::Mutation>& batch,
                                const std::vector<v1::CaseNumberClaim>& claims) {
  auto ctx = DeviceContext(device);
  auto stream = client.sync->Push(ctx.get());
  v1::PushRequest request;
  for (const auto& m : batch) *request.add_mutations() = m;
  for (const auto& c : claims) *request.add_case_number_claims() = c;
  REQUIRE(stream->Write(request));
  v1::PushResponse response;
  REQUIRE(stream->Read(&response));
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  INFO(s.error_code() << " " << s.error_message());
  REQUIRE(s.ok());
  return response;
}

v1::CaseNumberClaim ClaimOf(const v1::Case& c) {
  v1::CaseNumberClaim claim;
  claim.set_case_id(c.case_id());
  claim.set_case_number(c.case_number());
  *claim.mutable_seal() = c.case_number_seal();
  return claim;
}

}  // namespace

TEST_CASE("a resent case keeps its sealed number after a restore, and a forged claim does not") {
  TempDir data;
  TempDir backup;
  const std::string dir = data.File("data");
  std::string first_id;
  {
    TestServer server(dir);
    Client client(server.address());
    client.SetUpOrganisation();
    const v1::PushResponse first = client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &first_id)});
    REQUIRE_APPLIED(first.results(0));
  }
  CopyStore(dir, backup.path().string());
  std::vector<v1::Mutation> after_backup;
  std::vector<v1::Case> numbered;
  {
    TestServer server(dir);
    Client client(server.address());
    for (uint64_t seq = 2; seq <= 4; ++seq) {
      std::string id;
      after_backup.push_back(RecordCase("dev-a1", seq, &id));
      const v1::PushResponse pushed = client.PushBatch("dev-a1", {after_backup.back()});
      REQUIRE_APPLIED(pushed.results(0));
      numbered.push_back(client.GetCase(id).case_());
      REQUIRE(numbered.back().case_number_seal().mac().size() == 16);
      CHECK(numbered.back().case_number_seal().seq() == static_cast<int64_t>(seq));
    }
  }
  CopyStore(backup.path().string(), dir);

  TestServer server(dir, -1, /*new_epoch=*/true);
  Client client(server.address());
  // Another device numbers a case first: above the reserved block, so it
  // cannot take a number the old server gave.
  std::string other_id;
  const v1::PushResponse other_push =
      client.PushBatch("dev-a2", {RecordCase("dev-a2", 1, &other_id)});
  REQUIRE_APPLIED(other_push.results(0));
  const v1::Case other = client.GetCase(other_id).case_();
  CHECK(other.case_number_seal().seq() == palm::server::kCaseNumberBlock + 1);

  // dev-a1 resends its three cases: the first two with their sealed
  // numbers, the third with a claim whose seal was forged.
  v1::CaseNumberClaim forged = ClaimOf(numbered[2]);
  forged.set_case_number(numbered[0].case_number());
  v1::PushResponse resent = PushWithClaims(client, "dev-a1", after_backup,
                                           {ClaimOf(numbered[0]), ClaimOf(numbered[1]), forged});
  REQUIRE(resent.results_size() == 3);
  for (const auto& r : resent.results()) REQUIRE_APPLIED(r);
  CHECK(resent.results(0).case_number() == numbered[0].case_number());
  CHECK(resent.results(1).case_number() == numbered[1].case_number());
  const v1::Case kept = client.GetCase(numbered[1].case_id()).case_();
  CHECK(kept.case_number() == numbered[1].case_number());
  CHECK(kept.case_number_seal().SerializeAsString() ==
        numbered[1].case_number_seal().SerializeAsString());
  // The forged claim is dropped: a new number, after the other device's.
  const v1::Case renumbered = client.GetCase(numbered[2].case_id()).case_();
  CHECK(renumbered.case_number_seal().seq() == palm::server::kCaseNumberBlock + 2);
  CHECK(resent.results(2).case_number() == renumbered.case_number());
}
