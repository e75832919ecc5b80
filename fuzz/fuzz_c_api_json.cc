// The C API entry points that take JSON, on one device store prepared as a
// first sync leaves it (sample catalogue, roster, a ticket-number lease, one
// case). The input's first byte picks the entry point; the rest is its JSON
// argument. Every call must return a code (never crash, never throw, never
// leak what it returns), and a refusal must carry a reason.
//
// Left out on purpose: palm_open and palm_wipe_store (their JSON names files
// to create or delete anywhere), palm_sign_in, palm_sign_out, palm_sync and
// palm_sync_with_progress (their JSON names a server to connect to);
// tests/client/c_api_json_test.cc feeds those mistyped and malformed JSON.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "client-lib/src/catalog_json.h"
#include "client-lib/src/client_internal.h"
#include "client-lib/src/device_store.h"
#include "fuzz/fuzz_env.h"
#include "fuzz/fuzz_quiet.h"
#include "palm/client.h"
#include "palm/palm.h"

namespace {

struct Env {
  palm_client* client = nullptr;
  std::string case_id;
  std::string evidence_path;
};

Env* Setup() {
  auto* env = new Env;
  char dir[] = "/tmp/palm-fuzz-capi-XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  const std::string db = std::string(dir) + "/device.db";
  const std::string keys = std::string(dir) + "/keys";
  {
    palm::ClientOptions o;
    o.db_path = db;
    o.device_id = "fz-device";
    o.key_provider = std::make_shared<palm::FileKeyProvider>(keys);
    auto c = palm::Client::Open(o);
    if (!c.ok()) std::abort();
    palm::internal::DeviceStore& s = palm::internal::ClientAccess::Store(**c);
    auto catalog = palm::internal::LoadCatalogFile(PALM_SAMPLE_CATALOG);
    palm::v1::TicketLease lease;
    lease.set_lease_id("fz-lease");
    lease.set_first_number(1);
    lease.set_last_number(1000000);
    lease.set_prefix("桐综执简〔2026〕");
    if (!catalog.ok() || !s.ApplyCatalog(*catalog).ok() ||
        !s.UpsertOfficers({palm::fuzz::Officer(palm::fuzz::kOfficer1, true, "ZJ-FZ-0001"),
                           palm::fuzz::Officer(palm::fuzz::kOfficer2, true, "ZJ-FZ-0002"),
                           palm::fuzz::Officer(palm::fuzz::kAuxiliary, false, "")})
             .ok() ||
        !s.AddTicketLease(lease).ok()) {
      std::abort();
    }
  }
  const std::string options =
      "{\"db_path\": \"" + db + "\", \"key_dir\": \"" + keys + "\", \"durability\": \"normal\"}";
  if (palm_open(options.c_str(), nullptr, nullptr, &env->client) != PALM_OK) std::abort();
  if (palm_set_officer(env->client, palm::fuzz::kOfficer1) != PALM_OK) std::abort();
  char* id = nullptr;
  if (palm_record_case(env->client,
                       "{\"matter_code\": \"SR-0101\", \"procedure\": \"PROCEDURE_SUMMARY\","
                       " \"town_id\": \"fz\", \"officer_ids\": [\"fz-officer-1\", "
                       "\"fz-officer-2\"], \"parties\": [{\"party_id\": \"p1\", \"kind\": "
                       "\"PARTY_KIND_CITIZEN\", \"name\": \"张三\"}]}",
                       &id) == PALM_OK) {
    env->case_id = id;
  }
  palm_free(id);
  env->evidence_path = std::string(dir) + "/photo.jpg";
  std::ofstream(env->evidence_path) << "not really a photo";
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env* env = Setup();
  if (size == 0) return 0;
  const std::string json(reinterpret_cast<const char*>(data) + 1, size - 1);  // NUL-terminated
  char* out = nullptr;
  palm_code code = PALM_OK;
  palm_client* c = env->client;
  switch (data[0] % 8) {
    case 0:
      code = palm_record_case(c, json.c_str(), &out);
      break;
    case 1:
      code = palm_update_case_fields(c, env->case_id.c_str(), json.c_str());
      break;
    case 2:
      code = palm_add_evidence_file(c, json.c_str(), env->evidence_path.c_str(), &out);
      break;
    case 3:
      code = palm_issue_ticket(c, json.c_str(), &out);
      break;
    case 4:
      code = palm_record_no_penalty(c, json.c_str(), &out);
      break;
    case 5:
      code = palm_append_event(c, json.c_str(), &out);
      break;
    case 6:
      code = palm_list_cases(c, json.c_str(), &out);
      break;
    case 7:
      code = palm_verify_evidence_receipt(json.c_str(), "not a key", nullptr);
      break;
  }
  if (code != PALM_OK && std::strlen(palm_last_error_reason()) == 0) std::abort();
  palm_free(out);
  return 0;
}
