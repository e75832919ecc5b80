// The SQLite store's schema and statements (server/sqlite_store.cc): the
// numbered, forward-only migrations and one named constant per statement.
// Internal to the SQLite store; nothing else includes it.
#ifndef PALM_SERVER_SQLITE_SQL_H_
#define PALM_SERVER_SQLITE_SQL_H_

#include <sqlite3.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/backup.h"
#include "server/store.h"
#include "server/store_status.h"
#include "sync/hlc.h"
#include "sync/status_macros.h"
#include "sync/uuid.h"

namespace palm::server::sqlite_internal {

namespace v1 = palm::v1;

// Each entry is one migration, applied in order inside one transaction and
// recorded in schema_migrations. Never edit a released entry; append.
inline constexpr const char* kMigrations[] = {
    // 1: store identity.
    R"sql(
      CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    )sql",
    // 2: sync (issue 4): entities, change log, device log, conflicts, leases,
    // organisation, catalogue.
    R"sql(
      CREATE TABLE cases (
        case_id TEXT PRIMARY KEY,
        case_number TEXT,
        town_id TEXT NOT NULL,
        squad_id TEXT NOT NULL,
        state INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        body BLOB NOT NULL,
        stamps TEXT NOT NULL) STRICT;
      CREATE UNIQUE INDEX cases_by_number ON cases(case_number) WHERE case_number IS NOT NULL;
      CREATE INDEX cases_by_town ON cases(town_id, created_at_ms, case_id);
      CREATE TABLE evidence (
        evidence_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, body BLOB NOT NULL) STRICT;
      CREATE INDEX evidence_by_case ON evidence(case_id);
      CREATE TABLE tickets (
        ticket_id TEXT PRIMARY KEY, case_id TEXT NOT NULL,
        ticket_number INTEGER NOT NULL UNIQUE, body BLOB NOT NULL) STRICT;
      CREATE INDEX tickets_by_case ON tickets(case_id);
      CREATE TABLE no_penalty (
        decision_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, body BLOB NOT NULL) STRICT;
      CREATE INDEX no_penalty_by_case ON no_penalty(case_id);
      CREATE TABLE case_events (
        event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, at_ms INTEGER NOT NULL,
        body BLOB NOT NULL) STRICT;
      CREATE INDEX case_events_by_case ON case_events(case_id, at_ms);
      CREATE TABLE prior_violations (
        entity_id TEXT PRIMARY KEY, party_key TEXT NOT NULL, matter_code TEXT NOT NULL,
        case_id TEXT NOT NULL, body BLOB NOT NULL) STRICT;
      CREATE INDEX prior_by_party ON prior_violations(party_key, matter_code);
      CREATE TABLE catalogs (version INTEGER PRIMARY KEY, body BLOB NOT NULL) STRICT;
      CREATE TABLE towns (town_id TEXT PRIMARY KEY, body BLOB NOT NULL) STRICT;
      CREATE TABLE squads (
        squad_id TEXT PRIMARY KEY, town_id TEXT NOT NULL, body BLOB NOT NULL) STRICT;
      CREATE TABLE officers (
        officer_id TEXT PRIMARY KEY, town_id TEXT NOT NULL, squad_id TEXT NOT NULL,
        body BLOB NOT NULL) STRICT;
      CREATE INDEX officers_by_town ON officers(town_id, squad_id);
      CREATE TABLE devices (
        device_id TEXT PRIMARY KEY, town_id TEXT NOT NULL, squad_id TEXT NOT NULL,
        body BLOB NOT NULL) STRICT;
      CREATE TABLE device_sync (
        device_id TEXT PRIMARY KEY,
        acked_seq INTEGER NOT NULL DEFAULT 0,
        last_push_ms INTEGER NOT NULL DEFAULT 0,
        pending_mutations INTEGER NOT NULL DEFAULT 0,
        pending_uploads INTEGER NOT NULL DEFAULT 0,
        ticket_numbers_left INTEGER NOT NULL DEFAULT 0,
        reported_at_ms INTEGER NOT NULL DEFAULT 0) STRICT;
      CREATE TABLE device_log (
        device_id TEXT NOT NULL,
        device_seq INTEGER NOT NULL,
        mutation_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        outcome INTEGER NOT NULL,
        result BLOB NOT NULL,
        mutation BLOB,
        recorded_at_ms INTEGER NOT NULL,
        dismissed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (device_id, device_seq)) STRICT, WITHOUT ROWID;
      CREATE INDEX device_log_by_mutation ON device_log(mutation_id);
      CREATE INDEX device_log_rejected ON device_log(recorded_at_ms) WHERE outcome = 3;
      CREATE TABLE conflicts (
        conflict_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, squad_id TEXT NOT NULL,
        recorded_at_ms INTEGER NOT NULL, resolved INTEGER NOT NULL DEFAULT 0,
        body BLOB NOT NULL) STRICT;
      CREATE INDEX conflicts_by_case ON conflicts(case_id);
      CREATE TABLE ticket_leases (
        lease_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, first_number INTEGER NOT NULL,
        last_number INTEGER NOT NULL, body BLOB NOT NULL) STRICT;
      CREATE INDEX leases_by_device ON ticket_leases(device_id, first_number);
      CREATE INDEX leases_by_last ON ticket_leases(last_number);
      CREATE TABLE case_number_counters (year INTEGER PRIMARY KEY, last INTEGER NOT NULL) STRICT;
      CREATE TABLE change_log (
        server_seq INTEGER PRIMARY KEY,
        kind INTEGER NOT NULL,
        entity_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        UNIQUE (kind, entity_id)) STRICT;
      CREATE INDEX change_log_by_scope ON change_log(scope, server_seq);
    )sql",
    // security (issue 5): the append-only, hash-chained audit log (triggers
    // refuse UPDATE and DELETE; the chain catches whoever drops them) and
    // officer sign-in credentials (scrypt).
    R"sql(
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL) STRICT;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TABLE officer_credentials (
        officer_id TEXT PRIMARY KEY,
        salt BLOB NOT NULL,
        hash BLOB NOT NULL,
        log2_n INTEGER NOT NULL,
        r INTEGER NOT NULL,
        p INTEGER NOT NULL,
        offline_salt BLOB NOT NULL,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until_ms INTEGER NOT NULL DEFAULT 0) STRICT;
    )sql",
    // evidence log (issue 6): Merkle nodes of complete subtrees, leaves with
    // their canonical entries, signed tree heads, stored evidence files.
    R"sql(
      CREATE TABLE log_nodes (
        level INTEGER NOT NULL, node_index INTEGER NOT NULL, hash BLOB NOT NULL,
        PRIMARY KEY (level, node_index)) STRICT, WITHOUT ROWID;
      CREATE TABLE log_leaves (
        leaf_index INTEGER PRIMARY KEY, evidence_id TEXT NOT NULL UNIQUE,
        sha256 TEXT NOT NULL, entry BLOB NOT NULL) STRICT;
      CREATE INDEX log_leaves_by_sha256 ON log_leaves(sha256);
      CREATE TABLE tree_heads (
        head_seq INTEGER PRIMARY KEY, tree_size INTEGER NOT NULL, body BLOB NOT NULL) STRICT;
      CREATE TABLE evidence_blobs (
        sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, stored_at_ms INTEGER NOT NULL) STRICT;
    )sql",
    // 5: the squad leader's review of rejected mutations (who dismissed it,
    // why); case field stamps in the compact binary form (EncodeStamps).
    // Rows written before keep their JSON `stamps` until next written.
    R"sql(
      ALTER TABLE device_log ADD COLUMN dismissed_by TEXT NOT NULL DEFAULT '';
      ALTER TABLE device_log ADD COLUMN note TEXT NOT NULL DEFAULT '';
      ALTER TABLE cases ADD COLUMN field_stamps BLOB NOT NULL DEFAULT x'';
    )sql",
    // sessions ended before their expiry (RefreshSession, SignOut); a row is
    // dropped once its token would have expired anyway.
    R"sql(
      CREATE TABLE ended_sessions (
        token_id TEXT PRIMARY KEY,
        officer_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        ended_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL) STRICT;
      CREATE INDEX ended_sessions_by_expiry ON ended_sessions(expires_at_ms);
    )sql",
    // signed checkpoints of the audit chain's head (server/audit_checkpoint.h):
    // what makes a cut or rewritten audit log detectable.
    R"sql(
      CREATE TABLE audit_checkpoints (
        checkpoint_seq INTEGER PRIMARY KEY,
        entries INTEGER NOT NULL,
        body BLOB NOT NULL) STRICT;
    )sql",
    // the evidence log's transitions across restores (server/log_lineage.h).
    R"sql(
      CREATE TABLE log_transitions (
        transition_seq INTEGER PRIMARY KEY,
        to_origin TEXT NOT NULL UNIQUE,
        body BLOB NOT NULL) STRICT;
    )sql",
    // prior violations keyed under the bureau's party-key secret
    // (server/party_secret.h); '' for the plain SHA-256 of older servers.
    R"sql(
      ALTER TABLE prior_violations ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
    )sql",
    // Art. 33's grounds (sync/no_penalty.h). Decisions recorded before read
    // NO_PENALTY_GROUND_LEGACY: appending field 8 (tag 0x40) with value 4 to
    // a protobuf message sets it, and no stored body has the field yet (`||`
    // yields text, byte for byte; the cast keeps the column a blob).
    // Violations a voided ticket recorded no longer count: the cases whose
    // tickets may be voided (the bytes of `voided = true`, field 21, appear
    // in the body; a false match only costs a check) are checked once at
    // start-up (server/prior_violations.h) and dropped from the table.
    R"sql(
      UPDATE no_penalty SET body = CAST(body || x'4004' AS BLOB);
      CREATE INDEX prior_by_case ON prior_violations(case_id);
      CREATE TABLE prior_rechecks (case_id TEXT PRIMARY KEY) STRICT;
      INSERT OR IGNORE INTO prior_rechecks
        SELECT DISTINCT case_id FROM tickets WHERE instr(body, x'a80101') > 0;
    )sql",
    // The cases whose clocks run are found by state (ListDeadlines).
    R"sql(
      CREATE INDEX cases_by_state ON cases(state, town_id, case_id);
    )sql",
};
inline constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// --- SQL, one named constant per statement. ---------------------------------
inline constexpr const char* kGetEpoch = "SELECT value FROM store_meta WHERE key = 'epoch'";
inline constexpr const char* kInsertEpoch =
    "INSERT OR IGNORE INTO store_meta(key, value) VALUES ('epoch', ?1)";
