// The C API's JSON arguments: every entry point that takes JSON refuses
// malformed, mistyped and incomplete JSON with PALM_INVALID_ARGUMENT, reason
// "invalid_argument" and a message naming the argument or the key, and no
// C++ exception ever crosses the C boundary. The table below is checked
// against palm/palm.h, so an entry point added there without a row fails.
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "nlohmann/json.hpp"
#include "palm/palm.h"
#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

// One JSON argument of one entry point, and how it is refused.
struct JsonEntry {
  const char* function;
  const char* argument;
  // Calls `function` with `json` as `argument` (every other argument valid).
  std::function<palm_code(palm_client*, const char*)> call;
  // NULL for `argument`: allowed (PALM_OK) or refused as "<argument> is required".
  bool null_allowed;
  // What `{"db_path": ` and a JSON value of the wrong shape are told.
  std::string malformed_message;
  std::string not_object_message;
  // A value of the wrong type, and what it is told.
  std::string mistyped;
  std::string mistyped_message;
  // JSON lacking a required key, and what it is told ("" when none is).
  std::string missing;
  std::string missing_message;
  // The value of the wrong shape.
  std::string wrong_shape = "[1]";
};

// The names of the palm/palm.h functions that take a JSON argument
// (`const char* <name>_json`).
std::set<std::string> JsonFunctionsInHeader() {
  std::ifstream in(std::string(PALM_SOURCE_DIR) + "/client-lib/include/palm/palm.h");
  std::stringstream text;
  text << in.rdbuf();
  const std::string header = text.str();
  REQUIRE(!header.empty());
  std::set<std::string> out;
  const std::regex declaration(R"(PALM_EXPORT[^;(]*\b(palm_\w+)\s*\(([^)]*)\))");
  const std::regex json_input(R"(const\s+char\s*\*\s*\w+_json\b)");
  for (auto it = std::sregex_iterator(header.begin(), header.end(), declaration);
       it != std::sregex_iterator(); ++it) {
    const std::string params = (*it)[2];
    if (std::regex_search(params, json_input)) out.insert((*it)[1]);
  }
  return out;
}

// Runs `call` with an out-parameter and frees what it got.
template <typename Call>
palm_code Freed(Call call) {
  char* out = nullptr;
  palm_code code = call(&out);
  palm_free(out);
  return code;
}

// The start of what a protobuf-typed argument is told about a wrong field
// (the parser's words follow, naming the field).
std::string ProtoMalformed(const std::string& argument, const std::string& type) {
  return argument + " is not a valid " + type + ": ";
}

