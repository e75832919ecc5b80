// The device refuses, before anything is written, what the server would
// refuse (sync/request_check.h, sync/limits.h): a value over its limit.
#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

TEST_CASE("a party name over its limit is refused on the device and nothing is stored") {
  Device d;
  CaseInput over = SummaryCase();
  over.parties[0].name = std::string(257, 'n');
  RequireRefused(d.client->RecordCase(over).status(), StatusCode::kInvalidArgument,
                 "invalid_argument",
                 "record_case.case.parties[0].name: at most 256 bytes, this one has 257 "
                 "(\"nnnnnnnnnnnnnnnn…\")");
  Result<PendingSyncCounts> pending = d.client->PendingCounts();
  REQUIRE(pending.ok());
  REQUIRE(pending->mutations == 0);

  CaseInput at = SummaryCase();
  at.parties[0].name = std::string(256, 'n');
  REQUIRE(d.client->RecordCase(at).ok());
  pending = d.client->PendingCounts();
  REQUIRE(pending.ok());
  REQUIRE(pending->mutations == 1);
}

}  // namespace
}  // namespace palm::testing