inline constexpr const char* kReplaceEpoch =
    "INSERT INTO store_meta(key, value) VALUES ('epoch', ?1) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value";

inline constexpr const char* kGetCase =
    "SELECT body, stamps, field_stamps FROM cases WHERE case_id = ?1";
inline constexpr const char* kGetCaseBrief =
    "SELECT case_number, town_id FROM cases WHERE case_id = ?1";
inline constexpr const char* kGetCaseByNumber =
    "SELECT body, stamps, field_stamps FROM cases WHERE case_number = ?1";
// `stamps` (JSON, schema ≤ 4) is left empty; `field_stamps` holds them.
inline constexpr const char* kPutCase =
    "INSERT INTO cases(case_id, case_number, town_id, squad_id, state, created_at_ms, body,"
    " stamps, field_stamps) VALUES (?1, nullif(?2, ''), ?3, ?4, ?5, ?6, ?7, '', ?8)"
    " ON CONFLICT(case_id) DO UPDATE SET"
    " case_number = excluded.case_number, town_id = excluded.town_id,"
    " squad_id = excluded.squad_id, state = excluded.state, body = excluded.body,"
    " stamps = '', field_stamps = excluded.field_stamps";
// A stored case whose number, town and squad stay as they are: the row is
// rewritten without touching the indexes over those columns (an upsert sets
// every indexed column, so SQLite moves each index entry).
inline constexpr const char* kUpdateCaseBody =
    "UPDATE cases SET state = ?2, body = ?3, stamps = '', field_stamps = ?4 WHERE case_id = ?1";
