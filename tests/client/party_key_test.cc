// The bureau's party-key secret on the device (sync/party_key.h): how it
// arrives (GetReferenceData), where it is kept (sealed under the
// KeyProvider's key), and what becomes of the prior violations an older
// server keyed by plain SHA-256.
#include <sqlite3.h>

#include "support/art33.h"
#include "sync/party_key.h"
#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

constexpr char kIdNumber[] = "330483199001011234";

// Rows of `sql` on the database at `path`, each column as text.
std::vector<std::vector<std::string>> Rows(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::vector<std::vector<std::string>> rows;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<std::string>& row = rows.emplace_back();
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      row.push_back(text == nullptr ? "" : text);
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

v1::GetReferenceDataResponse WithSecret(const std::string& bytes, const std::string& key_id) {
  v1::GetReferenceDataResponse r;
  r.mutable_party_key()->set_secret(bytes);
  r.mutable_party_key()->set_key_id(key_id);
  return r;
}

// When the legacy record was decided: 30 days before the test device's
// clock (2026-01-01), inside the sample catalogue's 12-month look-back.
constexpr int64_t kLegacyPriorAtMs = 1767225600000 - 30LL * 24 * 3600 * 1000;

// A prior violation of party kIdNumber as an older server sent it: the
// plain SHA-256 key, no key id, the case number.
void AddLegacyPrior(Device& d) {
  v1::PriorViolation legacy;
  legacy.set_party_key(sync::LegacyPartyKey(kIdNumber));
  legacy.set_matter_code(kFastTrackNoPenalty);
  legacy.set_case_number("桐综执罚〔2025〕0042号");
  legacy.set_decided_at_ms(kLegacyPriorAtMs);
  REQUIRE(d.store().AddPriorViolations({legacy}).ok());
}

std::string RecordOrDie(Client& c, const CaseInput& in) {
  Result<std::string> id = c.RecordCase(in);
  INFO(id.status().ToString());
  REQUIRE(id.ok());
  return *id;
}

TEST_CASE("the party-key secret rekeys an older server's prior violations and stays sealed") {
  Device d;
  AddLegacyPrior(d);
  CHECK(d.store().PartyKeyId().empty());

  const std::string bytes(sync::kPartyKeySecretSize, 'k');
  const sync::PartyKeySecret secret = sync::PartyKeySecret::FromBytes(bytes).value();
  absl::Status applied = d.store().ApplyReferenceData(WithSecret(bytes, secret.key_id()));
  INFO(applied.ToString());
  REQUIRE(applied.ok());
  CHECK(d.store().PartyKeyId() == secret.key_id());

  // The table holds the keyed hash only, and no other device's case number.
  const auto rows =
      Rows(d.db_path(), "SELECT party_key, key_id, case_number FROM prior_violations");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == secret.KeyOf(kIdNumber));
  CHECK(rows[0][0] != sync::LegacyPartyKey(kIdNumber));
  CHECK(rows[0][1] == secret.key_id());
  CHECK(rows[0][2].empty());
  // The secret is in neither the database nor its WAL in the clear.
  CHECK(Rows(d.db_path(), "SELECT key_id FROM party_key_secret") ==
        std::vector<std::vector<std::string>>{{secret.key_id()}});
  CHECK(ReadFileBytes(d.db_path()).find(bytes) == std::string::npos);
  CHECK(ReadFileBytes(d.db_path() + "-wal").find(bytes) == std::string::npos);

  // The rekeyed record still finds the party.
  NoPenaltyInput n = FirstViolationDecision(RecordOrDie(*d.client, OrdinaryCase()), d.now_ms);
  RequireRefused(d.client->RecordNoPenalty(n).status(), StatusCode::kFailedPrecondition,
                 "not_first_violation",
                 NotFirstViolationMessage("SR-0101", kLegacyPriorAtMs, "", 12));

  // After a restart the sealed secret opens again and keys new records.
  d.Reopen();
  REQUIRE(d.client->SetActingOfficer(kSworn).ok());
  CHECK(d.store().PartyKeyId() == secret.key_id());
  CaseInput other = SummaryCase();
  other.parties = {Citizen("李四", "330483199202023456")};
  const std::string other_case = RecordOrDie(*d.client, other);
  Result<Ticket> ticket = d.client->IssueTicket(ValidTicket(other_case));
  INFO(ticket.status().ToString());
  REQUIRE(ticket.ok());
  CHECK(Rows(d.db_path(), "SELECT key_id FROM prior_violations WHERE party_key = '" +
                              secret.KeyOf("330483199202023456") + "'")
            .size() == 1);
  CHECK(Rows(d.db_path(), "SELECT * FROM prior_violations WHERE key_id = ''").empty());
}

