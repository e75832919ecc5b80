// Case field stamps (last-writer-wins) are stored in a compact binary form
// since schema 5; rows written as JSON before are still read.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "server/sync_util.h"

using namespace palm::testing;

TEST_CASE("case field stamps survive a restart, also when stored in the old JSON form") {
  TempDir dir;
  const std::string data = dir.File("data");
  std::string case_id;
  const int64_t t = palm::sync::SystemNowMs();
  {
    TestServer server(data);
    Client client(server.address());
    client.SetUpOrganisation();
    client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
    auto r = client.PushBatch(
        "dev-a1", {UpdateField("dev-a1", 2, case_id, v1::CASE_FIELD_DESCRIPTION, "newer", t + 20)});
    REQUIRE(r.results(0).outcome() == v1::OUTCOME_APPLIED);
  }
  {
    // Rewrite the row as a schema-4 server left it: JSON stamps, no binary.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((data + "/palm.db").c_str(), &db) == SQLITE_OK);
    const std::string sql =
        absl::StrCat("UPDATE cases SET field_stamps = x'', stamps = '{\"",
                     static_cast<int>(v1::CASE_FIELD_DESCRIPTION), "\":[", t + 20,
                     ",0,\"dev-a1\",\"m-1\"]}' WHERE case_id = '", case_id, "'");
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    INFO((error ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
    REQUIRE(sqlite3_changes(db) == 1);
    sqlite3_close(db);
  }
  TestServer server(data);
  Client client(server.address());
  // dev-a2's older edit loses against the stamp read from JSON.
  auto older = client.PushBatch(
      "dev-a2",
      {UpdateField("dev-a2", 1, case_id, v1::CASE_FIELD_DESCRIPTION, "older", t + 10, kOfficerA2)});
  REQUIRE(older.results(0).outcome() == v1::OUTCOME_APPLIED_WITH_CONFLICT);
  CHECK(older.results(0).conflicts(0).winning_device_id() == "dev-a1");
  CHECK(older.results(0).conflicts(0).winning_hlc().wall_ms() == t + 20);
  CHECK(client.GetCase(case_id).case_().description() == "newer");
  // Written again, binary; a later edit from dev-a1 wins quietly.
  auto later = client.PushBatch(
      "dev-a1", {UpdateField("dev-a1", 3, case_id, v1::CASE_FIELD_DESCRIPTION, "latest", t + 30)});
  CHECK(later.results(0).outcome() == v1::OUTCOME_APPLIED);
  CHECK(client.GetCase(case_id).case_().description() == "latest");
}