std::vector<JsonEntry> Entries(const std::string& dir) {
  const std::string file = dir + "/evidence.bin";
  std::ofstream(file) << "evidence";
  auto object = [](const std::string& arg) {
    return std::make_pair(arg + " is not valid JSON", arg + " must be a JSON object");
  };
  auto [open_bad, open_not_object] = object("options_json");
  auto [conn_bad, conn_not_object] = object("connection_json");
  auto [query_bad, query_not_object] = object("query_json");
  std::vector<JsonEntry> e = {
      {"palm_open", "options_json",
       [](palm_client*, const char* j) {
         palm_client* c = nullptr;
         palm_code code = palm_open(j, nullptr, nullptr, &c);
         palm_close(c);
         return code;
       },
       false, open_bad, open_not_object, R"({"db_path": 5})", "db_path must be a string",
       R"({"device_id": "d"})", "db_path is required"},
      {"palm_wipe_store", "options_json",
       [](palm_client*, const char* j) { return palm_wipe_store(j); }, false, open_bad,
       open_not_object, R"({"db_path": "x", "durability": 1})", "durability must be a string",
       R"({"key_dir": "k"})", "db_path is required"},
      {"palm_sign_in", "connection_json",
       [](palm_client* c, const char* j) {
         return Freed([&](char** out) { return palm_sign_in(c, j, "o", "s", out); });
       },
       false, conn_bad, conn_not_object,
       R"({"server_address": "127.0.0.1:1", "insecure_loopback": "yes"})",
       "insecure_loopback must be true or false", R"({"insecure_loopback": true})",
       "server_address is required"},
      {"palm_sign_out", "connection_json",
       [](palm_client* c, const char* j) { return palm_sign_out(c, j); }, true, conn_bad,
       conn_not_object, R"({"server_address": 7})", "server_address must be a string", R"({})",
       "server_address is required"},
      {"palm_sync", "options_json",
       [](palm_client* c, const char* j) {
         return Freed([&](char** out) { return palm_sync(c, j, out); });
       },
       false, open_bad, open_not_object, R"({"server_address": "127.0.0.1:1", "timeout_ms": "5"})",
       "timeout_ms must be an integer from 0 to 9223372036854775", R"({"timeout_ms": 5})",
       "server_address is required"},
      {"palm_sync_with_progress", "options_json",
       [](palm_client* c, const char* j) {
         return Freed(
             [&](char** out) { return palm_sync_with_progress(c, j, nullptr, nullptr, out); });
       },
       false, open_bad, open_not_object,
       R"({"server_address": "127.0.0.1:1", "push_batch_size": -1})",
       "push_batch_size must be an integer from 0 to 4294967295", R"({"pull_page_size": 5})",
       "server_address is required"},
      {"palm_list_cases", "query_json",
       [](palm_client* c, const char* j) {
         return Freed([&](char** out) { return palm_list_cases(c, j, out); });
       },
       true, query_bad, query_not_object, R"({"page_size": "10"})",
       "page_size must be an integer from 1 to 500", "", ""},
      {"palm_list_deadlines", "query_json",
       [](palm_client* c, const char* j) {
         return Freed([&](char** out) { return palm_list_deadlines(c, j, out); });
       },
       true, query_bad, query_not_object, R"({"within_days": 0})",
       "within_days must be an integer from 1 to 366", "", ""},
      {"palm_record_case", "case_json",
       [](palm_client* c, const char* j) {
         return Freed([&](char** out) { return palm_record_case(c, j, out); });
       },
       false, "case_json is not valid JSON", "case_json must be a JSON object",
       R"({"matter_code": 5})",
       ProtoMalformed("case_json", "palm.v1.Case") +
           R"((matter_code): invalid value 5 for type TYPE_STRING)",
       "", ""},
      {"palm_update_case_fields", "changes_json",
       [](palm_client* c, const char* j) { return palm_update_case_fields(c, "case-1", j); }, false,
       "changes_json is not valid JSON", "changes_json must be a JSON array", R"([{"value": 5}])",
       ProtoMalformed("changes_json", "palm.v1.UpdateCaseFields") +
           "(changes[0].value): invalid value 5 for type TYPE_STRING",
       "", "", "{}"},
      {"palm_add_evidence_file", "evidence_json",
       [file](palm_client* c, const char* j) {
         return Freed([&](char** out) { return palm_add_evidence_file(c, j, file.c_str(), out); });
       },
       false, "evidence_json is not valid JSON", "evidence_json must be a JSON object",
       R"({"case_id": ["x"]})",
       ProtoMalformed("evidence_json", "palm.v1.Evidence") +
           R"(case_id: Proto field is not repeating, cannot start list.)",
       "", ""},
      {"palm_issue_ticket", "ticket_json",
       [](palm_client* c, const char* j) {
         return Freed([&](char** out) { return palm_issue_ticket(c, j, out); });
       },
       false, "ticket_json is not valid JSON", "ticket_json must be a JSON object",
       R"({"fine_fen": "lots"})",
       ProtoMalformed("ticket_json", "palm.v1.Ticket") +
           R"((fine_fen): invalid value "lots" for type TYPE_INT64)",
       "", ""},
      {"palm_record_no_penalty", "decision_json",
       [](palm_client* c, const char* j) {
         return Freed([&](char** out) { return palm_record_no_penalty(c, j, out); });
       },
       false, "decision_json is not valid JSON", "decision_json must be a JSON object",
       R"({"case_id": {}})",
       ProtoMalformed("decision_json", "palm.v1.NoPenaltyDecision") +
           R"(: invalid value Starting an object on a scalar field for type case_id)",
       "", ""},
      {"palm_append_event", "event_json",
       [](palm_client* c, const char* j) {
         return Freed([&](char** out) { return palm_append_event(c, j, out); });
       },
       false, "event_json is not valid JSON", "event_json must be a JSON object",
       R"({"at_ms": true})",
       ProtoMalformed("event_json", "palm.v1.CaseEvent") +
           R"((at_ms): invalid value true for type TYPE_INT64)",
       "", ""},
      {"palm_verify_evidence_receipt", "receipt_json",
       [](palm_client*, const char* j) { return palm_verify_evidence_receipt(j, "pem", nullptr); },
       false, "receipt_json is not valid JSON", "receipt_json must be a JSON object",
       R"({"leaf_index": "first"})",
       "the receipt is not a palm.v1.EvidenceReceipt in JSON: (leaf_index): invalid value "
       "\"first\" for type TYPE_UINT64",
       "", ""},
  };
  return e;
}

// Checks that `code` and this thread's last error are an INVALID_ARGUMENT
// refusal with reason "invalid_argument" and exactly `message`.
void RequireRefused(palm_code code, const std::string& message) {
  INFO("got " << code << " [" << palm_last_error_reason() << "] " << palm_last_error_message());
  REQUIRE(code == PALM_INVALID_ARGUMENT);
  REQUIRE(std::string(palm_last_error_reason()) == "invalid_argument");
  REQUIRE(std::string(palm_last_error_message()) == message);
}

}  // namespace

