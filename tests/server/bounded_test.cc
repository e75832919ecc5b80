// The bounded contract over a real server (issue 16): every limit refused
// one over and accepted at it, and a town whose devices push the largest
// entities the limits allow still pulls, and its leader's lists still load.
#include <catch2/catch.hpp>

#include "server/sync_util.h"

using namespace palm::testing;  // NOLINT

TEST_CASE("a party name is accepted at 256 bytes and refused at 257 naming the field and limit") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  v1::Mutation at = RecordCase("dev-a1", 1);
  at.mutable_record_case()->mutable_case_()->mutable_parties(0)->set_name(std::string(256, 'n'));
  v1::Mutation over = RecordCase("dev-a1", 2);
  over.mutable_record_case()->mutable_case_()->mutable_parties(0)->set_name(std::string(257, 'n'));
  v1::PushResponse response = client.PushBatch("dev-a1", {at, over});
  REQUIRE(response.results(0).outcome() == v1::OUTCOME_APPLIED);
  REQUIRE_REJECTED(response.results(1), v1::REASON_INVALID_ARGUMENT,
                   "record_case.case.parties[0].name: at most 256 bytes, this one has 257 "
                   "(\"nnnnnnnnnnnnnnnn…\")");
}

TEST_CASE("SignIn refuses an officer_id over 128 bytes and takes one of 128") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  for (size_t size : {size_t{128}, size_t{129}, size_t{1024 * 1024}}) {
    INFO(size);
    grpc::ClientContext ctx;
    v1::SignInRequest request;
    request.set_officer_id(std::string(size, 'o'));
    request.set_secret("1234");
    v1::SignInResponse response;
    grpc::Status s = client.auth->SignIn(&ctx, request, &response);
    if (size == 128) {
      REQUIRE(s.error_code() != grpc::StatusCode::INVALID_ARGUMENT);
    } else {
      REQUIRE(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      REQUIRE(s.error_message() ==
              "AuthService.SignIn: officer_id: at most 128 bytes, this one has " +
                  std::to_string(size) + " (\"oooooooooooooooo…\")");
    }
  }
}

TEST_CASE("a town whose devices push the largest cases still pulls and its lists still load") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  uint64_t seq = 0;
  for (int batch = 0; batch < 3; ++batch) {
    std::vector<v1::Mutation> cases;
    for (int i = 0; i < 4; ++i) cases.push_back(LargestCase("dev-a1", ++seq));
    v1::PushResponse response = client.PushBatch("dev-a1", cases);
    REQUIRE(response.results_size() == 4);
    for (const auto& r : response.results()) {
      INFO(r.ShortDebugString().substr(0, 300));
      REQUIRE(r.outcome() == v1::OUTCOME_APPLIED);
    }
  }
  // Four refusals with 1 MiB party names: each kept cut to the limits.
  for (int i = 0; i < 4; ++i) {
    v1::Mutation huge = RecordCase("dev-a1", ++seq);
    huge.mutable_record_case()->mutable_case_()->mutable_parties(0)->set_name(
        std::string(1024 * 1024, 'n'));
    v1::PushResponse response = client.PushBatch("dev-a1", {huge});
    REQUIRE_REJECTED(response.results(0), v1::REASON_INVALID_ARGUMENT,
                     "record_case.case.parties[0].name: at most 256 bytes, this one has 1048576 "
                     "(\"nnnnnnnnnnnnnnnn…\")");
  }

  // Another device of the town pulls everything, in pages of at most 1 MiB
  // plus one change.
  std::vector<v1::PullResponse> pages = client.Pull("dev-a2", "");
  size_t cases = 0;
  for (const auto& page : pages) {
    REQUIRE(page.has_page());
    size_t largest = 0;
    for (const auto& change : page.page().changes()) {
      largest = std::max(largest, change.ByteSizeLong());
      if (change.entity_case() == v1::Change::kCase) ++cases;
    }
    REQUIRE(page.ByteSizeLong() <= 1024 * 1024 + largest + 4096);
  }
  REQUIRE(cases == 12);
  REQUIRE(pages.size() > 1);

  grpc::ClientContext rejected_ctx;
  v1::ListRejectedRequest rejected_request;
  rejected_request.set_squad_id(kSquadA);
  v1::ListRejectedResponse rejected;
  REQUIRE(client.admin->ListRejected(&rejected_ctx, rejected_request, &rejected).ok());
  REQUIRE(rejected.rejected_size() == 4);
  for (const auto& r : rejected.rejected()) REQUIRE(r.ByteSizeLong() < 64 * 1024);

  grpc::ClientContext conflicts_ctx;
  v1::ListConflictsRequest conflicts_request;
  conflicts_request.set_squad_id(kSquadA);
  v1::ListConflictsResponse conflicts;
  REQUIRE(client.admin->ListConflicts(&conflicts_ctx, conflicts_request, &conflicts).ok());

  grpc::ClientContext report_ctx;
  v1::ShiftReportRequest report_request;
  report_request.set_squad_id(kSquadA);
  report_request.set_date(BureauToday());
  v1::ShiftReportResponse report;
  grpc::Status s = client.admin->ShiftReport(&report_ctx, report_request, &report);
  INFO(s.error_message());
  REQUIRE(s.ok());
  // The lists are capped (docs/protocol.md, "Pages of the admin lists"); the
  // totals count everything.
  REQUIRE(report.totals().cases_opened() == 12);
  REQUIRE(report.cases_opened_size() < 12);
  REQUIRE(report.totals().open_rejections() == 4);
  REQUIRE(report.open_rejections_size() == 4);
}
