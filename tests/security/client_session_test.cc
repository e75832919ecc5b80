// Sign-in belongs to the library: palm::Client and the C API sign an officer
// in over the device's mutual-TLS connection, keep the session sealed in the
// device store, send and renew it on every sync, sign out, and say "sign in
// online" when a sync has no session — against a real palm-server child
// process under mutual TLS on 127.0.0.1.
#include <grpcpp/grpcpp.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "client-lib/src/client_internal.h"
#include "nlohmann/json.hpp"
#include "palm/client.h"
#include "palm/palm.h"
#include "palm/v1/admin.grpc.pb.h"
#include "palm/v1/auth.grpc.pb.h"
#include "palm/v1/evidence.grpc.pb.h"
#include "security/secure_device.h"

namespace {

namespace v1 = palm::v1;
namespace pki = palm::pki;
using palm::StatusCode;

using palm::security_test::kOfficer;
using palm::security_test::kPartner;
using palm::security_test::kSecret;
using palm::security_test::SecureDevice;
using palm::security_test::WithToken;
constexpr char kNotSignedIn[] =
    "no officer is signed in online on this device; sign in online (Client::SignIn) to sync";

#define REQUIRE_REFUSED(status_, code_, reason_, message_) \
  do {                                                     \
    const palm::Status& palm_s_ = (status_);               \
    INFO(palm_s_.ToString());                              \
    REQUIRE(palm_s_.code() == (code_));                    \
    REQUIRE(palm_s_.reason() == std::string(reason_));     \
    REQUIRE(palm_s_.message() == std::string(message_));   \
  } while (false)

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

palm::CaseInput SummaryCase() {
  palm::CaseInput c;
  c.matter_code = palm::testing::kFastMatter;
  c.procedure = palm::Procedure::kSummary;
  c.town_id = "town-a";
  c.squad_id = "squad-a1";
  c.description = "占道经营";
  c.place.address = "城南街道 庆丰路";
  c.officer_ids = {kOfficer, kPartner};
  return c;
}

}  // namespace