TEST_CASE("every C entry point that takes JSON refuses malformed, mistyped and missing keys") {
  TempDir dir;
  std::filesystem::create_directories(dir.File("data"));
  const std::string options = nlohmann::json{
      {"db_path", dir.File("data") + "/json.db"},
      {"device_id", kDeviceId},
      {"key_dir",
       dir.File("keys")}}.dump();
  palm_client* client = nullptr;
  REQUIRE(palm_open(options.c_str(), nullptr, nullptr, &client) == PALM_OK);
  REQUIRE(palm_set_officer(client, kSworn) == PALM_OK);

  const std::vector<JsonEntry> entries = Entries(dir.path().string());
  std::set<std::string> covered;
  for (const JsonEntry& e : entries) covered.insert(e.function);
  CHECK(covered == JsonFunctionsInHeader());

  for (const JsonEntry& e : entries) {
    INFO(e.function << "(" << e.argument << ")");
    {
      INFO("NULL");
      palm_code code = e.call(client, nullptr);
      if (e.null_allowed) {
        CHECK(code == PALM_OK);
      } else {
        RequireRefused(code, std::string(e.argument) + " is required");
      }
    }
    {
      INFO("malformed");
      RequireRefused(e.call(client, "{\"db_path\": "), e.malformed_message);
    }
    {
      INFO("wrong shape: " << e.wrong_shape);
      RequireRefused(e.call(client, e.wrong_shape.c_str()), e.not_object_message);
    }
    {
      INFO("mistyped: " << e.mistyped);
      RequireRefused(e.call(client, e.mistyped.c_str()), e.mistyped_message);
    }
    if (!e.missing.empty()) {
      INFO("missing: " << e.missing);
      RequireRefused(e.call(client, e.missing.c_str()), e.missing_message);
    }
  }
  palm_close(client);
}

TEST_CASE("the C API names a NULL argument or handle and never leaves a reason empty") {
  char* out = nullptr;
  CHECK(palm_sign_in(nullptr, "{}", "o", "s", &out) == PALM_INVALID_ARGUMENT);
  CHECK(std::string(palm_last_error_message()) == "the palm_client handle is NULL");
  CHECK(std::string(palm_last_error_reason()) == "invalid_argument");
  CHECK(palm_unlock_offline(nullptr, "o", "s") == PALM_INVALID_ARGUMENT);
  CHECK(palm_session_state(nullptr, &out) == PALM_INVALID_ARGUMENT);
  CHECK(out == nullptr);
  CHECK(std::string(palm_version()) == "0.1.0");

  TempDir dir;
  std::filesystem::create_directories(dir.File("data"));
  const std::string options = nlohmann::json{
      {"db_path", dir.File("data") + "/n.db"},
      {"device_id", kDeviceId},
      {"key_dir",
       dir.File("keys")}}.dump();
  palm_client* client = nullptr;
  REQUIRE(palm_open(options.c_str(), nullptr, nullptr, &client) == PALM_OK);
  CHECK(palm_sign_in(client, "{\"server_address\": \"127.0.0.1:1\"}", nullptr, "s", &out) ==
        PALM_INVALID_ARGUMENT);
  CHECK(std::string(palm_last_error_message()) == "officer_id is required");
  CHECK(palm_session_state(client, nullptr) == PALM_INVALID_ARGUMENT);
  CHECK(std::string(palm_last_error_message()) == "state_json_out must not be NULL");
  CHECK(palm_unlock_offline(client, "officer-x", "1234") == PALM_NOT_FOUND);
  CHECK(std::string(palm_last_error_reason()) == "no_offline_verifier");
  CHECK(palm_dismiss_sync_issue(client, "no-such-issue") == PALM_NOT_FOUND);
  CHECK_FALSE(std::string(palm_last_error_reason()).empty());
  // A sync that cannot reach its server: the reason says so.
  CHECK(palm_sync(client,
                  "{\"server_address\": \"127.0.0.1:1\", \"insecure_loopback\": true,"
                  " \"timeout_ms\": 2000}",
                  &out) == PALM_UNAVAILABLE);
  CHECK(std::string(palm_last_error_reason()) == "server_unreachable");
  REQUIRE(palm_session_state(client, &out) == PALM_OK);
  const nlohmann::json state = nlohmann::json::parse(out);
  palm_free(out);
  CHECK(state["signed_in"] == false);
  CHECK(state["acting_officer_id"] == "");
  palm_close(client);
}

}  // namespace palm::testing
