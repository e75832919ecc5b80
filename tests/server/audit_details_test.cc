// The audit entry of each pushed mutation (server/apply.cc AuditMutation):
// its details name the device, sequence number, officer, operation and
// outcome, and for a rejection its reason and message, for a conflict the
// conflict rows — valid JSON, even when the message quotes the device's input.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <map>

#include "nlohmann/json.hpp"
#include "server/sync_util.h"

using namespace palm::testing;

namespace {

// action -> details of the audit entries whose subject is `mutation_id`.
std::map<std::string, nlohmann::json> AuditOf(const std::string& db_path,
                                              const std::string& mutation_id) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT action, details FROM audit_log WHERE subject = ?1", -1,
                             &stmt, nullptr) == SQLITE_OK);
  sqlite3_bind_text(stmt, 1, mutation_id.c_str(), -1, SQLITE_TRANSIENT);
  std::map<std::string, nlohmann::json> out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::string action = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    out[action] =
        nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("each pushed mutation's audit entry names its outcome in valid JSON") {
  TempDir dir;
  const std::string data = dir.File("data");
  std::string case_id;
  v1::Mutation record = RecordCase("dev-a1", 1, &case_id);
  v1::Mutation bad = RecordCase("dev-a1", 3);
  bad.mutable_record_case()->mutable_case_()->set_matter_code("XX-\"9\"\\");
  const int64_t t = palm::sync::SystemNowMs();
  std::string conflict_id;
  v1::Mutation older;
  {
    TestServer server(data);
    Client client(server.address());
    client.SetUpOrganisation();
    auto first = client.PushBatch("dev-a1", {record});
    REQUIRE_APPLIED(first.results(0));
    v1::Mutation newer =
        UpdateField("dev-a1", 2, case_id, v1::CASE_FIELD_DESCRIPTION, "newer", t + 20);
    auto r = client.PushBatch("dev-a1", {newer, bad});
    REQUIRE_APPLIED(r.results(0));
    REQUIRE_REJECTED(r.results(1), v1::REASON_UNKNOWN_MATTER,
                     "matter code XX-\"9\"\\ is not in the catalogue");
    older =
        UpdateField("dev-a2", 1, case_id, v1::CASE_FIELD_DESCRIPTION, "older", t + 10, kOfficerA2);
    auto c = client.PushBatch("dev-a2", {older});
    REQUIRE(c.results(0).outcome() == v1::OUTCOME_APPLIED_WITH_CONFLICT);
    conflict_id = c.results(0).conflicts(0).conflict_id();
  }
  const std::string db = data + "/palm.db";

  auto applied = AuditOf(db, record.mutation_id());
  REQUIRE(applied.size() == 1);
  CHECK(applied["mutation.applied"] ==
        nlohmann::json{{"device", "dev-a1"},
                       {"device_seq", 1},
                       {"officer", record.officer_id()},
                       {"operation", static_cast<int>(v1::Mutation::kRecordCase)},
                       {"outcome", "OUTCOME_APPLIED"}});

  auto rejected = AuditOf(db, bad.mutation_id());
  REQUIRE(rejected.size() == 1);
  CHECK(rejected["mutation.rejected"] ==
        nlohmann::json{{"device", "dev-a1"},
                       {"device_seq", 3},
                       {"officer", bad.officer_id()},
                       {"operation", static_cast<int>(v1::Mutation::kRecordCase)},
                       {"outcome", "OUTCOME_REJECTED"},
                       {"reason", "REASON_UNKNOWN_MATTER"},
                       {"message", "matter code XX-\"9\"\\ is not in the catalogue"}});

  auto conflict = AuditOf(db, older.mutation_id());
  REQUIRE(conflict.size() == 1);
  CHECK(conflict["mutation.conflict"] ==
        nlohmann::json{{"conflicts", {conflict_id}},
                       {"device", "dev-a2"},
                       {"device_seq", 1},
                       {"officer", kOfficerA2},
                       {"operation", static_cast<int>(v1::Mutation::kUpdateCaseFields)},
                       {"outcome", "OUTCOME_APPLIED_WITH_CONFLICT"}});

  // The chain over all of them verifies (the writer keeps its head in memory
  // between appends).
  TestServer server(data);
  Client client(server.address());
  grpc::ClientContext ctx;
  v1::VerifyAuditResponse verdict;
  REQUIRE(client.admin->VerifyAudit(&ctx, v1::VerifyAuditRequest(), &verdict).ok());
  CHECK(verdict.ok());
  CHECK(verdict.entries() > 4);
}