inline constexpr const char* kListCases =
    "SELECT body FROM cases WHERE (?1 = '' OR town_id = ?1) AND (?2 = '' OR squad_id = ?2)"
    " AND (?3 = 0 OR state = ?3) AND created_at_ms >= ?4 AND (?5 = 0 OR created_at_ms < ?5)"
    " AND (created_at_ms, case_id) > (?6, ?7) ORDER BY created_at_ms, case_id LIMIT ?8";
inline constexpr const char* kListCasesInStates =
    "SELECT body FROM cases WHERE state IN (SELECT value FROM json_each(?3))"
    " AND (?1 = '' OR town_id = ?1) AND (?2 = '' OR squad_id = ?2) AND case_id > ?4"
    " ORDER BY case_id LIMIT ?5";
inline constexpr const char* kGetEvidence = "SELECT body FROM evidence WHERE evidence_id = ?1";
inline constexpr const char* kPutEvidence =
    "INSERT OR REPLACE INTO evidence(evidence_id, case_id, body) VALUES (?1, ?2, ?3)";
inline constexpr const char* kEvidenceOfCase =
    "SELECT body FROM evidence WHERE case_id = ?1 ORDER BY evidence_id";
inline constexpr const char* kGetTicket = "SELECT body FROM tickets WHERE ticket_id = ?1";
inline constexpr const char* kGetTicketByNumber =
    "SELECT body FROM tickets WHERE ticket_number = ?1";
