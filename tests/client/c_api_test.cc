// The C API: errors per thread, caller-freed JSON, and the JSON surface
// round-trips a case (docs/examples run against a real server in
// tests/install/walkthrough_test.sh).
#include <cstdlib>

#include "palm/palm.h"
#include "support/process.h"
#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

// Prepares a database as a first sync would leave it for device-example.
void SeedForExample(const std::string& db_path, const std::string& key_dir) {
  ClientOptions o;
  o.db_path = db_path;
  o.device_id = "device-example";
  o.key_provider = std::make_shared<FileKeyProvider>(key_dir);
  Result<std::unique_ptr<Client>> c = Client::Open(o);
  REQUIRE(c.ok());
  internal::DeviceStore& s = internal::ClientAccess::Store(**c);
  REQUIRE(s.ApplyCatalog(SampleCatalog()).ok());
  REQUIRE(s.UpsertOfficers({MakeOfficer("officer-1", true), MakeOfficer("officer-2", true),
                            MakeOfficer("officer-3", false)})
              .ok());
  v1::TicketLease lease;
  lease.set_lease_id("lease-example");
  lease.set_first_number(1);
  lease.set_last_number(50);
  lease.set_prefix("桐综执简〔2026〕E-");
  REQUIRE(s.AddTicketLease(lease).ok());
}

TEST_CASE("the C API reports errors per thread and returns caller-freed JSON") {
  TempDir dir;
  std::filesystem::create_directories(dir.File("data"));
  std::string db = dir.File("data") + "/c.db";
  SeedForExample(db, dir.File("keys"));
  std::string options = "{\"db_path\": \"" + db + "\", \"key_dir\": \"" + dir.File("keys") + "\"}";
  palm_client* client = nullptr;
  REQUIRE(palm_open(options.c_str(), nullptr, nullptr, &client) == PALM_OK);

  char* id = reinterpret_cast<char*>(1);
  CHECK(palm_record_case(client, "{\"matter_code\": \"SR-0101\"}", &id) ==
        PALM_FAILED_PRECONDITION);
  CHECK(id == nullptr);
  CHECK(std::string(palm_last_error_reason()) == "unknown_officer");

  REQUIRE(palm_set_officer(client, "officer-1") == PALM_OK);
  CHECK(std::string(palm_last_error_message()).empty());
  CHECK(palm_record_case(client, "{not json", &id) == PALM_INVALID_ARGUMENT);
  REQUIRE(palm_record_case(client,
                           "{\"matter_code\": \"SR-0101\", \"procedure\": \"PROCEDURE_ORDINARY\","
                           " \"officer_ids\": [\"officer-1\", \"officer-2\", \"officer-3\"],"
                           " \"parties\": [{\"kind\": 1, \"name\": \"王五\"}]}",
                           &id) == PALM_OK);
  std::string case_id = id;
  palm_free(id);

  CHECK(palm_transition_case(client, case_id.c_str(), "FILED", "立案") == PALM_OK);
  CHECK(palm_transition_case(client, case_id.c_str(), "ARCHIVED", "") == PALM_FAILED_PRECONDITION);
  CHECK(std::string(palm_last_error_reason()) == "illegal_transition");

  char* json = nullptr;
  REQUIRE(palm_get_case(client, case_id.c_str(), &json) == PALM_OK);
  std::string text = json;
  palm_free(json);
  CHECK(text.find("\"state\":\"CASE_STATE_FILED\"") != std::string::npos);
  CHECK(text.find("王五") != std::string::npos);

  REQUIRE(palm_list_cases(client, "{\"state\": \"FILED\", \"page_size\": 10}", &json) == PALM_OK);
  CHECK(std::string(json).find(case_id) != std::string::npos);
  palm_free(json);

  int64_t left = 0;
  REQUIRE(palm_ticket_numbers_left(client, &left) == PALM_OK);
  CHECK(left == 50);
  REQUIRE(palm_last_sync_report(client, &json) == PALM_OK);
  CHECK(std::string(json) == "{\"ever_synced\":false}");
  palm_free(json);
  palm_close(client);

  palm_client* none = nullptr;
  CHECK(palm_open("{\"db_path\": \"x\"}", nullptr, nullptr, &none) == PALM_INVALID_ARGUMENT);
  CHECK(none == nullptr);
}

}  // namespace
}  // namespace palm::testing
