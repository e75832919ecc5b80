// Prior violations across towns, end to end (issue 15 item 2): what a device
// of another town holds after a sync is keyed under the bureau's secret and
// names no case, and it still refuses a repeat violation offline.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "support/art33.h"
#include "sync/party_key.h"
#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

constexpr char kIdNumber[] = "330483199001011234";  // NewCase's party

// (party_key, key_id, case_number) of every prior violation on the device.
std::vector<std::array<std::string, 3>> PriorRows(const std::string& db_path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT party_key, key_id, case_number FROM prior_violations", -1,
                             &stmt, nullptr) == SQLITE_OK);
  std::vector<std::array<std::string, 3>> rows;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::array<std::string, 3>& row = rows.emplace_back();
    for (int i = 0; i < 3; ++i)
      row[i] = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

TEST_CASE("another town's device holds only keyed prior violations and still refuses a repeat") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town ta = SetUpTown(admin, "town-a");
  Town tb = SetUpTown(admin, "town-b");
  Device a(admin, "device-a1", ta);
  Device b(admin, "device-b1", tb);
  a.SyncUntilOk(server.address());
  REQUIRE(a.client->SetActingOfficer(ta.officers[0]).ok());
  Result<std::string> stall = a.client->RecordCase(NewCase(ta, Procedure::kSummary, "设摊"));
  REQUIRE(stall.ok());
  Result<Ticket> ticket = a.client->IssueTicket(NewTicket(ta, *stall));
  INFO(ticket.status().ToString());
  REQUIRE(ticket.ok());
  a.SyncUntilOk(server.address());
  b.SyncUntilOk(server.address());

  const auto secret =
      sync::PartyKeySecret::FromBytes(ReadFileBytes((data.path() / "party-key.secret").string()));
  REQUIRE(secret.ok());
  const std::string b_db = b.dir.File("data") + "/palm.db";
  const auto rows = PriorRows(b_db);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] != sync::LegacyPartyKey(kIdNumber));  // no unsalted digest
  CHECK(rows[0][0].find(kIdNumber) == std::string::npos);
  CHECK(rows[0][0] == secret->KeyOf(kIdNumber));
  CHECK(rows[0][1] == secret->key_id());
  CHECK(rows[0][2].empty());  // town A's case number stays on the server
  CHECK(ReadFileBytes(b_db).find(secret->bytes()) == std::string::npos);
  CHECK(ReadFileBytes(b_db + "-wal").find(secret->bytes()) == std::string::npos);

  // Offline, device B refuses a no-penalty decision for the same person.
  REQUIRE(b.client->SetActingOfficer(tb.officers[0]).ok());
  Result<std::string> again = b.client->RecordCase(NewCase(tb, Procedure::kOrdinary, "再次设摊"));
  REQUIRE(again.ok());
  NoPenaltyInput n;
  n.case_id = *again;
  n.education_record = "批评教育";
  n.ground = NoPenaltyGround::kFirstViolationSlightHarm;
  n.correction = {"当场收摊", sync::SystemNowMs(), tb.officers[1]};
  Status refused = b.client->RecordNoPenalty(n).status();
  CHECK(refused.code() == StatusCode::kFailedPrecondition);
  CHECK(refused.reason() == "not_first_violation");
  CHECK(refused.message() ==
        palm::testing::NotFirstViolationMessage("SR-0101", ticket->issued_at_ms, "", 12));
}

}  // namespace
}  // namespace palm::e2e
