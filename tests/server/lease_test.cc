// Ticket-number leases and the rest of the reference data a device needs.
#include <sqlite3.h>

#include <filesystem>
#include <thread>

#include "server/ticket_numbering.h"
#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

namespace {

grpc::Status Return(Client& client, const std::string& device, const std::string& lease_id,
                    int64_t unused_from, v1::TicketLease* out = nullptr) {
  auto ctx = DeviceContext(device);
  v1::ReturnTicketLeaseRequest request;
  request.set_lease_id(lease_id);
  request.set_unused_from(unused_from);
  v1::ReturnTicketLeaseResponse response;
  grpc::Status s = client.sync->ReturnTicketLease(ctx.get(), request, &response);
  if (out != nullptr) *out = response.lease();
  return s;
}

}  // namespace

TEST_CASE("leases requested concurrently by many devices never overlap") {
  TestServer server;
  Client setup(server.address());
  setup.SetUpOrganisation();
  constexpr int kDevices = 5;
  constexpr int kLeases = 8;
  for (int d = 0; d < kDevices; ++d) setup.Enroll("dev-l" + std::to_string(d), kTownA, kSquadA);
  std::vector<std::vector<v1::TicketLease>> leases(kDevices);
  std::vector<std::vector<grpc::Status>> statuses(kDevices);
  std::vector<std::thread> threads;
  for (int d = 0; d < kDevices; ++d) {
    threads.emplace_back([&, d] {
      // No Catch2 macro on these threads: results are checked after join.
      Client client(server.address(), Client::Unchecked{});
      for (int i = 0; i < kLeases; ++i) {
        v1::TicketLease lease;
        statuses[d].push_back(client.TryLease("dev-l" + std::to_string(d), 50, &lease));
        leases[d].push_back(lease);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& per_device : statuses) {
    for (const auto& s : per_device) {
      INFO(s.error_code() << " " << s.error_message());
      REQUIRE(s.ok());
    }
  }
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (int d = 0; d < kDevices; ++d) {
    for (const auto& l : leases[d]) {
      REQUIRE(l.device_id() == "dev-l" + std::to_string(d));
      REQUIRE(l.last_number() - l.first_number() + 1 == 50);
      REQUIRE_FALSE(l.prefix().empty());
      ranges.emplace_back(l.first_number(), l.last_number());
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) REQUIRE(ranges[i].first > ranges[i - 1].second);
}

TEST_CASE("a lease grants at most 1000 numbers and needs a count") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  auto lease = client.Lease("dev-a1", 5000);
  REQUIRE(lease.last_number() - lease.first_number() + 1 == 1000);
  auto ctx = DeviceContext("dev-a1");
  v1::LeaseTicketNumbersRequest request;
  v1::LeaseTicketNumbersResponse response;
  grpc::Status s = client.sync->LeaseTicketNumbers(ctx.get(), request, &response);
  REQUIRE(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(s.error_message() == "count must be at least 1");
}

TEST_CASE("an unused block can be handed back, its returned numbers are no longer valid") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
  auto lease = client.Lease("dev-a1", 10);
  const int64_t first = lease.first_number();
  auto issued = client.PushBatch("dev-a1", {IssueTicket("dev-a1", 2, case_id, first + 2)});
  REQUIRE_APPLIED(issued.results(0));

  SECTION("returning over a used number is refused") {
    grpc::Status s = Return(client, "dev-a1", lease.lease_id(), first);
    REQUIRE(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    REQUIRE(s.error_message() == "ticket number " + std::to_string(first + 2) + " of lease " +
                                     lease.lease_id() +
                                     " was already used; return the numbers after it");
  }
  SECTION("returning outside the block is OUT_OF_RANGE") {
    grpc::Status s = Return(client, "dev-a1", lease.lease_id(), lease.last_number() + 2);
    REQUIRE(s.error_code() == grpc::StatusCode::OUT_OF_RANGE);
  }
  SECTION("another device cannot return it") {
    grpc::Status s = Return(client, "dev-a2", lease.lease_id(), first + 3);
    REQUIRE(s.error_code() == grpc::StatusCode::NOT_FOUND);
    REQUIRE(s.error_message() ==
            "ticket lease " + lease.lease_id() + " is not leased to device dev-a2");
  }
  SECTION("returned once; the numbers after it are refused, the ones before still work") {
    v1::TicketLease returned;
    REQUIRE(Return(client, "dev-a1", lease.lease_id(), first + 3, &returned).ok());
    REQUIRE(returned.returned());
    REQUIRE(returned.returned_from() == first + 3);
    grpc::Status again = Return(client, "dev-a1", lease.lease_id(), first + 3);
    REQUIRE(again.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    auto r = client.PushBatch("dev-a1", {IssueTicket("dev-a1", 3, case_id, first + 5),
                                         IssueTicket("dev-a1", 4, case_id, first + 1)});
    REQUIRE(r.results(0).reason() == v1::REASON_TICKET_NUMBER_NOT_LEASED);
    REQUIRE_APPLIED(r.results(1));
    // The next lease starts after every number ever leased.
    REQUIRE(client.Lease("dev-a2", 5).first_number() == lease.last_number() + 1);
  }
}

TEST_CASE("reference data: catalogue when newer, towns, squads, the town's officers, epoch") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  auto get = [&](int64_t version) {
    auto ctx = DeviceContext("dev-b1");
    v1::GetReferenceDataRequest request;
    request.set_catalog_version(version);
    v1::GetReferenceDataResponse response;
    REQUIRE(client.sync->GetReferenceData(ctx.get(), request, &response).ok());
    return response;
  };
  auto fresh = get(0);
  REQUIRE(fresh.catalog().version() == 1);
  REQUIRE(fresh.catalog().matters_size() == 2);
  REQUIRE(fresh.towns_size() == 2);
  REQUIRE(fresh.squads_size() == 2);
  REQUIRE(fresh.officers_size() == 2);
  REQUIRE(fresh.officers(0).officer_id() == kOfficerB1);
  REQUIRE(fresh.officers(1).officer_id() == kOfficerB2);
  REQUIRE_FALSE(fresh.server_epoch().empty());
  REQUIRE(fresh.server_time_ms() > 0);
  REQUIRE_FALSE(get(1).has_catalog());
}

TEST_CASE("device status reports show in squad status") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1)});
  {
    auto ctx = DeviceContext("dev-a1");
    v1::ReportDeviceStatusRequest request;
    request.set_pending_mutations(3);
    request.set_ticket_numbers_left(42);
    v1::ReportDeviceStatusResponse response;
    REQUIRE(client.sync->ReportDeviceStatus(ctx.get(), request, &response).ok());
  }
  grpc::ClientContext ctx;
  v1::SquadStatusRequest request;
  request.set_squad_id(kSquadA);
  v1::SquadStatusResponse response;
  REQUIRE(client.admin->SquadStatus(&ctx, request, &response).ok());
  REQUIRE(response.devices_size() == 2);
  for (const auto& d : response.devices()) {
    if (d.device().device_id() == "dev-a1") {
      REQUIRE(d.state() == v1::DEVICE_SYNC_STATE_BEHIND);
      REQUIRE(d.pending_mutations() == 3);
      REQUIRE(d.ticket_numbers_left() == 42);
      REQUIRE(d.acknowledged_seq() == 1);
      REQUIRE(d.last_sync_ms() > 0);
    } else {
      REQUIRE(d.state() == v1::DEVICE_SYNC_STATE_NEVER_SYNCED);
    }
  }
}

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
    fs::copy_file(from + "/" + palm::server::kTicketFenceFile,
                  to + "/" + palm::server::kTicketFenceFile, fs::copy_options::overwrite_existing);
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