inline constexpr const char* kPutTicket =
    "INSERT OR REPLACE INTO tickets(ticket_id, case_id, ticket_number, body) VALUES (?1, ?2, ?3, "
    "?4)";
inline constexpr const char* kTicketsOfCase =
    "SELECT body FROM tickets WHERE case_id = ?1 ORDER BY ticket_number";
inline constexpr const char* kGetNoPenalty = "SELECT body FROM no_penalty WHERE decision_id = ?1";
inline constexpr const char* kPutNoPenalty =
    "INSERT OR REPLACE INTO no_penalty(decision_id, case_id, body) VALUES (?1, ?2, ?3)";
inline constexpr const char* kNoPenaltyOfCase =
    "SELECT body FROM no_penalty WHERE case_id = ?1 ORDER BY decision_id";
inline constexpr const char* kGetEvent = "SELECT body FROM case_events WHERE event_id = ?1";
inline constexpr const char* kPutEvent =
    "INSERT OR REPLACE INTO case_events(event_id, case_id, at_ms, body) VALUES (?1, ?2, ?3, ?4)";
inline constexpr const char* kEventsOfCase =
    "SELECT body FROM case_events WHERE case_id = ?1 ORDER BY at_ms, event_id";
inline constexpr const char* kFindPriors =
    "SELECT body FROM prior_violations WHERE party_key = ?1 AND matter_code = ?2 ORDER BY rowid";
inline constexpr const char* kPriorsOfCase =
    "SELECT entity_id, case_id, body FROM prior_violations WHERE case_id = ?1 ORDER BY entity_id";
inline constexpr const char* kPendingPriorRechecks =
    "SELECT case_id FROM prior_rechecks ORDER BY case_id";
inline constexpr const char* kClearPriorRecheck = "DELETE FROM prior_rechecks WHERE case_id = ?1";
inline constexpr const char* kGetPrior = "SELECT body FROM prior_violations WHERE entity_id = ?1";
inline constexpr const char* kPutPrior =
    "INSERT OR REPLACE INTO prior_violations(entity_id, party_key, matter_code, case_id, body,"
    " key_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
inline constexpr const char* kPriorKeyIds =
    "SELECT DISTINCT key_id FROM prior_violations ORDER BY key_id";
inline constexpr const char* kPriorsUnder =
    "SELECT entity_id, case_id, body FROM prior_violations WHERE key_id = ?1 ORDER BY entity_id";
inline constexpr const char* kReplacePrior =
    "UPDATE prior_violations SET party_key = ?2, body = ?3, key_id = ?4 WHERE entity_id = ?1";
inline constexpr const char* kCurrentCatalog =
    "SELECT body FROM catalogs ORDER BY version DESC LIMIT 1";
inline constexpr const char* kPutCatalog =
    "INSERT OR REPLACE INTO catalogs(version, body) VALUES (?1, ?2)";
inline constexpr const char* kGetTown = "SELECT body FROM towns WHERE town_id = ?1";
inline constexpr const char* kListTowns = "SELECT body FROM towns ORDER BY town_id";
inline constexpr const char* kPutTown =
    "INSERT OR REPLACE INTO towns(town_id, body) VALUES (?1, ?2)";
