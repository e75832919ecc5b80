// The device store's schema, as numbered forward-only migrations.
//
// Migration N is applied once, in its own transaction, and recorded in
// schema_migrations (PRAGMA user_version mirrors the newest). A migration is
// never edited after release: a change is a new migration appended here.
//
// Personal data of parties never appears in clear: `parties.sealed` and
// `outbox.sealed` are AES-256-GCM ciphertexts (crypto.h), and so are the
// officer's session token (`officer_session.sealed`) and the bureau's
// party-key secret (`party_key_secret.sealed`).
#ifndef PALM_CLIENT_SCHEMA_H_
#define PALM_CLIENT_SCHEMA_H_

#include <cstdint>

namespace palm::internal {

struct Migration {
  int64_t version;
  const char* sql;
};

inline constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE device_state (
  id               INTEGER PRIMARY KEY CHECK (id = 1),
  device_id        TEXT NOT NULL,
  last_device_seq  INTEGER NOT NULL DEFAULT 0,
  hlc_wall_ms      INTEGER NOT NULL DEFAULT 0,
  hlc_logical      INTEGER NOT NULL DEFAULT 0,
  catalog_version  INTEGER NOT NULL DEFAULT 0,
  catalog_label    TEXT NOT NULL DEFAULT '',
  key_check        BLOB NOT NULL,
  sync_cursor      BLOB,
  server_epoch     TEXT NOT NULL DEFAULT '',
  last_sync_report TEXT
);
CREATE TABLE matters (code TEXT PRIMARY KEY, proto BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE officers (officer_id TEXT PRIMARY KEY, proto BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE towns (town_id TEXT PRIMARY KEY, proto BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE squads (squad_id TEXT PRIMARY KEY, proto BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE prior_violations (
  party_key     TEXT NOT NULL,
  matter_code   TEXT NOT NULL,
  case_number   TEXT NOT NULL,
  decided_at_ms INTEGER NOT NULL,
  PRIMARY KEY (party_key, matter_code, case_number)
) WITHOUT ROWID;
CREATE TABLE ticket_leases (
  lease_id     TEXT PRIMARY KEY,
  first_number INTEGER NOT NULL,
  last_number  INTEGER NOT NULL,
  next_number  INTEGER NOT NULL,
  prefix       TEXT NOT NULL,
  proto        BLOB NOT NULL
);
CREATE TABLE cases (
  case_id        TEXT PRIMARY KEY,
  state          INTEGER NOT NULL,
  town_id        TEXT NOT NULL,
  occurred_at_ms INTEGER NOT NULL,
  proto          BLOB NOT NULL   -- palm.v1.Case without parties
);
CREATE INDEX cases_by_time ON cases (occurred_at_ms DESC, case_id DESC);
CREATE INDEX cases_by_state ON cases (state, occurred_at_ms DESC, case_id DESC);
CREATE INDEX cases_by_town ON cases (town_id, occurred_at_ms DESC, case_id DESC);
CREATE TABLE parties (
  case_id  TEXT NOT NULL,
  party_id TEXT NOT NULL,
  ordinal  INTEGER NOT NULL,
  sealed   BLOB NOT NULL,        -- palm.v1.Party, AES-256-GCM
  PRIMARY KEY (case_id, party_id)
) WITHOUT ROWID;
CREATE TABLE evidence (
  evidence_id  TEXT PRIMARY KEY,
  case_id      TEXT NOT NULL,
  content_path TEXT NOT NULL DEFAULT '',
  uploaded     INTEGER NOT NULL DEFAULT 0,
  proto        BLOB NOT NULL
);
CREATE INDEX evidence_by_case ON evidence (case_id);
CREATE TABLE tickets (
  ticket_id     TEXT PRIMARY KEY,
  case_id       TEXT NOT NULL,
  ticket_number INTEGER NOT NULL UNIQUE,
  proto         BLOB NOT NULL
);
CREATE INDEX tickets_by_case ON tickets (case_id);
CREATE TABLE no_penalty_decisions (
  decision_id TEXT PRIMARY KEY,
  case_id     TEXT NOT NULL,
  proto       BLOB NOT NULL
);
CREATE INDEX no_penalty_by_case ON no_penalty_decisions (case_id);
CREATE TABLE case_events (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  case_id  TEXT NOT NULL,
  at_ms    INTEGER NOT NULL,
  proto    BLOB NOT NULL
);
CREATE INDEX case_events_by_case ON case_events (case_id, at_ms, seq);
CREATE TABLE outbox (
  device_seq    INTEGER PRIMARY KEY,
  mutation_id   TEXT NOT NULL UNIQUE,
  case_id       TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  acked         INTEGER NOT NULL DEFAULT 0,
  sealed        BLOB NOT NULL     -- palm.v1.Mutation, AES-256-GCM
);
)sql"},
    {2, R"sql(
-- Sync issues: rejected writes and lost field values, as the server reported
-- them; `sealed` is the palm.v1.MutationResult (rejection) or
-- palm.v1.ConflictLoss (conflict), AES-256-GCM (it may hold party data).
CREATE TABLE sync_issues (
  issue_id       TEXT PRIMARY KEY,
  kind           INTEGER NOT NULL,
  mutation_id    TEXT NOT NULL,
  device_seq     INTEGER NOT NULL,
  case_id        TEXT NOT NULL,
  recorded_at_ms INTEGER NOT NULL,
  dismissed      INTEGER NOT NULL DEFAULT 0,
  sealed         BLOB NOT NULL
);
CREATE INDEX sync_issues_by_time ON sync_issues (recorded_at_ms, issue_id);
)sql"},
    {3, R"sql(
-- Evidence receipts (issue 6): the palm.v1.EvidenceReceipt the server gave
-- for the record (GetReceipt or a pulled head), kept apart from `proto` so
-- that a pulled server version without one never drops it.
ALTER TABLE evidence ADD COLUMN receipt BLOB;
)sql"},
    {4, R"sql(
-- No query uses these two: ListCases filters state and town while it walks
-- cases_by_time in its order (EXPLAIN QUERY PLAN: SCAN cases USING INDEX
-- cases_by_time), and nothing else looks cases up by them. Each cost a page
-- in every write that records or changes a case.
DROP INDEX cases_by_state;
DROP INDEX cases_by_town;
-- The outbox without UNIQUE (mutation_id), whose index cost a page in every
-- write: push results are matched by device_seq (the primary key) and their
-- mutation id checked against the row. Mutation ids are UUIDv7 made here;
-- the server refuses a reused one.
CREATE TABLE outbox_v4 (
  device_seq    INTEGER PRIMARY KEY,
  mutation_id   TEXT NOT NULL,
  case_id       TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  acked         INTEGER NOT NULL DEFAULT 0,
  sealed        BLOB NOT NULL     -- palm.v1.Mutation, AES-256-GCM
);
INSERT INTO outbox_v4 (device_seq, mutation_id, case_id, created_at_ms, acked, sealed)
  SELECT device_seq, mutation_id, case_id, created_at_ms, acked, sealed FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v4 RENAME TO outbox;
-- Case events without AUTOINCREMENT, whose sqlite_sequence row cost a page
-- in every write that adds an event. A plain INTEGER PRIMARY KEY still gives
-- each new event a seq above every stored one, which is all that the order
-- of a case's timeline (at_ms, seq) needs; only numbers of deleted events
-- may come back.
CREATE TABLE case_events_v4 (
  seq      INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  case_id  TEXT NOT NULL,
  at_ms    INTEGER NOT NULL,
  proto    BLOB NOT NULL
);
INSERT INTO case_events_v4 (seq, event_id, case_id, at_ms, proto)
  SELECT seq, event_id, case_id, at_ms, proto FROM case_events;
DROP TABLE case_events;
ALTER TABLE case_events_v4 RENAME TO case_events;
CREATE INDEX case_events_by_case ON case_events (case_id, at_ms, seq);
DELETE FROM sqlite_sequence WHERE name = 'case_events';
)sql"},
    {5, R"sql(
-- The officer's online session (AuthService.SignIn): at most one row.
-- `sealed` is the palm.v1.SessionToken, AES-256-GCM: the token is a bearer
-- credential and never sits in the file in clear.
CREATE TABLE officer_session (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  obtained_at_ms INTEGER NOT NULL,
  sealed         BLOB NOT NULL
);
)sql"},
    {6, R"sql(
-- The working-day calendar (Art. 85) that came with the catalogue: one
-- palm.v1.CalendarYear per year. Stores from before have none until the
-- next catalogue arrives.
CREATE TABLE calendar_years (year INTEGER PRIMARY KEY, proto BLOB NOT NULL) WITHOUT ROWID;
)sql"},
    {7, R"sql(
-- Prior violations keyed under the bureau's party-key secret
-- (sync/party_key.h): key_id names the secret; '' for the plain SHA-256 of
-- older servers, rekeyed in place when the secret arrives.
ALTER TABLE prior_violations ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
-- The bureau's party-key secret (GetReferenceData): at most one row.
-- `sealed` is its 32 bytes, AES-256-GCM under the KeyProvider's key.
CREATE TABLE party_key_secret (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  key_id TEXT NOT NULL,
  sealed BLOB NOT NULL
);
)sql"},
    {8, R"sql(
-- Art. 33's grounds (sync/no_penalty.h). Decisions recorded before read
-- NO_PENALTY_GROUND_LEGACY: appending field 8 (tag 0x40) with value 4 to a
-- protobuf message sets it, and no stored decision has the field yet (`||`
-- yields text, byte for byte; the cast keeps the value a blob).
UPDATE no_penalty_decisions SET proto = CAST(proto || x'4004' AS BLOB);
-- Prior violations by violation id (PriorViolation.violation_id), so that a
-- record the server changes (voided, when its ticket was) replaces the one
-- held; rows from before get a composite id ("legacy/...", the old key).
CREATE TABLE prior_violations_v8 (
  violation_id  TEXT PRIMARY KEY,
  party_key     TEXT NOT NULL,
  matter_code   TEXT NOT NULL,
  case_number   TEXT NOT NULL,
  decided_at_ms INTEGER NOT NULL,
  key_id        TEXT NOT NULL DEFAULT '',
  voided        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO prior_violations_v8
  (violation_id, party_key, matter_code, case_number, decided_at_ms, key_id, voided)
  SELECT 'legacy/' || party_key || '/' || matter_code || '/' || case_number,
         party_key, matter_code, case_number, decided_at_ms, key_id, 0
  FROM prior_violations;
DROP TABLE prior_violations;
ALTER TABLE prior_violations_v8 RENAME TO prior_violations;
CREATE INDEX prior_violations_by_party ON prior_violations (party_key, matter_code);
)sql"},
};

inline constexpr int64_t kLatestSchemaVersion = 8;

inline constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)";
inline constexpr char kHasMigrationsTable[] =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
inline constexpr char kMaxMigration[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
inline constexpr char kRecordMigration[] =
    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)";

}  // namespace palm::internal

#endif  // PALM_CLIENT_SCHEMA_H_
