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

TEST_CASE("a field update that would leave a party name over its limit is refused on the device") {
  Device d;
  Result<std::string> case_id = d.client->RecordCase(SummaryCase());
  REQUIRE(case_id.ok());
  Result<CaseView> before = d.client->GetCase(*case_id);
  REQUIRE(before.ok());
  const std::string party_id = before->record.parties[0].party_id;
  Result<PendingSyncCounts> pending = d.client->PendingCounts();
  REQUIRE(pending.ok());
  const uint64_t written = pending->mutations;

  // A change's value may hold 4096 bytes; a party's name only 256.
  RequireRefused(d.client->UpdateCaseFields(
                     *case_id, {{CaseField::kPartyName, std::string(4096, 'n'), party_id}}),
                 StatusCode::kInvalidArgument, "invalid_argument",
                 "update_case_fields would leave case " + *case_id +
                     " over a limit: parties[0].name: at most 256 bytes, this one has 4096 "
                     "(\"nnnnnnnnnnnnnnnn…\")");
  // Each new party id adds a party; a case holds at most 20.
  std::vector<CaseFieldChange> parties;
  for (int i = 0; i < 20; ++i) {
    parties.push_back({CaseField::kPartyName, "李四", "extra-party-" + std::to_string(i)});
  }
  RequireRefused(d.client->UpdateCaseFields(*case_id, parties), StatusCode::kInvalidArgument,
                 "invalid_argument",
                 "update_case_fields would leave case " + *case_id +
                     " over a limit: parties: at most 20 elements, this one has 21");

  pending = d.client->PendingCounts();
  REQUIRE(pending.ok());
  REQUIRE(pending->mutations == written);
  Result<CaseView> after = d.client->GetCase(*case_id);
  REQUIRE(after.ok());
  REQUIRE(after->record.parties.size() == 1);
  REQUIRE(after->record.parties[0].name == before->record.parties[0].name);

  // At the limit it is written.
  REQUIRE(
      d.client
          ->UpdateCaseFields(*case_id, {{CaseField::kPartyName, std::string(256, 'n'), party_id}})
          .ok());
}

}  // namespace
}  // namespace palm::testing
