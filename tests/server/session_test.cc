// Officer sessions over --insecure-loopback: a call carrying a token is
// authorised by role and jurisdiction like any call under TLS.
#include <catch2/catch.hpp>

#include "server/sync_util.h"

using namespace palm::testing;

TEST_CASE("a loopback call with a session token is authorised by the officer's role") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  client.SetSecret(kOfficerA1, kTownA, kSquadA, v1::ROLE_OFFICER, true, "1234");
  const std::string token = client.SignIn(kOfficerA1, "1234");

  v1::AddOfficerRequest request;
  request.mutable_officer()->set_officer_id("intruder");
  request.mutable_officer()->set_town_id(kTownA);
  v1::AddOfficerResponse response;
  grpc::Status s = client.admin->AddOfficer(SessionContext("", token).get(), request, &response);
  REQUIRE(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(s.error_message() ==
          "officer officer-a1 (ROLE_OFFICER) may not call AdminService.AddOfficer (allowed: "
          "ROLE_ADMIN)");

  v1::ListCasesRequest list;
  list.set_town_id(kTownB);
  v1::ListCasesResponse cases;
  s = client.admin->ListCases(SessionContext("", token).get(), list, &cases);
  REQUIRE(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(s.error_message() ==
          "officer officer-a1 (ROLE_OFFICER) of town town-a may not reach town town-b");

  // The token was issued to the loopback operator, not to a device.
  grpc::Status pull;
  client.Pull("dev-a1", "", 0, &pull);
  REQUIRE(pull.ok());  // no token: the trusted harness
  v1::LeaseTicketNumbersRequest lease;
  lease.set_count(1);
  v1::LeaseTicketNumbersResponse leased;
  s = client.sync->LeaseTicketNumbers(SessionContext("dev-a1", token).get(), lease, &leased);
  REQUIRE(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  REQUIRE(s.error_message() ==
          "the session token was issued to operator:loopback, not to dev-a1; sign in on this "
          "device");
}

TEST_CASE("a wrong secret is refused the same way as an unknown officer") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  client.SetSecret(kOfficerA1, kTownA, kSquadA, v1::ROLE_OFFICER, true, "1234");
  for (const char* officer : {kOfficerA1, "nobody"}) {
    grpc::ClientContext ctx;
    v1::SignInRequest request;
    request.set_officer_id(officer);
    request.set_secret("0000");
    v1::SignInResponse response;
    grpc::Status s = client.auth->SignIn(&ctx, request, &response);
    REQUIRE(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    REQUIRE(s.error_message() == std::string("sign-in of officer ") + officer +
                                     " refused: unknown officer or wrong secret");
  }
}