inline constexpr const char* kGetSquad = "SELECT body FROM squads WHERE squad_id = ?1";
inline constexpr const char* kListSquads =
    "SELECT body FROM squads WHERE (?1 = '' OR town_id = ?1) ORDER BY squad_id";
inline constexpr const char* kPutSquad =
    "INSERT OR REPLACE INTO squads(squad_id, town_id, body) VALUES (?1, ?2, ?3)";
inline constexpr const char* kGetOfficer = "SELECT body FROM officers WHERE officer_id = ?1";
inline constexpr const char* kListOfficers =
    "SELECT body FROM officers WHERE (?1 = '' OR town_id = ?1) AND (?2 = '' OR squad_id = ?2)"
    " AND officer_id > ?3 ORDER BY officer_id LIMIT ?4";
inline constexpr const char* kPutOfficer =
    "INSERT OR REPLACE INTO officers(officer_id, town_id, squad_id, body) VALUES (?1, ?2, ?3, ?4)";
inline constexpr const char* kGetDevice = "SELECT body FROM devices WHERE device_id = ?1";
inline constexpr const char* kListDevices =
    "SELECT body FROM devices WHERE (?1 = '' OR town_id = ?1) AND (?2 = '' OR squad_id = ?2)"
    " AND device_id > ?3 ORDER BY device_id LIMIT ?4";
inline constexpr const char* kAllDevices = "SELECT body FROM devices";
inline constexpr const char* kPutDevice =
    "INSERT OR REPLACE INTO devices(device_id, town_id, squad_id, body) VALUES (?1, ?2, ?3, ?4)";
inline constexpr const char* kGetDeviceSync =
    "SELECT acked_seq, last_push_ms, pending_mutations, pending_uploads, ticket_numbers_left,"
    " reported_at_ms FROM device_sync WHERE device_id = ?1";
inline constexpr const char* kAdvanceDeviceSync =
    "INSERT INTO device_sync(device_id, acked_seq, last_push_ms) VALUES (?1, ?2, ?3)"
    " ON CONFLICT(device_id) DO UPDATE SET acked_seq = max(acked_seq, excluded.acked_seq),"
    " last_push_ms = excluded.last_push_ms";
inline constexpr const char* kPutDeviceReport =
    "INSERT INTO device_sync(device_id, pending_mutations, pending_uploads, ticket_numbers_left,"
    " reported_at_ms) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(device_id) DO UPDATE SET"
    " pending_mutations = excluded.pending_mutations,"
    " pending_uploads = excluded.pending_uploads,"
    " ticket_numbers_left = excluded.ticket_numbers_left,"
    " reported_at_ms = excluded.reported_at_ms";
inline constexpr const char* kGetDeviceLog =
    "SELECT device_id, device_seq, mutation_id, digest, result, mutation, recorded_at_ms,"
    " dismissed, dismissed_by, note FROM device_log WHERE device_id = ?1 AND device_seq = ?2";
inline constexpr const char* kMutationIdKnown =
    "SELECT 1 FROM device_log WHERE mutation_id = ?1 LIMIT 1";
inline constexpr const char* kListRejected =
    "SELECT d.device_id, d.device_seq, d.mutation_id, d.digest, d.result, d.mutation,"
    " d.recorded_at_ms, d.dismissed, d.dismissed_by, d.note FROM device_log d LEFT JOIN devices v "
    "USING (device_id)"
    " WHERE d.outcome = 3 AND (?1 = '' OR v.squad_id = ?1) AND (?2 OR d.dismissed = 0)"
    " AND (NOT ?3 OR (d.recorded_at_ms, d.device_id, d.device_seq) > (?4, ?5, ?6))"
    " ORDER BY d.recorded_at_ms, d.device_id, d.device_seq LIMIT ?7";
inline constexpr const char* kGetRejected =
    "SELECT device_id, device_seq, mutation_id, digest, result, mutation, recorded_at_ms,"
    " dismissed, dismissed_by, note FROM device_log WHERE mutation_id = ?1 AND outcome = 3"
    " ORDER BY recorded_at_ms DESC LIMIT 1";
