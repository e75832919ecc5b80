// The embedded SQLite server store. WAL mode with synchronous=FULL: an
// acknowledged write survives power loss. Schema changes are numbered,
// forward-only migrations recorded in the database.
//
// Threads: one writer thread owns the only read-write connection and commits
// queued units of work in groups (one transaction, one fsync for many
// batches); `reader_threads` threads each own a read-only connection (WAL
// lets them read while the writer writes). One connection, one thread.
//
// Entities are stored as their palm.v1 protobuf encoding (the wire contract,
// versioned additively) next to the columns that are queried or indexed.
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

namespace palm::server {

std::string GlobalScope() { return "*"; }
std::string TownScope(const std::string& town_id) { return absl::StrCat("town:", town_id); }
std::string DeviceScope(const std::string& device_id) { return absl::StrCat("device:", device_id); }
std::string FieldKey(palm::v1::CaseField field, const std::string& party_id) {
  if (party_id.empty()) return absl::StrCat(static_cast<int>(field));
  return absl::StrCat(static_cast<int>(field), ":", party_id);
}

namespace {

namespace v1 = palm::v1;

// Each entry is one migration, applied in order inside one transaction and
// recorded in schema_migrations. Never edit a released entry; append.
constexpr const char* kMigrations[] = {
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
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// --- SQL, one named constant per statement. ---------------------------------
constexpr const char* kGetEpoch = "SELECT value FROM store_meta WHERE key = 'epoch'";
constexpr const char* kInsertEpoch =
    "INSERT OR IGNORE INTO store_meta(key, value) VALUES ('epoch', ?1)";
constexpr const char* kReplaceEpoch =
    "INSERT INTO store_meta(key, value) VALUES ('epoch', ?1) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value";

constexpr const char* kGetCase = "SELECT body, stamps, field_stamps FROM cases WHERE case_id = ?1";
constexpr const char* kGetCaseBrief = "SELECT case_number, town_id FROM cases WHERE case_id = ?1";
constexpr const char* kGetCaseByNumber =
    "SELECT body, stamps, field_stamps FROM cases WHERE case_number = ?1";
// `stamps` (JSON, schema ≤ 4) is left empty; `field_stamps` holds them.
constexpr const char* kPutCase =
    "INSERT INTO cases(case_id, case_number, town_id, squad_id, state, created_at_ms, body,"
    " stamps, field_stamps) VALUES (?1, nullif(?2, ''), ?3, ?4, ?5, ?6, ?7, '', ?8)"
    " ON CONFLICT(case_id) DO UPDATE SET"
    " case_number = excluded.case_number, town_id = excluded.town_id,"
    " squad_id = excluded.squad_id, state = excluded.state, body = excluded.body,"
    " stamps = '', field_stamps = excluded.field_stamps";
// A stored case whose number, town and squad stay as they are: the row is
// rewritten without touching the indexes over those columns (an upsert sets
// every indexed column, so SQLite moves each index entry).
constexpr const char* kUpdateCaseBody =
    "UPDATE cases SET state = ?2, body = ?3, stamps = '', field_stamps = ?4 WHERE case_id = ?1";
constexpr const char* kListCases =
    "SELECT body FROM cases WHERE (?1 = '' OR town_id = ?1) AND (?2 = '' OR squad_id = ?2)"
    " AND (?3 = 0 OR state = ?3) AND created_at_ms >= ?4 AND (?5 = 0 OR created_at_ms < ?5)"
    " AND (created_at_ms, case_id) > (?6, ?7) ORDER BY created_at_ms, case_id LIMIT ?8";
constexpr const char* kGetEvidence = "SELECT body FROM evidence WHERE evidence_id = ?1";
constexpr const char* kPutEvidence =
    "INSERT OR REPLACE INTO evidence(evidence_id, case_id, body) VALUES (?1, ?2, ?3)";
constexpr const char* kEvidenceOfCase =
    "SELECT body FROM evidence WHERE case_id = ?1 ORDER BY evidence_id";
constexpr const char* kGetTicket = "SELECT body FROM tickets WHERE ticket_id = ?1";
constexpr const char* kGetTicketByNumber = "SELECT body FROM tickets WHERE ticket_number = ?1";
constexpr const char* kPutTicket =
    "INSERT OR REPLACE INTO tickets(ticket_id, case_id, ticket_number, body) VALUES (?1, ?2, ?3, "
    "?4)";
constexpr const char* kTicketsOfCase =
    "SELECT body FROM tickets WHERE case_id = ?1 ORDER BY ticket_number";
constexpr const char* kGetNoPenalty = "SELECT body FROM no_penalty WHERE decision_id = ?1";
constexpr const char* kPutNoPenalty =
    "INSERT OR REPLACE INTO no_penalty(decision_id, case_id, body) VALUES (?1, ?2, ?3)";
constexpr const char* kNoPenaltyOfCase =
    "SELECT body FROM no_penalty WHERE case_id = ?1 ORDER BY decision_id";
constexpr const char* kGetEvent = "SELECT body FROM case_events WHERE event_id = ?1";
constexpr const char* kPutEvent =
    "INSERT OR REPLACE INTO case_events(event_id, case_id, at_ms, body) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kEventsOfCase =
    "SELECT body FROM case_events WHERE case_id = ?1 ORDER BY at_ms, event_id";
constexpr const char* kFindPrior =
    "SELECT body FROM prior_violations WHERE party_key = ?1 AND matter_code = ?2"
    " ORDER BY rowid LIMIT 1";
constexpr const char* kGetPrior = "SELECT body FROM prior_violations WHERE entity_id = ?1";
constexpr const char* kPutPrior =
    "INSERT OR REPLACE INTO prior_violations(entity_id, party_key, matter_code, case_id, body)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kCurrentCatalog = "SELECT body FROM catalogs ORDER BY version DESC LIMIT 1";
constexpr const char* kPutCatalog =
    "INSERT OR REPLACE INTO catalogs(version, body) VALUES (?1, ?2)";
constexpr const char* kGetTown = "SELECT body FROM towns WHERE town_id = ?1";
constexpr const char* kListTowns = "SELECT body FROM towns ORDER BY town_id";
constexpr const char* kPutTown = "INSERT OR REPLACE INTO towns(town_id, body) VALUES (?1, ?2)";
constexpr const char* kGetSquad = "SELECT body FROM squads WHERE squad_id = ?1";
constexpr const char* kListSquads =
    "SELECT body FROM squads WHERE (?1 = '' OR town_id = ?1) ORDER BY squad_id";
constexpr const char* kPutSquad =
    "INSERT OR REPLACE INTO squads(squad_id, town_id, body) VALUES (?1, ?2, ?3)";
constexpr const char* kGetOfficer = "SELECT body FROM officers WHERE officer_id = ?1";
constexpr const char* kListOfficers =
    "SELECT body FROM officers WHERE (?1 = '' OR town_id = ?1) AND (?2 = '' OR squad_id = ?2)"
    " AND officer_id > ?3 ORDER BY officer_id LIMIT ?4";
constexpr const char* kPutOfficer =
    "INSERT OR REPLACE INTO officers(officer_id, town_id, squad_id, body) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kGetDevice = "SELECT body FROM devices WHERE device_id = ?1";
constexpr const char* kListDevices =
    "SELECT body FROM devices WHERE (?1 = '' OR town_id = ?1) AND (?2 = '' OR squad_id = ?2)"
    " AND device_id > ?3 ORDER BY device_id LIMIT ?4";
constexpr const char* kAllDevices = "SELECT body FROM devices";
constexpr const char* kPutDevice =
    "INSERT OR REPLACE INTO devices(device_id, town_id, squad_id, body) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kGetDeviceSync =
    "SELECT acked_seq, last_push_ms, pending_mutations, pending_uploads, ticket_numbers_left,"
    " reported_at_ms FROM device_sync WHERE device_id = ?1";
constexpr const char* kAdvanceDeviceSync =
    "INSERT INTO device_sync(device_id, acked_seq, last_push_ms) VALUES (?1, ?2, ?3)"
    " ON CONFLICT(device_id) DO UPDATE SET acked_seq = max(acked_seq, excluded.acked_seq),"
    " last_push_ms = excluded.last_push_ms";
constexpr const char* kPutDeviceReport =
    "INSERT INTO device_sync(device_id, pending_mutations, pending_uploads, ticket_numbers_left,"
    " reported_at_ms) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(device_id) DO UPDATE SET"
    " pending_mutations = excluded.pending_mutations,"
    " pending_uploads = excluded.pending_uploads,"
    " ticket_numbers_left = excluded.ticket_numbers_left,"
    " reported_at_ms = excluded.reported_at_ms";
constexpr const char* kGetDeviceLog =
    "SELECT device_id, device_seq, mutation_id, digest, result, mutation, recorded_at_ms,"
    " dismissed, dismissed_by, note FROM device_log WHERE device_id = ?1 AND device_seq = ?2";
constexpr const char* kMutationIdKnown = "SELECT 1 FROM device_log WHERE mutation_id = ?1 LIMIT 1";
constexpr const char* kListRejected =
    "SELECT d.device_id, d.device_seq, d.mutation_id, d.digest, d.result, d.mutation,"
    " d.recorded_at_ms, d.dismissed, d.dismissed_by, d.note FROM device_log d LEFT JOIN devices v "
    "USING (device_id)"
    " WHERE d.outcome = 3 AND (?1 = '' OR v.squad_id = ?1) AND (?2 OR d.dismissed = 0)"
    " AND (NOT ?3 OR (d.recorded_at_ms, d.device_id, d.device_seq) > (?4, ?5, ?6))"
    " ORDER BY d.recorded_at_ms, d.device_id, d.device_seq LIMIT ?7";
constexpr const char* kGetRejected =
    "SELECT device_id, device_seq, mutation_id, digest, result, mutation, recorded_at_ms,"
    " dismissed, dismissed_by, note FROM device_log WHERE mutation_id = ?1 AND outcome = 3"
    " ORDER BY recorded_at_ms DESC LIMIT 1";
constexpr const char* kPutDeviceLog =
    "INSERT OR REPLACE INTO device_log(device_id, device_seq, mutation_id, digest, outcome,"
    " result, mutation, recorded_at_ms, dismissed, dismissed_by, note)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
constexpr const char* kPutRejectedReview =
    "UPDATE device_log SET dismissed = ?3, dismissed_by = ?4, note = ?5"
    " WHERE device_id = ?1 AND device_seq = ?2";
constexpr const char* kListConflicts =
    "SELECT body FROM conflicts WHERE (?1 = '' OR squad_id = ?1) AND (?2 = '' OR case_id = ?2)"
    " AND (?3 OR resolved = 0) AND (NOT ?4 OR (recorded_at_ms, conflict_id) > (?5, ?6))"
    " ORDER BY recorded_at_ms, conflict_id LIMIT ?7";
constexpr const char* kGetConflict = "SELECT body FROM conflicts WHERE conflict_id = ?1";
constexpr const char* kPutConflict =
    "INSERT OR REPLACE INTO conflicts(conflict_id, case_id, squad_id, recorded_at_ms, resolved,"
    " body) VALUES (?1, ?2, (SELECT squad_id FROM cases WHERE case_id = ?2), ?3, ?4, ?5)";
constexpr const char* kGetLease = "SELECT body FROM ticket_leases WHERE lease_id = ?1";
constexpr const char* kListLeases =
    "SELECT body FROM ticket_leases WHERE device_id = ?1 ORDER BY first_number";
constexpr const char* kHighestLeased = "SELECT coalesce(max(last_number), 0) FROM ticket_leases";
constexpr const char* kLeaseOverlapping =
    "SELECT body FROM ticket_leases WHERE last_number >= ?1 AND first_number <= ?2"
    " ORDER BY first_number LIMIT 1";
constexpr const char* kHighestUsedTicket =
    "SELECT coalesce(max(ticket_number), 0) FROM tickets WHERE ticket_number BETWEEN ?1 AND ?2";
constexpr const char* kPutLease =
    "INSERT OR REPLACE INTO ticket_leases(lease_id, device_id, first_number, last_number, body)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
// No RETURNING on the push path: a RETURNING statement runs under its own
// statement journal, and inside the writer's group transaction that copies
// every page it touches that is already dirty — it made AppendChange a
// quarter of the writer's time (docs/benchmarks.md, push).
constexpr const char* kBumpCaseNumber =
    "INSERT INTO case_number_counters(year, last) VALUES (?1, 1)"
    " ON CONFLICT(year) DO UPDATE SET last = last + 1";
constexpr const char* kGetCaseNumber = "SELECT last FROM case_number_counters WHERE year = ?1";
constexpr const char* kCaseNumberCounters = "SELECT year, last FROM case_number_counters";
constexpr const char* kRaiseCaseNumber =
    "INSERT INTO case_number_counters(year, last) VALUES (?1, ?2)"
    " ON CONFLICT(year) DO UPDATE SET last = max(last, excluded.last)";
// The writer knows the counter's value: one statement instead of two.
constexpr const char* kSetCaseNumber =
    "INSERT INTO case_number_counters(year, last) VALUES (?1, ?2)"
    " ON CONFLICT(year) DO UPDATE SET last = excluded.last";
constexpr const char* kHighestSeq = "SELECT coalesce(max(server_seq), 0) FROM change_log";
constexpr const char* kAppendChange =
    "INSERT INTO change_log(server_seq, kind, entity_id, scope) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT(kind, entity_id) DO UPDATE SET server_seq = excluded.server_seq,"
    " scope = excluded.scope";
constexpr const char* kCountChanges =
    "SELECT count(*) FROM change_log WHERE server_seq > ?1 AND server_seq <= ?2"
    " AND scope IN (?3, ?4, ?5)";
constexpr const char* kReadChanges =
    "SELECT server_seq, kind, entity_id FROM change_log WHERE server_seq > ?1"
    " AND server_seq <= ?2 AND scope IN (?3, ?4, ?5) ORDER BY server_seq LIMIT ?6";

// Security (issue 5).
constexpr const char* kLastAuditHead = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
constexpr const char* kReadAudit =
    "SELECT seq, at_ms, actor, action, subject, details, prev_hash, hash FROM audit_log"
    " WHERE seq > ?1 ORDER BY seq LIMIT ?2";
constexpr const char* kInsertAudit =
    "INSERT INTO audit_log(seq, at_ms, actor, action, subject, details, prev_hash, hash)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* kGetCredential =
    "SELECT officer_id, salt, hash, log2_n, r, p, offline_salt, failed_attempts,"
    " locked_until_ms FROM officer_credentials WHERE officer_id = ?1";
constexpr const char* kPutCredential =
    "INSERT OR REPLACE INTO officer_credentials(officer_id, salt, hash, log2_n, r, p,"
    " offline_salt, failed_attempts, locked_until_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr const char* kListEndedSessions =
    "SELECT token_id, officer_id, reason, ended_at_ms, expires_at_ms FROM ended_sessions"
    " WHERE expires_at_ms > ?1";
constexpr const char* kInsertEndedSession =
    "INSERT OR IGNORE INTO ended_sessions(token_id, officer_id, reason, ended_at_ms,"
    " expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kForgetEndedSessions = "DELETE FROM ended_sessions WHERE expires_at_ms <= ?1";

// Evidence log (issue 6).
constexpr const char* kGetLogNode =
    "SELECT hash FROM log_nodes WHERE level = ?1 AND node_index = ?2";
constexpr const char* kPutLogNode =
    "INSERT OR REPLACE INTO log_nodes(level, node_index, hash) VALUES (?1, ?2, ?3)";
constexpr const char* kLogSize = "SELECT coalesce(max(leaf_index) + 1, 0) FROM log_leaves";
constexpr const char* kGetLogLeaf =
    "SELECT leaf_index, evidence_id, sha256, entry FROM log_leaves WHERE leaf_index = ?1";
constexpr const char* kGetLogLeafOfEvidence =
    "SELECT leaf_index, evidence_id, sha256, entry FROM log_leaves WHERE evidence_id = ?1";
constexpr const char* kListLogLeaves =
    "SELECT leaf_index, evidence_id, sha256, entry FROM log_leaves"
    " WHERE leaf_index >= ?1 AND leaf_index < ?2 ORDER BY leaf_index";
constexpr const char* kLogLeavesWithContent =
    "SELECT leaf_index, evidence_id, sha256, entry FROM log_leaves WHERE sha256 = ?1"
    " ORDER BY leaf_index";
constexpr const char* kPutLogLeaf =
    "INSERT INTO log_leaves(leaf_index, evidence_id, sha256, entry) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kLatestTreeHead =
    "SELECT body FROM tree_heads ORDER BY head_seq DESC LIMIT 1";
constexpr const char* kPutTreeHead = "INSERT INTO tree_heads(tree_size, body) VALUES (?1, ?2)";
constexpr const char* kLatestAuditCheckpoint =
    "SELECT body FROM audit_checkpoints ORDER BY checkpoint_seq DESC LIMIT 1";
constexpr const char* kPutAuditCheckpoint =
    "INSERT INTO audit_checkpoints(entries, body) VALUES (?1, ?2)";
constexpr const char* kLogTransitions = "SELECT body FROM log_transitions ORDER BY transition_seq";
constexpr const char* kPutLogTransition =
    "INSERT INTO log_transitions(to_origin, body) VALUES (?1, ?2)";
constexpr const char* kGetBlob =
    "SELECT sha256, size, stored_at_ms FROM evidence_blobs WHERE sha256 = ?1";
constexpr const char* kPutBlob =
    "INSERT OR REPLACE INTO evidence_blobs(sha256, size, stored_at_ms) VALUES (?1, ?2, ?3)";

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  // The mapping (a full disk is RESOURCE_EXHAUSTED) is server/store_status.h's.
  return SqliteStatus(rc, db ? sqlite3_system_errno(db) : 0, what,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int64_t NowMs() { return sync::SystemNowMs(); }

// One use of a cached prepared statement: binds, steps, reads columns, and
// resets the statement when it goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Text and Blob bind without copying (SQLITE_STATIC). A value passed by
  // reference must outlive the statement's last Step(); a temporary (a
  // serialised message, say) is moved into the Statement, which keeps it
  // until the end of this use. With SQLITE_TRANSIENT, SQLite allocated and
  // copied every bound value on the push writer (docs/benchmarks.md).
  Statement& Text(int i, const std::string& value) {
    sqlite3_bind_text(stmt_, i, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& Text(int i, std::string&& value) {
    if (std::string* kept = Keep(std::move(value))) return Text(i, *kept);
    sqlite3_bind_text(stmt_, i, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Int(int i, int64_t value) {
    sqlite3_bind_int64(stmt_, i, value);
    return *this;
  }
  Statement& Blob(int i, const std::string& value) {
    sqlite3_bind_blob(stmt_, i, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& Blob(int i, std::string&& value) {
    if (std::string* kept = Keep(std::move(value))) return Blob(i, *kept);
    sqlite3_bind_blob(stmt_, i, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // Returns true when a row is available, false when done.
  absl::StatusOr<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, sqlite3_sql(stmt_));
  }
  // Steps to the end, ignoring rows.
  absl::Status Run() {
    while (true) {
      auto row = Step();
      if (!row.ok()) return row.status();
      if (!*row) return absl::OkStatus();
    }
  }

  int64_t ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool ColumnNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string ColumnText(int col) const {
    const unsigned char* text = sqlite3_column_text(stmt_, col);
    return text == nullptr
               ? std::string()
               : std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, col));
  }
  std::string ColumnBlob(int col) const {
    const void* data = sqlite3_column_blob(stmt_, col);
    return data == nullptr
               ? std::string()
               : std::string(static_cast<const char*>(data), sqlite3_column_bytes(stmt_, col));
  }

 private:
  // Takes `value` into a free slot and returns it, or returns null (leaving
  // `value` alone) when every slot is taken; the slots outlive the bindings.
  std::string* Keep(std::string&& value) {
    if (kept_count_ == kept_.size()) return nullptr;
    std::string& slot = kept_[kept_count_++];
    slot = std::move(value);
    return &slot;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  // No statement binds more than two temporaries today.
  std::array<std::string, 4> kept_;
  size_t kept_count_ = 0;
};

template <typename Message>
absl::StatusOr<Message> ParseBody(const std::string& bytes, absl::string_view what) {
  Message message;
  if (!message.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("stored ", what, " cannot be decoded"));
  }
  return message;
}

// Case field stamps, binary (schema 5): a sequence of entries, each
//   varint len, key | varint wall_ms | varint logical |
//   varint len, device_id | varint len, mutation_id
// in key order. Written on every case write of the push path, so it is kept
// free of parsing and per-field allocations beyond the strings themselves.
void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutBytes(std::string* out, const std::string& bytes) {
  PutVarint(out, bytes.size());
  out->append(bytes);
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool GetBytes(absl::string_view* in, std::string* out) {
  uint64_t size = 0;
  if (!GetVarint(in, &size) || size > in->size()) return false;
  out->assign(in->data(), size);
  in->remove_prefix(size);
  return true;
}

// Replaces `out` with the encoded `stamps`, reusing its capacity.
void EncodeStamps(const std::map<std::string, FieldStamp>& stamps, std::string* out) {
  out->clear();
  for (const auto& [key, stamp] : stamps) {
    PutBytes(out, key);
    PutVarint(out, static_cast<uint64_t>(stamp.hlc.wall_ms));
    PutVarint(out, stamp.hlc.logical);
    PutBytes(out, stamp.device_id);
    PutBytes(out, stamp.mutation_id);
  }
}

absl::StatusOr<std::map<std::string, FieldStamp>> DecodeStamps(absl::string_view in) {
  std::map<std::string, FieldStamp> stamps;
  while (!in.empty()) {
    std::string key;
    FieldStamp stamp;
    uint64_t wall = 0;
    uint64_t logical = 0;
    if (!GetBytes(&in, &key) || !GetVarint(&in, &wall) || !GetVarint(&in, &logical) ||
        logical > UINT32_MAX || !GetBytes(&in, &stamp.device_id) ||
        !GetBytes(&in, &stamp.mutation_id)) {
      return absl::DataLossError("stored case field stamps cannot be decoded");
    }
    stamp.hlc.wall_ms = static_cast<int64_t>(wall);
    stamp.hlc.logical = static_cast<uint32_t>(logical);
    stamps.emplace_hint(stamps.end(), std::move(key), std::move(stamp));
  }
  return stamps;
}

// The JSON form of schema ≤ 4, read for rows not written since.
absl::StatusOr<std::map<std::string, FieldStamp>> DecodeJsonStamps(const std::string& text) {
  std::map<std::string, FieldStamp> stamps;
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return absl::DataLossError("stored case field stamps cannot be decoded");
  for (const auto& [key, value] : json.items()) {
    if (!value.is_array() || value.size() != 4 || !value[0].is_number_integer() ||
        !value[1].is_number_integer() || !value[2].is_string() || !value[3].is_string()) {
      return absl::DataLossError("stored case field stamps cannot be decoded");
    }
    FieldStamp stamp;
    stamp.hlc.wall_ms = value[0].get<int64_t>();
    stamp.hlc.logical = value[1].get<uint32_t>();
    stamp.device_id = value[2].get<std::string>();
    stamp.mutation_id = value[3].get<std::string>();
    stamps[key] = std::move(stamp);
  }
  return stamps;
}

// One SQLite connection and its prepared statements. Used by one thread.
class Connection {
 public:
  ~Connection() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }

  absl::Status Open(const std::string& path, bool read_only) {
    path_ = path;
    int flags = SQLITE_OPEN_NOMUTEX |
                (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, absl::StrCat("cannot open ", path));
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    if (!read_only) {
      // 16 KiB pages for a new store (an existing one keeps its own): fewer
      // b-tree levels and WAL frames per commit; the push benchmark ran 10-15%
      // faster than with SQLite's 4 KiB default (docs/benchmarks.md).
      if (auto s = Exec("PRAGMA page_size=16384", "setting the page size"); !s.ok()) return s;
      if (auto s = Exec("PRAGMA journal_mode=WAL", "setting WAL mode"); !s.ok()) return s;
    }
    if (auto s = Exec("PRAGMA synchronous=FULL", "setting synchronous=FULL"); !s.ok()) return s;
    // A larger page cache than SQLite's 2 MiB default: the push path touches
    // the cases, device_log, change_log and audit_log b-trees on every
    // mutation; keeping their interior pages cached saves re-reading them
    // from the WAL. Negative: KiB. 64 MiB for the writer, 16 MiB per reader.
    if (auto s = Exec(read_only ? "PRAGMA cache_size=-16384" : "PRAGMA cache_size=-65536",
                      "setting the page cache size");
        !s.ok()) {
      return s;
    }
    // Keep savepoint and statement journals in memory: the writer opens one
    // savepoint per push batch inside each group transaction, and SQLite
    // otherwise spills a savepoint's journal beyond 64 KiB to a temp file —
    // a write() per page on the push path.
    if (auto s = Exec("PRAGMA temp_store=MEMORY", "keeping temporary journals in memory");
        !s.ok()) {
      return s;
    }
    return Exec("PRAGMA foreign_keys=ON", "enabling foreign keys");
  }

  absl::Status Exec(const char* sql, absl::string_view what) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, absl::StrCat(path_, ": ", what));
    return absl::OkStatus();
  }

  // Exec for a statement run again and again (BEGIN, SAVEPOINT, COMMIT, ...):
  // prepared once and cached by the address of `sql`, a named constant or a
  // literal, so the writer does not parse it for every push batch. Fails
  // exactly as Exec does.
  absl::Status ExecCached(const char* sql, absl::string_view what) {
    sqlite3_stmt* stmt = nullptr;
    int rc = Cached(sql, &stmt);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(stmt);
      sqlite3_reset(stmt);
      if (rc == SQLITE_DONE || rc == SQLITE_ROW) return absl::OkStatus();
    }
    return SqliteError(db_, rc, absl::StrCat(path_, ": ", what));
  }

  // The cached statement for `sql` (a named constant: cached by address).
  absl::StatusOr<std::unique_ptr<Statement>> Prepare(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (int rc = Cached(sql, &stmt); rc != SQLITE_OK) {
      return SqliteError(db_, rc, absl::StrCat("preparing ", sql));
    }
    return std::make_unique<Statement>(db_, stmt);
  }

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;

  // Sets `*stmt` to the statement for `sql`, preparing and caching it on
  // first use; returns SQLite's result code.
  int Cached(const char* sql, sqlite3_stmt** stmt) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr);
      if (rc != SQLITE_OK) return rc;
      it = statements_.emplace(sql, *stmt).first;
    }
    *stmt = it->second;
    return SQLITE_OK;
  }
};

// The typed accessors over one connection. The caller brackets the calls in
// a transaction.
class SqliteTxn : public WriteTxn {
 public:
  // `on_device_put`, when set, is called after commit with each device the
  // transaction stored (the store's in-memory device table follows it).
  explicit SqliteTxn(Connection* conn,
                     std::function<void(const v1::Device&)> on_device_put = nullptr)
      : conn_(conn), on_device_put_(std::move(on_device_put)) {}

