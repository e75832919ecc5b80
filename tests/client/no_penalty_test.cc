// Art. 33 on the device: the three grounds, what each rests on, the
// look-back window, voided tickets, and stores from before the grounds.
#include <sqlite3.h>

#include "support/art33.h"
#include "sync/no_penalty.h"
#include "sync/party_key.h"
#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

constexpr char kIdNumber[] = "330483199001011234";  // Citizen()'s
constexpr int64_t kDayMs = 24LL * 3600 * 1000;

std::string RecordOrDie(Client& c, const CaseInput& in) {
  Result<std::string> id = c.RecordCase(in);
  INFO(id.status().ToString());
  REQUIRE(id.ok());
  return *id;
}

std::string EvidenceOrDie(Client& c, const std::string& case_id) {
  EvidenceInput e;
  e.case_id = case_id;
  e.kind = EvidenceKind::kPhoto;
  e.mime_type = "image/jpeg";
  e.description = "监控截图：当事人到场前设施已被他人移动";
  e.sha256_hex = std::string(64, 'b');
  e.size_bytes = 2048;
  Result<std::string> id = c.AddEvidenceRecord(e);
  INFO(id.status().ToString());
  REQUIRE(id.ok());
  return *id;
}

void AddPrior(Device& d, int64_t at_ms) {
  v1::PriorViolation prior;
  prior.set_party_key(sync::LegacyPartyKey(kIdNumber));  // no secret yet: legacy keys
  prior.set_matter_code(kFastTrackNoPenalty);
  prior.set_decided_at_ms(at_ms);
  REQUIRE(d.store().AddPriorViolations({prior}).ok());
}

TEST_CASE("the device records a no-penalty decision on each ground of Art. 33") {
  Device d;
  SECTION("first violation, slight harm, corrected in time") {
    const std::string case_id = RecordOrDie(*d.client, OrdinaryCase());
    NoPenaltyInput n = FirstViolationDecision(case_id, d.now_ms);
    Result<std::string> id = d.client->RecordNoPenalty(n);
    INFO(id.status().ToString());
    REQUIRE(id.ok());
    Result<CaseView> view = d.client->GetCase(case_id);
    REQUIRE(view.ok());
    CHECK(view->record.state == CaseState::kNoPenalty);
    REQUIRE(view->no_penalty_decisions.size() == 1);
    const NoPenaltyDecision& got = view->no_penalty_decisions[0];
    CHECK(got.matter_code == kFastTrackNoPenalty);
    CHECK(got.ground == NoPenaltyGround::kFirstViolationSlightHarm);
    CHECK(got.correction.what == "当场收摊");
    CHECK(got.correction.corrected_at_ms == d.now_ms);
    CHECK(got.correction.verified_by == kSworn2);
  }
  SECTION("minor, corrected in time, no harm") {
    NoPenaltyInput n = FirstViolationDecision(RecordOrDie(*d.client, OrdinaryCase()), d.now_ms);
    n.ground = NoPenaltyGround::kMinorCorrectedNoHarm;
    CHECK(d.client->RecordNoPenalty(n).ok());
  }
  SECTION("no fault, shown by evidence of the case") {
    const std::string case_id = RecordOrDie(*d.client, OrdinaryCase(kOrdinaryOnly));
    NoPenaltyInput n;
    n.case_id = case_id;
    n.education_record = "向当事人说明了相关规定";
    n.ground = NoPenaltyGround::kNoFault;
    n.no_fault_evidence_ids = {EvidenceOrDie(*d.client, case_id)};
    Result<std::string> id = d.client->RecordNoPenalty(n);
    INFO(id.status().ToString());
    REQUIRE(id.ok());
    Result<CaseView> view = d.client->GetCase(case_id);
    REQUIRE(view.ok());
    CHECK(view->no_penalty_decisions.at(0).no_fault_evidence_ids == n.no_fault_evidence_ids);
    // A party without fault committed no violation to count later.
    CHECK(RawQuery(d.db_path(), "SELECT count(*) FROM prior_violations") == "0");
  }
}