TEST_CASE("a party-key secret that is not one is refused and changes nothing") {
  Device d;
  AddLegacyPrior(d);
  const std::string bytes(sync::kPartyKeySecretSize, 'k');

  SECTION("a key id that does not name the bytes") {
    absl::Status s = d.store().ApplyReferenceData(WithSecret(bytes, "0000000000000000"));
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(s.message() ==
          "the server sent party-key secret 0000000000000000 whose bytes are secret " +
              sync::PartyKeySecret::FromBytes(bytes)->key_id());
  }
  SECTION("bytes that are not 32") {
    absl::Status s = d.store().ApplyReferenceData(WithSecret("short", "0000000000000000"));
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(s.message() ==
          "the server sent a party-key secret that is not one: a party-key secret is 32 bytes, "
          "not 5");
  }
  CHECK(d.store().PartyKeyId().empty());
  CHECK(Rows(d.db_path(), "SELECT party_key, key_id FROM prior_violations") ==
        std::vector<std::vector<std::string>>{{sync::LegacyPartyKey(kIdNumber), ""}});
  CHECK(Rows(d.db_path(), "SELECT * FROM party_key_secret").empty());
}

TEST_CASE("a schema-6 database keeps its prior violations as legacy records until the secret") {
  Device d;
  AddLegacyPrior(d);
  d.client.reset();
  // What schema 6 left: no key ids, no violation ids, no party-key secret.
  RawExec(d.db_path(),
          "DROP TABLE party_key_secret; DROP TABLE prior_violations;"
          "CREATE TABLE prior_violations (party_key TEXT NOT NULL, matter_code TEXT NOT NULL,"
          " case_number TEXT NOT NULL, decided_at_ms INTEGER NOT NULL,"
          " PRIMARY KEY (party_key, matter_code, case_number)) WITHOUT ROWID;"
          "INSERT INTO prior_violations VALUES ('" +
              sync::LegacyPartyKey(kIdNumber) +
              "', 'SR-0101', '桐综执罚〔2025〕0042号', 1);"
              "DELETE FROM schema_migrations WHERE version >= 7; PRAGMA user_version = 6;");
  d.Reopen();
  CHECK(Rows(d.db_path(), "SELECT party_key, key_id, case_number FROM prior_violations") ==
        std::vector<std::vector<std::string>>{
            {sync::LegacyPartyKey(kIdNumber), "", "桐综执罚〔2025〕0042号"}});
  const std::string bytes(sync::kPartyKeySecretSize, 'k');
  const sync::PartyKeySecret secret = sync::PartyKeySecret::FromBytes(bytes).value();
  REQUIRE(d.store().ApplyReferenceData(WithSecret(bytes, secret.key_id())).ok());
  CHECK(Rows(d.db_path(), "SELECT party_key, key_id, case_number FROM prior_violations") ==
        std::vector<std::vector<std::string>>{{secret.KeyOf(kIdNumber), secret.key_id(), ""}});
}

TEST_CASE("a damaged party-key secret leaves the store usable and the next sync brings it") {
  Device d;
  const std::string bytes(sync::kPartyKeySecretSize, 'k');
  const sync::PartyKeySecret secret = sync::PartyKeySecret::FromBytes(bytes).value();
  REQUIRE(d.store().ApplyReferenceData(WithSecret(bytes, secret.key_id())).ok());
  d.client.reset();
  RawExec(d.db_path(), "UPDATE party_key_secret SET sealed = x'01020304'");
  d.Reopen();
  CHECK(d.store().PartyKeyId().empty());  // reported as none: the server sends it again
  REQUIRE(d.client->SetActingOfficer(kSworn).ok());
  CHECK(d.client->RecordCase(SummaryCase()).ok());
  REQUIRE(d.store().ApplyReferenceData(WithSecret(bytes, secret.key_id())).ok());
  CHECK(d.store().PartyKeyId() == secret.key_id());
}

}  // namespace
}  // namespace palm::testing
