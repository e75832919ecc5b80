// The device store: migrations, refusal of newer schemas, device and key
// binding, the outbox contract, and personal data encrypted at rest.
#include <sqlite3.h>
#include <sys/stat.h>

#include <regex>
#include <set>
#include <sstream>

#include "sync/hlc.h"
#include "sync/sha256.h"
#include "sync/uuid.h"
#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

TEST_CASE("a new database is migrated forward and records its migrations") {
  Device d(/*seed=*/false);
  d.client.reset();
  CHECK(RawQuery(d.db_path(), "SELECT group_concat(version) FROM schema_migrations") ==
        "1,2,3,4,5,6,7,8");
  CHECK(RawQuery(d.db_path(), "PRAGMA user_version") == "8");
  CHECK(RawQuery(d.db_path(), "PRAGMA journal_mode") == "wal");
  d.Reopen();  // reopening runs nothing twice
  d.client.reset();
  CHECK(RawQuery(d.db_path(), "SELECT count(*) FROM schema_migrations") == "8");
}

// The event ids of a case's timeline, oldest first.
std::vector<std::string> TimelineOf(Client& client, const std::string& case_id) {
  Result<CaseView> view = client.GetCase(case_id);
  REQUIRE(view.ok());
  std::vector<std::string> ids;
  for (const CaseEvent& e : view->timeline) ids.push_back(e.event_id);
  return ids;
}

TEST_CASE("a schema-3 database is migrated to 4 and keeps its cases, outbox and timelines") {
  Device d;
  std::set<std::string> ids;
  std::string first;
  for (int i = 0; i < 5; ++i) {
    Result<std::string> id = d.client->RecordCase(SummaryCase());
    REQUIRE(id.ok());
    ids.insert(*id);
    if (first.empty()) first = *id;
  }
  CaseEventInput note;
  note.case_id = first;
  note.kind = CaseEventKind::kNote;
  note.text = "当事人已自行清理";
  note.at_ms = d.now_ms;  // the same time as "case recorded": seq orders them
  REQUIRE(d.client->AppendCaseEvent(note).ok());
  const std::vector<std::string> timeline = TimelineOf(*d.client, first);
  REQUIRE(timeline.size() == 2);
  d.client.reset();
  // Back to what schema 3 left: the two case indexes, the outbox's unique
  // mutation id, case events numbered by AUTOINCREMENT.
  RawExec(d.db_path(),
          "CREATE INDEX cases_by_state ON cases (state, occurred_at_ms DESC, case_id DESC);"
          "CREATE INDEX cases_by_town ON cases (town_id, occurred_at_ms DESC, case_id DESC);"
          "CREATE TABLE outbox_v3 (device_seq INTEGER PRIMARY KEY, mutation_id TEXT NOT NULL "
          "UNIQUE, case_id TEXT NOT NULL, created_at_ms INTEGER NOT NULL, acked INTEGER NOT NULL "
          "DEFAULT 0, sealed BLOB NOT NULL);"
          "INSERT INTO outbox_v3 SELECT * FROM outbox; DROP TABLE outbox;"
          "ALTER TABLE outbox_v3 RENAME TO outbox;"
          "CREATE TABLE events_v3 (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL "
          "UNIQUE, case_id TEXT NOT NULL, at_ms INTEGER NOT NULL, proto BLOB NOT NULL);"
          "INSERT INTO events_v3 SELECT * FROM case_events; DROP TABLE case_events;"
          "ALTER TABLE events_v3 RENAME TO case_events;"
          "CREATE INDEX case_events_by_case ON case_events (case_id, at_ms, seq);"
          "DROP TABLE officer_session; DROP TABLE calendar_years; DROP TABLE party_key_secret;"
          "ALTER TABLE prior_violations DROP COLUMN key_id;"
          "DELETE FROM schema_migrations WHERE version >= 4; PRAGMA user_version = 3;");
  const char* kIndexes =
      "SELECT group_concat(name) FROM (SELECT name FROM sqlite_schema WHERE type = 'index' AND "
      "tbl_name IN ('cases', 'outbox', 'case_events') ORDER BY name)";
  REQUIRE(RawQuery(d.db_path(), kIndexes) ==
          "case_events_by_case,cases_by_state,cases_by_time,cases_by_town,"
          "sqlite_autoindex_case_events_1,sqlite_autoindex_cases_1,sqlite_autoindex_outbox_1");
  REQUIRE(RawQuery(d.db_path(),
                   "SELECT count(*) FROM sqlite_sequence WHERE name = "
                   "'case_events'") == "1");

  d.Reopen();
  d.client.reset();
  CHECK(RawQuery(d.db_path(), kIndexes) ==
        "case_events_by_case,cases_by_time,sqlite_autoindex_case_events_1,"
        "sqlite_autoindex_cases_1");
  CHECK(RawQuery(d.db_path(), "SELECT count(*) FROM sqlite_sequence") == "0");
  CHECK(RawQuery(d.db_path(), "SELECT group_concat(version) FROM schema_migrations") ==
        "1,2,3,4,5,6,7,8");
  CHECK(RawQuery(d.db_path(), "PRAGMA user_version") == "8");
  CHECK(IntegrityCheck(d.db_path()) == "ok");

  d.Reopen();
  REQUIRE(d.client->SetActingOfficer(kSworn).ok());
  CaseQuery town;
  town.town_id = kTown;
  town.page_size = 100;
  Result<CasePage> page = d.client->ListCases(town);
  REQUIRE(page.ok());
  std::set<std::string> listed;
  for (const auto& c : page->cases) listed.insert(c.case_id);
  CHECK(listed == ids);
  CHECK(TimelineOf(*d.client, first) == timeline);
  Result<PendingSyncCounts> pending = d.client->PendingCounts();
  REQUIRE(pending.ok());
  CHECK(pending->mutations == 6);
  // A new event still comes after the old ones at the same time, and the
  // outbox goes on from where it was.
  Result<std::string> added = d.client->AppendCaseEvent(note);
  INFO(added.status().ToString());
  REQUIRE(added.ok());
  std::vector<std::string> longer = timeline;
  longer.push_back(*added);
  CHECK(TimelineOf(*d.client, first) == longer);
  CHECK(d.client->PendingCounts()->mutations == 7);
  d.client.reset();
  CHECK(RawQuery(d.db_path(), "SELECT group_concat(device_seq) FROM outbox") == "1,2,3,4,5,6,7");
}