TEST_CASE("a no-penalty decision is refused off the list or without its record or for a repeat") {
  Device d;
  NoPenaltyInput n = FirstViolationDecision("", d.now_ms);

  SECTION("matter not on the no-penalty list") {
    n.case_id = RecordOrDie(*d.client, OrdinaryCase(kOrdinaryOnly));
    RequireRefused(d.client->RecordNoPenalty(n).status(), StatusCode::kInvalidArgument,
                   "not_on_no_penalty_list",
                   "matter SR-0105 (未经批准设置户外广告设施) is not on the no-penalty list, "
                   "which Art. 33 ¶1 (first violation, slight harm, corrected in time) needs; "
                   "decide a penalty instead");
  }
  SECTION("no ground") {
    n.case_id = RecordOrDie(*d.client, OrdinaryCase());
    n.ground = NoPenaltyGround::kUnspecified;
    RequireRefused(d.client->RecordNoPenalty(n).status(), StatusCode::kInvalidArgument,
                   "no_penalty_ground");
  }
  SECTION("no education record") {
    n.case_id = RecordOrDie(*d.client, OrdinaryCase());
    n.education_record.clear();
    RequireRefused(d.client->RecordNoPenalty(n).status(), StatusCode::kInvalidArgument,
                   "missing_education",
                   "a no-penalty decision needs a record of the education given to the party "
                   "(Art. 33 ¶3)");
    // Nothing was written.
    Result<CaseView> view = d.client->GetCase(n.case_id);
    REQUIRE(view.ok());
    CHECK(view->no_penalty_decisions.empty());
    CHECK(view->record.state == CaseState::kRegistered);
  }
  SECTION("no correction verified by an officer of the roster") {
    n.case_id = RecordOrDie(*d.client, OrdinaryCase());
    n.correction.verified_by = "officer-of-another-town";
    RequireRefused(d.client->RecordNoPenalty(n).status(), StatusCode::kFailedPrecondition,
                   "unknown_officer");
    n.correction = {};
    RequireRefused(d.client->RecordNoPenalty(n).status(), StatusCode::kInvalidArgument,
                   "missing_correction");
  }
  SECTION("no fault without evidence of the case") {
    n.case_id = RecordOrDie(*d.client, OrdinaryCase());
    const std::string other = RecordOrDie(*d.client, OrdinaryCase());
    n.ground = NoPenaltyGround::kNoFault;
    n.no_fault_evidence_ids = {EvidenceOrDie(*d.client, other)};
    RequireRefused(d.client->RecordNoPenalty(n).status(), StatusCode::kInvalidArgument,
                   "missing_no_fault_evidence",
                   "evidence " + n.no_fault_evidence_ids[0] +
                       " cited for no fault is not evidence of this case");
  }
  SECTION("the synced prior-violation data shows the same party and matter") {
    AddPrior(d, d.now_ms - 40 * kDayMs);
    n.case_id = RecordOrDie(*d.client, OrdinaryCase());
    RequireRefused(d.client->RecordNoPenalty(n).status(), StatusCode::kFailedPrecondition,
                   "not_first_violation",
                   NotFirstViolationMessage("SR-0101", d.now_ms - 40 * kDayMs, "", 12));
  }
  SECTION("a prior violation of another matter does not count") {
    v1::PriorViolation prior;
    prior.set_party_key(sync::LegacyPartyKey(kIdNumber));
    prior.set_matter_code("SR-0103");
    prior.set_decided_at_ms(d.now_ms - kDayMs);
    REQUIRE(d.store().AddPriorViolations({prior}).ok());
    n.case_id = RecordOrDie(*d.client, OrdinaryCase());
    CHECK(d.client->RecordNoPenalty(n).ok());
  }
}

TEST_CASE("the device counts a prior violation only inside the list entry's look-back window") {
  Device d;  // the sample catalogue's SR-0101 looks back 12 months
  // 2024-12-31 (Asia/Shanghai) is before the window, 2025-01-01 to 2026-01-01.
  AddPrior(d, d.now_ms - 366 * kDayMs);
  NoPenaltyInput n = FirstViolationDecision(RecordOrDie(*d.client, OrdinaryCase()), d.now_ms);
  CHECK(d.client->RecordNoPenalty(n).ok());
  // And a minor violation corrected without harm is not asked for a first one.
  AddPrior(d, d.now_ms - kDayMs);
  n = FirstViolationDecision(RecordOrDie(*d.client, OrdinaryCase()), d.now_ms);
  n.ground = NoPenaltyGround::kMinorCorrectedNoHarm;
  CHECK(d.client->RecordNoPenalty(n).ok());
}

