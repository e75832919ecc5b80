// AdminService reads squad leaders use around sync, and the set-up writes.
#include <set>

#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

TEST_CASE("cases are listed by town in pages and found by id or number") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::vector<v1::Mutation> batch;
  for (int i = 1; i <= 7; ++i) batch.push_back(RecordCase("dev-a1", i));
  client.PushBatch("dev-a1", batch);
  client.PushBatch("dev-b1", {RecordCase("dev-b1", 1, nullptr, kOfficerB1, kTownB)});

  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext ctx;
    v1::ListCasesRequest request;
    request.set_town_id(kTownA);
    request.set_page_size(3);
    request.set_page_token(token);
    v1::ListCasesResponse response;
    REQUIRE(client.admin->ListCases(&ctx, request, &response).ok());
    for (const auto& c : response.cases()) {
      REQUIRE(c.town_id() == kTownA);
      REQUIRE(seen.insert(c.case_id()).second);
    }
    token = response.next_page_token();
    ++pages;
  } while (!token.empty());
  REQUIRE(seen.size() == 7);
  REQUIRE(pages == 3);

  grpc::ClientContext ctx;
  v1::GetCaseRequest request;
  request.set_case_ref("no-such-case");
  v1::CaseDetail detail;
  grpc::Status s = client.admin->GetCase(&ctx, request, &detail);
  REQUIRE(s.error_code() == grpc::StatusCode::NOT_FOUND);
  REQUIRE(s.error_message() == "no case with id or number \"no-such-case\" is on record");
}

TEST_CASE("rejected mutations are listed per squad with the original mutation") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  v1::Mutation bad_a = AppendNote("dev-a1", 1, palm::sync::NewUuidV7());
  v1::Mutation bad_b = AppendNote("dev-b1", 1, palm::sync::NewUuidV7());
  bad_b.set_officer_id(kOfficerB1);
  client.PushBatch("dev-a1", {bad_a});
  client.PushBatch("dev-b1", {bad_b});
  grpc::ClientContext ctx;
  v1::ListRejectedRequest request;
  request.set_squad_id(kSquadA);
  v1::ListRejectedResponse response;
  REQUIRE(client.admin->ListRejected(&ctx, request, &response).ok());
  REQUIRE(response.rejected_size() == 1);
  REQUIRE(response.rejected(0).mutation().mutation_id() == bad_a.mutation_id());
  REQUIRE(response.rejected(0).result().reason() == v1::REASON_UNKNOWN_CASE);
  REQUIRE(response.rejected(0).recorded_at_ms() > 0);

  grpc::ClientContext get_ctx;
  v1::GetRejectedRequest get;
  get.set_mutation_id(palm::sync::NewUuidV7());
  v1::RejectedMutation rejected;
  REQUIRE(client.admin->GetRejected(&get_ctx, get, &rejected).error_code() ==
          grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("a catalogue must be newer than the current one") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  grpc::ClientContext ctx;
  v1::LoadCatalogRequest request;
  *request.mutable_catalog() = SampleCatalog(1);
  v1::LoadCatalogResponse response;
  grpc::Status s = client.admin->LoadCatalog(&ctx, request, &response);
  REQUIRE(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE(s.error_message() == "catalogue version 1 is not newer than the current version 1");

  // A newer catalogue without the fast-track matter changes what the server accepts.
  v1::Catalog v2 = SampleCatalog(2);
  v2.mutable_matters()->DeleteSubrange(0, 1);
  client.LoadCatalog(v2);
  auto r = client.PushBatch("dev-a1", {RecordCase("dev-a1", 1)});
  REQUIRE_REJECTED(r.results(0), v1::REASON_UNKNOWN_MATTER,
                   "matter code CG-0101 is not in the catalogue");
  grpc::ClientContext get_ctx;
  v1::Catalog current;
  REQUIRE(client.admin->GetCatalog(&get_ctx, {}, &current).ok());
  REQUIRE(current.version() == 2);
}

TEST_CASE("a catalogue's working-day calendar is checked on load and served with it") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  v1::Catalog v2 = SampleCatalog(2);
  v1::CalendarYear* year = v2.add_calendar();
  year->set_year(2026);
  year->set_source("SAMPLE");
  year->add_holidays("2026-10-01");
  year->add_adjusted_working_days("2026-10-09");  // a Friday
  {
    grpc::ClientContext ctx;
    v1::LoadCatalogRequest request;
    *request.mutable_catalog() = v2;
    v1::LoadCatalogResponse response;
    grpc::Status s = client.admin->LoadCatalog(&ctx, request, &response);
    REQUIRE(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    REQUIRE(s.error_message() ==
            "catalog.calendar[0].adjusted_working_days[0] 2026-10-09 is a weekday: an adjusted "
            "working day is a Saturday or Sunday");
  }
  year->set_adjusted_working_days(0, "2026-10-10");
  client.LoadCatalog(v2);
  auto ctx = DeviceContext("dev-a1");
  v1::GetReferenceDataRequest request;
  v1::GetReferenceDataResponse response;
  REQUIRE(client.sync->GetReferenceData(ctx.get(), request, &response).ok());
  REQUIRE(response.catalog().calendar_size() == 1);
  CHECK(response.catalog().calendar(0).adjusted_working_days(0) == "2026-10-10");
}

TEST_CASE("enrolment and officers: a squad belongs to one town, lists filter by town") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  grpc::ClientContext ctx;
  v1::EnrollDeviceRequest request;
  request.set_device_id("dev-x");
  request.set_town_id(kTownB);
  request.set_squad_id(kSquadA);
  v1::EnrollDeviceResponse response;
  grpc::Status s = client.admin->EnrollDevice(&ctx, request, &response);
  REQUIRE(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE(s.error_message() == "squad squad-a1 belongs to town town-a, not to town-b");

  grpc::ClientContext list_ctx;
  v1::ListDevicesRequest list;
  list.set_town_id(kTownA);
  v1::ListDevicesResponse devices;
  REQUIRE(client.admin->ListDevices(&list_ctx, list, &devices).ok());
  REQUIRE(devices.devices_size() == 2);

  grpc::ClientContext officers_ctx;
  v1::ListOfficersRequest officers_request;
  officers_request.set_town_id(kTownB);
  v1::ListOfficersResponse officers;
  REQUIRE(client.admin->ListOfficers(&officers_ctx, officers_request, &officers).ok());
  REQUIRE(officers.officers_size() == 2);
  REQUIRE(officers.officers(0).active());
}