TEST_CASE("a database written by a newer schema is refused and left byte-for-byte untouched") {
  Device d;
  REQUIRE(d.client->RecordCase(SummaryCase()).ok());
  d.client.reset();
  RawExec(d.db_path(), "INSERT INTO schema_migrations VALUES (999, 0); PRAGMA wal_checkpoint;");
  std::string before = ReadFileBytes(d.db_path());
  REQUIRE_FALSE(before.empty());

  Result<std::unique_ptr<Client>> c = Client::Open(d.Options());
  RequireRefused(c.status(), StatusCode::kFailedPrecondition, "schema_too_new",
                 "database " + d.db_path() +
                     " has schema version 999, newer than this Palm library understands (8); "
                     "update the app — the database was not changed");
  CHECK(ReadFileBytes(d.db_path()) == before);
}

TEST_CASE("a database belongs to one device and opens only with its key") {
  Device d;
  d.client.reset();
  ClientOptions other = d.Options();
  other.device_id = "device-other";
  RequireRefused(Client::Open(other).status(), StatusCode::kFailedPrecondition, "wrong_device",
                 "database " + d.db_path() + " belongs to device device-test-01, not device-other");

  ClientOptions wrong_key = d.Options();
  wrong_key.key_provider = std::make_shared<FileKeyProvider>(d.dir.File("other-keys"));
  RequireRefused(Client::Open(wrong_key).status(), StatusCode::kPermissionDenied,
                 "permission_denied",
                 "the key from the key provider does not open database " + d.db_path());

  ClientOptions reopen = d.Options();
  reopen.device_id.clear();  // empty: use the stored id
  Result<std::unique_ptr<Client>> c = Client::Open(reopen);
  REQUIRE(c.ok());
  CHECK((*c)->device_id() == kDeviceId);
}