  // Hooks queued by OnCommit since the last TakeHooks().
  std::vector<std::function<void()>> TakeHooks() { return std::move(hooks_); }

  // The writer's transaction keeps in memory what the push path reads again
  // and again: the audit log's head (AppendAudit needs it for every
  // mutation), the change log's head (AppendChange, one or two per
  // mutation), the cases it read or wrote (a case's evidence, events and
  // edits follow it in the same batch; GetCase hands a cached case over,
  // PutCase rewrites a row whose indexed columns it knows unchanged without
  // touching their indexes, and AppendChange leaves a case it logged where
  // it is), the case-number counters, the officers it read (every
  // mutation checks its officer; a new case, those present), and the
  // evidence log's size and right edge (each evidence appends a leaf, which
  // reads the log's size and the left sibling of every subtree it
  // completes). The caller must call ForgetCached whenever a transaction or
  // savepoint ends other than by a successful RELEASE, and before each
  // transaction begins.
  void EnableWriterCaches() { writer_caches_ = true; }
  void ForgetCached() {
    audit_head_known_ = false;
    cases_.clear();
    officers_.clear();
    case_counters_.clear();
    change_head_.reset();
    log_size_.reset();
    for (LogEdgeNode& node : log_edge_) node.known = false;
  }

  // --- ReadTxn ---
  absl::StatusOr<std::optional<CaseRecord>> GetCase(const std::string& case_id) override {
    if (writer_caches_) {
      // Handed over, not copied (a case and its field stamps are some fifty
      // allocations): the caller changes it and puts it back, which caches
      // it again; a caller that only reads it leaves the next reader to
      // read the row, as a case not yet cached would be.
      auto it = cases_.find(case_id);
      if (it != cases_.end() && it->second.record) {
        std::optional<CaseRecord> record(std::move(it->second.record));
        it->second.record.reset();
        return record;
      }
    }
    PALM_ASSIGN_OR_RETURN(std::optional<CaseRecord> record, ReadCase(kGetCase, case_id));
    if (writer_caches_ && record) RememberCaseRow(record->value, nullptr);
    return record;
  }
  absl::StatusOr<std::optional<CaseBrief>> GetCaseBrief(const std::string& case_id) override {
    if (writer_caches_) {
      auto it = cases_.find(case_id);
      if (it != cases_.end()) {
        const CachedCase& row = it->second;
        return std::optional<CaseBrief>(CaseBrief{case_id, row.case_number, row.town_id});
      }
    }
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetCaseBrief));
    stmt->Text(1, case_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<CaseBrief>();
    CaseBrief brief{case_id, stmt->ColumnText(0), stmt->ColumnText(1)};
    if (auto s = stmt->Run(); !s.ok()) return s;
    return std::optional<CaseBrief>(std::move(brief));
  }
  absl::StatusOr<std::optional<CaseRecord>> GetCaseByNumber(const std::string& number) override {
    return ReadCase(kGetCaseByNumber, number);
  }
  absl::StatusOr<std::vector<v1::Case>> ListCases(const CaseFilter& f) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListCases));
    stmt->Text(1, f.town_id)
        .Text(2, f.squad_id)
        .Int(3, f.state)
        .Int(4, f.from_ms)
        .Int(5, f.to_ms)
        .Int(6, f.after_created_ms)
        .Text(7, f.after_case_id)
        .Int(8, f.limit);
    return ReadAll<v1::Case>(*stmt, "case");
  }
  absl::StatusOr<std::optional<v1::Evidence>> GetEvidence(const std::string& id) override {
    return ReadOne<v1::Evidence>(kGetEvidence, id, "evidence");
  }
  absl::StatusOr<std::optional<v1::Ticket>> GetTicket(const std::string& id) override {
    return ReadOne<v1::Ticket>(kGetTicket, id, "ticket");
  }
  absl::StatusOr<std::optional<v1::Ticket>> GetTicketByNumber(int64_t number) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetTicketByNumber));
    stmt->Int(1, number);
    return ReadFirst<v1::Ticket>(*stmt, "ticket");
  }
  absl::StatusOr<std::optional<v1::NoPenaltyDecision>> GetNoPenalty(
      const std::string& id) override {
    return ReadOne<v1::NoPenaltyDecision>(kGetNoPenalty, id, "no-penalty decision");
  }
  absl::StatusOr<std::optional<v1::CaseEvent>> GetEvent(const std::string& id) override {
    return ReadOne<v1::CaseEvent>(kGetEvent, id, "case event");
  }
  absl::StatusOr<v1::CaseDetail> GetCaseDetail(const std::string& case_id) override {
    v1::CaseDetail detail;
    PALM_ASSIGN_OR_RETURN(auto record, GetCase(case_id));
    if (!record) return absl::NotFoundError(absl::StrCat("case ", case_id, " is not on record"));
    *detail.mutable_case_() = record->value;
    PALM_ASSIGN_OR_RETURN(auto evidence,
                          ReadByKey<v1::Evidence>(kEvidenceOfCase, case_id, "evidence"));
    for (auto& e : evidence) *detail.add_evidence() = std::move(e);
    PALM_ASSIGN_OR_RETURN(auto tickets, ReadByKey<v1::Ticket>(kTicketsOfCase, case_id, "ticket"));
    for (auto& t : tickets) *detail.add_tickets() = std::move(t);
    PALM_ASSIGN_OR_RETURN(auto decisions,
                          ReadByKey<v1::NoPenaltyDecision>(kNoPenaltyOfCase, case_id, "decision"));
    for (auto& d : decisions) *detail.add_no_penalty() = std::move(d);
    PALM_ASSIGN_OR_RETURN(auto events, ReadByKey<v1::CaseEvent>(kEventsOfCase, case_id, "event"));
    for (auto& e : events) *detail.add_timeline() = std::move(e);
    return detail;
  }
  absl::StatusOr<std::optional<v1::PriorViolation>> FindPriorViolation(
      const std::string& party_key, const std::string& matter_code) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kFindPrior));
    stmt->Text(1, party_key).Text(2, matter_code);
    return ReadFirst<v1::PriorViolation>(*stmt, "prior violation");
  }
  absl::StatusOr<std::optional<v1::Catalog>> CurrentCatalog() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kCurrentCatalog));
    return ReadFirst<v1::Catalog>(*stmt, "catalogue");
  }
  absl::StatusOr<std::optional<v1::Town>> GetTown(const std::string& id) override {
    return ReadOne<v1::Town>(kGetTown, id, "town");
  }
  absl::StatusOr<std::optional<v1::Squad>> GetSquad(const std::string& id) override {
    return ReadOne<v1::Squad>(kGetSquad, id, "squad");
  }
  absl::StatusOr<std::vector<v1::Town>> ListTowns() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListTowns));
    return ReadAll<v1::Town>(*stmt, "town");
  }
  absl::StatusOr<std::vector<v1::Squad>> ListSquads(const std::string& town_id) override {
    return ReadByKey<v1::Squad>(kListSquads, town_id, "squad");
  }
  absl::StatusOr<std::optional<v1::Officer>> GetOfficer(const std::string& id) override {
    if (writer_caches_) {
      auto it = officers_.find(id);
      if (it != officers_.end()) return it->second;
    }
    PALM_ASSIGN_OR_RETURN(std::optional<v1::Officer> officer,
                          ReadOne<v1::Officer>(kGetOfficer, id, "officer"));
    if (writer_caches_) officers_.emplace(id, officer);
    return officer;
  }
  using ReadTxn::ListDevices;
  using ReadTxn::ListOfficers;
  absl::StatusOr<std::vector<v1::Officer>> ListOfficers(const OfficerFilter& f) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListOfficers));
    stmt->Text(1, f.town_id).Text(2, f.squad_id).Text(3, f.after_officer_id).Int(4, Limit(f.limit));
    return ReadAll<v1::Officer>(*stmt, "officer");
  }
  absl::StatusOr<std::optional<v1::Device>> GetDevice(const std::string& id) override {
    return ReadOne<v1::Device>(kGetDevice, id, "device");
  }
  absl::StatusOr<std::vector<v1::Device>> ListDevices(const DeviceFilter& f) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListDevices));
    stmt->Text(1, f.town_id).Text(2, f.squad_id).Text(3, f.after_device_id).Int(4, Limit(f.limit));
    return ReadAll<v1::Device>(*stmt, "device");
  }
  absl::StatusOr<std::vector<v1::Device>> AllDevices() {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kAllDevices));
    return ReadAll<v1::Device>(*stmt, "device");
  }
  absl::StatusOr<uint64_t> AcknowledgedSeq(const std::string& device_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetDeviceSync));
    stmt->Text(1, device_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? static_cast<uint64_t>(stmt->ColumnInt(0)) : 0;
  }
  absl::StatusOr<int64_t> LastPushMs(const std::string& device_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetDeviceSync));
    stmt->Text(1, device_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? stmt->ColumnInt(1) : 0;
  }
  absl::StatusOr<std::optional<DeviceReport>> GetDeviceReport(
      const std::string& device_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetDeviceSync));
    stmt->Text(1, device_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row || stmt->ColumnInt(5) == 0) return std::optional<DeviceReport>();
    DeviceReport report;
    report.pending_mutations = static_cast<uint64_t>(stmt->ColumnInt(2));
    report.pending_uploads = static_cast<uint64_t>(stmt->ColumnInt(3));
    report.ticket_numbers_left = stmt->ColumnInt(4);
    report.reported_at_ms = stmt->ColumnInt(5);
    return std::optional<DeviceReport>(report);
  }
  absl::StatusOr<std::optional<DeviceLogEntry>> GetDeviceLog(const std::string& device_id,
                                                             uint64_t seq) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetDeviceLog));
    stmt->Text(1, device_id).Int(2, static_cast<int64_t>(seq));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<DeviceLogEntry>();
    PALM_ASSIGN_OR_RETURN(auto entry, ReadDeviceLog(*stmt));
    return std::optional<DeviceLogEntry>(std::move(entry));
  }
  absl::StatusOr<bool> MutationIdKnown(const std::string& mutation_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kMutationIdKnown));
    stmt->Text(1, mutation_id);
    return stmt->Step();
  }
  absl::StatusOr<std::vector<DeviceLogEntry>> ListRejected(const RejectedFilter& f) override {
    // Bound by reference: declared before the statement, which it outlives.
    const RejectedFilter::Position after = f.after.value_or(RejectedFilter::Position());
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListRejected));
    stmt->Text(1, f.squad_id)
        .Int(2, f.include_dismissed ? 1 : 0)
        .Int(3, f.after ? 1 : 0)
        .Int(4, after.recorded_at_ms)
        .Text(5, after.device_id)
        .Int(6, static_cast<int64_t>(after.device_seq))
        .Int(7, Limit(f.limit));
    std::vector<DeviceLogEntry> entries;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(auto entry, ReadDeviceLog(*stmt));
      entries.push_back(std::move(entry));
    }
    return entries;
  }
  absl::StatusOr<std::optional<DeviceLogEntry>> GetRejected(
      const std::string& mutation_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetRejected));
    stmt->Text(1, mutation_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<DeviceLogEntry>();
    PALM_ASSIGN_OR_RETURN(auto entry, ReadDeviceLog(*stmt));
    return std::optional<DeviceLogEntry>(std::move(entry));
  }
  absl::StatusOr<std::vector<v1::ConflictRecord>> ListConflicts(const ConflictFilter& f) override {
    // Bound by reference: declared before the statement, which it outlives.
    const std::pair<int64_t, std::string> after =
        f.after.value_or(std::pair<int64_t, std::string>(0, ""));
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListConflicts));
    stmt->Text(1, f.squad_id)
        .Text(2, f.case_id)
        .Int(3, f.include_resolved ? 1 : 0)
        .Int(4, f.after ? 1 : 0)
        .Int(5, after.first)
        .Text(6, after.second)
        .Int(7, Limit(f.limit));
    return ReadAll<v1::ConflictRecord>(*stmt, "conflict");
  }
  absl::StatusOr<std::optional<v1::ConflictRecord>> GetConflict(
      const std::string& conflict_id) override {
    return ReadOne<v1::ConflictRecord>(kGetConflict, conflict_id, "conflict");
  }
  absl::StatusOr<std::optional<v1::TicketLease>> GetLease(const std::string& lease_id) override {
    return ReadOne<v1::TicketLease>(kGetLease, lease_id, "ticket lease");
  }
  absl::StatusOr<std::vector<v1::TicketLease>> ListLeases(const std::string& device_id) override {
    return ReadByKey<v1::TicketLease>(kListLeases, device_id, "ticket lease");
  }
  absl::StatusOr<int64_t> HighestLeasedNumber() override { return QueryInt(kHighestLeased); }
  absl::StatusOr<std::map<int32_t, int64_t>> CaseNumberCounters() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kCaseNumberCounters));
    std::map<int32_t, int64_t> counters;
    for (;;) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      counters[static_cast<int32_t>(stmt->ColumnInt(0))] = stmt->ColumnInt(1);
    }
    return counters;
  }
  absl::StatusOr<std::optional<v1::TicketLease>> LeaseOverlapping(int64_t first,
                                                                  int64_t last) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLeaseOverlapping));
    stmt->Int(1, first).Int(2, last);
    return ReadFirst<v1::TicketLease>(*stmt, "ticket lease");
  }
  absl::StatusOr<int64_t> HighestUsedTicketNumber(int64_t first, int64_t last) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kHighestUsedTicket));
    stmt->Int(1, first).Int(2, last);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? stmt->ColumnInt(0) : 0;
  }
  absl::StatusOr<uint64_t> HighestServerSeq() override {
    PALM_ASSIGN_OR_RETURN(int64_t seq, QueryInt(kHighestSeq));
    return static_cast<uint64_t>(seq);
  }
  absl::StatusOr<uint64_t> CountChanges(uint64_t after, uint64_t up_to,
                                        const std::vector<std::string>& scopes) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kCountChanges));
    BindRange(*stmt, after, up_to, scopes);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? static_cast<uint64_t>(stmt->ColumnInt(0)) : 0;
  }
  absl::StatusOr<std::vector<v1::Change>> ReadChanges(uint64_t after, uint64_t up_to,
                                                      const std::vector<std::string>& scopes,
                                                      uint32_t limit) override {
    struct Row {
      uint64_t seq;
      EntityKind kind;
      std::string id;
    };
    std::vector<Row> rows;
    {
      PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kReadChanges));
      BindRange(*stmt, after, up_to, scopes);
      stmt->Int(6, limit);
      while (true) {
        PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
        if (!row) break;
        rows.push_back({static_cast<uint64_t>(stmt->ColumnInt(0)),
                        static_cast<EntityKind>(stmt->ColumnInt(1)), stmt->ColumnText(2)});
      }
    }
    std::vector<v1::Change> changes;
    changes.reserve(rows.size());
    for (const Row& row : rows) {
      v1::Change change;
      change.set_server_seq(row.seq);
      if (auto s = FillEntity(row.kind, row.id, &change); !s.ok()) return s;
      changes.push_back(std::move(change));
    }
    return changes;
  }

  // --- WriteTxn ---
  absl::Status PutCase(CaseRecord record) override {
    const v1::Case& c = record.value;
    // Into buffers kept across calls: a case row is a kilobyte or two, and a
    // fresh allocation that size made malloc sweep its free lists each time.
    if (!c.SerializeToString(&case_body_)) return absl::InternalError("a case cannot be encoded");
    EncodeStamps(record.stamps, &case_stamps_);
    absl::Status stored;
    if (StoredWithSameKeys(c)) {
      PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kUpdateCaseBody));
      stmt->Text(1, c.case_id()).Int(2, c.state()).Blob(3, case_body_).Blob(4, case_stamps_);
      stored = stmt->Run();
      if (stored.ok() && sqlite3_changes(conn_->db()) != 1) {
        stored = absl::InternalError(
            absl::StrCat("case ", c.case_id(), " was cached as stored but its row is missing"));
      }
    } else {
      PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutCase));
      stmt->Text(1, c.case_id())
          .Text(2, c.case_number())
          .Text(3, c.town_id())
          .Text(4, c.squad_id())
          .Int(5, c.state())
          .Int(6, c.created_at_ms())
          .Blob(7, case_body_)
          .Blob(8, case_stamps_);
      stored = stmt->Run();
    }
    if (!stored.ok()) {
      ForgetCached();
      return stored;
    }
    if (writer_caches_) RememberCaseRow(c, &record);
    return absl::OkStatus();
  }
  absl::Status PutEvidence(const v1::Evidence& e) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutEvidence));
    stmt->Text(1, e.evidence_id()).Text(2, e.case_id()).Blob(3, e.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutTicket(const v1::Ticket& t) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutTicket));
    stmt->Text(1, t.ticket_id())
        .Text(2, t.case_id())
        .Int(3, t.ticket_number())
        .Blob(4, t.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutNoPenalty(const v1::NoPenaltyDecision& d) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutNoPenalty));
    stmt->Text(1, d.decision_id()).Text(2, d.case_id()).Blob(3, d.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutEvent(const v1::CaseEvent& e) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutEvent));
    stmt->Text(1, e.event_id())
        .Text(2, e.case_id())
        .Int(3, e.at_ms())
        .Blob(4, e.SerializeAsString());
    return stmt->Run();
  }
  absl::StatusOr<std::string> AddPriorViolation(const v1::PriorViolation& v,
                                                const std::string& case_id) override {
    std::string entity_id = absl::StrCat(v.party_key(), "/", v.matter_code(), "/", case_id);
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutPrior));
    stmt->Text(1, entity_id)
        .Text(2, v.party_key())
        .Text(3, v.matter_code())
        .Text(4, case_id)
        .Blob(5, v.SerializeAsString());
    if (auto s = stmt->Run(); !s.ok()) return s;
    return entity_id;
  }
  absl::Status PutCatalog(const v1::Catalog& catalog) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutCatalog));
    stmt->Int(1, catalog.version()).Blob(2, catalog.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutTown(const v1::Town& town) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutTown));
    stmt->Text(1, town.town_id()).Blob(2, town.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutSquad(const v1::Squad& squad) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutSquad));
    stmt->Text(1, squad.squad_id()).Text(2, squad.town_id()).Blob(3, squad.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutOfficer(const v1::Officer& o) override {
    officers_.erase(o.officer_id());
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutOfficer));
    stmt->Text(1, o.officer_id())
        .Text(2, o.town_id())
        .Text(3, o.squad_id())
        .Blob(4, o.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutDevice(const v1::Device& d) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutDevice));
    stmt->Text(1, d.device_id())
        .Text(2, d.town_id())
        .Text(3, d.squad_id())
        .Blob(4, d.SerializeAsString());
    if (auto s = stmt->Run(); !s.ok()) return s;
    if (on_device_put_) OnCommit([this, d] { on_device_put_(d); });
    return absl::OkStatus();
  }
  absl::Status PutLease(const v1::TicketLease& lease) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutLease));
    stmt->Text(1, lease.lease_id())
        .Text(2, lease.device_id())
        .Int(3, lease.first_number())
        .Int(4, lease.last_number())
        .Blob(5, lease.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutConflict(const v1::ConflictRecord& c) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutConflict));
    stmt->Text(1, c.loss().conflict_id())
        .Text(2, c.loss().case_id())
        .Int(3, c.recorded_at_ms())
        .Int(4, c.resolved() ? 1 : 0)
        .Blob(5, c.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutDeviceReport(const std::string& device_id, const DeviceReport& r) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutDeviceReport));
    stmt->Text(1, device_id)
        .Int(2, static_cast<int64_t>(r.pending_mutations))
        .Int(3, static_cast<int64_t>(r.pending_uploads))
        .Int(4, r.ticket_numbers_left)
        .Int(5, r.reported_at_ms);
    return stmt->Run();
  }
  absl::StatusOr<int64_t> NextCaseNumber(int year) override {
    if (writer_caches_) {
      if (auto it = case_counters_.find(year); it != case_counters_.end()) {
        PALM_ASSIGN_OR_RETURN(auto set, conn_->Prepare(kSetCaseNumber));
        if (auto s = set->Int(1, year).Int(2, it->second + 1).Run(); !s.ok()) {
          ForgetCached();
          return s;
        }
        return ++it->second;
      }
    }
    {
      PALM_ASSIGN_OR_RETURN(auto bump, conn_->Prepare(kBumpCaseNumber));
      if (auto s = bump->Int(1, year).Run(); !s.ok()) return s;
    }
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetCaseNumber));
    stmt->Int(1, year);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return absl::InternalError("the case number counter returned nothing");
    int64_t next = stmt->ColumnInt(0);
    if (auto s = stmt->Run(); !s.ok()) return s;
    if (writer_caches_) case_counters_[year] = next;
    return next;
  }
  absl::Status RaiseCaseNumberCounter(int year, int64_t last) override {
    PALM_ASSIGN_OR_RETURN(auto raise, conn_->Prepare(kRaiseCaseNumber));
    if (auto s = raise->Int(1, year).Int(2, last).Run(); !s.ok()) {
      ForgetCached();
      return s;
    }
    if (auto it = case_counters_.find(year); it != case_counters_.end()) {
      it->second = std::max(it->second, last);
    }
    return absl::OkStatus();
  }
  absl::Status PutDeviceLog(const DeviceLogEntry& e) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutDeviceLog));
    stmt->Text(1, e.device_id)
        .Int(2, static_cast<int64_t>(e.device_seq))
        .Text(3, e.mutation_id)
        .Text(4, e.digest)
        .Int(5, e.result.outcome())
        .Blob(6, e.result.SerializeAsString());
    if (e.mutation) {
      stmt->Blob(7, e.mutation->SerializeAsString());
    } else {
      stmt->Null(7);
    }
    stmt->Int(8, e.recorded_at_ms)
        .Int(9, e.dismissed ? 1 : 0)
        .Text(10, e.dismissed_by)
        .Text(11, e.note);
    return stmt->Run();
  }
  absl::Status AdvanceDeviceSync(const std::string& device_id, uint64_t acked_seq,
                                 int64_t at_ms) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kAdvanceDeviceSync));
    stmt->Text(1, device_id).Int(2, static_cast<int64_t>(acked_seq)).Int(3, at_ms);
    return stmt->Run();
  }
  absl::Status PutRejectedReview(const DeviceLogEntry& e) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutRejectedReview));
    stmt->Text(1, e.device_id)
        .Int(2, static_cast<int64_t>(e.device_seq))
        .Int(3, e.dismissed ? 1 : 0)
        .Text(4, e.dismissed_by)
        .Text(5, e.note);
    return stmt->Run();
  }
  absl::StatusOr<uint64_t> AppendChange(EntityKind kind, const std::string& entity_id,
                                        const std::string& scope) override {
    // A case logged already by this transaction, in the same scope, stays
    // where it is: every cursor any reader holds lies below the
    // transaction's first position, and readers see the transaction whole,
    // so moving the entry again would change nothing a pull can observe
    // (store.h). Cases are what one batch changes again and again (edits,
    // moves, tickets); the case cache holds the position.
    CachedCase* cached = nullptr;
    if (writer_caches_ && kind == EntityKind::kCase) {
      auto it = cases_.find(entity_id);
      if (it != cases_.end()) {
        cached = &it->second;
        if (cached->logged_seq != 0 && cached->logged_scope == scope) return cached->logged_seq;
      }
    }
    uint64_t seq = 0;
    if (writer_caches_ && change_head_) {
      seq = *change_head_ + 1;
    } else {
      PALM_ASSIGN_OR_RETURN(auto highest, conn_->Prepare(kHighestSeq));
      PALM_ASSIGN_OR_RETURN(bool row, highest->Step());
      if (!row) return absl::InternalError("reading the change log's head returned nothing");
      seq = static_cast<uint64_t>(highest->ColumnInt(0)) + 1;
      if (auto s = highest->Run(); !s.ok()) return s;
    }
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kAppendChange));
    stmt->Int(1, static_cast<int64_t>(seq))
        .Int(2, static_cast<int>(kind))
        .Text(3, entity_id)
        .Text(4, scope);
    if (auto s = stmt->Run(); !s.ok()) {
      ForgetCached();
      return s;
    }
    if (writer_caches_) {
      change_head_ = seq;
      if (cached != nullptr) {
        cached->logged_seq = seq;
        cached->logged_scope = scope;
      }
    }
    return seq;
  }
  void OnCommit(std::function<void()> fn) override { hooks_.push_back(std::move(fn)); }

  // --- Security (issue 5). ---
  absl::StatusOr<const AuditHead*> LastAuditHead() override {
    if (writer_caches_ && audit_head_known_) return audit_head_ ? &*audit_head_ : nullptr;
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLastAuditHead));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    audit_head_.reset();
    if (row) {
      AuditHead head;
      head.seq = static_cast<uint64_t>(stmt->ColumnInt(0));
      head.hash = stmt->ColumnText(1);
      // A stored hash that is not a digest is chained to as text.
      if (auto digest = sync::HexDecodeDigest(head.hash); digest.ok()) head.digest = *digest;
      audit_head_ = std::move(head);
    }
    if (auto s = stmt->Run(); !s.ok()) return s;
    audit_head_known_ = writer_caches_;
    return audit_head_ ? &*audit_head_ : nullptr;
  }
  absl::StatusOr<std::vector<AuditEntry>> ReadAudit(uint64_t after_seq, uint32_t limit) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kReadAudit));
    stmt->Int(1, static_cast<int64_t>(after_seq)).Int(2, limit);
    std::vector<AuditEntry> entries;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      entries.push_back(ReadAuditRow(*stmt));
    }
    return entries;
  }
  absl::StatusOr<std::optional<OfficerCredential>> GetCredential(
      const std::string& officer_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetCredential));
    stmt->Text(1, officer_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<OfficerCredential>();
    OfficerCredential c;
    c.officer_id = stmt->ColumnText(0);
    c.salt = stmt->ColumnBlob(1);
    c.hash = stmt->ColumnBlob(2);
    c.log2_n = static_cast<uint32_t>(stmt->ColumnInt(3));
    c.r = static_cast<uint32_t>(stmt->ColumnInt(4));
    c.p = static_cast<uint32_t>(stmt->ColumnInt(5));
    c.offline_salt = stmt->ColumnBlob(6);
    c.failed_attempts = static_cast<int>(stmt->ColumnInt(7));
    c.locked_until_ms = stmt->ColumnInt(8);
    return std::optional<OfficerCredential>(std::move(c));
  }
  absl::Status InsertAudit(const AuditEntry& e, const sync::Sha256Digest& digest) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kInsertAudit));
    stmt->Int(1, static_cast<int64_t>(e.seq))
        .Int(2, e.at_ms)
        .Text(3, e.actor)
        .Text(4, e.action)
        .Text(5, e.subject)
        .Text(6, e.details)
        .Text(7, e.prev_hash)
        .Text(8, e.hash);
    if (auto s = stmt->Run(); !s.ok()) {
      audit_head_known_ = false;
      return s;
    }
    if (writer_caches_) {
      if (!audit_head_) audit_head_.emplace();
      audit_head_->seq = e.seq;
      audit_head_->hash = e.hash;
      audit_head_->digest = digest;
      audit_head_known_ = true;
    }
    return absl::OkStatus();
  }
  absl::Status PutCredential(const OfficerCredential& c) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutCredential));
    stmt->Text(1, c.officer_id)
        .Blob(2, c.salt)
        .Blob(3, c.hash)
        .Int(4, c.log2_n)
        .Int(5, c.r)
        .Int(6, c.p)
        .Blob(7, c.offline_salt)
        .Int(8, c.failed_attempts)
        .Int(9, c.locked_until_ms);
    return stmt->Run();
  }
  absl::StatusOr<std::vector<EndedSession>> ListEndedSessions(int64_t now_ms) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListEndedSessions));
    stmt->Int(1, now_ms);
    std::vector<EndedSession> sessions;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      sessions.push_back({.token_id = stmt->ColumnText(0),
                          .officer_id = stmt->ColumnText(1),
                          .reason = stmt->ColumnText(2),
                          .ended_at_ms = stmt->ColumnInt(3),
                          .expires_at_ms = stmt->ColumnInt(4)});
    }
    return sessions;
  }
  absl::StatusOr<bool> EndSession(const EndedSession& e) override {
    PALM_ASSIGN_OR_RETURN(auto forget, conn_->Prepare(kForgetEndedSessions));
    forget->Int(1, e.ended_at_ms);
    if (auto s = forget->Run(); !s.ok()) return s;
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kInsertEndedSession));
    stmt->Text(1, e.token_id)
        .Text(2, e.officer_id)
        .Text(3, e.reason)
        .Int(4, e.ended_at_ms)
        .Int(5, e.expires_at_ms);
    if (auto s = stmt->Run(); !s.ok()) return s;
    return sqlite3_changes(conn_->db()) == 1;
  }
  // --- Evidence log (issue 6). ---
  absl::StatusOr<std::optional<std::string>> GetLogNode(uint32_t level, uint64_t index) override {
    if (writer_caches_ && level < log_edge_.size() && log_edge_[level].known &&
        log_edge_[level].index == index) {
      return std::optional<std::string>(log_edge_[level].hash);
    }
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetLogNode));
    stmt->Int(1, level).Int(2, static_cast<int64_t>(index));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(stmt->ColumnBlob(0));
  }
  absl::StatusOr<uint64_t> LogSize() override {
    if (writer_caches_ && log_size_) return *log_size_;
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLogSize));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    const uint64_t size = row ? static_cast<uint64_t>(stmt->ColumnInt(0)) : 0;
    if (writer_caches_) log_size_ = size;
    return size;
  }
  absl::StatusOr<std::optional<LogLeaf>> GetLogLeaf(uint64_t leaf_index) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetLogLeaf));
    stmt->Int(1, static_cast<int64_t>(leaf_index));
    PALM_ASSIGN_OR_RETURN(auto leaves, ReadLeaves(*stmt));
    if (leaves.empty()) return std::optional<LogLeaf>();
    return std::optional<LogLeaf>(std::move(leaves.front()));
  }
  absl::StatusOr<std::optional<LogLeaf>> GetLogLeafOfEvidence(
      const std::string& evidence_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetLogLeafOfEvidence));
    stmt->Text(1, evidence_id);
    PALM_ASSIGN_OR_RETURN(auto leaves, ReadLeaves(*stmt));
    if (leaves.empty()) return std::optional<LogLeaf>();
    return std::optional<LogLeaf>(std::move(leaves.front()));
  }
  absl::StatusOr<std::vector<LogLeaf>> ListLogLeaves(uint64_t from, uint64_t to) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListLogLeaves));
    stmt->Int(1, static_cast<int64_t>(from)).Int(2, static_cast<int64_t>(to));
    return ReadLeaves(*stmt);
  }
  absl::StatusOr<std::vector<LogLeaf>> LogLeavesWithContent(const std::string& sha256) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLogLeavesWithContent));
    stmt->Text(1, sha256);
    return ReadLeaves(*stmt);
  }
  absl::StatusOr<std::optional<v1::SignedTreeHead>> LatestTreeHead() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLatestTreeHead));
    return ReadFirst<v1::SignedTreeHead>(*stmt, "tree head");
  }
  absl::StatusOr<std::optional<v1::AuditCheckpoint>> LatestAuditCheckpoint() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLatestAuditCheckpoint));
    return ReadFirst<v1::AuditCheckpoint>(*stmt, "audit checkpoint");
  }
  absl::StatusOr<std::vector<v1::LogTransition>> LogTransitions() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLogTransitions));
    return ReadAll<v1::LogTransition>(*stmt, "log transition");
  }
  absl::StatusOr<std::optional<BlobRecord>> GetBlob(const std::string& sha256) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetBlob));
    stmt->Text(1, sha256);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<BlobRecord>();
    return std::optional<BlobRecord>(BlobRecord{.sha256 = stmt->ColumnText(0),
                                                .size = static_cast<uint64_t>(stmt->ColumnInt(1)),
                                                .stored_at_ms = stmt->ColumnInt(2)});
  }
  absl::Status PutLogNode(uint32_t level, uint64_t index, const std::string& hash) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutLogNode));
    stmt->Int(1, level).Int(2, static_cast<int64_t>(index)).Blob(3, hash);
    if (auto s = stmt->Run(); !s.ok()) return s;
    // A left child (even index) is the sibling the append that completes
    // its parent will read.
    if (writer_caches_ && level < log_edge_.size() && (index & 1) == 0) {
      LogEdgeNode& node = log_edge_[level];
      node.known = true;
      node.index = index;
      node.hash.assign(hash);
    }
    return absl::OkStatus();
  }
  absl::Status PutLogLeaf(const LogLeaf& leaf) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutLogLeaf));
    stmt->Int(1, static_cast<int64_t>(leaf.leaf_index))
        .Text(2, leaf.evidence_id)
        .Text(3, leaf.sha256)
        .Blob(4, leaf.entry);
    if (auto s = stmt->Run(); !s.ok()) return s;
    // The log grows by one at its end; any other index leaves its size to
    // be read again.
    if (log_size_ && leaf.leaf_index == *log_size_) {
      ++*log_size_;
    } else {
      log_size_.reset();
    }
    return absl::OkStatus();
  }
  absl::Status PutTreeHead(const v1::SignedTreeHead& head) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutTreeHead));
    stmt->Int(1, static_cast<int64_t>(head.tree_size())).Blob(2, head.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutAuditCheckpoint(const v1::AuditCheckpoint& checkpoint) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutAuditCheckpoint));
    stmt->Int(1, static_cast<int64_t>(checkpoint.entries()))
        .Blob(2, checkpoint.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutLogTransition(const v1::LogTransition& transition) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutLogTransition));
    stmt->Text(1, transition.to_origin()).Blob(2, transition.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutBlob(const BlobRecord& blob) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutBlob));
    stmt->Text(1, blob.sha256).Int(2, static_cast<int64_t>(blob.size)).Int(3, blob.stored_at_ms);
    return stmt->Run();
  }
  static absl::StatusOr<std::vector<LogLeaf>> ReadLeaves(Statement& stmt) {
    std::vector<LogLeaf> leaves;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return leaves;
      leaves.push_back(LogLeaf{.leaf_index = static_cast<uint64_t>(stmt.ColumnInt(0)),
                               .evidence_id = stmt.ColumnText(1),
                               .sha256 = stmt.ColumnText(2),
                               .entry = stmt.ColumnBlob(3)});
    }
  }

  static AuditEntry ReadAuditRow(const Statement& stmt) {
    AuditEntry e;
    e.seq = static_cast<uint64_t>(stmt.ColumnInt(0));
    e.at_ms = stmt.ColumnInt(1);
    e.actor = stmt.ColumnText(2);
    e.action = stmt.ColumnText(3);
    e.subject = stmt.ColumnText(4);
    e.details = stmt.ColumnText(5);
    e.prev_hash = stmt.ColumnText(6);
    e.hash = stmt.ColumnText(7);
    return e;
  }

 private:
  // A filter's row limit as SQLite's LIMIT takes it (0: none, which is -1).
  static int64_t Limit(uint32_t limit) { return limit == 0 ? -1 : int64_t{limit}; }

  absl::StatusOr<int64_t> QueryInt(const char* sql) {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(sql));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? stmt->ColumnInt(0) : 0;
  }

  static void BindRange(Statement& stmt, uint64_t after, uint64_t up_to,
                        const std::vector<std::string>& scopes) {
    stmt.Int(1, static_cast<int64_t>(after)).Int(2, static_cast<int64_t>(up_to));
    for (int i = 0; i < 3; ++i) {
      // Fewer than three scopes: repeat the last (IN ignores duplicates).
      static const std::string kNone;
      stmt.Text(3 + i, scopes.empty() ? kNone : scopes[std::min<size_t>(i, scopes.size() - 1)]);
    }
  }

  absl::StatusOr<std::optional<CaseRecord>> ReadCase(const char* sql, const std::string& key) {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(sql));
    stmt->Text(1, key);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<CaseRecord>();
    CaseRecord record;
    PALM_ASSIGN_OR_RETURN(record.value, ParseBody<v1::Case>(stmt->ColumnBlob(0), "case"));
    const std::string binary = stmt->ColumnBlob(2);
    if (!binary.empty()) {
      PALM_ASSIGN_OR_RETURN(record.stamps, DecodeStamps(binary));
    } else {
      const std::string json = stmt->ColumnText(1);
      if (!json.empty()) {
        PALM_ASSIGN_OR_RETURN(record.stamps, DecodeJsonStamps(json));
      }
    }
    return std::optional<CaseRecord>(std::move(record));
  }

  template <typename Message>
  absl::StatusOr<std::optional<Message>> ReadFirst(Statement& stmt, absl::string_view what) {
    PALM_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<Message>();
    PALM_ASSIGN_OR_RETURN(Message message, ParseBody<Message>(stmt.ColumnBlob(0), what));
    return std::optional<Message>(std::move(message));
  }

  template <typename Message>
  absl::StatusOr<std::optional<Message>> ReadOne(const char* sql, const std::string& key,
                                                 absl::string_view what) {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(sql));
    stmt->Text(1, key);
    return ReadFirst<Message>(*stmt, what);
  }

  template <typename Message>
  absl::StatusOr<std::vector<Message>> ReadAll(Statement& stmt, absl::string_view what) {
    std::vector<Message> out;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(Message message, ParseBody<Message>(stmt.ColumnBlob(0), what));
      out.push_back(std::move(message));
    }
    return out;
  }

  template <typename Message>
  absl::StatusOr<std::vector<Message>> ReadByKey(const char* sql, const std::string& key,
                                                 absl::string_view what) {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(sql));
    stmt->Text(1, key);
    return ReadAll<Message>(*stmt, what);
  }

  absl::StatusOr<DeviceLogEntry> ReadDeviceLog(Statement& stmt) {
    DeviceLogEntry entry;
    entry.device_id = stmt.ColumnText(0);
    entry.device_seq = static_cast<uint64_t>(stmt.ColumnInt(1));
    entry.mutation_id = stmt.ColumnText(2);
    entry.digest = stmt.ColumnText(3);
    PALM_ASSIGN_OR_RETURN(entry.result,
                          ParseBody<v1::MutationResult>(stmt.ColumnBlob(4), "mutation result"));
    if (!stmt.ColumnNull(5)) {
      PALM_ASSIGN_OR_RETURN(entry.mutation,
                            ParseBody<v1::Mutation>(stmt.ColumnBlob(5), "mutation"));
    }
    entry.recorded_at_ms = stmt.ColumnInt(6);
    entry.dismissed = stmt.ColumnInt(7) != 0;
    entry.dismissed_by = stmt.ColumnText(8);
    entry.note = stmt.ColumnText(9);
    return entry;
  }

  // Sets the entity of `change` to the current value of (`kind`, `id`).
  absl::Status FillEntity(EntityKind kind, const std::string& id, v1::Change* change) {
    switch (kind) {
      case EntityKind::kCase: {
        PALM_ASSIGN_OR_RETURN(auto record, GetCase(id));
        if (record) *change->mutable_case_() = std::move(record->value);
        return Found(record.has_value(), kind, id);
      }
      case EntityKind::kEvidence:
        return Fill<v1::Evidence>(kGetEvidence, id, kind, change->mutable_evidence());
      case EntityKind::kTicket:
        return Fill<v1::Ticket>(kGetTicket, id, kind, change->mutable_ticket());
      case EntityKind::kNoPenalty:
        return Fill<v1::NoPenaltyDecision>(kGetNoPenalty, id, kind, change->mutable_no_penalty());
      case EntityKind::kEvent:
        return Fill<v1::CaseEvent>(kGetEvent, id, kind, change->mutable_event());
      case EntityKind::kCatalog: {
        PALM_ASSIGN_OR_RETURN(auto catalog, CurrentCatalog());
        if (catalog) *change->mutable_catalog() = std::move(*catalog);
        return Found(catalog.has_value(), kind, id);
      }
      case EntityKind::kOfficer:
        return Fill<v1::Officer>(kGetOfficer, id, kind, change->mutable_officer());
      case EntityKind::kTown:
        return Fill<v1::Town>(kGetTown, id, kind, change->mutable_town());
      case EntityKind::kSquad:
        return Fill<v1::Squad>(kGetSquad, id, kind, change->mutable_squad());
      case EntityKind::kPriorViolation:
        return Fill<v1::PriorViolation>(kGetPrior, id, kind, change->mutable_prior_violation());
      case EntityKind::kTicketLease:
        return Fill<v1::TicketLease>(kGetLease, id, kind, change->mutable_ticket_lease());
    }
    return absl::DataLossError(
        absl::StrCat("the change log names an unknown entity kind ", static_cast<int>(kind)));
  }

  template <typename Message>
  absl::Status Fill(const char* sql, const std::string& id, EntityKind kind, Message* out) {
    PALM_ASSIGN_OR_RETURN(auto value, ReadOne<Message>(sql, id, "entity"));
    if (value) *out = std::move(*value);
    return Found(value.has_value(), kind, id);
  }

  static absl::Status Found(bool found, EntityKind kind, const std::string& id) {
    if (found) return absl::OkStatus();
    return absl::DataLossError(absl::StrCat("the change log names entity ", static_cast<int>(kind),
                                            "/", id, " which is not stored"));
  }

  Connection* conn_;
  std::function<void(const v1::Device&)> on_device_put_;
  std::vector<std::function<void()>> hooks_;
  // Notes that the cases row of `c` holds what `c` holds, and keeps
  // `*record` (moved from, when given; `c` may be its value) for the next
  // GetCase.
  void RememberCaseRow(const v1::Case& c, CaseRecord* record) {
    if (cases_.size() >= kCachedCases) cases_.clear();
    CachedCase& row = cases_[c.case_id()];
    row.case_number = c.case_number();
    row.town_id = c.town_id();
    row.squad_id = c.squad_id();
    if (record != nullptr) {
      row.record = std::move(*record);
    } else {
      row.record.reset();
    }
  }
  // True when this transaction knows the row of `c` exists with the same
  // number, town and squad (so PutCase may rewrite just the rest).
  bool StoredWithSameKeys(const v1::Case& c) const {
    if (!writer_caches_) return false;
    auto it = cases_.find(c.case_id());
    return it != cases_.end() && it->second.case_number == c.case_number() &&
           it->second.town_id == c.town_id() && it->second.squad_id == c.squad_id();
  }

  static constexpr size_t kCachedCases = 4096;
  bool writer_caches_ = false;
  // The audit log's head, while audit_head_known_ (writer caches only).
  std::optional<AuditHead> audit_head_;
  bool audit_head_known_ = false;
  std::optional<uint64_t> change_head_;
  // A case row this transaction read or wrote: the indexed columns the row
  // holds, the record itself unless GetCase has handed it out, and where
  // this transaction logged the case (AppendChange), if it did.
  struct CachedCase {
    std::string case_number;
    std::string town_id;
    std::string squad_id;
    std::optional<CaseRecord> record;
    uint64_t logged_seq = 0;
    std::string logged_scope;
  };
  std::unordered_map<std::string, CachedCase> cases_;
  // The last case number of each year, once read (NextCaseNumber).
  std::map<int, int64_t> case_counters_;
  // PutCase's encoding buffers, reused.
  std::string case_body_;
  std::string case_stamps_;
  // The evidence log's size and, per level, the last left child (even
  // index) put: the right edge of the tree, which is all a Merkle append
  // reads (the left sibling of each subtree it completes).
  struct LogEdgeNode {
    bool known = false;
    uint64_t index = 0;
    std::string hash;
  };
  std::optional<uint64_t> log_size_;
  std::array<LogEdgeNode, 64> log_edge_;
  // Read through GetOfficer (absent ones too); PutOfficer drops its entry.
  std::unordered_map<std::string, std::optional<v1::Officer>> officers_;
};