TEST_CASE("an officer signs in through the library and syncs with no token handling") {
  SecureDevice d;
  palm::SyncOptions connection = d.Connection();

  auto before = d.client->Sync(connection);
  REQUIRE_FALSE(before.ok());
  REQUIRE_REFUSED(before.status(), StatusCode::kUnauthenticated, "sign_in_required", kNotSignedIn);

  auto wrong = d.client->SignIn(connection, kOfficer, "1111");
  REQUIRE_FALSE(wrong.ok());
  REQUIRE_REFUSED(wrong.status(), StatusCode::kUnauthenticated, "wrong_secret",
                  "sign-in of officer officer-a1 refused: unknown officer or wrong secret");
  CHECK_FALSE(d.client->GetSessionState()->signed_in);

  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  auto signed_in = d.client->SignIn(connection, kOfficer, kSecret);
  INFO(signed_in.status().ToString());
  REQUIRE(signed_in.ok());
  CHECK(signed_in->signed_in);
  CHECK(signed_in->officer_id == kOfficer);
  CHECK(signed_in->officer_name == "张三");
  CHECK(signed_in->role == "officer");
  CHECK(signed_in->expires_at_ms > now_ms);
  CHECK_FALSE(signed_in->expired);
  CHECK(signed_in->acting_officer_id == kOfficer);
  CHECK_FALSE(signed_in->offline_only);
  CHECK_FALSE(signed_in->device_revoked);

  // The token is a bearer credential: sealed, never in the files in clear.
  const std::string token = d.KeptToken();
  REQUIRE(token.size() > 20);
  d.client.reset();
  for (const char* suffix : {"", "-wal", "-security"}) {
    INFO("file palm.db" << suffix);
    CHECK_FALSE(absl::StrContains(ReadAll(d.options.db_path + suffix), token));
  }
  d.Reopen();
  // The session survives the app's restart; the acting officer is set again
  // by a sign-in or an unlock, never silently.
  CHECK(d.client->GetSessionState()->signed_in);
  CHECK(d.client->GetSessionState()->acting_officer_id.empty());
  REQUIRE(d.client->UnlockOffline(kOfficer, kSecret).ok());
  CHECK(d.KeptToken() == token);

  // The first sync brings the catalogue; the officer records and syncs. The
  // library sends the session itself.
  auto first = d.client->Sync(connection);
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  auto recorded = d.client->RecordCase(SummaryCase());
  INFO(recorded.status().ToString());
  REQUIRE(recorded.ok());
  auto synced = d.client->Sync(connection);
  INFO(synced.status().ToString());
  REQUIRE(synced.ok());
  CHECK(synced->pushed == 1);
  CHECK(synced->applied == 1);

  // Within the refresh margin the sync renews the session first.
  connection.session_refresh_margin = std::chrono::hours(24 * 365);
  auto renewed = d.client->Sync(connection);
  INFO(renewed.status().ToString());
  REQUIRE(renewed.ok());
  const std::string fresh = d.KeptToken();
  CHECK(fresh != token);
  CHECK(d.client->GetSessionState()->signed_in);
  connection.session_refresh_margin = std::chrono::minutes(10);

  // Sign-out drops the session on the device whatever the server says
  // (a server without AuthService.SignOut answers UNIMPLEMENTED).
  REQUIRE(d.client->SignOut(connection).ok());
  auto out = d.client->GetSessionState();
  REQUIRE(out.ok());
  CHECK_FALSE(out->signed_in);
  CHECK(out->acting_officer_id.empty());
  CHECK(d.KeptToken().empty());
  auto after = d.client->Sync(connection);
  REQUIRE_FALSE(after.ok());
  REQUIRE_REFUSED(after.status(), StatusCode::kUnauthenticated, "sign_in_required", kNotSignedIn);
  CHECK(d.client->SignOut(connection).ok());  // signing out twice is fine

  // Unlocked offline the officer records; a sync asks for an online sign-in.
  REQUIRE(d.client->UnlockOffline(kOfficer, kSecret).ok());
  auto offline = d.client->GetSessionState();
  CHECK(offline->offline_only);
  CHECK(offline->acting_officer_id == kOfficer);
  REQUIRE(d.client->RecordCase(SummaryCase()).ok());
  auto needs_online = d.client->Sync(connection);
  REQUIRE_FALSE(needs_online.ok());
  REQUIRE_REFUSED(needs_online.status(), StatusCode::kUnauthenticated, "sign_in_required",
                  "officer officer-a1 is unlocked offline only: syncing needs an online session; "
                  "sign in online (Client::SignIn) to sync");
  CHECK(d.client->PendingCounts()->mutations == 1);
  REQUIRE(d.client->SignIn(connection, kOfficer, kSecret).ok());
  auto caught_up = d.client->Sync(connection);
  INFO(caught_up.status().ToString());
  REQUIRE(caught_up.ok());
  CHECK(d.client->PendingCounts()->mutations == 0);
}