TEST_CASE("a ticket the device voided no longer counts as a prior violation") {
  Device d;
  const std::string summary = RecordOrDie(*d.client, SummaryCase());
  Result<Ticket> ticket = d.client->IssueTicket(ValidTicket(summary));
  INFO(ticket.status().ToString());
  REQUIRE(ticket.ok());
  const std::string first = RecordOrDie(*d.client, OrdinaryCase());
  RequireRefused(d.client->RecordNoPenalty(FirstViolationDecision(first, d.now_ms)).status(),
                 StatusCode::kFailedPrecondition, "not_first_violation");
  REQUIRE(d.client->VoidTicket(summary, ticket->ticket_id, "当事人身份录入错误").ok());
  CHECK(RawQuery(d.db_path(), "SELECT group_concat(voided) FROM prior_violations") == "1");
  Result<std::string> decided = d.client->RecordNoPenalty(FirstViolationDecision(first, d.now_ms));
  INFO(decided.status().ToString());
  CHECK(decided.ok());
}

TEST_CASE("a schema-7 database is migrated to 8: old decisions read the legacy ground") {
  Device d;
  const std::string case_id = RecordOrDie(*d.client, OrdinaryCase());
  REQUIRE(d.client->RecordNoPenalty(FirstViolationDecision(case_id, d.now_ms)).ok());
  d.client.reset();
  // What schema 7 left: decisions without a ground, prior violations keyed
  // by (party, matter, case number).
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(d.db_path().c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* select = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT decision_id, proto FROM no_penalty_decisions", -1,
                               &select, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(select) == SQLITE_ROW);
    const std::string decision_id = reinterpret_cast<const char*>(sqlite3_column_text(select, 0));
    v1::NoPenaltyDecision old;
    REQUIRE(old.ParseFromArray(sqlite3_column_blob(select, 1), sqlite3_column_bytes(select, 1)));
    sqlite3_finalize(select);
    old.clear_ground();
    old.clear_correction();
    const std::string body = old.SerializeAsString();
    sqlite3_stmt* update = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "UPDATE no_penalty_decisions SET proto = ?1", -1, &update,
                               nullptr) == SQLITE_OK);
    sqlite3_bind_blob(update, 1, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(update) == SQLITE_DONE);
    sqlite3_finalize(update);
    sqlite3_close(db);
  }
  RawExec(d.db_path(),
          "CREATE TABLE p7 (party_key TEXT NOT NULL, matter_code TEXT NOT NULL,"
          " case_number TEXT NOT NULL, decided_at_ms INTEGER NOT NULL,"
          " key_id TEXT NOT NULL DEFAULT '', PRIMARY KEY (party_key, matter_code, case_number))"
          " WITHOUT ROWID;"
          "INSERT INTO p7 SELECT party_key, matter_code, case_number, decided_at_ms, key_id"
          " FROM prior_violations;"
          "DROP TABLE prior_violations; ALTER TABLE p7 RENAME TO prior_violations;"
          "DELETE FROM schema_migrations WHERE version >= 8; PRAGMA user_version = 7;");
  d.Reopen();
  REQUIRE(d.client->SetActingOfficer(kSworn).ok());
  Result<CaseView> view = d.client->GetCase(case_id);
  REQUIRE(view.ok());
  REQUIRE(view->no_penalty_decisions.size() == 1);
  CHECK(view->no_penalty_decisions[0].ground == NoPenaltyGround::kLegacy);
  CHECK(view->no_penalty_decisions[0].education_record == "批评教育");
  CHECK(RawQuery(d.db_path(), "PRAGMA user_version") == "8");
  CHECK(RawQuery(d.db_path(), "SELECT substr(violation_id, 1, 7) FROM prior_violations") ==
        "legacy/");
  // The migrated violation still makes the party's next one not a first.
  RequireRefused(d.client
                     ->RecordNoPenalty(
                         FirstViolationDecision(RecordOrDie(*d.client, OrdinaryCase()), d.now_ms))
                     .status(),
                 StatusCode::kFailedPrecondition, "not_first_violation");
}

}  // namespace
}  // namespace palm::testing