inline constexpr const char* kPutDeviceLog =
    "INSERT OR REPLACE INTO device_log(device_id, device_seq, mutation_id, digest, outcome,"
    " result, mutation, recorded_at_ms, dismissed, dismissed_by, note)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
inline constexpr const char* kPutRejectedReview =
    "UPDATE device_log SET dismissed = ?3, dismissed_by = ?4, note = ?5"
    " WHERE device_id = ?1 AND device_seq = ?2";
inline constexpr const char* kListConflicts =
    "SELECT body FROM conflicts WHERE (?1 = '' OR squad_id = ?1) AND (?2 = '' OR case_id = ?2)"
    " AND (?3 OR resolved = 0) AND (NOT ?4 OR (recorded_at_ms, conflict_id) > (?5, ?6))"
    " ORDER BY recorded_at_ms, conflict_id LIMIT ?7";
inline constexpr const char* kGetConflict = "SELECT body FROM conflicts WHERE conflict_id = ?1";
inline constexpr const char* kPutConflict =
    "INSERT OR REPLACE INTO conflicts(conflict_id, case_id, squad_id, recorded_at_ms, resolved,"
    " body) VALUES (?1, ?2, (SELECT squad_id FROM cases WHERE case_id = ?2), ?3, ?4, ?5)";
inline constexpr const char* kGetLease = "SELECT body FROM ticket_leases WHERE lease_id = ?1";
inline constexpr const char* kListLeases =
    "SELECT body FROM ticket_leases WHERE device_id = ?1 ORDER BY first_number";
inline constexpr const char* kHighestLeased =
    "SELECT coalesce(max(last_number), 0) FROM ticket_leases";
inline constexpr const char* kLeaseOverlapping =
    "SELECT body FROM ticket_leases WHERE last_number >= ?1 AND first_number <= ?2"
    " ORDER BY first_number LIMIT 1";
inline constexpr const char* kHighestUsedTicket =
    "SELECT coalesce(max(ticket_number), 0) FROM tickets WHERE ticket_number BETWEEN ?1 AND ?2";
inline constexpr const char* kPutLease =
    "INSERT OR REPLACE INTO ticket_leases(lease_id, device_id, first_number, last_number, body)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
// No RETURNING on the push path: a RETURNING statement runs under its own
// statement journal, and inside the writer's group transaction that copies
// every page it touches that is already dirty — it made AppendChange a
// quarter of the writer's time (docs/benchmarks.md, push).
inline constexpr const char* kBumpCaseNumber =
    "INSERT INTO case_number_counters(year, last) VALUES (?1, 1)"
    " ON CONFLICT(year) DO UPDATE SET last = last + 1";
inline constexpr const char* kGetCaseNumber =
    "SELECT last FROM case_number_counters WHERE year = ?1";
inline constexpr const char* kCaseNumberCounters = "SELECT year, last FROM case_number_counters";
inline constexpr const char* kRaiseCaseNumber =
    "INSERT INTO case_number_counters(year, last) VALUES (?1, ?2)"
    " ON CONFLICT(year) DO UPDATE SET last = max(last, excluded.last)";
// The writer knows the counter's value: one statement instead of two.
inline constexpr const char* kSetCaseNumber =
    "INSERT INTO case_number_counters(year, last) VALUES (?1, ?2)"
    " ON CONFLICT(year) DO UPDATE SET last = excluded.last";
inline constexpr const char* kHighestSeq = "SELECT coalesce(max(server_seq), 0) FROM change_log";
inline constexpr const char* kAppendChange =
    "INSERT INTO change_log(server_seq, kind, entity_id, scope) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT(kind, entity_id) DO UPDATE SET server_seq = excluded.server_seq,"
    " scope = excluded.scope";
inline constexpr const char* kCountChanges =
    "SELECT count(*) FROM change_log WHERE server_seq > ?1 AND server_seq <= ?2"
    " AND scope IN (?3, ?4, ?5)";
inline constexpr const char* kReadChanges =
    "SELECT server_seq, kind, entity_id FROM change_log WHERE server_seq > ?1"
    " AND server_seq <= ?2 AND scope IN (?3, ?4, ?5) ORDER BY server_seq LIMIT ?6";