TEST_CASE("file keys are 0600 and never kept in the database's directory") {
  Device d(/*seed=*/false);
  struct stat st {};
  REQUIRE(::stat((d.key_dir() + "/palm-device-db.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(ReadFileBytes(d.key_dir() + "/palm-device-db.key").size() == 32);

  ClientOptions beside = d.Options();
  beside.key_provider = std::make_shared<FileKeyProvider>(d.dir.File("data"));
  RequireRefused(Client::Open(beside).status(), StatusCode::kInvalidArgument, "invalid_argument");

  ::chmod((d.key_dir() + "/palm-device-db.key").c_str(), 0644);
  RequireRefused(FileKeyProvider(d.key_dir()).GetKey("palm-device-db").status(),
                 StatusCode::kPermissionDenied, "permission_denied");
}

TEST_CASE("every write appends one mutation: UUIDv7 id, gapless sequence, rising HLC, officer") {
  Device d;
  Result<std::string> case_id = d.client->RecordCase(SummaryCase());
  REQUIRE(case_id.ok());
  REQUIRE(d.client->IssueTicket(ValidTicket(*case_id)).ok());
  // A refused write consumes no sequence number.
  REQUIRE_FALSE(d.client->IssueTicket(ValidTicket(*case_id, 99900)).ok());
  d.now_ms -= 5000;  // the wall clock steps back; the HLC does not
  REQUIRE(d.client
              ->AppendCaseEvent({*case_id, CaseEventKind::kNote, "备注", 0, 0, std::nullopt,
                                 std::nullopt, std::nullopt})
              .ok());
  REQUIRE(d.client->SetActingOfficer(kAux1).ok());
  REQUIRE(d.client->TransitionCase(*case_id, CaseState::kFiled, "").ok());

  auto outbox = d.store().Outbox();
  REQUIRE(outbox.ok());
  REQUIRE(outbox->size() == 4);
  sync::HlcStamp last;
  std::set<std::string> ids;
  for (size_t i = 0; i < outbox->size(); ++i) {
    const v1::Mutation& m = (*outbox)[i].mutation;
    CHECK(m.device_seq() == i + 1);
    CHECK(m.device_id() == kDeviceId);
    CHECK(sync::IsValidUuid(m.mutation_id()));
    CHECK(m.mutation_id()[14] == '7');
    CHECK(ids.insert(m.mutation_id()).second);
    sync::HlcStamp stamp = sync::HlcStamp::FromProto(m.hlc());
    CHECK(last < stamp);
    last = stamp;
    CHECK_FALSE((*outbox)[i].acked);
  }
  CHECK((*outbox)[0].mutation.has_record_case());
  CHECK((*outbox)[0].mutation.officer_id() == kSworn);
  CHECK((*outbox)[3].mutation.officer_id() == kAux1);
  CHECK((*outbox)[3].mutation.transition_case().from_state() == v1::CASE_STATE_ISSUED);

  // The sequence continues after reopening.
  d.Reopen();
  REQUIRE(d.client->SetActingOfficer(kSworn).ok());
  REQUIRE(d.client
              ->AppendCaseEvent({*case_id, CaseEventKind::kNote, "再备注", 0, 0, std::nullopt,
                                 std::nullopt, std::nullopt})
              .ok());
  outbox = d.store().Outbox();
  REQUIRE(outbox.ok());
  CHECK(outbox->back().mutation.device_seq() == 5);
  CHECK(last < sync::HlcStamp::FromProto(outbox->back().mutation.hlc()));
}

TEST_CASE("writes need a signed-in officer on the roster") {
  Device d(/*seed=*/true);
  d.Reopen();  // a fresh client has nobody signed in
  RequireRefused(d.client->RecordCase(SummaryCase()).status(), StatusCode::kFailedPrecondition,
                 "unknown_officer",
                 "no officer is signed in on this device: call SetActingOfficer first");
  RequireRefused(d.client->SetActingOfficer("officer-ghost"), StatusCode::kFailedPrecondition,
                 "unknown_officer",
                 "officer officer-ghost is not on this device's roster; sync first");
}

TEST_CASE("pending counts, the last sync report and sync's placeholder") {
  Device d;
  CHECK(d.client->PendingCounts()->mutations == 0);
  Result<std::string> case_id = d.client->RecordCase(SummaryCase());
  REQUIRE(case_id.ok());
  EvidenceInput e;
  e.case_id = *case_id;
  e.kind = EvidenceKind::kPhoto;
  e.sha256_hex = std::string(64, 'b');
  e.size_bytes = 10;
  e.content_path = "/sdcard/palm/photo1.jpg";
  REQUIRE(d.client->AddEvidenceRecord(e).ok());
  Result<PendingSyncCounts> counts = d.client->PendingCounts();
  REQUIRE(counts.ok());
  CHECK(counts->mutations == 2);
  CHECK(counts->uploads == 1);
  CHECK(counts->oldest_pending_at_ms == 1767225600000);

  REQUIRE(d.store().AckOutboxThrough(1).ok());
  CHECK(d.client->PendingCounts()->mutations == 1);

  CHECK_FALSE(d.client->LastSyncReport()->ever_synced);
  SyncReport r;
  r.ok = true;
  r.pushed = 2;
  r.applied = 2;
  r.finished_at_ms = 42;
  REQUIRE(d.store().SetLastSyncReport(r).ok());
  Result<SyncReport> back = d.client->LastSyncReport();
  REQUIRE(back.ok());
  CHECK(back->ever_synced);
  CHECK(back->pushed == 2);
  CHECK(back->finished_at_ms == 42);

  REQUIRE(d.store().SetSyncCursor(std::string("\x00\x01cursor", 8), "epoch-7").ok());
  auto cursor = d.store().SyncCursor();
  REQUIRE(cursor.ok());
  CHECK(cursor->first == std::string("\x00\x01cursor", 8));
  CHECK(cursor->second == "epoch-7");
}

TEST_CASE("pending outbox mutations re-apply on top of pulled server state") {
  Device d;
  Result<std::string> case_id = d.client->RecordCase(OrdinaryCase());
  REQUIRE(case_id.ok());
  REQUIRE(d.client->TransitionCase(*case_id, CaseState::kFiled, "立案").ok());
  // The server's version of the case arrives, still REGISTERED and numbered.
  absl::StatusOr<internal::CaseBundle> b = d.store().GetCase(*case_id);
  REQUIRE(b.ok());
  b->kase.set_state(v1::CASE_STATE_REGISTERED);
  b->kase.set_case_number("桐综执罚〔2026〕0123号");
  REQUIRE(d.store().UpsertServerCase(b->kase).ok());
  REQUIRE(d.store().AckOutboxThrough(1).ok());  // the record_case was acknowledged
  absl::StatusOr<int> applied = d.store().ReapplyPendingOutbox();
  REQUIRE(applied.ok());
  CHECK(*applied == 1);
  Result<CaseView> view = d.client->GetCase(*case_id);
  REQUIRE(view.ok());
  CHECK(view->record.state == CaseState::kFiled);
  CHECK(view->record.case_number == "桐综执罚〔2026〕0123号");
}

TEST_CASE("evidence is hashed while streaming a file or a stream") {
  Device d;
  Result<std::string> case_id = d.client->RecordCase(SummaryCase());
  REQUIRE(case_id.ok());
  std::string content(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 31 + 7);
  std::string path = d.dir.File("photo.jpg");
  std::ofstream(path, std::ios::binary) << content;
  std::string expected = sync::HexEncode(sync::Sha256::Of(content));

  EvidenceInput e;
  e.case_id = *case_id;
  e.kind = EvidenceKind::kPhoto;
  e.mime_type = "image/jpeg";
  e.location = {30.6, 120.5, 4};
  Result<std::string> from_file = d.client->AttachEvidenceFile(e, path);
  REQUIRE(from_file.ok());
  std::istringstream stream(content);
  e.content_path = "/app/blobs/1";
  Result<std::string> from_stream = d.client->AttachEvidenceStream(e, stream);
  REQUIRE(from_stream.ok());

  Result<CaseView> view = d.client->GetCase(*case_id);
  REQUIRE(view.ok());
  REQUIRE(view->evidence.size() == 2);
  for (const Evidence& ev : view->evidence) {
    CHECK(ev.sha256_hex == expected);
    CHECK(ev.size_bytes == content.size());
    CHECK(ev.device_id == kDeviceId);
    CHECK(ev.officer_id == kSworn);
    CHECK(ev.captured_at_ms == 1767225600000);
  }
  CHECK(view->evidence[0].content_path == path);
  CHECK(view->evidence[1].content_path == "/app/blobs/1");

  RequireRefused(d.client->AttachEvidenceFile(e, d.dir.File("missing.jpg")).status(),
                 StatusCode::kNotFound, "");
  e.sha256_hex = "not-a-hash";
  e.size_bytes = 1;
  RequireRefused(d.client->AddEvidenceRecord(e).status(), StatusCode::kInvalidArgument,
                 "invalid_argument",
                 "add_evidence.evidence.sha256 must be 64 lowercase hex characters");
}

TEST_CASE("the raw database and WAL hold no party name, ID number or phone") {
  Device d;
  const std::string name = "欧阳明月";
  const std::string id_number = "330483198807076543";
  const std::string phone = "13957300001";
  CaseInput in = SummaryCase();
  in.parties = {Citizen(name, id_number)};
  in.parties[0].phone = phone;
  Result<std::string> case_id = d.client->RecordCase(in);
  REQUIRE(case_id.ok());
  std::string party_id = d.client->GetCase(*case_id)->record.parties[0].party_id;
  REQUIRE(
      d.client->UpdateCaseFields(*case_id, {{CaseField::kPartyName, name + "（曾用名）", party_id}})
          .ok());
  NoPenaltyInput n;
  n.case_id = *case_id;
  n.education_record = "批评教育";
  n.ground = NoPenaltyGround::kFirstViolationSlightHarm;
  n.correction = {"当场改正", d.now_ms, palm::testing::kSworn2};
  (void)d.client->RecordNoPenalty(n);
  // The decrypted view still has them.
  Result<CaseView> view = d.client->GetCase(*case_id);
  REQUIRE(view.ok());
  CHECK(view->record.parties[0].id_number == id_number);

  auto scan = [&](const std::string& label) {
    for (const char* suffix : {"", "-wal"}) {
      std::string bytes = ReadFileBytes(d.db_path() + suffix);
      INFO(label << " file " << d.db_path() + suffix);
      CHECK(bytes.find(name) == std::string::npos);
      CHECK(bytes.find(id_number) == std::string::npos);
      CHECK(bytes.find(phone) == std::string::npos);
    }
  };
  scan("live WAL");
  d.client.reset();  // closing checkpoints the WAL into the main file
  scan("after checkpoint");
  CHECK_FALSE(ReadFileBytes(d.db_path()).empty());
}

TEST_CASE("cases are listed by status, town and date, in pages") {
  Device d;
  std::set<std::string> all;
  for (int i = 0; i < 25; ++i) {
    CaseInput in = i % 2 == 0 ? SummaryCase() : OrdinaryCase();
    in.occurred_at_ms = 1767225600000 + (i / 2) * 60000;  // pairs share a time
    in.town_id = i % 5 == 0 ? "town-other" : kTown;
    Result<std::string> id = d.client->RecordCase(in);
    REQUIRE(id.ok());
    all.insert(*id);
  }
  CaseQuery q;
  q.page_size = 4;
  std::vector<CaseRecord> seen;
  int pages = 0;
  do {
    Result<CasePage> page = d.client->ListCases(q);
    REQUIRE(page.ok());
    ++pages;
    for (CaseRecord& c : page->cases) {
      CHECK(c.parties.empty());
      seen.push_back(std::move(c));
    }
    q.page_token = page->next_page_token;
  } while (!q.page_token.empty());
  CHECK(pages == 7);
  REQUIRE(seen.size() == 25);
  std::set<std::string> ids;
  for (size_t i = 0; i < seen.size(); ++i) {
    ids.insert(seen[i].case_id);
    if (i > 0) {
      bool ordered = seen[i - 1].occurred_at_ms > seen[i].occurred_at_ms ||
                     (seen[i - 1].occurred_at_ms == seen[i].occurred_at_ms &&
                      seen[i - 1].case_id > seen[i].case_id);
      CHECK(ordered);
    }
  }
  CHECK(ids == all);

  CaseQuery registered;
  registered.state = CaseState::kRegistered;
  registered.page_size = 100;
  CHECK(d.client->ListCases(registered)->cases.size() == 12);

  CaseQuery town;
  town.town_id = "town-other";
  town.page_size = 100;
  CHECK(d.client->ListCases(town)->cases.size() == 5);

  CaseQuery window;
  window.occurred_from_ms = 1767225600000 + 2 * 60000;
  window.occurred_until_ms = 1767225600000 + 4 * 60000;
  window.page_size = 100;
  CHECK(d.client->ListCases(window)->cases.size() == 4);

  CaseQuery bad;
  bad.page_token = "zz";
  RequireRefused(d.client->ListCases(bad).status(), StatusCode::kInvalidArgument,
                 "invalid_argument", "page token is not one this device issued");
  bad.page_token.clear();
  bad.page_size = 0;
  RequireRefused(d.client->ListCases(bad).status(), StatusCode::kInvalidArgument,
                 "invalid_argument", "page size must be 1..500");
}

TEST_CASE("a case view has its parties, evidence, tickets, decisions and timeline") {
  Device d;
  Result<std::string> case_id = d.client->RecordCase(SummaryCase());
  REQUIRE(case_id.ok());
  REQUIRE(d.client->IssueTicket(ValidTicket(*case_id)).ok());
  Result<CaseView> view = d.client->GetCase(*case_id);
  REQUIRE(view.ok());
  CHECK(view->record.case_id == *case_id);
  CHECK(view->record.state == CaseState::kIssued);
  CHECK(view->record.created_by_device == kDeviceId);
  CHECK(view->record.created_by_officer == kSworn);
  REQUIRE(view->record.parties.size() == 1);
  CHECK(view->record.parties[0].name == "张三");
  CHECK(view->tickets.size() == 1);
  REQUIRE(view->timeline.size() == 1);
  CHECK(view->timeline[0].kind == CaseEventKind::kCreated);
  RequireRefused(d.client->GetCase("0190a0b0-0000-7000-8000-000000000000").status(),
                 StatusCode::kNotFound, "unknown_case",
                 "case 0190a0b0-0000-7000-8000-000000000000 is not on this device");
}

TEST_CASE("the sample catalogue is labelled SAMPLE and covers the bureau's categories") {
  v1::Catalog c = SampleCatalog();
  CHECK(c.label().find("SAMPLE") != std::string::npos);
  CHECK(c.matters_size() >= 30);
  std::set<std::string> categories;
  int fast = 0, listed = 0, delegated = 0, major = 0;
  for (const v1::Matter& m : c.matters()) {
    categories.insert(m.category());
    fast += m.fast_track();
    if (m.no_penalty_list()) {
      ++listed;
      CHECK_FALSE(m.no_penalty_field().empty());
    }
    delegated += m.delegated_to_towns();
    major += m.major();
    CHECK(m.fine_max_fen() >= m.fine_min_fen());
  }
  for (const char* cat : {"市容环境", "市政公用", "园林绿化", "环境保护", "城乡规划", "建筑垃圾",
                          "燃气", "停车秩序"}) {
    CHECK(categories.count(cat) == 1);
  }
  CHECK(fast > 0);
  CHECK(listed > 0);
  CHECK(delegated > 0);
  CHECK(major > 0);
  CHECK_FALSE(
      internal::CatalogFromJson("{\"matters\": [{\"code\": \"X\", \"nmae\": \"typo\"}]}").ok());
}

}  // namespace
}  // namespace palm::testing