class SqliteStore : public ServerStore {
 public:
  ~SqliteStore() override { (void)Close(); }

  absl::Status Open(const StoreOptions& options) {
    options_ = options;
    path_ = options.data_dir + "/palm.db";
    writer_ = std::make_unique<Connection>();
    if (auto s = writer_->Open(path_, /*read_only=*/false); !s.ok()) return s;
    if (auto s = Migrate(); !s.ok()) return s;
    if (options.max_page_count > 0) {
      // A quota (--max-store-pages); SQLite keeps it at least the current
      // size. Past it a write fails SQLITE_FULL, as on a full disk.
      const std::string pragma = absl::StrCat("PRAGMA max_page_count=", options.max_page_count);
      if (auto s = writer_->Exec(pragma.c_str(), "capping the store's size"); !s.ok()) return s;
    }
    if (auto s = LoadOrCreateEpoch(); !s.ok()) return s;
    if (auto s = LoadDevices(); !s.ok()) return s;
    for (int i = 0; i < std::max(1, options.reader_threads); ++i) {
      auto reader = std::make_unique<Connection>();
      if (auto s = reader->Open(path_, /*read_only=*/true); !s.ok()) return s;
      readers_.push_back(std::move(reader));
    }
    checkpointer_ = std::make_unique<Connection>();
    if (auto s = checkpointer_->Open(path_, /*read_only=*/false); !s.ok()) return s;
    // A connection learns that the file is in WAL mode on its first read;
    // until then a checkpoint on it does nothing and reports success.
    if (auto s = checkpointer_->Exec("SELECT count(*) FROM sqlite_schema", "reading the schema");
        !s.ok()) {
      return s;
    }
    // Replaces SQLite's auto-checkpoint on the writer (see OnWalCommit).
    sqlite3_wal_hook(writer_->db(), &SqliteStore::OnWalCommit, this);
    open_ = true;
    checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
    writer_thread_ = std::thread([this] { WriterLoop(); });
    for (auto& reader : readers_) {
      reader_threads_.emplace_back([this, conn = reader.get()] { ReaderLoop(conn); });
    }
    return absl::OkStatus();
  }