TEST_CASE("lock-out, revocation and an unreachable server come back as typed statuses") {
  SecureDevice d({"--max-sign-in-failures", "2", "--sign-in-lockout-ms", "3600000"});
  const palm::SyncOptions connection = d.Connection();
  for (int i = 0; i < 2; ++i) {
    auto wrong = d.client->SignIn(connection, kOfficer, "0000");
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.status().reason() == "wrong_secret");
  }
  auto locked = d.client->SignIn(connection, kOfficer, kSecret);
  REQUIRE_FALSE(locked.ok());
  INFO(locked.status().ToString());
  CHECK(locked.status().code() == StatusCode::kUnauthenticated);
  CHECK(locked.status().reason() == "officer_locked");
  CHECK_THAT(locked.status().message(),
             Catch::StartsWith("officer officer-a1 is locked after 2 failed sign-ins until "));

  auto empty = d.client->SignIn(connection, kOfficer, "");
  REQUIRE_FALSE(empty.ok());
  REQUIRE_REFUSED(empty.status(), StatusCode::kInvalidArgument, "invalid_argument",
                  "signing in needs the officer id and their secret");

  palm::SyncOptions nowhere = connection;
  nowhere.server_address = "127.0.0.1:1";
  nowhere.timeout = std::chrono::seconds(5);
  auto unreachable = d.client->SignIn(nowhere, kOfficer, kSecret);
  REQUIRE_FALSE(unreachable.ok());
  CHECK(unreachable.status().code() == StatusCode::kUnavailable);
  CHECK(unreachable.status().reason() == "server_unreachable");
  CHECK_THAT(unreachable.status().message(),
             Catch::StartsWith("cannot reach palm-server at 127.0.0.1:1: "));

  d.RevokeDevice();
  auto revoked = d.client->SignIn(connection, "admin", "admin-pass-1");
  REQUIRE_FALSE(revoked.ok());
  REQUIRE_REFUSED(revoked.status(), StatusCode::kUnauthenticated, "device_revoked",
                  "device dev-a1 was revoked: lost on patrol [REASON_DEVICE_REVOKED]");
  auto state = d.client->GetSessionState();
  CHECK(state->device_revoked);
  // Recorded: offline unlock is refused from now on, with no network.
  auto unlock = d.client->UnlockOffline(kOfficer, kSecret);
  CHECK(unlock.code() == StatusCode::kPermissionDenied);
  CHECK(unlock.reason() == "device_revoked");
}

namespace {

struct Progress {
  int calls = 0;
  std::vector<std::string> phases;
};

void OnProgress(void* ctx, const char* phase, uint64_t, uint64_t) {
  auto* p = static_cast<Progress*>(ctx);
  ++p->calls;
  if (p->phases.empty() || p->phases.back() != phase) p->phases.push_back(phase);
}

// Takes a string the library returned.
std::string Take(char* s) {
  std::string out = s == nullptr ? "" : s;
  palm_free(s);
  return out;
}

}  // namespace

