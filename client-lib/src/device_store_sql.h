// The device store's SQL statements and the row encoding its files share
// (device_store.cc, device_store+server.cc, device_store+queries.cc): the
// statements as named constants, protobuf rows in and out of blobs, and what
// each sealed row is bound to. Internal to those files; nothing here is
// assembled from user strings.
#ifndef PALM_CLIENT_DEVICE_STORE_SQL_H_
#define PALM_CLIENT_DEVICE_STORE_SQL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message_lite.h"

namespace palm::internal {
namespace sql {

// --- SQL, next to the store that runs it. ---
inline constexpr char kLoadDeviceState[] =
    "SELECT device_id, last_device_seq, hlc_wall_ms, hlc_logical, key_check FROM device_state "
    "WHERE id = 1";
inline constexpr char kInitDeviceState[] =
    "INSERT INTO device_state (id, device_id, key_check) VALUES (1, ?1, ?2)";
inline constexpr char kAdvanceDeviceState[] =
    "UPDATE device_state SET last_device_seq = ?1, hlc_wall_ms = ?2, hlc_logical = ?3 WHERE id = 1";
inline constexpr char kLastSeq[] = "SELECT last_device_seq FROM device_state WHERE id = 1";
inline constexpr char kInsertOutbox[] =
    "INSERT INTO outbox (device_seq, mutation_id, case_id, created_at_ms, sealed) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr char kSelectOutbox[] =
    "SELECT device_seq, mutation_id, acked, created_at_ms, sealed FROM outbox "
    "ORDER BY device_seq";
inline constexpr char kPendingOutboxRows[] =
    "SELECT device_seq, mutation_id, acked, created_at_ms, sealed FROM outbox WHERE acked = 0 "
    "ORDER BY device_seq";
inline constexpr char kAckOutbox[] = "UPDATE outbox SET acked = 1 WHERE device_seq <= ?1";
inline constexpr char kPendingOutbox[] =
    "SELECT count(*), coalesce(min(created_at_ms), 0) FROM outbox WHERE acked = 0";
inline constexpr char kPendingUploads[] = "SELECT count(*) FROM evidence WHERE uploaded = 0";

inline constexpr char kSelectCase[] = "SELECT proto FROM cases WHERE case_id = ?1";
inline constexpr char kUpsertCase[] =
    "INSERT INTO cases (case_id, state, town_id, occurred_at_ms, proto) VALUES (?1, ?2, ?3, ?4, "
    "?5) "
    "ON CONFLICT (case_id) DO UPDATE SET state = excluded.state, town_id = excluded.town_id, "
    "occurred_at_ms = excluded.occurred_at_ms, proto = excluded.proto";
// The cases in the states where a clock may run (sync/case_clocks.h).
inline constexpr char kCasesWithClocks[] =
    // ISSUED (2) to EXECUTING (10) in palm.v1.CaseState.
    "SELECT proto FROM cases WHERE state BETWEEN 2 AND 10 ORDER BY case_id";
inline constexpr char kListCases[] =
    "SELECT proto FROM cases "
    "WHERE (?1 IS NULL OR state = ?1) AND (?2 = '' OR town_id = ?2) "
    "AND (?3 IS NULL OR occurred_at_ms >= ?3) AND (?4 IS NULL OR occurred_at_ms < ?4) "
    "AND (?5 IS NULL OR occurred_at_ms < ?5 OR (occurred_at_ms = ?5 AND case_id < ?6)) "
    "ORDER BY occurred_at_ms DESC, case_id DESC LIMIT ?7";

inline constexpr char kSelectParties[] =
    "SELECT party_id, sealed FROM parties WHERE case_id = ?1 ORDER BY ordinal, party_id";
inline constexpr char kSelectParty[] =
    "SELECT ordinal, sealed FROM parties WHERE case_id = ?1 AND party_id = ?2";
inline constexpr char kCountParties[] = "SELECT count(*) FROM parties WHERE case_id = ?1";
inline constexpr char kUpsertParty[] =
    "INSERT INTO parties (case_id, party_id, ordinal, sealed) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (case_id, party_id) DO UPDATE SET ordinal = excluded.ordinal, "
    "sealed = excluded.sealed";
inline constexpr char kDeleteParties[] = "DELETE FROM parties WHERE case_id = ?1";

inline constexpr char kSelectEvidence[] =
    "SELECT proto, content_path FROM evidence WHERE evidence_id = ?1";
inline constexpr char kEvidenceOfCase[] =
    "SELECT proto, content_path FROM evidence WHERE case_id = ?1 ORDER BY rowid";
inline constexpr char kInsertEvidence[] =
    "INSERT INTO evidence (evidence_id, case_id, content_path, uploaded, proto) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr char kUpdateEvidence[] = "UPDATE evidence SET proto = ?2 WHERE evidence_id = ?1";
inline constexpr char kUpsertServerEvidence[] =
    "INSERT INTO evidence (evidence_id, case_id, uploaded, proto) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (evidence_id) DO UPDATE SET case_id = excluded.case_id, "
    "uploaded = excluded.uploaded, proto = excluded.proto";

inline constexpr char kSelectTicket[] = "SELECT proto FROM tickets WHERE ticket_id = ?1";
inline constexpr char kSelectEvent[] = "SELECT proto FROM case_events WHERE event_id = ?1";
inline constexpr char kTicketNumberUsed[] =
    "SELECT ticket_id FROM tickets WHERE ticket_number = ?1";
inline constexpr char kTicketsOfCase[] =
    "SELECT proto FROM tickets WHERE case_id = ?1 ORDER BY ticket_number";
inline constexpr char kInsertTicket[] =
    "INSERT INTO tickets (ticket_id, case_id, ticket_number, proto) VALUES (?1, ?2, ?3, ?4)";
inline constexpr char kUpsertTicket[] =
    "INSERT INTO tickets (ticket_id, case_id, ticket_number, proto) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (ticket_id) DO UPDATE SET case_id = excluded.case_id, "
    "ticket_number = excluded.ticket_number, proto = excluded.proto";

inline constexpr char kNextLease[] =
    "SELECT next_number, prefix FROM ticket_leases WHERE next_number <= last_number "
    "ORDER BY first_number LIMIT 1";
inline constexpr char kConsumeTicketNumber[] =
    "UPDATE ticket_leases SET next_number = max(next_number, ?1 + 1) "
    "WHERE ?1 BETWEEN first_number AND last_number";
inline constexpr char kNumbersLeft[] =
    "SELECT coalesce(sum(last_number - next_number + 1), 0) FROM ticket_leases "
    "WHERE next_number <= last_number";
inline constexpr char kSignedLeases[] = "SELECT proto FROM ticket_leases ORDER BY first_number";
inline constexpr char kInsertLease[] =
    "INSERT INTO ticket_leases (lease_id, first_number, last_number, next_number, prefix, proto) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (lease_id) DO UPDATE SET "
    "last_number = excluded.last_number, prefix = excluded.prefix, proto = excluded.proto";

inline constexpr char kSelectDecision[] =
    "SELECT proto FROM no_penalty_decisions WHERE decision_id = ?1";
inline constexpr char kDecisionsOfCase[] =
    "SELECT proto FROM no_penalty_decisions WHERE case_id = ?1 ORDER BY rowid";
inline constexpr char kInsertDecision[] =
    "INSERT INTO no_penalty_decisions (decision_id, case_id, proto) VALUES (?1, ?2, ?3)";
inline constexpr char kUpsertDecision[] =
    "INSERT INTO no_penalty_decisions (decision_id, case_id, proto) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (decision_id) DO UPDATE SET case_id = excluded.case_id, proto = excluded.proto";

inline constexpr char kUpsertEvent[] =
    "INSERT INTO case_events (event_id, case_id, at_ms, proto) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (event_id) DO UPDATE SET case_id = excluded.case_id, at_ms = excluded.at_ms, "
    "proto = excluded.proto";
inline constexpr char kEventsOfCase[] =
    "SELECT proto FROM case_events WHERE case_id = ?1 ORDER BY at_ms, seq";

inline constexpr char kDeleteMatters[] = "DELETE FROM matters";
inline constexpr char kDeleteCalendar[] = "DELETE FROM calendar_years";
inline constexpr char kInsertCalendarYear[] =
    "INSERT OR REPLACE INTO calendar_years (year, proto) VALUES (?1, ?2)";
inline constexpr char kSelectCalendar[] = "SELECT proto FROM calendar_years ORDER BY year";
inline constexpr char kInsertMatter[] =
    "INSERT OR REPLACE INTO matters (code, proto) VALUES (?1, ?2)";
inline constexpr char kSelectMatter[] = "SELECT proto FROM matters WHERE code = ?1";
inline constexpr char kSelectTowns[] = "SELECT proto FROM towns ORDER BY town_id";
inline constexpr char kCatalogVersion[] = "SELECT catalog_version FROM device_state WHERE id = 1";
inline constexpr char kSetCatalogVersion[] =
    "UPDATE device_state SET catalog_version = ?1, catalog_label = ?2 WHERE id = 1";
inline constexpr char kUpsertOfficer[] =
    "INSERT OR REPLACE INTO officers (officer_id, proto) VALUES (?1, ?2)";
inline constexpr char kSelectOfficer[] = "SELECT proto FROM officers WHERE officer_id = ?1";
inline constexpr char kCountOfficers[] = "SELECT count(*) FROM officers";
inline constexpr char kUpsertTown[] =
    "INSERT OR REPLACE INTO towns (town_id, proto) VALUES (?1, ?2)";
inline constexpr char kUpsertSquad[] =
    "INSERT OR REPLACE INTO squads (squad_id, proto) VALUES (?1, ?2)";
// Row ids of prior violations that came with no violation id (older
// servers, and rows migrated to schema 8).
inline constexpr char kLegacyViolationPrefix[] = "legacy/";
inline constexpr char kInsertPrior[] =
    "INSERT OR REPLACE INTO prior_violations (violation_id, party_key, matter_code, case_number,"
    " decided_at_ms, key_id, voided) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
inline constexpr char kLegacyPriors[] =
    "SELECT party_key, matter_code, case_number, decided_at_ms, violation_id, voided"
    " FROM prior_violations WHERE key_id = ''";
inline constexpr char kVoidPrior[] =
    "UPDATE prior_violations SET voided = 1 WHERE violation_id = ?1";
inline constexpr char kDeletePriorsNotUnder[] = "DELETE FROM prior_violations WHERE key_id != ?1";
inline constexpr char kLoadPartyKey[] = "SELECT key_id, sealed FROM party_key_secret WHERE id = 1";
inline constexpr char kStorePartyKey[] =
    "INSERT OR REPLACE INTO party_key_secret (id, key_id, sealed) VALUES (1, ?1, ?2)";
inline constexpr char kSelectPriors[] =
    "SELECT case_number, decided_at_ms, voided FROM prior_violations"
    " WHERE party_key = ?1 AND matter_code = ?2";

inline constexpr char kSetCursor[] =
    "UPDATE device_state SET sync_cursor = ?1, server_epoch = ?2 WHERE id = 1";
inline constexpr char kSelectCursor[] =
    "SELECT coalesce(sync_cursor, x''), server_epoch FROM device_state WHERE id = 1";
inline constexpr char kSetReport[] = "UPDATE device_state SET last_sync_report = ?1 WHERE id = 1";
inline constexpr char kSelectReport[] = "SELECT last_sync_report FROM device_state WHERE id = 1";

inline constexpr char kFirstPending[] =
    "SELECT coalesce(min(device_seq), 0) FROM outbox WHERE acked = 0";
inline constexpr char kOutboxFrom[] =
    "SELECT device_seq, mutation_id, acked, created_at_ms, sealed FROM outbox "
    "WHERE device_seq >= ?1 ORDER BY device_seq LIMIT ?2";
inline constexpr char kOutboxCaseOf[] =
    "SELECT case_id FROM outbox WHERE device_seq = ?1 AND mutation_id = ?2";
inline constexpr char kClearCursor[] = "UPDATE device_state SET sync_cursor = NULL WHERE id = 1";
// What a snapshot replaces. Evidence whose content this device holds keeps
// its row and the path of its file, uploaded or not; the snapshot's version
// replaces the rest of the row, and its `uploaded` decides whether the file
// goes up (again): a server restored from a backup may hold the record but
// not the content.
inline constexpr char kDropScope[] =
    "DELETE FROM cases; DELETE FROM parties; DELETE FROM tickets; "
    "DELETE FROM no_penalty_decisions; DELETE FROM case_events; DELETE FROM prior_violations; "
    "DELETE FROM evidence WHERE content_path = '';";
inline constexpr char kInsertIssue[] =
    "INSERT OR IGNORE INTO sync_issues (issue_id, kind, mutation_id, device_seq, case_id, "
    "recorded_at_ms, sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
inline constexpr char kListIssues[] =
    "SELECT issue_id, kind, mutation_id, device_seq, case_id, recorded_at_ms, dismissed, sealed "
    "FROM sync_issues WHERE (?1 OR dismissed = 0) ORDER BY recorded_at_ms, issue_id";
inline constexpr char kDismissIssue[] = "UPDATE sync_issues SET dismissed = 1 WHERE issue_id = ?1";
inline constexpr char kIssueExists[] = "SELECT count(*) FROM sync_issues WHERE issue_id = ?1";

// Evidence uploads and receipts (uploader.h).
inline constexpr char kPendingUploadRows[] =
    "SELECT evidence_id, proto, content_path FROM evidence WHERE uploaded = 0 AND "
    "content_path != '' ORDER BY rowid";
inline constexpr char kSelectEvidenceReceipt[] =
    "SELECT proto, receipt FROM evidence WHERE evidence_id = ?1";
inline constexpr char kEvidenceWithoutReceipt[] =
    "SELECT evidence_id, proto FROM evidence WHERE receipt IS NULL ORDER BY rowid";
inline constexpr char kSetEvidenceUploaded[] =
    "UPDATE evidence SET uploaded = 1, proto = ?2 WHERE evidence_id = ?1";
inline constexpr char kSetEvidenceReceipt[] =
    "UPDATE evidence SET receipt = ?2, proto = ?3 WHERE evidence_id = ?1";

}  // namespace sql

// What each sealed row is bound to: a sealed value copied into another row
// (or another device's database) does not open.
inline std::string KeyCheckAad(absl::string_view device_id) {
  return absl::StrCat("palm/key-check/v1|", device_id);
}
inline std::string PartyAad(absl::string_view case_id, absl::string_view party_id) {
  return absl::StrCat("palm/party/v1|", case_id, "|", party_id);
}
inline std::string OutboxAad(absl::string_view mutation_id) {
  return absl::StrCat("palm/outbox/v1|", mutation_id);
}
inline std::string PartyKeyAad(absl::string_view device_id) {
  return absl::StrCat("palm/party-key-secret/v1|", device_id);
}
inline std::string IssueAad(absl::string_view issue_id) {
  return absl::StrCat("palm/sync-issue/v1|", issue_id);
}

// The row `bytes` as a `Message`; DATA_LOSS, naming `what`, when it does not
// parse.
template <typename Message>
absl::StatusOr<Message> Parse(const std::string& bytes, absl::string_view what) {
  Message m;
  if (!m.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("stored ", what, " cannot be parsed"));
  }
  return m;
}

// `m` as the bytes of its row.
inline std::string Serialize(const google::protobuf::MessageLite& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

}  // namespace palm::internal

#endif  // PALM_CLIENT_DEVICE_STORE_SQL_H_
