// Ticket-number leases and the rest of the reference data a device needs.
#include <thread>

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