// Security (issue 5).
inline constexpr const char* kLastAuditHead =
    "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
inline constexpr const char* kReadAudit =
    "SELECT seq, at_ms, actor, action, subject, details, prev_hash, hash FROM audit_log"
    " WHERE seq > ?1 ORDER BY seq LIMIT ?2";
inline constexpr const char* kInsertAudit =
    "INSERT INTO audit_log(seq, at_ms, actor, action, subject, details, prev_hash, hash)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
inline constexpr const char* kGetCredential =
    "SELECT officer_id, salt, hash, log2_n, r, p, offline_salt, failed_attempts,"
    " locked_until_ms FROM officer_credentials WHERE officer_id = ?1";
inline constexpr const char* kPutCredential =
    "INSERT OR REPLACE INTO officer_credentials(officer_id, salt, hash, log2_n, r, p,"
    " offline_salt, failed_attempts, locked_until_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
inline constexpr const char* kListEndedSessions =
    "SELECT token_id, officer_id, reason, ended_at_ms, expires_at_ms FROM ended_sessions"
    " WHERE expires_at_ms > ?1";
inline constexpr const char* kInsertEndedSession =
    "INSERT OR IGNORE INTO ended_sessions(token_id, officer_id, reason, ended_at_ms,"
    " expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr const char* kForgetEndedSessions =
    "DELETE FROM ended_sessions WHERE expires_at_ms <= ?1";

// Evidence log (issue 6).
inline constexpr const char* kGetLogNode =
    "SELECT hash FROM log_nodes WHERE level = ?1 AND node_index = ?2";
inline constexpr const char* kPutLogNode =
    "INSERT OR REPLACE INTO log_nodes(level, node_index, hash) VALUES (?1, ?2, ?3)";
inline constexpr const char* kLogSize = "SELECT coalesce(max(leaf_index) + 1, 0) FROM log_leaves";
inline constexpr const char* kGetLogLeaf =
    "SELECT leaf_index, evidence_id, sha256, entry FROM log_leaves WHERE leaf_index = ?1";
inline constexpr const char* kGetLogLeafOfEvidence =
    "SELECT leaf_index, evidence_id, sha256, entry FROM log_leaves WHERE evidence_id = ?1";
inline constexpr const char* kListLogLeaves =
    "SELECT leaf_index, evidence_id, sha256, entry FROM log_leaves"
    " WHERE leaf_index >= ?1 AND leaf_index < ?2 ORDER BY leaf_index";
inline constexpr const char* kLogLeavesWithContent =
    "SELECT leaf_index, evidence_id, sha256, entry FROM log_leaves WHERE sha256 = ?1"
    " ORDER BY leaf_index";
inline constexpr const char* kPutLogLeaf =
    "INSERT INTO log_leaves(leaf_index, evidence_id, sha256, entry) VALUES (?1, ?2, ?3, ?4)";
inline constexpr const char* kLatestTreeHead =
    "SELECT body FROM tree_heads ORDER BY head_seq DESC LIMIT 1";
inline constexpr const char* kPutTreeHead =
    "INSERT INTO tree_heads(tree_size, body) VALUES (?1, ?2)";
inline constexpr const char* kLatestAuditCheckpoint =
    "SELECT body FROM audit_checkpoints ORDER BY checkpoint_seq DESC LIMIT 1";
inline constexpr const char* kPutAuditCheckpoint =
    "INSERT INTO audit_checkpoints(entries, body) VALUES (?1, ?2)";
inline constexpr const char* kLogTransitions =
    "SELECT body FROM log_transitions ORDER BY transition_seq";
inline constexpr const char* kPutLogTransition =
    "INSERT INTO log_transitions(to_origin, body) VALUES (?1, ?2)";
inline constexpr const char* kGetBlob =
    "SELECT sha256, size, stored_at_ms FROM evidence_blobs WHERE sha256 = ?1";
inline constexpr const char* kPutBlob =
    "INSERT OR REPLACE INTO evidence_blobs(sha256, size, stored_at_ms) VALUES (?1, ?2, ?3)";

}  // namespace palm::server::sqlite_internal

#endif  // PALM_SERVER_SQLITE_SQL_H_