TEST_CASE("the C API signs in, syncs with progress, verifies a receipt and signs out") {
  SecureDevice d;
  d.client.reset();
  const std::string open = nlohmann::json{
      {"db_path", d.options.db_path},
      {"device_id", "dev-a1"},
      {"key_dir",
       d.dir.File("keys")}}.dump();
  palm_client* client = nullptr;
  REQUIRE(palm_open(open.c_str(), nullptr, nullptr, &client) == PALM_OK);
  const std::string connection = d.ConnectionJson();
  char* json = nullptr;

  CHECK(palm_sync(client, connection.c_str(), &json) == PALM_UNAUTHENTICATED);
  CHECK(json == nullptr);
  CHECK(std::string(palm_last_error_reason()) == "sign_in_required");
  CHECK(std::string(palm_last_error_message()) == kNotSignedIn);

  CHECK(palm_sign_in(client, connection.c_str(), kOfficer, "nope", &json) == PALM_UNAUTHENTICATED);
  CHECK(std::string(palm_last_error_reason()) == "wrong_secret");
  REQUIRE(palm_sign_in(client, connection.c_str(), kOfficer, kSecret, &json) == PALM_OK);
  nlohmann::json state = nlohmann::json::parse(Take(json));
  CHECK(state["signed_in"] == true);
  CHECK(state["officer_id"] == kOfficer);
  CHECK(state["acting_officer_id"] == kOfficer);
  CHECK(state["offline_only"] == false);

  // The first sync (with progress) brings the catalogue.
  Progress progress;
  REQUIRE(palm_sync_with_progress(client, connection.c_str(), OnProgress, &progress, &json) ==
          PALM_OK);
  CHECK(nlohmann::json::parse(Take(json))["ok"] == true);
  CHECK(progress.calls > 0);
  CHECK(progress.phases.front() == "reference");
  CHECK(std::find(progress.phases.begin(), progress.phases.end(), "pull") != progress.phases.end());

  char* case_id = nullptr;
  REQUIRE(
      palm_record_case(client,
                       "{\"matter_code\": \"CG-0101\", \"procedure\": \"PROCEDURE_SUMMARY\","
                       " \"town_id\": \"town-a\", \"squad_id\": \"squad-a1\","
                       " \"officer_ids\": [\"officer-a1\", \"officer-a2\"],"
                       " \"description\": \"占道经营\", \"place\": {\"address\": \"城南街道\"}}",
                       &case_id) == PALM_OK);
  const std::string photo = d.dir.File("photo.jpg");
  std::ofstream(photo, std::ios::binary) << "not really a jpeg, but evidence all the same";
  const std::string evidence_json = nlohmann::json{
      {"case_id", Take(case_id)},
      {"kind", "EVIDENCE_KIND_PHOTO"},
      {"mime_type", "image/jpeg"}}.dump();
  char* evidence_id = nullptr;
  REQUIRE(palm_add_evidence_file(client, evidence_json.c_str(), photo.c_str(), &evidence_id) ==
          PALM_OK);
  const std::string evidence = Take(evidence_id);

  REQUIRE(palm_sync(client, connection.c_str(), &json) == PALM_OK);
  nlohmann::json report = nlohmann::json::parse(Take(json));
  CHECK(report["ok"] == true);
  CHECK(report["pushed"] == 2);

  // The receipt verifies offline with the log's key; another file does not.
  REQUIRE(palm_export_evidence_receipt(client, evidence.c_str(), &json) == PALM_OK);
  const std::string receipt = Take(json);
  v1::GetTreeHeadResponse head;
  {
    auto op_stub = v1::EvidenceService::NewStub(d.op);
    REQUIRE(
        op_stub->GetTreeHead(WithToken(d.admin_token).get(), v1::GetTreeHeadRequest(), &head).ok());
  }
  const std::string& key = head.public_key_pem();
  CHECK(palm_verify_evidence_receipt(receipt.c_str(), key.c_str(), photo.c_str()) == PALM_OK);
  CHECK(palm_verify_evidence_receipt(receipt.c_str(), key.c_str(), nullptr) == PALM_OK);
  const std::string other = d.dir.File("other.jpg");
  std::ofstream(other, std::ios::binary) << "something else";
  CHECK(palm_verify_evidence_receipt(receipt.c_str(), key.c_str(), other.c_str()) ==
        PALM_DATA_LOSS);
  CHECK(std::string(palm_last_error_reason()) == "receipt_mismatch");
  CHECK_THAT(std::string(palm_last_error_message()),
             Catch::StartsWith("the receipt does not verify: file: "));

  REQUIRE(palm_list_sync_issues(client, 0, &json) == PALM_OK);
  CHECK(Take(json) == "[]");

  REQUIRE(palm_sign_out(client, connection.c_str()) == PALM_OK);
  REQUIRE(palm_session_state(client, &json) == PALM_OK);
  state = nlohmann::json::parse(Take(json));
  CHECK(state["signed_in"] == false);
  CHECK(state["acting_officer_id"] == "");
  REQUIRE(palm_unlock_offline(client, kOfficer, kSecret) == PALM_OK);
  REQUIRE(palm_session_state(client, &json) == PALM_OK);
  CHECK(nlohmann::json::parse(Take(json))["offline_only"] == true);
  CHECK(palm_sync(client, connection.c_str(), &json) == PALM_UNAUTHENTICATED);
  CHECK(std::string(palm_last_error_reason()) == "sign_in_required");
  palm_close(client);

  // Wiping removes the store, its security file and its key.
  REQUIRE(palm_wipe_store(open.c_str()) == PALM_OK);
  CHECK_FALSE(std::filesystem::exists(d.options.db_path));
  CHECK_FALSE(std::filesystem::exists(d.options.db_path + "-security"));
}