  std::string epoch() const override {
    std::lock_guard<std::mutex> lock(epoch_mutex_);
    return epoch_;
  }

  using ServerStore::SubmitWrite;
  void SubmitWrite(WriteWork work, Done done, WriteOptions options) override {
    {
      std::lock_guard<std::mutex> lock(write_mutex_);
      if (open_) {
        writes_.push_back({std::move(work), std::move(done), options.rerunnable});
        write_cv_.notify_one();
        return;
      }
    }
    done(absl::UnavailableError("the store is closed"));
  }

  void SubmitRead(ReadWork work, Done done) override {
    {
      std::lock_guard<std::mutex> lock(read_mutex_);
      if (open_) {
        reads_.push_back({std::move(work), std::move(done)});
        read_cv_.notify_one();
        return;
      }
    }
    done(absl::UnavailableError("the store is closed"));
  }

  std::optional<v1::Device> LookupDevice(const std::string& device_id) const override {
    std::lock_guard<std::mutex> lock(devices_mutex_);
    auto it = devices_.find(device_id);
    if (it == devices_.end()) return std::nullopt;
    return it->second;
  }

  absl::Status WriteConsistentCopy(const std::string& dest_path) override {
    return CopySqliteDatabase(path_, dest_path);
  }

  absl::Status AssignNewEpoch(const EpochWork& also) override {
    std::string fresh = sync::NewUuidV7();
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    absl::Status result;
    SubmitWrite(
        [this, fresh, &also](WriteTxn& txn) -> absl::Status {
          PALM_ASSIGN_OR_RETURN(auto stmt, writer_->Prepare(kReplaceEpoch));
          stmt->Text(1, fresh);
          PALM_RETURN_IF_ERROR(stmt->Run());
          return also ? also(txn, fresh) : absl::OkStatus();
        },
        [&](absl::Status s) {
          std::lock_guard<std::mutex> lock(m);
          result = s;
          finished = true;
          cv.notify_one();
        });
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return finished; });
    if (result.ok()) {
      std::lock_guard<std::mutex> epoch_lock(epoch_mutex_);
      epoch_ = fresh;
    }
    return result;
  }

  absl::Status Close() override {
    {
      std::scoped_lock lock(write_mutex_, read_mutex_);
      if (!open_ && writer_ == nullptr) return absl::OkStatus();
      open_ = false;
      write_cv_.notify_all();
      read_cv_.notify_all();
    }
    if (writer_thread_.joinable()) writer_thread_.join();
    {
      std::lock_guard<std::mutex> lock(checkpoint_mutex_);
      checkpoint_stop_ = true;
      checkpoint_cv_.notify_all();
    }
    if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
    checkpointer_.reset();
    for (auto& t : reader_threads_) t.join();
    reader_threads_.clear();
    readers_.clear();
    absl::Status status;
    if (writer_ != nullptr) {
      // A clean checkpoint leaves palm.db whole without its -wal file.
      status = writer_->Exec("PRAGMA wal_checkpoint(TRUNCATE)", "checkpointing");
      writer_.reset();
    }
    return status;
  }

 private:
  struct WriteItem {
    WriteWork work;
    Done done;
    bool rerunnable = false;
  };
  struct ReadItem {
    ReadWork work;
    Done done;
  };

  // --- WAL checkpoints, off the writer thread. ---
  //
  // SQLite's auto-checkpoint runs inside the commit that leaves the WAL
  // kCheckpointPages long: on the writer thread, so every push batch of that
  // group waits while the WAL is copied into palm.db and palm.db is synced.
  // Instead this WAL hook (installing it turns the auto-checkpoint off) wakes
  // the checkpoint thread, which runs PASSIVE checkpoints on a connection of
  // its own: they take no write lock and never block or fail the writer.
  //
  // SQLite starts the WAL over only at a write transaction that begins when
  // every frame is already in palm.db, and a busy writer commits new frames
  // while the thread copies. So the thread copies until at most
  // kTailPages are left and then leaves that short tail to the writer's next
  // commit, which copies it inline (a few pages) so that the transaction
  // after it restarts the WAL. A WAL that still reaches
  // kInlineCheckpointPages (the thread fell behind, or long reads pin old
  // frames) is checkpointed by the writer itself, as SQLite would have. A
  // failed checkpoint loses nothing: the WAL keeps every frame.
  static constexpr int kCheckpointPages = 1000;
  static constexpr int kTailPages = 64;
  static constexpr int kInlineCheckpointPages = 16 * kCheckpointPages;

  // Runs on the writer thread after each commit, with the WAL's length.
  static int OnWalCommit(void* self, sqlite3* db, const char* /*db_name*/, int wal_pages) {
    auto* store = static_cast<SqliteStore*>(self);
    if (wal_pages >= kInlineCheckpointPages || store->checkpoint_tail_ready_.exchange(false)) {
      // SQLITE_BUSY here only means the thread is checkpointing right now.
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (wal_pages >= kCheckpointPages) {
      std::lock_guard<std::mutex> lock(store->checkpoint_mutex_);
      store->checkpoint_wanted_ = true;
      store->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void CheckpointLoop() {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(checkpoint_mutex_);
        checkpoint_cv_.wait(lock, [this] { return checkpoint_wanted_ || checkpoint_stop_; });
        if (checkpoint_stop_) return;
        checkpoint_wanted_ = false;
      }
      // Catch up with the writer, a bounded number of times.
      for (int round = 0; round < 8; ++round) {
        int wal_frames = 0;
        int copied = 0;
        int rc = sqlite3_wal_checkpoint_v2(checkpointer_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &wal_frames, &copied);
        if (rc != SQLITE_OK) break;
        if (wal_frames - copied <= kTailPages) {
          checkpoint_tail_ready_ = true;
          break;
        }
      }
    }
  }

  void WriterLoop() {
    SqliteTxn txn(writer_.get(), [this](const v1::Device& d) { CacheDevice(d); });
    txn.EnableWriterCaches();
    while (true) {
      std::vector<WriteItem> group;
      {
        std::unique_lock<std::mutex> lock(write_mutex_);
        write_cv_.wait(lock, [this] { return !writes_.empty() || !open_; });
        if (writes_.empty()) return;  // closed and drained
        while (!writes_.empty() && static_cast<int>(group.size()) < options_.max_group) {
          group.push_back(std::move(writes_.front()));
          writes_.pop_front();
        }
      }
      CommitGroup(txn, group);
    }
  }

  // Runs `group` in one transaction and answers every unit once the commit
  // is durable. A group of rerunnable units (push batches) runs first
  // without a savepoint per unit: inside a savepoint SQLite copies every
  // page a unit changes that the group had already changed (16 KiB each)
  // into the savepoint's journal, ~3 % of the writer's time in the push
  // benchmark (docs/benchmarks.md). If one of them fails, the group runs
  // again the usual way. (A group of one gains nothing: in a fresh
  // transaction its savepoint copies no page.)
  void CommitGroup(SqliteTxn& txn, std::vector<WriteItem>& group) {
    std::vector<absl::Status> results;
    std::vector<std::function<void()>> hooks;
    absl::Status commit;
    const bool rerunnable =
        group.size() > 1 &&
        std::all_of(group.begin(), group.end(), [](const WriteItem& w) { return w.rerunnable; });
    if (!RunGroup(txn, group, /*savepoints=*/!rerunnable, &results, &hooks, &commit)) {
      RunGroup(txn, group, /*savepoints=*/true, &results, &hooks, &commit);
    }
    if (commit.ok()) {
      for (auto& hook : hooks) hook();
    }
    for (size_t i = 0; i < group.size(); ++i) {
      group[i].done(commit.ok() ? results[i] : commit);
    }
  }

  // Runs every unit of `group` in one transaction and commits it, setting
  // each unit's status in `results`, the commit's in `commit`, and the
  // OnCommit hooks of the units that succeeded in `hooks`. With
  // `savepoints`, each unit runs in its own savepoint and one that fails is
  // rolled back alone. Without, a unit that fails rolls the whole
  // transaction back and RunGroup returns false, having stored nothing.
  bool RunGroup(SqliteTxn& txn, std::vector<WriteItem>& group, bool savepoints,
                std::vector<absl::Status>* results, std::vector<std::function<void()>>* hooks,
                absl::Status* commit) {
    results->assign(group.size(), absl::OkStatus());
    hooks->clear();
    txn.ForgetCached();
    *commit = writer_->ExecCached("BEGIN IMMEDIATE", "starting a write transaction");
    if (!commit->ok()) return true;
    for (size_t i = 0; i < group.size(); ++i) {
      absl::Status s = savepoints ? writer_->ExecCached("SAVEPOINT unit", "opening a savepoint")
                                  : absl::OkStatus();
      if (s.ok()) {
        s = group[i].work(txn);
        auto unit_hooks = txn.TakeHooks();
        if (s.ok()) {
          if (savepoints) s = writer_->ExecCached("RELEASE unit", "releasing a savepoint");
          for (auto& h : unit_hooks) hooks->push_back(std::move(h));
        } else if (!savepoints) {
          Abandon(txn);
          return false;
        } else {
          txn.ForgetCached();
          if (sqlite3_get_autocommit(writer_->db()) != 0) {
            // SQLite rolled the whole transaction back itself, as it may on
            // a full disk or an I/O error: every unit of the group is
            // undone, and each is told why (RESOURCE_EXHAUSTED for a full
            // disk), not that a savepoint went missing.
            *commit = s;
            break;
          }
          absl::Status undo = writer_->ExecCached("ROLLBACK TO unit", "rolling back a unit");
          if (undo.ok()) undo = writer_->ExecCached("RELEASE unit", "releasing a savepoint");
          if (!undo.ok()) {
            *commit = undo;
            break;
          }
        }
      }
      (*results)[i] = s;
    }
    if (commit->ok()) *commit = writer_->ExecCached("COMMIT", "committing");
    if (!commit->ok()) Abandon(txn);
    return true;
  }

  // Rolls back the writer's open transaction and forgets what `txn` kept
  // of it.
  void Abandon(SqliteTxn& txn) {
    txn.ForgetCached();
    sqlite3_exec(writer_->db(), "ROLLBACK", nullptr, nullptr, nullptr);
  }

  void ReaderLoop(Connection* conn) {
    SqliteTxn txn(conn);
    while (true) {
      ReadItem item;
      {
        std::unique_lock<std::mutex> lock(read_mutex_);
        read_cv_.wait(lock, [this] { return !reads_.empty() || !open_; });
        if (reads_.empty()) return;
        item = std::move(reads_.front());
        reads_.pop_front();
      }
      absl::Status s = conn->ExecCached("BEGIN", "starting a read transaction");
      if (s.ok()) {
        s = item.work(txn);
        absl::Status end = conn->ExecCached("COMMIT", "ending a read transaction");
        if (s.ok()) s = end;
      }
      item.done(s);
    }
  }

  absl::Status Migrate() {
    if (auto s =
            writer_->Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL) STRICT",
                          "creating schema_migrations");
        !s.ok()) {
      return s;
    }
    int current = 0;
    {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v2(writer_->db(),
                                  "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                                  &stmt, nullptr);
      if (rc != SQLITE_OK) return SqliteError(writer_->db(), rc, path_);
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) current = sqlite3_column_int(stmt, 0);
      sqlite3_finalize(stmt);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(writer_->db(), rc, path_);
    }
    if (current > kSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat(path_, " was written by a newer palm-server (schema ", current,
                       "; this build knows up to ", kSchemaVersion, "); upgrade palm-server"));
    }
    for (int version = current + 1; version <= kSchemaVersion; ++version) {
      if (auto s = writer_->Exec("BEGIN IMMEDIATE", "starting migration"); !s.ok()) return s;
      absl::Status s = writer_->Exec(kMigrations[version - 1], "applying migration");
      if (s.ok()) {
        std::string record =
            absl::StrCat("INSERT INTO schema_migrations VALUES (", version, ", ", NowMs(), ")");
        s = writer_->Exec(record.c_str(), "recording migration");
      }
      if (s.ok()) s = writer_->Exec("COMMIT", "committing migration");
      if (!s.ok()) {
        sqlite3_exec(writer_->db(), "ROLLBACK", nullptr, nullptr, nullptr);
        return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status LoadOrCreateEpoch() {
    {
      PALM_ASSIGN_OR_RETURN(auto stmt, writer_->Prepare(kInsertEpoch));
      stmt->Text(1, sync::NewUuidV7());
      if (auto s = stmt->Run(); !s.ok()) return s;
    }
    PALM_ASSIGN_OR_RETURN(auto stmt, writer_->Prepare(kGetEpoch));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row) epoch_ = stmt->ColumnText(0);
    if (epoch_.empty()) return absl::InternalError("the store has no epoch");
    return absl::OkStatus();
  }

  absl::Status LoadDevices() {
    SqliteTxn txn(writer_.get());
    PALM_ASSIGN_OR_RETURN(auto devices, txn.AllDevices());
    std::lock_guard<std::mutex> lock(devices_mutex_);
    for (auto& d : devices) devices_[d.device_id()] = std::move(d);
    return absl::OkStatus();
  }

  void CacheDevice(const v1::Device& device) {
    std::lock_guard<std::mutex> lock(devices_mutex_);
    devices_[device.device_id()] = device;
  }

  StoreOptions options_;
  std::string path_;

  mutable std::mutex epoch_mutex_;
  std::string epoch_;  // GUARDED_BY(epoch_mutex_)

  mutable std::mutex devices_mutex_;
  std::map<std::string, v1::Device> devices_;  // GUARDED_BY(devices_mutex_)

  // The writer connection is used only by the writer thread once it runs
  // (and by Open/Close before and after).
  std::unique_ptr<Connection> writer_;
  std::vector<std::unique_ptr<Connection>> readers_;

  std::mutex write_mutex_;
  std::condition_variable write_cv_;
  std::deque<WriteItem> writes_;  // GUARDED_BY(write_mutex_)
  std::mutex read_mutex_;
  std::condition_variable read_cv_;
  std::deque<ReadItem> reads_;  // GUARDED_BY(read_mutex_)
  bool open_ = false;           // GUARDED_BY(write_mutex_ and read_mutex_)

  std::thread writer_thread_;
  std::vector<std::thread> reader_threads_;

  // Used only by the checkpoint thread once it runs.
  std::unique_ptr<Connection> checkpointer_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;  // GUARDED_BY(checkpoint_mutex_)
  // The thread left at most kTailPages for the writer's next commit to copy.
  std::atomic<bool> checkpoint_tail_ready_{false};
  bool checkpoint_stop_ = false;  // GUARDED_BY(checkpoint_mutex_)
  std::thread checkpoint_thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ServerStore>> OpenSqliteStore(const StoreOptions& options) {
  auto store = std::make_unique<SqliteStore>();
  if (absl::Status s = store->Open(options); !s.ok()) return s;
  return store;
}

}  // namespace palm::server
