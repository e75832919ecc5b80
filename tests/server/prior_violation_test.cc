// Prior violations without a reversible key (issue 15 item 2): what a device
// receives, how it gets the bureau's party-key secret, the server's own
// first-violation check across towns, the rekeying of an older server's
// records, and the secret file a store depends on.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "server/party_secret.h"
#include "support/art33.h"
#include "sync/party_key.h"
#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

namespace {

constexpr char kIdNumber[] = "33010219900101123X";  // party-1 of RecordCase

// A server with the organisation, and a violation by party-1 recorded in
// town A: a ticket on a summary case.
struct Violation {
  explicit Violation(const std::string& data_dir = "")
      : server(data_dir), client(server.address()) {
    Setup();
  }
  void Setup() {
    client.SetUpOrganisation();
    auto r = client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
    REQUIRE_APPLIED(r.results(0));
    case_number = r.results(0).case_number();
    const v1::TicketLease lease = client.Lease("dev-a1", 10);
    const v1::PushResponse ticket =
        client.PushBatch("dev-a1", {IssueTicket("dev-a1", 2, case_id, lease.first_number())});
    REQUIRE_APPLIED(ticket.results(0));
    issued_at_ms = client.GetCase(case_id).tickets(0).issued_at_ms();
  }
  // The prior violations a pull from `cursor` brings to `device`.
  std::vector<v1::PriorViolation> PulledPriors(const std::string& device, std::string* cursor) {
    std::vector<v1::PriorViolation> priors;
    for (const v1::PullResponse& r : client.Pull(device, *cursor)) {
      REQUIRE(r.has_page());
      for (const v1::Change& c : r.page().changes()) {
        if (c.has_prior_violation()) priors.push_back(c.prior_violation());
      }
      *cursor = r.page().cursor();
    }
    return priors;
  }
  v1::GetReferenceDataResponse Reference(const std::string& device, const std::string& key_id,
                                         uint32_t max_response_bytes = 0) {
    auto ctx = DeviceContext(device);
    v1::GetReferenceDataRequest request;
    request.set_party_key_id(key_id);
    request.set_max_response_bytes(max_response_bytes);
    v1::GetReferenceDataResponse response;
    grpc::Status s = client.sync->GetReferenceData(ctx.get(), request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return response;
  }
  std::string SecretPath() const {
    return server.config.data_dir + "/" + palm::server::kPartyKeySecretFile;
  }

  TestServer server;
  Client client;
  std::string case_id;
  std::string case_number;
  int64_t issued_at_ms = 0;  // of the ticket: when the violation was recorded
};

void Exec(const std::string& db_path, const std::string& sql, const std::string& blob = "") {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  if (!blob.empty())
    sqlite3_bind_blob(stmt, 1, blob.data(), static_cast<int>(blob.size()), nullptr);
  INFO(sqlite3_errmsg(db));
  REQUIRE(sqlite3_step(stmt) == SQLITE_DONE);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

int64_t Count(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const int64_t n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

}  // namespace

TEST_CASE("the prior violations a device pulls hold no digest of an ID number and no case number") {
  Violation f;
  const v1::GetReferenceDataResponse reference = f.Reference("dev-b1", "");
  REQUIRE(reference.has_party_key());
  const auto secret = palm::sync::PartyKeySecret::FromBytes(reference.party_key().secret());
  REQUIRE(secret.ok());
  CHECK(secret->key_id() == reference.party_key().key_id());
  CHECK(ReadFileBytes(f.SecretPath()) == reference.party_key().secret());

  std::string cursor;
  const std::vector<v1::PriorViolation> priors = f.PulledPriors("dev-b1", &cursor);
  REQUIRE(priors.size() == 1);
  const v1::PriorViolation& p = priors[0];
  CHECK(p.party_key() != kIdNumber);
  CHECK(p.party_key() != palm::sync::LegacyPartyKey(kIdNumber));  // the unsalted SHA-256
  CHECK(p.party_key().find(kIdNumber) == std::string::npos);
  CHECK(p.party_key() == secret->KeyOf(kIdNumber));  // HMAC under the bureau secret
  CHECK(p.key_id() == secret->key_id());
  CHECK(p.case_number().empty());
  CHECK(p.matter_code() == kFastMatter);
  CHECK(p.decided_at_ms() > 0);
}

TEST_CASE("GetReferenceData hands the party-key secret only to a device without it") {
  Violation f;
  const v1::GetReferenceDataResponse first = f.Reference("dev-a1", "");
  REQUIRE(first.has_party_key());
  CHECK(first.party_key().secret().size() == 32);
  CHECK(f.Reference("dev-a1", first.party_key().key_id()).has_party_key() == false);
  // A device holding another secret gets the current one.
  CHECK(f.Reference("dev-a1", "0123456789abcdef").party_key().key_id() ==
        first.party_key().key_id());
  // Asked in parts: with the roster, in the first part.
  const v1::GetReferenceDataResponse part = f.Reference("dev-a1", "", 4096);
  CHECK(part.catalog_matter_offset() == 0);
  CHECK(part.party_key().secret() == first.party_key().secret());
}

TEST_CASE("the server refuses a no-penalty decision for a party who violated in another town") {
  Violation f;
  std::string second;
  auto r = f.client.PushBatch(
      "dev-b1", {RecordCase("dev-b1", 1, &second, kOfficerB1, kTownB, v1::PROCEDURE_ORDINARY)});
  REQUIRE_APPLIED(r.results(0));
  // Made after the case, so its correction is not dated before the violation.
  v1::Mutation decision = RecordNoPenalty("dev-b1", 2, "");
  decision.mutable_record_no_penalty()->mutable_decision()->set_case_id(second);
  decision.set_officer_id(kOfficerB1);
  auto* officers = decision.mutable_record_no_penalty()->mutable_decision()->mutable_officer_ids();
  officers->Clear();
  officers->Add(kOfficerB1);
  officers->Add(kOfficerB2);
  decision.mutable_record_no_penalty()->mutable_decision()->mutable_correction()->set_verified_by(
      kOfficerB2);
  const v1::PushResponse refused = f.client.PushBatch("dev-b1", {decision});
  REQUIRE_REJECTED(refused.results(0), v1::REASON_NOT_FIRST_VIOLATION,
                   NotFirstViolationMessage("CG-0101", f.issued_at_ms, f.case_number));
  CHECK(f.client.GetCase(second).no_penalty_size() == 0);
}

TEST_CASE("an older server's prior violations are rekeyed at start and published again") {
  palm::testing::TempDir dir;
  const std::string data = dir.File("data");
  std::string cursor;
  std::string case_number;
  {
    Violation f(data);
    case_number = f.case_number;
    REQUIRE(f.PulledPriors("dev-b1", &cursor).size() == 1);
  }
  // The store as an older server left it: the plain SHA-256 key, no key id.
  v1::PriorViolation legacy;
  legacy.set_party_key(palm::sync::LegacyPartyKey(kIdNumber));
  legacy.set_matter_code(kFastMatter);
  legacy.set_case_number(case_number);
  legacy.set_decided_at_ms(1735689600000);
  const std::string db = data + "/palm.db";
  Exec(db,
       "UPDATE prior_violations SET key_id = '', party_key = '" + legacy.party_key() +
           "', body = ?1",
       legacy.SerializeAsString());
  REQUIRE(Count(db, "SELECT count(*) FROM prior_violations WHERE key_id = ''") == 1);

  TestServer server(data);
  Client client(server.address());
  const auto secret =
      palm::sync::PartyKeySecret::FromBytes(ReadFileBytes(data + "/party-key.secret"));
  REQUIRE(secret.ok());
  // Published again: a device past the old entry receives the new key.
  std::vector<v1::PriorViolation> priors;
  for (const v1::PullResponse& r : client.Pull("dev-b1", cursor)) {
    for (const v1::Change& c : r.page().changes()) {
      if (c.has_prior_violation()) priors.push_back(c.prior_violation());
    }
  }
  REQUIRE(priors.size() == 1);
  CHECK(priors[0].party_key() == secret->KeyOf(kIdNumber));
  CHECK(priors[0].key_id() == secret->key_id());
  CHECK(priors[0].case_number().empty());
  CHECK(Count(db, "SELECT count(*) FROM prior_violations WHERE key_id = ''") == 0);
  CHECK(Count(db, "SELECT count(*) FROM audit_log WHERE action = 'prior_violations.rekeyed'") == 1);
  // And the server still finds the violation.
  std::string second;
  auto r = client.PushBatch(
      "dev-a1", {RecordCase("dev-a1", 3, &second, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY),
                 RecordNoPenalty("dev-a1", 4, second)});
  REQUIRE_APPLIED(r.results(0));
  REQUIRE_REJECTED(r.results(1), v1::REASON_NOT_FIRST_VIOLATION,
                   NotFirstViolationMessage("CG-0101", 1735689600000, case_number));
}

TEST_CASE("a server whose store keys prior violations under a secret it lacks does not start") {
  palm::testing::TempDir dir;
  const std::string data = dir.File("data");
  std::string key_id;
  { key_id = Violation(data).Reference("dev-a1", "").party_key().key_id(); }
  const std::string path = data + "/party-key.secret";
  const std::string kept = ReadFileBytes(path);
  palm::server::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.insecure_loopback = true;
  config.data_dir = data;
  config.log_level = "error";

  SECTION("the file is missing") {
    std::filesystem::remove(path);
    auto started = palm::server::PalmServer::Start(config);
    REQUIRE(started.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(started.status().message() ==
          "the store keys prior violations under party-key secret " + key_id + " but " + path +
              " is missing: put back the copy kept with the evidence log's key (it is not in "
              "backups); without it no prior violation on record can be found");
    CHECK_FALSE(std::filesystem::exists(path));  // no new secret was made in its place
  }
  SECTION("the file holds another secret") {
    std::filesystem::remove(path);
    const std::string other(32, 'o');
    { std::ofstream(path, std::ios::binary) << other; }
    auto started = palm::server::PalmServer::Start(config);
    REQUIRE(started.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(started.status().message() ==
          "the store keys prior violations under party-key secret " + key_id + " but " + path +
              " is secret " + palm::sync::PartyKeySecret::FromBytes(other)->key_id() +
              ": put back the party-key.secret that belongs with this store");
  }
  SECTION("the file is not a secret") {
    std::filesystem::remove(path);
    { std::ofstream(path, std::ios::binary) << "short"; }
    auto started = palm::server::PalmServer::Start(config);
    REQUIRE(started.status().code() == absl::StatusCode::kDataLoss);
    CHECK(started.status().message() ==
          "the party-key secret " + path + " is not one: a party-key secret is 32 bytes, not 5");
  }
  // Put back, the server starts, and nothing was lost.
  std::filesystem::remove(path);
  { std::ofstream(path, std::ios::binary) << kept; }
  TestServer server(data);
  Client client(server.address());
  auto ctx = DeviceContext("dev-a1");
  v1::GetReferenceDataRequest request;
  v1::GetReferenceDataResponse response;
  REQUIRE(client.sync->GetReferenceData(ctx.get(), request, &response).ok());
  CHECK(response.party_key().key_id() == key_id);
}
