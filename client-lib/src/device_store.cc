#include "client-lib/src/device_store.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client-lib/src/macros.h"
#include "client-lib/src/schema.h"
#include "nlohmann/json.hpp"
#include "sync/lifecycle.h"
#include "sync/mutation.h"
#include "sync/notice.h"
#include "sync/operations.h"
#include "sync/request_check.h"
#include "sync/rules.h"
#include "sync/sha256.h"
#include "sync/status.h"
#include "sync/uuid.h"

namespace palm::internal {
namespace {

// --- SQL, next to the store that runs it. ---
constexpr char kLoadDeviceState[] =
    "SELECT device_id, last_device_seq, hlc_wall_ms, hlc_logical, key_check FROM device_state "
    "WHERE id = 1";
constexpr char kInitDeviceState[] =
    "INSERT INTO device_state (id, device_id, key_check) VALUES (1, ?1, ?2)";
constexpr char kAdvanceDeviceState[] =
    "UPDATE device_state SET last_device_seq = ?1, hlc_wall_ms = ?2, hlc_logical = ?3 WHERE id = 1";
constexpr char kLastSeq[] = "SELECT last_device_seq FROM device_state WHERE id = 1";
constexpr char kInsertOutbox[] =
    "INSERT INTO outbox (device_seq, mutation_id, case_id, created_at_ms, sealed) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr char kSelectOutbox[] =
    "SELECT device_seq, mutation_id, acked, created_at_ms, sealed FROM outbox "
    "ORDER BY device_seq";
constexpr char kPendingOutboxRows[] =
    "SELECT device_seq, mutation_id, acked, created_at_ms, sealed FROM outbox WHERE acked = 0 "
    "ORDER BY device_seq";
constexpr char kAckOutbox[] = "UPDATE outbox SET acked = 1 WHERE device_seq <= ?1";
constexpr char kPendingOutbox[] =
    "SELECT count(*), coalesce(min(created_at_ms), 0) FROM outbox WHERE acked = 0";
constexpr char kPendingUploads[] = "SELECT count(*) FROM evidence WHERE uploaded = 0";

constexpr char kSelectCase[] = "SELECT proto FROM cases WHERE case_id = ?1";
constexpr char kUpsertCase[] =
    "INSERT INTO cases (case_id, state, town_id, occurred_at_ms, proto) VALUES (?1, ?2, ?3, ?4, "
    "?5) "
    "ON CONFLICT (case_id) DO UPDATE SET state = excluded.state, town_id = excluded.town_id, "
    "occurred_at_ms = excluded.occurred_at_ms, proto = excluded.proto";
constexpr char kListCases[] =
    "SELECT proto FROM cases "
    "WHERE (?1 IS NULL OR state = ?1) AND (?2 = '' OR town_id = ?2) "
    "AND (?3 IS NULL OR occurred_at_ms >= ?3) AND (?4 IS NULL OR occurred_at_ms < ?4) "
    "AND (?5 IS NULL OR occurred_at_ms < ?5 OR (occurred_at_ms = ?5 AND case_id < ?6)) "
    "ORDER BY occurred_at_ms DESC, case_id DESC LIMIT ?7";

constexpr char kSelectParties[] =
    "SELECT party_id, sealed FROM parties WHERE case_id = ?1 ORDER BY ordinal, party_id";
constexpr char kSelectParty[] =
    "SELECT ordinal, sealed FROM parties WHERE case_id = ?1 AND party_id = ?2";
constexpr char kCountParties[] = "SELECT count(*) FROM parties WHERE case_id = ?1";
constexpr char kUpsertParty[] =
    "INSERT INTO parties (case_id, party_id, ordinal, sealed) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (case_id, party_id) DO UPDATE SET ordinal = excluded.ordinal, "
    "sealed = excluded.sealed";
constexpr char kDeleteParties[] = "DELETE FROM parties WHERE case_id = ?1";

constexpr char kSelectEvidence[] =
    "SELECT proto, content_path FROM evidence WHERE evidence_id = ?1";
constexpr char kEvidenceOfCase[] =
    "SELECT proto, content_path FROM evidence WHERE case_id = ?1 ORDER BY rowid";
constexpr char kInsertEvidence[] =
    "INSERT INTO evidence (evidence_id, case_id, content_path, uploaded, proto) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr char kUpdateEvidence[] = "UPDATE evidence SET proto = ?2 WHERE evidence_id = ?1";
constexpr char kUpsertServerEvidence[] =
    "INSERT INTO evidence (evidence_id, case_id, uploaded, proto) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (evidence_id) DO UPDATE SET case_id = excluded.case_id, "
    "uploaded = excluded.uploaded, proto = excluded.proto";

constexpr char kSelectTicket[] = "SELECT proto FROM tickets WHERE ticket_id = ?1";
constexpr char kSelectEvent[] = "SELECT proto FROM case_events WHERE event_id = ?1";
constexpr char kTicketNumberUsed[] = "SELECT ticket_id FROM tickets WHERE ticket_number = ?1";
constexpr char kTicketsOfCase[] =
    "SELECT proto FROM tickets WHERE case_id = ?1 ORDER BY ticket_number";
constexpr char kInsertTicket[] =
    "INSERT INTO tickets (ticket_id, case_id, ticket_number, proto) VALUES (?1, ?2, ?3, ?4)";
constexpr char kUpsertTicket[] =
    "INSERT INTO tickets (ticket_id, case_id, ticket_number, proto) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (ticket_id) DO UPDATE SET case_id = excluded.case_id, "
    "ticket_number = excluded.ticket_number, proto = excluded.proto";

constexpr char kNextLease[] =
    "SELECT next_number, prefix FROM ticket_leases WHERE next_number <= last_number "
    "ORDER BY first_number LIMIT 1";
constexpr char kConsumeTicketNumber[] =
    "UPDATE ticket_leases SET next_number = max(next_number, ?1 + 1) "
    "WHERE ?1 BETWEEN first_number AND last_number";
constexpr char kNumbersLeft[] =
    "SELECT coalesce(sum(last_number - next_number + 1), 0) FROM ticket_leases "
    "WHERE next_number <= last_number";
constexpr char kSignedLeases[] = "SELECT proto FROM ticket_leases ORDER BY first_number";
constexpr char kInsertLease[] =
    "INSERT INTO ticket_leases (lease_id, first_number, last_number, next_number, prefix, proto) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (lease_id) DO UPDATE SET "
    "last_number = excluded.last_number, prefix = excluded.prefix, proto = excluded.proto";

constexpr char kSelectDecision[] = "SELECT proto FROM no_penalty_decisions WHERE decision_id = ?1";
constexpr char kDecisionsOfCase[] =
    "SELECT proto FROM no_penalty_decisions WHERE case_id = ?1 ORDER BY rowid";
constexpr char kInsertDecision[] =
    "INSERT INTO no_penalty_decisions (decision_id, case_id, proto) VALUES (?1, ?2, ?3)";
constexpr char kUpsertDecision[] =
    "INSERT INTO no_penalty_decisions (decision_id, case_id, proto) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (decision_id) DO UPDATE SET case_id = excluded.case_id, proto = excluded.proto";

constexpr char kUpsertEvent[] =
    "INSERT INTO case_events (event_id, case_id, at_ms, proto) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (event_id) DO UPDATE SET case_id = excluded.case_id, at_ms = excluded.at_ms, "
    "proto = excluded.proto";
constexpr char kEventsOfCase[] =
    "SELECT proto FROM case_events WHERE case_id = ?1 ORDER BY at_ms, seq";

constexpr char kDeleteMatters[] = "DELETE FROM matters";
constexpr char kDeleteCalendar[] = "DELETE FROM calendar_years";
constexpr char kInsertCalendarYear[] =
    "INSERT OR REPLACE INTO calendar_years (year, proto) VALUES (?1, ?2)";
constexpr char kSelectCalendar[] = "SELECT proto FROM calendar_years ORDER BY year";
constexpr char kInsertMatter[] = "INSERT OR REPLACE INTO matters (code, proto) VALUES (?1, ?2)";
constexpr char kSelectMatter[] = "SELECT proto FROM matters WHERE code = ?1";
constexpr char kCatalogVersion[] = "SELECT catalog_version FROM device_state WHERE id = 1";
constexpr char kSetCatalogVersion[] =
    "UPDATE device_state SET catalog_version = ?1, catalog_label = ?2 WHERE id = 1";
constexpr char kUpsertOfficer[] =
    "INSERT OR REPLACE INTO officers (officer_id, proto) VALUES (?1, ?2)";
constexpr char kSelectOfficer[] = "SELECT proto FROM officers WHERE officer_id = ?1";
constexpr char kCountOfficers[] = "SELECT count(*) FROM officers";
constexpr char kUpsertTown[] = "INSERT OR REPLACE INTO towns (town_id, proto) VALUES (?1, ?2)";
constexpr char kUpsertSquad[] = "INSERT OR REPLACE INTO squads (squad_id, proto) VALUES (?1, ?2)";
constexpr char kInsertPrior[] =
    "INSERT OR REPLACE INTO prior_violations (party_key, matter_code, case_number, decided_at_ms) "
    "VALUES (?1, ?2, ?3, ?4)";
constexpr char kSelectPrior[] =
    "SELECT case_number FROM prior_violations WHERE party_key = ?1 AND matter_code = ?2 "
    "ORDER BY decided_at_ms DESC LIMIT 1";

constexpr char kSetCursor[] =
    "UPDATE device_state SET sync_cursor = ?1, server_epoch = ?2 WHERE id = 1";
constexpr char kSelectCursor[] =
    "SELECT coalesce(sync_cursor, x''), server_epoch FROM device_state WHERE id = 1";
constexpr char kSetReport[] = "UPDATE device_state SET last_sync_report = ?1 WHERE id = 1";
constexpr char kSelectReport[] = "SELECT last_sync_report FROM device_state WHERE id = 1";

constexpr char kFirstPending[] = "SELECT coalesce(min(device_seq), 0) FROM outbox WHERE acked = 0";
constexpr char kOutboxFrom[] =
    "SELECT device_seq, mutation_id, acked, created_at_ms, sealed FROM outbox "
    "WHERE device_seq >= ?1 ORDER BY device_seq LIMIT ?2";
constexpr char kOutboxCaseOf[] =
    "SELECT case_id FROM outbox WHERE device_seq = ?1 AND mutation_id = ?2";
constexpr char kClearCursor[] = "UPDATE device_state SET sync_cursor = NULL WHERE id = 1";
// What a snapshot replaces. Evidence whose content this device holds keeps
// its row and the path of its file, uploaded or not; the snapshot's version
// replaces the rest of the row, and its `uploaded` decides whether the file
// goes up (again): a server restored from a backup may hold the record but
// not the content (issue 18).
constexpr char kDropScope[] =
    "DELETE FROM cases; DELETE FROM parties; DELETE FROM tickets; "
    "DELETE FROM no_penalty_decisions; DELETE FROM case_events; DELETE FROM prior_violations; "
    "DELETE FROM evidence WHERE content_path = '';";
constexpr char kInsertIssue[] =
    "INSERT OR IGNORE INTO sync_issues (issue_id, kind, mutation_id, device_seq, case_id, "
    "recorded_at_ms, sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kListIssues[] =
    "SELECT issue_id, kind, mutation_id, device_seq, case_id, recorded_at_ms, dismissed, sealed "
    "FROM sync_issues WHERE (?1 OR dismissed = 0) ORDER BY recorded_at_ms, issue_id";
constexpr char kDismissIssue[] = "UPDATE sync_issues SET dismissed = 1 WHERE issue_id = ?1";
constexpr char kIssueExists[] = "SELECT count(*) FROM sync_issues WHERE issue_id = ?1";

constexpr char kKeyCheckPlaintext[] = "palm device store key check";
constexpr int kMaxPageSize = 500;

std::string KeyCheckAad(absl::string_view device_id) {
  return absl::StrCat("palm/key-check/v1|", device_id);
}
std::string PartyAad(absl::string_view case_id, absl::string_view party_id) {
  return absl::StrCat("palm/party/v1|", case_id, "|", party_id);
}
std::string OutboxAad(absl::string_view mutation_id) {
  return absl::StrCat("palm/outbox/v1|", mutation_id);
}
std::string IssueAad(absl::string_view issue_id) {
  return absl::StrCat("palm/sync-issue/v1|", issue_id);
}

template <typename Message>
absl::StatusOr<Message> Parse(const std::string& bytes, absl::string_view what) {
  Message m;
  if (!m.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("stored ", what, " cannot be parsed"));
  }
  return m;
}

// Loads the record `id` with `select_sql` (which selects its proto), or
// nullopt when it is not on this device.
template <typename Message>
absl::StatusOr<std::optional<Message>> LoadRecord(Db& db, const char* select_sql,
                                                  const std::string& id) {
  PALM_ASSIGN_OR_RETURN(Statement select, db.Prepare(select_sql));
  select.Bind(1, id);
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::nullopt;
  PALM_ASSIGN_OR_RETURN(Message record, Parse<Message>(select.Blob(0), "record"));
  return record;
}

// The officers a write names, as far as the device's synced roster (its own
// town's officers) knows them.
struct Roster {
  std::vector<v1::Officer> officers;
  sync::OfficerLookup Lookup() const {
    return [this](const std::string& id) -> const v1::Officer* {
      for (const v1::Officer& o : officers) {
        if (o.officer_id() == id) return &o;
      }
      return nullptr;
    };
  }
};

// Loads the officers `ids` (any container of std::string) that are on the
// device's roster.
template <typename Ids>
absl::StatusOr<Roster> LoadRoster(Db& db, const Ids& ids) {
  Roster roster;
  PALM_ASSIGN_OR_RETURN(Statement select, db.Prepare(kSelectOfficer));
  for (const std::string& id : ids) {
    select.Bind(1, id);
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) {
      PALM_ASSIGN_OR_RETURN(v1::Officer o, Parse<v1::Officer>(select.Blob(0), "officer"));
      roster.officers.push_back(std::move(o));
    }
    select.Reset();
  }
  return roster;
}

std::string Serialize(const google::protobuf::MessageLite& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

absl::Status UnknownCase(absl::string_view case_id) {
  return sync::Refuse(absl::StatusCode::kNotFound, v1::REASON_UNKNOWN_CASE,
                      absl::StrCat("case ", case_id, " is not on this device"));
}

// Returns the party of `c` called `party_id`, or the only party when
// `party_id` is empty and there is exactly one.
const v1::Party* FindParty(const v1::Case& c, absl::string_view party_id) {
  if (party_id.empty()) return c.parties_size() == 1 ? &c.parties(0) : nullptr;
  for (const v1::Party& p : c.parties()) {
    if (p.party_id() == party_id) return &p;
  }
  return nullptr;
}

std::string TicketNumberText(absl::string_view prefix, int64_t number) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%06" PRId64, number);
  return absl::StrCat(prefix, digits);
}

// Page tokens: hex of "v1|<occurred_at_ms>|<case_id>" — opaque to callers.
std::string EncodePageToken(const v1::Case& last) {
  return absl::BytesToHexString(absl::StrCat("v1|", last.occurred_at_ms(), "|", last.case_id()));
}

absl::Status DecodePageToken(absl::string_view token, int64_t* occurred_at_ms,
                             std::string* case_id) {
  absl::Status bad = sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                                           "page token is not one this device issued");
  if (token.size() % 2 != 0 || token.find_first_not_of("0123456789abcdef") != token.npos) {
    return bad;
  }
  std::vector<std::string> parts = absl::StrSplit(absl::HexStringToBytes(token), '|');
  if (parts.size() != 3 || parts[0] != "v1" || !absl::SimpleAtoi(parts[1], occurred_at_ms) ||
      parts[2].empty()) {
    return bad;
  }
  *case_id = parts[2];
  return absl::OkStatus();
}

}  // namespace

DeviceStore::DeviceStore(std::unique_ptr<Db> db, std::unique_ptr<Checkpointer> checkpointer,
                         std::unique_ptr<WalDurability> wal, bool durable_writes,
                         std::string device_id, const std::array<uint8_t, 32>& key,
                         std::function<int64_t()> now_ms)
    : db_(std::move(db)),
      checkpointer_(std::move(checkpointer)),
      wal_(std::move(wal)),
      durable_writes_(durable_writes),
      device_id_(std::move(device_id)),
      aead_(key),
      now_ms_(std::move(now_ms)),
      clock_(now_ms_) {}

DeviceStore::~DeviceStore() {
  // Joins the checkpoint thread and removes its hook while db_ is open; db_,
  // the last connection to close, then checkpoints and removes the WAL.
  checkpointer_.reset();
}

absl::StatusOr<std::unique_ptr<DeviceStore>> DeviceStore::Open(StoreOptions options) {
  if (options.path.empty()) {
    return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT, "a database path is required");
  }
  if (!options.now_ms) options.now_ms = sync::SystemNowMs;
  PALM_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(options.path, /*read_only=*/false));

  // Look at the schema version before changing anything, so that a database
  // from a newer Palm is left exactly as it was.
  {
    PALM_ASSIGN_OR_RETURN(Statement has, db->Prepare(kHasMigrationsTable));
    PALM_ASSIGN_OR_RETURN(bool row, has.Step());
    if (row && has.Int(0) > 0) {
      PALM_ASSIGN_OR_RETURN(Statement max, db->Prepare(kMaxMigration));
      PALM_ASSIGN_OR_RETURN(bool got, max.Step());
      int64_t version = got ? max.Int(0) : 0;
      if (version > kLatestSchemaVersion) {
        return sync::FailedPrecondition(
            v1::REASON_SCHEMA_TOO_NEW,
            absl::StrCat("database ", options.path, " has schema version ", version,
                         ", newer than this Palm library understands (", kLatestSchemaVersion,
                         "); update the app — the database was not changed"));
      }
    }
  }

  PALM_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode = WAL"));
  // Never FULL: durable writes sync the WAL after their commit, sharing the
  // sync with concurrent writers (MakeDurable, wal_vfs.h). NORMAL still
  // syncs before and after every checkpoint.
  PALM_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = NORMAL"));
  PALM_RETURN_IF_ERROR(db->Exec("PRAGMA secure_delete = ON"));
  PALM_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = OFF"));
  PALM_RETURN_IF_ERROR(db->Exec(kCreateMigrationsTable));

  // Forward-only migrations, each in its own transaction.
  int64_t current = 0;
  {
    PALM_ASSIGN_OR_RETURN(Statement max, db->Prepare(kMaxMigration));
    PALM_ASSIGN_OR_RETURN(bool got, max.Step());
    current = got ? max.Int(0) : 0;
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= current) continue;
    Transaction tx(*db);
    PALM_RETURN_IF_ERROR(tx.status());
    PALM_RETURN_IF_ERROR(db->Exec(migration.sql));
    {
      PALM_ASSIGN_OR_RETURN(Statement record, db->Prepare(kRecordMigration));
      PALM_RETURN_IF_ERROR(record.Bind(1, migration.version).Bind(2, options.now_ms()).Run());
    }
    PALM_RETURN_IF_ERROR(
        db->Exec(absl::StrCat("PRAGMA user_version = ", migration.version).c_str()));
    PALM_RETURN_IF_ERROR(tx.Commit());
  }

  // The device this database belongs to, and proof that the key opens it.
  Aead aead(options.key);
  std::string device_id = options.device_id;
  sync::HlcStamp last_stamp;
  {
    PALM_ASSIGN_OR_RETURN(Statement load, db->Prepare(kLoadDeviceState));
    PALM_ASSIGN_OR_RETURN(bool row, load.Step());
    if (row) {
      std::string stored = load.Text(0);
      if (!device_id.empty() && device_id != stored) {
        return sync::FailedPrecondition(
            v1::REASON_WRONG_DEVICE, absl::StrCat("database ", options.path, " belongs to device ",
                                                  stored, ", not ", device_id));
      }
      device_id = stored;
      last_stamp.wall_ms = load.Int(2);
      last_stamp.logical = static_cast<uint32_t>(load.Int(3));
      absl::StatusOr<std::string> check = aead.Open(load.Blob(4), KeyCheckAad(device_id));
      if (!check.ok() || *check != kKeyCheckPlaintext) {
        return sync::Refuse(
            absl::StatusCode::kPermissionDenied, v1::REASON_PERMISSION_DENIED,
            absl::StrCat("the key from the key provider does not open database ", options.path));
      }
    } else {
      if (device_id.empty()) {
        return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                                     "a device id is required to create a new database");
      }
      PALM_ASSIGN_OR_RETURN(std::string check,
                            aead.Seal(kKeyCheckPlaintext, KeyCheckAad(device_id)));
      PALM_ASSIGN_OR_RETURN(Statement init, db->Prepare(kInitDeviceState));
      PALM_RETURN_IF_ERROR(init.Bind(1, device_id).BindBlob(2, check).Run());
    }
  }

  // The migrations and device state above, on the disk before Open returns.
  PALM_ASSIGN_OR_RETURN(std::unique_ptr<WalDurability> wal, WalDurability::Of(db->raw()));
  if (options.synchronous_full) PALM_RETURN_IF_ERROR(wal->Sync());

  // From here on commits leave checkpoints to the checkpointer's thread.
  PALM_ASSIGN_OR_RETURN(std::unique_ptr<Checkpointer> checkpointer,
                        Checkpointer::Start(options.path, *db));
  std::unique_ptr<DeviceStore> store(new DeviceStore(std::move(db), std::move(checkpointer),
                                                     std::move(wal), options.synchronous_full,
                                                     device_id, options.key, options.now_ms));
  store->clock_.Restore(last_stamp);
  return store;
}

absl::Status DeviceStore::RunInTransaction(const std::function<absl::Status()>& body) {
  PALM_RETURN_IF_ERROR(CanWrite());
  Transaction tx(*db_);
  PALM_RETURN_IF_ERROR(tx.status());
  PALM_RETURN_IF_ERROR(body());
  PALM_RETURN_IF_ERROR(tx.Commit());
  return MakeDurable();
}

absl::Status DeviceStore::SetActingOfficer(const std::string& officer_id) {
  if (officer_id.empty()) {
    return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT, "an officer id is required");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement count, db_->Prepare(kCountOfficers));
  PALM_ASSIGN_OR_RETURN(bool row, count.Step());
  if (row && count.Int(0) > 0) {
    PALM_ASSIGN_OR_RETURN(std::vector<v1::Officer> found, LoadOfficersLocked({officer_id}));
    if (found.empty()) {
      return sync::FailedPrecondition(
          v1::REASON_UNKNOWN_OFFICER,
          absl::StrCat("officer ", officer_id, " is not on this device's roster; sync first"));
    }
  }
  acting_officer_ = officer_id;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// The local write path.

absl::StatusOr<v1::Mutation> DeviceStore::Write(v1::Mutation m, const std::string& evidence_path) {
  PALM_ASSIGN_OR_RETURN(m, CommitWrite(std::move(m), evidence_path));
  // Outside mutex_: while this waits for the disk, other writers commit, and
  // one sync covers them all.
  PALM_RETURN_IF_ERROR(MakeDurable());
  return m;
}

absl::StatusOr<v1::Mutation> DeviceStore::CommitWrite(v1::Mutation m,
                                                      const std::string& evidence_path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (acting_officer_.empty()) {
    return sync::FailedPrecondition(
        v1::REASON_UNKNOWN_OFFICER,
        "no officer is signed in on this device: call SetActingOfficer first");
  }
  if (m.operation_case() == v1::Mutation::OPERATION_NOT_SET) {
    return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT, "the mutation has no operation");
  }
  // What the server would refuse is never stored (sync/request_check.h).
  PALM_RETURN_IF_ERROR(sync::CheckMutation(m));
  PALM_RETURN_IF_ERROR(CanWrite());
  Transaction tx(*db_);
  PALM_RETURN_IF_ERROR(tx.status());
  {
    PALM_ASSIGN_OR_RETURN(Statement last, db_->Prepare(kLastSeq));
    PALM_ASSIGN_OR_RETURN(bool row, last.Step());
    if (!row) return absl::InternalError("device_state row is missing");
    m.set_device_seq(static_cast<uint64_t>(last.Int(0)) + 1);
  }
  m.set_mutation_id(sync::NewUuidV7(NowMs()));
  m.set_device_id(device_id_);
  m.set_officer_id(acting_officer_);
  *m.mutable_hlc() = clock_.Now().ToProto();

  PALM_RETURN_IF_ERROR(PrepareLocked(&m));
  PALM_RETURN_IF_ERROR(sync::CheckMutationShape(m));
  PALM_RETURN_IF_ERROR(CheckRulesLocked(m));
  PALM_RETURN_IF_ERROR(ApplyMutationLocked(m, evidence_path));
  PALM_RETURN_IF_ERROR(AppendOutboxLocked(m));
  PALM_RETURN_IF_ERROR(tx.Commit());
  return m;
}

absl::Status DeviceStore::PrepareLocked(v1::Mutation* m) {
  const int64_t now = NowMs();
  switch (m->operation_case()) {
    case v1::Mutation::kRecordCase: {
      v1::Case* c = m->mutable_record_case()->mutable_case_();
      if (c->case_id().empty()) c->set_case_id(sync::NewUuidV7(now));
      c->set_case_number("");
      c->set_state(sync::InitialState(c->procedure()));
      c->set_created_by_device(device_id_);
      c->set_created_by_officer(m->officer_id());
      c->set_created_at_ms(now);
      if (c->occurred_at_ms() == 0) c->set_occurred_at_ms(now);
      if (c->officer_ids().empty()) c->add_officer_ids(m->officer_id());
      if (c->town_id().empty()) c->set_town_id(c->place().town_id());
      if (c->place().town_id().empty()) c->mutable_place()->set_town_id(c->town_id());
      *c->mutable_state_hlc() = m->hlc();
      for (v1::Party& p : *c->mutable_parties()) {
        if (p.party_id().empty()) p.set_party_id(sync::NewUuidV7(now));
      }
      return absl::OkStatus();
    }
    case v1::Mutation::kAddEvidence: {
      v1::Evidence* e = m->mutable_add_evidence()->mutable_evidence();
      if (e->evidence_id().empty()) e->set_evidence_id(sync::NewUuidV7(now));
      e->set_device_id(device_id_);
      e->set_officer_id(m->officer_id());
      if (e->captured_at_ms() == 0) e->set_captured_at_ms(now);
      return absl::OkStatus();
    }
    case v1::Mutation::kIssueTicket: {
      v1::Ticket* t = m->mutable_issue_ticket()->mutable_ticket();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(t->case_id()));
      PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
      for (v1::Party& p : parties) *c.add_parties() = std::move(p);
      if (t->ticket_id().empty()) t->set_ticket_id(sync::NewUuidV7(now));
      if (const v1::Party* p = FindParty(c, t->party_id())) t->set_party_id(p->party_id());
      // The matter, the party's kind and the procedure follow from the case,
      // through the same function the server re-derives them with.
      PALM_RETURN_IF_ERROR(sync::DeriveTicket(c, c.case_id(), t));
      t->set_device_id(device_id_);
      t->set_voided(false);
      t->clear_void_reason();
      if (t->issued_at_ms() == 0) t->set_issued_at_ms(now);
      // The number comes last so that it is taken only from a ticket that is
      // otherwise complete; the whole transaction rolls back on refusal.
      PALM_ASSIGN_OR_RETURN(Statement next, db_->Prepare(kNextLease));
      PALM_ASSIGN_OR_RETURN(bool row, next.Step());
      if (!row) {
        return sync::FailedPrecondition(
            v1::REASON_TICKET_NUMBER_EXHAUSTED,
            "no ticket numbers left on this device: sync to lease a new block");
      }
      t->set_ticket_number(next.Int(0));
      t->set_ticket_number_text(TicketNumberText(next.Text(1), next.Int(0)));
      return absl::OkStatus();
    }
    case v1::Mutation::kRecordNoPenalty: {
      v1::NoPenaltyDecision* d = m->mutable_record_no_penalty()->mutable_decision();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(d->case_id()));
      if (d->decision_id().empty()) d->set_decision_id(sync::NewUuidV7(now));
      d->set_matter_code(c.matter_code());
      if (d->party_id().empty()) {
        PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
        if (parties.size() == 1) d->set_party_id(parties[0].party_id());
      }
      if (d->decided_at_ms() == 0) d->set_decided_at_ms(now);
      // No officers named: the case's own officers decide (Art. 42 needs two
      // with credentials; the acting officer alone never suffices).
      if (d->officer_ids().empty()) {
        if (c.officer_ids().empty()) {
          d->add_officer_ids(m->officer_id());
        } else {
          *d->mutable_officer_ids() = c.officer_ids();
        }
      }
      return absl::OkStatus();
    }
    case v1::Mutation::kTransitionCase: {
      v1::TransitionCase* t = m->mutable_transition_case();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(t->case_id()));
      t->set_from_state(c.state());
      return absl::OkStatus();
    }
    case v1::Mutation::kAppendCaseEvent: {
      v1::CaseEvent* e = m->mutable_append_case_event()->mutable_event();
      if (e->event_id().empty()) e->set_event_id(sync::NewUuidV7(now));
      e->set_officer_id(m->officer_id());
      if (e->at_ms() == 0) e->set_at_ms(now);
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status DeviceStore::CheckRulesLocked(const v1::Mutation& m) {
  switch (m.operation_case()) {
    case v1::Mutation::kRecordCase: {
      const v1::Case& c = m.record_case().case_();
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(c.matter_code()));
      PALM_RETURN_IF_ERROR(sync::CheckRecordCase(c, matter ? &*matter : nullptr));
      PALM_RETURN_IF_ERROR(sync::CheckCaseParties(c));
      PALM_ASSIGN_OR_RETURN(Roster roster, LoadRoster(*db_, c.officer_ids()));
      PALM_RETURN_IF_ERROR(sync::CheckOfficersOnRoster(
          c.officer_ids(), "record_case.case.officer_ids", roster.Lookup()));
      return sync::CheckCredentialedOfficers(
          c.officer_ids(), sync::CredentialedAct::kInspectionRecord, roster.Lookup());
    }
    case v1::Mutation::kUpdateCaseFields: {
      const v1::UpdateCaseFields& u = m.update_case_fields();
      std::vector<std::string> values;
      for (int i = 0; i < u.changes_size(); ++i) {
        PALM_ASSIGN_OR_RETURN(
            values.emplace_back(),
            sync::CanonicalFieldValue(u.changes(i),
                                      absl::StrCat("update_case_fields.changes[", i, "]")));
      }
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(u.case_id()));
      PALM_RETURN_IF_ERROR(sync::CheckCaseEditable(c, c.case_id()));
      for (const v1::CaseFieldChange& change : u.changes()) {
        if (change.field() != v1::CASE_FIELD_MATTER_CODE) continue;
        PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(change.value()));
        PALM_RETURN_IF_ERROR(sync::CheckMatterKnown(change.value(), matter ? &*matter : nullptr));
      }
      // The case as the changes leave it, against the case's limits: the
      // server checks the case it merges the same way.
      PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
      for (v1::Party& p : parties) *c.add_parties() = std::move(p);
      for (int i = 0; i < u.changes_size(); ++i) {
        const v1::CaseFieldChange& change = u.changes(i);
        sync::SetFieldValue(&c, change.field(),
                            sync::IsPartyField(change.field()) ? change.party_id() : "", values[i]);
      }
      return sync::CheckChangedEntity(
          c, absl::StrCat("update_case_fields would leave case ", c.case_id(), " over a limit"));
    }
    case v1::Mutation::kAddEvidence:
      PALM_RETURN_IF_ERROR(sync::CheckAddEvidence(m.add_evidence().evidence()));
      return RequireCaseLocked(m.add_evidence().evidence().case_id()).status();
    case v1::Mutation::kWithdrawEvidence: {
      const v1::WithdrawEvidence& w = m.withdraw_evidence();
      PALM_RETURN_IF_ERROR(RequireCaseLocked(w.case_id()).status());
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Evidence> e,
                            LoadRecord<v1::Evidence>(*db_, kSelectEvidence, w.evidence_id()));
      return sync::CheckWithdrawEvidence(w, e ? &*e : nullptr, w.case_id());
    }
    case v1::Mutation::kIssueTicket: {
      // The case and what follows from it were checked by PrepareLocked
      // (sync::DeriveTicket).
      const v1::Ticket& t = m.issue_ticket().ticket();
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(t.matter_code()));
      PALM_ASSIGN_OR_RETURN(Roster roster, LoadRoster(*db_, t.officer_ids()));
      return sync::CheckTicket(t, matter ? &*matter : nullptr, roster.officers);
    }
    case v1::Mutation::kVoidTicket: {
      const v1::VoidTicket& v = m.void_ticket();
      PALM_RETURN_IF_ERROR(RequireCaseLocked(v.case_id()).status());
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Ticket> t,
                            LoadRecord<v1::Ticket>(*db_, kSelectTicket, v.ticket_id()));
      return sync::CheckVoidTicket(v, t ? &*t : nullptr, v.case_id());
    }
    case v1::Mutation::kRecordNoPenalty: {
      v1::NoPenaltyDecision d = m.record_no_penalty().decision();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(d.case_id()));
      PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
      for (v1::Party& p : parties) *c.add_parties() = std::move(p);
      const v1::Party* party = nullptr;
      PALM_RETURN_IF_ERROR(sync::DeriveNoPenalty(c, c.case_id(), &d, &party));
      PALM_ASSIGN_OR_RETURN(Roster roster, LoadRoster(*db_, d.officer_ids()));
      PALM_RETURN_IF_ERROR(sync::CheckOfficersOnRoster(
          d.officer_ids(), "record_no_penalty.decision.officer_ids", roster.Lookup()));
      PALM_RETURN_IF_ERROR(sync::CheckCredentialedOfficers(
          d.officer_ids(), sync::CredentialedAct::kNoPenalty, roster.Lookup()));
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(d.matter_code()));
      const v1::Matter* mp = matter ? &*matter : nullptr;
      bool prior = false;
      std::string prior_case_number;
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectPrior));
        select.Bind(1, sync::PartyKey(party->id_number())).Bind(2, d.matter_code());
        PALM_ASSIGN_OR_RETURN(prior, select.Step());
        if (prior) prior_case_number = select.Text(0);
      }
      PALM_RETURN_IF_ERROR(sync::CheckNoPenalty(d, mp, prior, prior_case_number));
      if (!sync::NoPenaltyMovesCase(c)) return absl::OkStatus();
      return sync::CheckCaseTransition(c, mp, v1::CASE_STATE_NO_PENALTY, /*actor=*/nullptr);
    }
    case v1::Mutation::kTransitionCase: {
      const v1::TransitionCase& t = m.transition_case();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(t.case_id()));
      // The decision's checks read the parties (the reviewed facts) and the
      // acting officer (decision authority), as the server's do.
      PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
      for (v1::Party& p : parties) *c.add_parties() = std::move(p);
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(c.matter_code()));
      PALM_ASSIGN_OR_RETURN(Roster roster,
                            LoadRoster(*db_, std::vector<std::string>{m.officer_id()}));
      PALM_ASSIGN_OR_RETURN(sync::WorkingDayCalendar calendar, CalendarLocked());
      return sync::CheckTransitionCase(c, matter ? &*matter : nullptr, t, c.case_id(),
                                       roster.Lookup()(m.officer_id()), &calendar,
                                       m.hlc().wall_ms());
    }
    case v1::Mutation::kAppendCaseEvent: {
      const v1::CaseEvent& e = m.append_case_event().event();
      PALM_RETURN_IF_ERROR(sync::CheckAppendCaseEvent(e));
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(e.case_id()));
      if (!sync::IsStatementKind(e.kind())) return absl::OkStatus();
      return sync::CheckStatementEvent(c, e);
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status DeviceStore::ApplyMutationLocked(const v1::Mutation& m,
                                              const std::string& evidence_path) {
  const std::string& mid = m.mutation_id();
  auto derived_event = [&](const std::string& case_id, v1::CaseEventKind kind, std::string text) {
    v1::CaseEvent e;
    e.set_event_id(mid);  // one derived event per mutation, named after it
    e.set_case_id(case_id);
    e.set_kind(kind);
    e.set_text(std::move(text));
    e.set_at_ms(m.hlc().wall_ms());
    e.set_officer_id(m.officer_id());
    return e;
  };
  switch (m.operation_case()) {
    case v1::Mutation::kRecordCase: {
      const v1::Case& c = m.record_case().case_();
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Case> existing, LoadCaseLocked(c.case_id()));
      if (existing) return sync::CaseAlreadyRecorded(c.case_id());
      PALM_RETURN_IF_ERROR(PutCaseLocked(c, /*with_parties=*/true));
      v1::CaseEvent e = derived_event(c.case_id(), v1::CASE_EVENT_KIND_CREATED, "case recorded");
      e.set_to_state(c.state());
      return PutEventLocked(e);
    }
    case v1::Mutation::kUpdateCaseFields: {
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(m.update_case_fields().case_id()));
      for (const v1::CaseFieldChange& change : m.update_case_fields().changes()) {
        PALM_RETURN_IF_ERROR(ApplyFieldChangeLocked(&c, change));
      }
      if (c.has_review_approval()) {
        // A changed fine, basis or fact spends the approval (Art. 58), as on
        // the server; the digest reads the parties as the changes left them.
        v1::Case whole = c;
        PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
        for (v1::Party& p : parties) *whole.add_parties() = std::move(p);
        PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(c.matter_code()));
        if (sync::LapseStaleReview(&whole, matter ? &*matter : nullptr)) {
          c.clear_review_approval();
          c.set_review_approved(false);
        }
      }
      return PutCaseLocked(c, /*with_parties=*/false);
    }
    case v1::Mutation::kAddEvidence: {
      const v1::Evidence& e = m.add_evidence().evidence();
      PALM_RETURN_IF_ERROR(RequireCaseLocked(e.case_id()).status());
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectEvidence));
        select.Bind(1, e.evidence_id());
        PALM_ASSIGN_OR_RETURN(bool exists, select.Step());
        if (exists) return sync::EvidenceAlreadyRecorded(e.evidence_id());
      }
      PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertEvidence));
      return insert.Bind(1, e.evidence_id())
          .Bind(2, e.case_id())
          .Bind(3, evidence_path)
          .Bind(4, int64_t{e.uploaded() ? 1 : 0})
          .BindBlob(5, Serialize(e))
          .Run();
    }
    case v1::Mutation::kWithdrawEvidence: {
      const v1::WithdrawEvidence& w = m.withdraw_evidence();
      PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectEvidence));
      select.Bind(1, w.evidence_id());
      PALM_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) {
        return sync::Refuse(absl::StatusCode::kNotFound, v1::REASON_UNKNOWN_EVIDENCE,
                            absl::StrCat("evidence ", w.evidence_id(), " is not on this device"));
      }
      PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(0), "evidence"));
      e.set_withdrawn(true);
      e.set_withdraw_reason(w.reason());
      {
        PALM_ASSIGN_OR_RETURN(Statement update, db_->Prepare(kUpdateEvidence));
        PALM_RETURN_IF_ERROR(update.Bind(1, e.evidence_id()).BindBlob(2, Serialize(e)).Run());
      }
      return PutEventLocked(
          derived_event(w.case_id(), v1::CASE_EVENT_KIND_EVIDENCE_WITHDRAWN,
                        absl::StrCat("evidence ", w.evidence_id(), " withdrawn: ", w.reason())));
    }
    case v1::Mutation::kIssueTicket: {
      const v1::Ticket& t = m.issue_ticket().ticket();
      PALM_RETURN_IF_ERROR(RequireCaseLocked(t.case_id()).status());
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectTicket));
        select.Bind(1, t.ticket_id());
        PALM_ASSIGN_OR_RETURN(bool exists, select.Step());
        if (exists) return sync::TicketAlreadyIssued(t.ticket_id());
      }
      {
        PALM_ASSIGN_OR_RETURN(Statement used, db_->Prepare(kTicketNumberUsed));
        used.Bind(1, t.ticket_number());
        PALM_ASSIGN_OR_RETURN(bool taken, used.Step());
        if (taken) {
          return sync::FailedPrecondition(
              v1::REASON_TICKET_NUMBER_USED,
              absl::StrCat("ticket number ", t.ticket_number(), " is already used"));
        }
      }
      {
        PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertTicket));
        PALM_RETURN_IF_ERROR(insert.Bind(1, t.ticket_id())
                                 .Bind(2, t.case_id())
                                 .Bind(3, t.ticket_number())
                                 .BindBlob(4, Serialize(t))
                                 .Run());
      }
      {
        PALM_ASSIGN_OR_RETURN(Statement consume, db_->Prepare(kConsumeTicketNumber));
        PALM_RETURN_IF_ERROR(consume.Bind(1, t.ticket_number()).Run());
      }
      return RecordPriorViolationsLocked(t.case_id(), t.party_id(), t.matter_code(),
                                         t.issued_at_ms());
    }
    case v1::Mutation::kVoidTicket: {
      const v1::VoidTicket& v = m.void_ticket();
      v1::Ticket t;
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectTicket));
        select.Bind(1, v.ticket_id());
        PALM_ASSIGN_OR_RETURN(bool row, select.Step());
        if (!row) {
          return sync::Refuse(absl::StatusCode::kNotFound, v1::REASON_UNKNOWN_TICKET,
                              absl::StrCat("ticket ", v.ticket_id(), " is not on this device"));
        }
        PALM_ASSIGN_OR_RETURN(t, Parse<v1::Ticket>(select.Blob(0), "ticket"));
      }
      t.set_voided(true);
      t.set_void_reason(v.reason());
      {
        PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(kUpsertTicket));
        PALM_RETURN_IF_ERROR(upsert.Bind(1, t.ticket_id())
                                 .Bind(2, t.case_id())
                                 .Bind(3, t.ticket_number())
                                 .BindBlob(4, Serialize(t))
                                 .Run());
      }
      return PutEventLocked(
          derived_event(v.case_id(), v1::CASE_EVENT_KIND_TICKET_VOIDED,
                        absl::StrCat("ticket ", t.ticket_number_text(), " voided: ", v.reason())));
    }
    case v1::Mutation::kRecordNoPenalty: {
      const v1::NoPenaltyDecision& d = m.record_no_penalty().decision();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(d.case_id()));
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectDecision));
        select.Bind(1, d.decision_id());
        PALM_ASSIGN_OR_RETURN(bool exists, select.Step());
        if (exists) return sync::DecisionAlreadyRecorded(d.decision_id());
        PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertDecision));
        PALM_RETURN_IF_ERROR(
            insert.Bind(1, d.decision_id()).Bind(2, d.case_id()).BindBlob(3, Serialize(d)).Run());
      }
      PALM_RETURN_IF_ERROR(RecordPriorViolationsLocked(c.case_id(), d.party_id(), d.matter_code(),
                                                       d.decided_at_ms()));
      if (!sync::NoPenaltyMovesCase(c)) return absl::OkStatus();
      v1::CaseEvent e = derived_event(c.case_id(), v1::CASE_EVENT_KIND_TRANSITION,
                                      "no-penalty decision (Art. 33)");
      e.set_from_state(c.state());
      e.set_to_state(v1::CASE_STATE_NO_PENALTY);
      c.set_state(v1::CASE_STATE_NO_PENALTY);
      *c.mutable_state_hlc() = m.hlc();
      PALM_RETURN_IF_ERROR(PutCaseLocked(c, /*with_parties=*/false));
      return PutEventLocked(e);
    }
    case v1::Mutation::kTransitionCase: {
      const v1::TransitionCase& t = m.transition_case();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(t.case_id()));
      v1::CaseEvent e = derived_event(c.case_id(), v1::CASE_EVENT_KIND_TRANSITION, t.reason());
      e.set_from_state(c.state());
      e.set_to_state(t.to_state());
      sync::EnterState(&c, t.to_state());
      if (t.to_state() == v1::CASE_STATE_NOTIFIED) sync::RecordNotice(&c, t, m.hlc().wall_ms());
      *c.mutable_state_hlc() = m.hlc();
      PALM_RETURN_IF_ERROR(PutCaseLocked(c, /*with_parties=*/false));
      if (t.to_state() == v1::CASE_STATE_DECIDED) {
        PALM_RETURN_IF_ERROR(
            RecordPriorViolationsLocked(c.case_id(), "", c.matter_code(), m.hlc().wall_ms()));
      }
      return PutEventLocked(e);
    }
    case v1::Mutation::kAppendCaseEvent: {
      const v1::CaseEvent& e = m.append_case_event().event();
      PALM_ASSIGN_OR_RETURN(std::optional<v1::CaseEvent> existing,
                            LoadRecord<v1::CaseEvent>(*db_, kSelectEvent, e.event_id()));
      if (existing) return sync::EventAlreadyRecorded(e.event_id());
      if (sync::IsStatementKind(e.kind())) {
        // The party's answer belongs to the case's notice record (Art. 45).
        PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(e.case_id()));
        sync::RecordStatement(&c, e);
        PALM_RETURN_IF_ERROR(PutCaseLocked(c, /*with_parties=*/false));
      }
      return PutEventLocked(e);
    }
    default:
      return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT, "the mutation has no operation");
  }
}

absl::Status DeviceStore::ApplyFieldChangeLocked(v1::Case* c, const v1::CaseFieldChange& change) {
  // Checked by CheckRulesLocked; put in canonical form by the same function
  // the server applies the change with.
  PALM_ASSIGN_OR_RETURN(std::string value,
                        sync::CanonicalFieldValue(change, "update_case_fields.changes"));
  if (!sync::IsPartyField(change.field())) {
    sync::SetFieldValue(c, change.field(), "", value);
    return absl::OkStatus();
  }
  // Parties live in their own encrypted rows: the change is applied to that
  // one party and the row written back.
  v1::Case holder;
  int64_t ordinal = 0;
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectParty));
    select.Bind(1, c->case_id()).Bind(2, change.party_id());
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) {
      ordinal = select.Int(0);
      PALM_ASSIGN_OR_RETURN(std::string plain,
                            aead_.Open(select.Blob(1), PartyAad(c->case_id(), change.party_id())));
      PALM_ASSIGN_OR_RETURN(*holder.add_parties(), Parse<v1::Party>(plain, "party"));
    } else {
      PALM_ASSIGN_OR_RETURN(Statement count, db_->Prepare(kCountParties));
      count.Bind(1, c->case_id());
      PALM_ASSIGN_OR_RETURN(bool got, count.Step());
      ordinal = got ? count.Int(0) : 0;
    }
  }
  sync::SetFieldValue(&holder, change.field(), change.party_id(), value);
  return PutPartyLocked(c->case_id(), holder.parties(0), ordinal);
}

absl::Status DeviceStore::AppendOutboxLocked(const v1::Mutation& m) {
  PALM_ASSIGN_OR_RETURN(std::string sealed, aead_.Seal(Serialize(m), OutboxAad(m.mutation_id())));
  {
    PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertOutbox));
    PALM_RETURN_IF_ERROR(insert.Bind(1, static_cast<int64_t>(m.device_seq()))
                             .Bind(2, m.mutation_id())
                             .Bind(3, sync::CaseIdOf(m))
                             .Bind(4, NowMs())
                             .BindBlob(5, sealed)
                             .Run());
  }
  PALM_ASSIGN_OR_RETURN(Statement advance, db_->Prepare(kAdvanceDeviceState));
  return advance.Bind(1, static_cast<int64_t>(m.device_seq()))
      .Bind(2, m.hlc().wall_ms())
      .Bind(3, int64_t{m.hlc().logical()})
      .Run();
}

absl::StatusOr<int> DeviceStore::ReapplyPendingOutbox() {
  std::lock_guard<std::mutex> lock(mutex_);
  int applied = 0;
  PALM_RETURN_IF_ERROR(RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(applied, ReapplyPendingLocked());
    return absl::OkStatus();
  }));
  return applied;
}

absl::StatusOr<int> DeviceStore::ReapplyPendingLocked() {
  int applied = 0;
  std::vector<OutboxEntry> pending;
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kPendingOutboxRows));
    PALM_ASSIGN_OR_RETURN(pending, ReadOutboxLocked(select));
  }
  for (const OutboxEntry& entry : pending) {
    const v1::Mutation& m = entry.mutation;
    // Each mutation in its own savepoint: one that no longer applies on the
    // pulled state is skipped whole, and the server's outcome will say why.
    PALM_RETURN_IF_ERROR(db_->Exec("SAVEPOINT reapply"));
    if (ApplyMutationLocked(m, /*evidence_path=*/"").ok()) {
      ++applied;
    } else {
      PALM_RETURN_IF_ERROR(db_->Exec("ROLLBACK TO reapply"));
    }
    PALM_RETURN_IF_ERROR(db_->Exec("RELEASE reapply"));
  }
  return applied;
}

// ---------------------------------------------------------------------------
// Row helpers.

absl::StatusOr<std::optional<v1::Case>> DeviceStore::LoadCaseLocked(const std::string& case_id) {
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectCase));
  select.Bind(1, case_id);
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<v1::Case>();
  PALM_ASSIGN_OR_RETURN(v1::Case c, Parse<v1::Case>(select.Blob(0), "case"));
  return std::optional<v1::Case>(std::move(c));
}

absl::StatusOr<v1::Case> DeviceStore::RequireCaseLocked(const std::string& case_id) {
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Case> c, LoadCaseLocked(case_id));
  if (!c) return UnknownCase(case_id);
  return std::move(*c);
}

absl::StatusOr<std::vector<v1::Party>> DeviceStore::LoadPartiesLocked(const std::string& case_id) {
  std::vector<v1::Party> parties;
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectParties));
  select.Bind(1, case_id);
  for (;;) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(std::string plain,
                          aead_.Open(select.Blob(1), PartyAad(case_id, select.Text(0))));
    PALM_ASSIGN_OR_RETURN(v1::Party p, Parse<v1::Party>(plain, "party"));
    parties.push_back(std::move(p));
  }
  return parties;
}

absl::StatusOr<std::optional<v1::Matter>> DeviceStore::LoadMatterLocked(const std::string& code) {
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectMatter));
  select.Bind(1, code);
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<v1::Matter>();
  PALM_ASSIGN_OR_RETURN(v1::Matter m, Parse<v1::Matter>(select.Blob(0), "matter"));
  return std::optional<v1::Matter>(std::move(m));
}

absl::StatusOr<std::vector<v1::Officer>> DeviceStore::LoadOfficersLocked(
    const std::vector<std::string>& ids) {
  PALM_ASSIGN_OR_RETURN(Roster roster, LoadRoster(*db_, ids));
  return std::move(roster.officers);
}

absl::Status DeviceStore::PutCaseLocked(const v1::Case& c, bool with_parties) {
  v1::Case row = c;
  row.clear_parties();
  {
    PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(kUpsertCase));
    PALM_RETURN_IF_ERROR(upsert.Bind(1, row.case_id())
                             .Bind(2, int64_t{row.state()})
                             .Bind(3, row.town_id())
                             .Bind(4, row.occurred_at_ms())
                             .BindBlob(5, Serialize(row))
                             .Run());
  }
  if (!with_parties) return absl::OkStatus();
  {
    PALM_ASSIGN_OR_RETURN(Statement del, db_->Prepare(kDeleteParties));
    PALM_RETURN_IF_ERROR(del.Bind(1, c.case_id()).Run());
  }
  for (int i = 0; i < c.parties_size(); ++i) {
    PALM_RETURN_IF_ERROR(PutPartyLocked(c.case_id(), c.parties(i), i));
  }
  return absl::OkStatus();
}

absl::Status DeviceStore::PutPartyLocked(const std::string& case_id, const v1::Party& p,
                                         int64_t ordinal) {
  PALM_ASSIGN_OR_RETURN(std::string sealed,
                        aead_.Seal(Serialize(p), PartyAad(case_id, p.party_id())));
  PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(kUpsertParty));
  return upsert.Bind(1, case_id).Bind(2, p.party_id()).Bind(3, ordinal).BindBlob(4, sealed).Run();
}

absl::Status DeviceStore::PutEventLocked(const v1::CaseEvent& e) {
  PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(kUpsertEvent));
  return upsert.Bind(1, e.event_id())
      .Bind(2, e.case_id())
      .Bind(3, e.at_ms())
      .BindBlob(4, Serialize(e))
      .Run();
}

// ---------------------------------------------------------------------------
// Reference data and server state.

absl::Status DeviceStore::ApplyCatalog(const v1::Catalog& catalog) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return ApplyCatalogLocked(catalog); });
}

absl::Status DeviceStore::ApplyCatalogLocked(const v1::Catalog& catalog) {
  {
    PALM_ASSIGN_OR_RETURN(Statement version, db_->Prepare(kCatalogVersion));
    PALM_ASSIGN_OR_RETURN(bool row, version.Step());
    // Devices keep the newest catalogue they have seen.
    if (row && version.Int(0) > catalog.version()) return absl::OkStatus();
  }
  PALM_RETURN_IF_ERROR(db_->Exec(kDeleteMatters));
  PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertMatter));
  for (const v1::Matter& m : catalog.matters()) {
    PALM_RETURN_IF_ERROR(insert.Bind(1, m.code()).BindBlob(2, Serialize(m)).Run());
  }
  // The working-day calendar travels with the catalogue (the server checked
  // it on load; a malformed one is refused here rather than kept).
  PALM_RETURN_IF_ERROR(sync::CheckCalendar(catalog.calendar(), "catalog.calendar"));
  PALM_RETURN_IF_ERROR(db_->Exec(kDeleteCalendar));
  PALM_ASSIGN_OR_RETURN(Statement insert_year, db_->Prepare(kInsertCalendarYear));
  for (const v1::CalendarYear& y : catalog.calendar()) {
    PALM_RETURN_IF_ERROR(insert_year.Bind(1, int64_t{y.year()}).BindBlob(2, Serialize(y)).Run());
  }
  PALM_ASSIGN_OR_RETURN(Statement set, db_->Prepare(kSetCatalogVersion));
  return set.Bind(1, catalog.version()).Bind(2, catalog.label()).Run();
}

namespace {

template <typename Message, typename IdFn>
absl::Status UpsertAll(Db& db, const char* sql, const std::vector<Message>& rows, IdFn id) {
  PALM_ASSIGN_OR_RETURN(Statement upsert, db.Prepare(sql));
  for (const Message& m : rows) {
    PALM_RETURN_IF_ERROR(upsert.Bind(1, id(m)).BindBlob(2, Serialize(m)).Run());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<sync::WorkingDayCalendar> DeviceStore::Calendar() {
  std::lock_guard<std::mutex> lock(mutex_);
  return CalendarLocked();
}

absl::StatusOr<sync::WorkingDayCalendar> DeviceStore::CalendarLocked() {
  google::protobuf::RepeatedPtrField<v1::CalendarYear> years;
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectCalendar));
  while (true) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(*years.Add(), Parse<v1::CalendarYear>(select.Blob(0), "calendar year"));
  }
  return sync::WorkingDayCalendar::From(years);
}

absl::Status DeviceStore::UpsertOfficers(const std::vector<v1::Officer>& officers) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] {
    return UpsertAll(*db_, kUpsertOfficer, officers,
                     [](const v1::Officer& o) { return o.officer_id(); });
  });
}

absl::Status DeviceStore::UpsertTowns(const std::vector<v1::Town>& towns) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] {
    return UpsertAll(*db_, kUpsertTown, towns, [](const v1::Town& t) { return t.town_id(); });
  });
}

absl::Status DeviceStore::UpsertSquads(const std::vector<v1::Squad>& squads) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] {
    return UpsertAll(*db_, kUpsertSquad, squads, [](const v1::Squad& s) { return s.squad_id(); });
  });
}

absl::Status DeviceStore::AddPriorViolations(const std::vector<v1::PriorViolation>& rows) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    for (const v1::PriorViolation& p : rows) PALM_RETURN_IF_ERROR(AddPriorViolationLocked(p));
    return absl::OkStatus();
  });
}

absl::Status DeviceStore::RecordPriorViolationsLocked(const std::string& case_id,
                                                      const std::string& party_id,
                                                      const std::string& matter_code,
                                                      int64_t at_ms) {
  PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(case_id));
  PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(case_id));
  for (const v1::Party& party : parties) {
    if (!party_id.empty() && party.party_id() != party_id) continue;
    if (std::optional<v1::PriorViolation> v =
            sync::PriorViolationOf(c, party, matter_code, at_ms)) {
      PALM_RETURN_IF_ERROR(AddPriorViolationLocked(*v));
    }
  }
  return absl::OkStatus();
}

absl::Status DeviceStore::AddPriorViolationLocked(const v1::PriorViolation& p) {
  PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertPrior));
  return insert.Bind(1, p.party_key())
      .Bind(2, p.matter_code())
      .Bind(3, p.case_number())
      .Bind(4, p.decided_at_ms())
      .Run();
}

absl::Status DeviceStore::AddTicketLease(const v1::TicketLease& lease) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return AddTicketLeaseLocked(lease); });
}

absl::Status DeviceStore::AddTicketLeaseLocked(const v1::TicketLease& lease) {
  if (lease.lease_id().empty() || lease.first_number() <= 0 ||
      lease.last_number() < lease.first_number()) {
    return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                                 "a ticket lease needs an id and a range first <= last");
  }
  int64_t next = lease.returned() ? lease.last_number() + 1 : lease.first_number();
  PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertLease));
  return insert.Bind(1, lease.lease_id())
      .Bind(2, lease.first_number())
      .Bind(3, lease.last_number())
      .Bind(4, next)
      .Bind(5, lease.prefix())
      .BindBlob(6, Serialize(lease))
      .Run();
}

absl::Status DeviceStore::UpsertServerCase(const v1::Case& c) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return PutCaseLocked(c, /*with_parties=*/true); });
}

absl::Status DeviceStore::UpsertServerEvidence(const v1::Evidence& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return UpsertServerEvidenceLocked(e); });
}

absl::Status DeviceStore::UpsertServerEvidenceLocked(const v1::Evidence& e) {
  // Keeps the local content path: the file may still need uploading.
  PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(kUpsertServerEvidence));
  return upsert.Bind(1, e.evidence_id())
      .Bind(2, e.case_id())
      .Bind(3, int64_t{e.uploaded() ? 1 : 0})
      .BindBlob(4, Serialize(e))
      .Run();
}

absl::Status DeviceStore::UpsertServerTicket(const v1::Ticket& t) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return UpsertServerTicketLocked(t); });
}

absl::Status DeviceStore::UpsertServerTicketLocked(const v1::Ticket& t) {
  {
    PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(kUpsertTicket));
    PALM_RETURN_IF_ERROR(upsert.Bind(1, t.ticket_id())
                             .Bind(2, t.case_id())
                             .Bind(3, t.ticket_number())
                             .BindBlob(4, Serialize(t))
                             .Run());
  }
  PALM_ASSIGN_OR_RETURN(Statement consume, db_->Prepare(kConsumeTicketNumber));
  return consume.Bind(1, t.ticket_number()).Run();
}

absl::Status DeviceStore::UpsertServerNoPenalty(const v1::NoPenaltyDecision& d) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return UpsertServerNoPenaltyLocked(d); });
}

absl::Status DeviceStore::UpsertServerNoPenaltyLocked(const v1::NoPenaltyDecision& d) {
  PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(kUpsertDecision));
  return upsert.Bind(1, d.decision_id()).Bind(2, d.case_id()).BindBlob(3, Serialize(d)).Run();
}

absl::Status DeviceStore::UpsertServerCaseEvent(const v1::CaseEvent& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return PutEventLocked(e); });
}

absl::Status DeviceStore::AckOutboxThrough(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement ack, db_->Prepare(kAckOutbox));
    return ack.Bind(1, static_cast<int64_t>(seq)).Run();
  });
}

absl::Status DeviceStore::SetSyncCursor(const std::string& cursor, const std::string& epoch) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return SetSyncCursorLocked(cursor, epoch); });
}

absl::Status DeviceStore::SetSyncCursorLocked(const std::string& cursor, const std::string& epoch) {
  PALM_ASSIGN_OR_RETURN(Statement set, db_->Prepare(kSetCursor));
  return set.BindBlob(1, cursor).Bind(2, epoch).Run();
}

// ---------------------------------------------------------------------------
// Sync.

absl::Status DeviceStore::ApplyReferenceData(const v1::GetReferenceDataResponse& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    if (r.has_catalog()) PALM_RETURN_IF_ERROR(ApplyCatalogLocked(r.catalog()));
    std::vector<v1::Town> towns(r.towns().begin(), r.towns().end());
    PALM_RETURN_IF_ERROR(
        UpsertAll(*db_, kUpsertTown, towns, [](const v1::Town& t) { return t.town_id(); }));
    std::vector<v1::Squad> squads(r.squads().begin(), r.squads().end());
    PALM_RETURN_IF_ERROR(
        UpsertAll(*db_, kUpsertSquad, squads, [](const v1::Squad& q) { return q.squad_id(); }));
    std::vector<v1::Officer> officers(r.officers().begin(), r.officers().end());
    return UpsertAll(*db_, kUpsertOfficer, officers,
                     [](const v1::Officer& o) { return o.officer_id(); });
  });
}

absl::Status DeviceStore::PutSyncIssueLocked(const std::string& issue_id, SyncIssueKind kind,
                                             const v1::MutationResult& result,
                                             const std::string& case_id,
                                             const google::protobuf::MessageLite& detail) {
  PALM_ASSIGN_OR_RETURN(std::string sealed, aead_.Seal(Serialize(detail), IssueAad(issue_id)));
  PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertIssue));
  return insert.Bind(1, issue_id)
      .Bind(2, int64_t{static_cast<int>(kind)})
      .Bind(3, result.mutation_id())
      .Bind(4, static_cast<int64_t>(result.device_seq()))
      .Bind(5, case_id)
      .Bind(6, NowMs())
      .BindBlob(7, sealed)
      .Run();
}

absl::StatusOr<PushRecorded> DeviceStore::RecordPushResults(const v1::PushResponse& response) {
  std::lock_guard<std::mutex> lock(mutex_);
  PushRecorded out;
  PALM_RETURN_IF_ERROR(RunInTransaction([&]() -> absl::Status {
    for (const v1::MutationResult& r : response.results()) {
      v1::Outcome outcome = r.outcome();
      if (outcome == v1::OUTCOME_DUPLICATE) {
        ++out.duplicates;
        outcome = r.original();
      }
      std::string case_id;
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kOutboxCaseOf));
        select.Bind(1, static_cast<int64_t>(r.device_seq())).Bind(2, r.mutation_id());
        PALM_ASSIGN_OR_RETURN(bool row, select.Step());
        if (row) case_id = select.Text(0);
      }
      switch (outcome) {
        case v1::OUTCOME_APPLIED:
          ++out.applied;
          break;
        case v1::OUTCOME_APPLIED_WITH_CONFLICT:
          ++out.applied_with_conflict;
          break;
        case v1::OUTCOME_REJECTED: {
          ++out.rejected;
          // A rejection seen again (the first answer was lost) is not a new
          // issue, but its local effect may still stand: snapshot anyway.
          out.needs_snapshot = true;
          PALM_RETURN_IF_ERROR(
              PutSyncIssueLocked(r.mutation_id(), SyncIssueKind::kRejected, r, case_id, r));
          break;
        }
        default:
          return absl::DataLossError(absl::StrCat("the server answered mutation ", r.mutation_id(),
                                                  " with outcome ", static_cast<int>(outcome)));
      }
      for (const v1::ConflictLoss& loss : r.conflicts()) {
        ++out.conflicts;
        PALM_RETURN_IF_ERROR(PutSyncIssueLocked(loss.conflict_id(), SyncIssueKind::kConflict, r,
                                                loss.case_id(), loss));
      }
    }
    if (response.acknowledged_seq() > 0) {
      PALM_ASSIGN_OR_RETURN(Statement ack, db_->Prepare(kAckOutbox));
      PALM_RETURN_IF_ERROR(ack.Bind(1, static_cast<int64_t>(response.acknowledged_seq())).Run());
    }
    if (out.needs_snapshot) PALM_RETURN_IF_ERROR(db_->Exec(kClearCursor));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status DeviceStore::ApplyChangeLocked(const v1::Change& change) {
  switch (change.entity_case()) {
    case v1::Change::kCase:
      return PutCaseLocked(change.case_(), /*with_parties=*/true);
    case v1::Change::kEvidence:
      return UpsertServerEvidenceLocked(change.evidence());
    case v1::Change::kTicket:
      return UpsertServerTicketLocked(change.ticket());
    case v1::Change::kNoPenalty:
      return UpsertServerNoPenaltyLocked(change.no_penalty());
    case v1::Change::kEvent:
      return PutEventLocked(change.event());
    case v1::Change::kCatalog:
      return ApplyCatalogLocked(change.catalog());
    case v1::Change::kOfficer:
      return UpsertAll(*db_, kUpsertOfficer, std::vector<v1::Officer>{change.officer()},
                       [](const v1::Officer& o) { return o.officer_id(); });
    case v1::Change::kTown:
      return UpsertAll(*db_, kUpsertTown, std::vector<v1::Town>{change.town()},
                       [](const v1::Town& t) { return t.town_id(); });
    case v1::Change::kSquad:
      return UpsertAll(*db_, kUpsertSquad, std::vector<v1::Squad>{change.squad()},
                       [](const v1::Squad& q) { return q.squad_id(); });
    case v1::Change::kPriorViolation:
      return AddPriorViolationLocked(change.prior_violation());
    case v1::Change::kTicketLease:
      // Only this device's blocks are its to use.
      if (change.ticket_lease().device_id() != device_id_) return absl::OkStatus();
      return AddTicketLeaseLocked(change.ticket_lease());
    default:
      // An entity kind newer than this library: nothing to keep it in.
      return absl::OkStatus();
  }
}

absl::StatusOr<int> DeviceStore::ApplyPullPage(const v1::PullPage& page, bool replace_scope,
                                               const std::string& server_epoch) {
  std::lock_guard<std::mutex> lock(mutex_);
  int reapplied = 0;
  PALM_RETURN_IF_ERROR(RunInTransaction([&]() -> absl::Status {
    if (replace_scope) PALM_RETURN_IF_ERROR(db_->Exec(kDropScope));
    for (const v1::Change& change : page.changes()) {
      absl::Status s = ApplyChangeLocked(change);
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat("change at server position ",
                                                   change.server_seq(), ": ", s.message()));
      }
    }
    PALM_RETURN_IF_ERROR(SetSyncCursorLocked(page.cursor(), server_epoch));
    PALM_ASSIGN_OR_RETURN(reapplied, ReapplyPendingLocked());
    return absl::OkStatus();
  }));
  return reapplied;
}

absl::StatusOr<uint64_t> DeviceStore::FirstPendingSeq() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kFirstPending));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? static_cast<uint64_t>(select.Int(0)) : 0;
}

absl::StatusOr<uint64_t> DeviceStore::LastDeviceSeq() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kLastSeq));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? static_cast<uint64_t>(select.Int(0)) : 0;
}

absl::StatusOr<std::vector<OutboxEntry>> DeviceStore::OutboxFrom(uint64_t from_seq, size_t limit) {
  absl::StatusOr<std::vector<OutboxEntry>> entries;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kOutboxFrom));
    select.Bind(1, static_cast<int64_t>(from_seq)).Bind(2, static_cast<int64_t>(limit));
    entries = ReadOutboxLocked(select);
  }
  // What is pushed must be on the disk first, in either durability mode: a
  // write the server holds but this device lost to a power cut would give
  // its sequence number to a different write.
  if (entries.ok()) PALM_RETURN_IF_ERROR(wal_->Sync());
  return entries;
}

absl::StatusOr<std::vector<OutboxEntry>> DeviceStore::ReadOutboxLocked(Statement& select) {
  std::vector<OutboxEntry> out;
  for (;;) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(std::string plain, aead_.Open(select.Blob(4), OutboxAad(select.Text(1))));
    OutboxEntry e;
    PALM_ASSIGN_OR_RETURN(e.mutation, Parse<v1::Mutation>(plain, "outbox mutation"));
    if (static_cast<int64_t>(e.mutation.device_seq()) != select.Int(0)) {
      return absl::DataLossError("outbox entry does not match its sequence number");
    }
    e.acked = select.Int(2) != 0;
    e.created_at_ms = select.Int(3);
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::vector<SyncIssue>> DeviceStore::ListSyncIssues(bool include_dismissed) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<SyncIssue> out;
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kListIssues));
  select.Bind(1, int64_t{include_dismissed ? 1 : 0});
  for (;;) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    SyncIssue issue;
    issue.issue_id = select.Text(0);
    issue.kind = static_cast<SyncIssueKind>(select.Int(1));
    issue.mutation_id = select.Text(2);
    issue.device_seq = static_cast<uint64_t>(select.Int(3));
    issue.case_id = select.Text(4);
    issue.recorded_at_ms = select.Int(5);
    issue.dismissed = select.Int(6) != 0;
    PALM_ASSIGN_OR_RETURN(std::string plain, aead_.Open(select.Blob(7), IssueAad(issue.issue_id)));
    if (issue.kind == SyncIssueKind::kRejected) {
      PALM_ASSIGN_OR_RETURN(v1::MutationResult r, Parse<v1::MutationResult>(plain, "sync issue"));
      issue.reason = sync::ReasonName(r.reason());
      issue.message = r.message();
    } else {
      PALM_ASSIGN_OR_RETURN(v1::ConflictLoss c, Parse<v1::ConflictLoss>(plain, "sync issue"));
      issue.field = static_cast<CaseField>(c.field());
      issue.party_id = c.party_id();
      issue.losing_value = c.losing_value();
      issue.losing_device_id = c.losing_device_id();
      issue.winning_value = c.winning_value();
      issue.winning_device_id = c.winning_device_id();
    }
    out.push_back(std::move(issue));
  }
  return out;
}

absl::Status DeviceStore::DismissSyncIssue(const std::string& issue_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement exists, db_->Prepare(kIssueExists));
    exists.Bind(1, issue_id);
    PALM_ASSIGN_OR_RETURN(bool row, exists.Step());
    if (!row || exists.Int(0) == 0) {
      return absl::NotFoundError(absl::StrCat("sync issue ", issue_id, " is not on this device"));
    }
    PALM_ASSIGN_OR_RETURN(Statement dismiss, db_->Prepare(kDismissIssue));
    return dismiss.Bind(1, issue_id).Run();
  });
}

absl::StatusOr<std::pair<std::string, std::string>> DeviceStore::SyncCursor() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectCursor));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::InternalError("device_state row is missing");
  return std::make_pair(select.Blob(0), select.Text(1));
}

nlohmann::json SyncReportJson(const SyncReport& r) {
  return {{"started_at_ms", r.started_at_ms},
          {"finished_at_ms", r.finished_at_ms},
          {"ok", r.ok},
          {"error_reason", r.error_reason},
          {"message", r.message},
          {"pushed", r.pushed},
          {"applied", r.applied},
          {"applied_with_conflict", r.applied_with_conflict},
          {"rejected", r.rejected},
          {"pulled", r.pulled},
          {"duplicates", r.duplicates},
          {"conflicts", r.conflicts},
          {"resync", r.resync},
          {"snapshot", r.snapshot},
          {"duration_ms", r.duration_ms},
          {"ticket_numbers_leased", r.ticket_numbers_leased},
          {"ticket_leases_restored", r.ticket_leases_restored},
          {"ticket_leases_refused", r.ticket_leases_refused},
          {"uploads_done", r.uploads_done},
          {"uploads_failed", r.uploads_failed},
          {"uploads_pending", r.uploads_pending},
          {"upload_error_code", r.upload_error_code},
          {"upload_error", r.upload_error},
          {"pulls", r.pulls},
          {"retries", r.retries},
          {"link_budget_bytes", r.link_budget_bytes}};
}

absl::Status DeviceStore::SetLastSyncReport(const SyncReport& r) {
  nlohmann::json j = SyncReportJson(r);
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement set, db_->Prepare(kSetReport));
    return set.Bind(1, j.dump()).Run();
  });
}

absl::StatusOr<SyncReport> DeviceStore::LastSyncReport() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectReport));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  SyncReport r;
  if (!row || select.IsNull(0)) return r;
  nlohmann::json j = nlohmann::json::parse(select.Text(0), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return absl::DataLossError("stored sync report is corrupt");
  r.ever_synced = true;
  r.started_at_ms = j.value("started_at_ms", int64_t{0});
  r.finished_at_ms = j.value("finished_at_ms", int64_t{0});
  r.ok = j.value("ok", false);
  r.error_reason = j.value("error_reason", std::string());
  r.message = j.value("message", std::string());
  r.pushed = j.value("pushed", uint64_t{0});
  r.applied = j.value("applied", uint64_t{0});
  r.applied_with_conflict = j.value("applied_with_conflict", uint64_t{0});
  r.rejected = j.value("rejected", uint64_t{0});
  r.pulled = j.value("pulled", uint64_t{0});
  r.duplicates = j.value("duplicates", uint64_t{0});
  r.conflicts = j.value("conflicts", uint64_t{0});
  r.resync = j.value("resync", false);
  r.snapshot = j.value("snapshot", false);
  r.duration_ms = j.value("duration_ms", int64_t{0});
  r.ticket_numbers_leased = j.value("ticket_numbers_leased", int64_t{0});
  r.ticket_leases_restored = j.value("ticket_leases_restored", uint64_t{0});
  r.ticket_leases_refused = j.value("ticket_leases_refused", uint64_t{0});
  r.uploads_done = j.value("uploads_done", uint64_t{0});
  r.uploads_failed = j.value("uploads_failed", uint64_t{0});
  r.uploads_pending = j.value("uploads_pending", uint64_t{0});
  r.upload_error_code = j.value("upload_error_code", std::string());
  r.upload_error = j.value("upload_error", std::string());
  r.pulls = j.value("pulls", uint64_t{0});
  r.retries = j.value("retries", uint64_t{0});
  r.link_budget_bytes = j.value("link_budget_bytes", uint64_t{0});
  return r;
}

// ---------------------------------------------------------------------------
// Queries.

absl::StatusOr<CaseBundle> DeviceStore::GetCase(const std::string& case_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  CaseBundle b;
  PALM_ASSIGN_OR_RETURN(b.kase, RequireCaseLocked(case_id));
  PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(case_id));
  for (v1::Party& p : parties) *b.kase.add_parties() = std::move(p);
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kEvidenceOfCase));
    select.Bind(1, case_id);
    for (;;) {
      PALM_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(0), "evidence"));
      b.evidence.push_back(std::move(e));
      b.evidence_paths.push_back(select.Text(1));
    }
  }
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kTicketsOfCase));
    select.Bind(1, case_id);
    for (;;) {
      PALM_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(v1::Ticket t, Parse<v1::Ticket>(select.Blob(0), "ticket"));
      b.tickets.push_back(std::move(t));
    }
  }
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kDecisionsOfCase));
    select.Bind(1, case_id);
    for (;;) {
      PALM_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(v1::NoPenaltyDecision d,
                            Parse<v1::NoPenaltyDecision>(select.Blob(0), "no-penalty decision"));
      b.no_penalty.push_back(std::move(d));
    }
  }
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kEventsOfCase));
    select.Bind(1, case_id);
    for (;;) {
      PALM_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(v1::CaseEvent e, Parse<v1::CaseEvent>(select.Blob(0), "event"));
      b.timeline.push_back(std::move(e));
    }
  }
  return b;
}

absl::StatusOr<CaseList> DeviceStore::ListCases(const CaseFilter& f) {
  if (f.page_size < 1 || f.page_size > kMaxPageSize) {
    return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                                 absl::StrCat("page size must be 1..", kMaxPageSize));
  }
  int64_t after_ms = 0;
  std::string after_id;
  if (!f.page_token.empty())
    PALM_RETURN_IF_ERROR(DecodePageToken(f.page_token, &after_ms, &after_id));
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kListCases));
  if (f.state) select.Bind(1, int64_t{*f.state});
  select.Bind(2, f.town_id);
  if (f.occurred_from_ms) select.Bind(3, *f.occurred_from_ms);
  if (f.occurred_until_ms) select.Bind(4, *f.occurred_until_ms);
  if (!f.page_token.empty()) select.Bind(5, after_ms).Bind(6, after_id);
  select.Bind(7, int64_t{f.page_size} + 1);
  CaseList out;
  for (;;) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(v1::Case c, Parse<v1::Case>(select.Blob(0), "case"));
    out.cases.push_back(std::move(c));
  }
  if (out.cases.size() > static_cast<size_t>(f.page_size)) {
    out.cases.pop_back();
    out.next_page_token = EncodePageToken(out.cases.back());
  }
  return out;
}

absl::StatusOr<v1::Matter> DeviceStore::GetMatter(const std::string& code) {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> m, LoadMatterLocked(code));
  if (!m) {
    return sync::Refuse(absl::StatusCode::kNotFound, v1::REASON_UNKNOWN_MATTER,
                        absl::StrCat("matter code ", code, " is not in the catalogue"));
  }
  return std::move(*m);
}

absl::StatusOr<int64_t> DeviceStore::CatalogVersion() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kCatalogVersion));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? select.Int(0) : 0;
}

absl::StatusOr<int64_t> DeviceStore::TicketNumbersLeft() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kNumbersLeft));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? select.Int(0) : 0;
}

absl::StatusOr<std::vector<v1::TicketLease>> DeviceStore::SignedTicketLeases() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSignedLeases));
  std::vector<v1::TicketLease> leases;
  for (;;) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(v1::TicketLease lease,
                          Parse<v1::TicketLease>(select.Blob(0), "ticket lease"));
    if (!lease.server_signature().empty()) leases.push_back(std::move(lease));
  }
  return leases;
}

absl::StatusOr<std::optional<v1::CaseNumberClaim>> DeviceStore::CaseNumberClaim(
    const std::string& case_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Case> c, LoadCaseLocked(case_id));
  if (!c || c->case_number().empty() || !c->has_case_number_seal()) return std::nullopt;
  v1::CaseNumberClaim claim;
  claim.set_case_id(c->case_id());
  claim.set_case_number(c->case_number());
  *claim.mutable_seal() = c->case_number_seal();
  return claim;
}

absl::StatusOr<PendingSyncCounts> DeviceStore::PendingCounts() {
  std::lock_guard<std::mutex> lock(mutex_);
  PendingSyncCounts counts;
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kPendingOutbox));
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) {
      counts.mutations = static_cast<uint64_t>(select.Int(0));
      counts.oldest_pending_at_ms = select.Int(1);
    }
  }
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kPendingUploads));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (row) counts.uploads = static_cast<uint64_t>(select.Int(0));
  return counts;
}

absl::StatusOr<std::vector<OutboxEntry>> DeviceStore::Outbox() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectOutbox));
  return ReadOutboxLocked(select);
}

// --- Evidence uploads and receipts (issue 6; uploader.h). ---

namespace {
constexpr char kPendingUploadRows[] =
    "SELECT evidence_id, proto, content_path FROM evidence WHERE uploaded = 0 AND "
    "content_path != '' ORDER BY rowid";
constexpr char kSelectEvidenceReceipt[] =
    "SELECT proto, receipt FROM evidence WHERE evidence_id = ?1";
constexpr char kEvidenceWithoutReceipt[] =
    "SELECT evidence_id, proto FROM evidence WHERE receipt IS NULL ORDER BY rowid";
constexpr char kSetEvidenceUploaded[] =
    "UPDATE evidence SET uploaded = 1, proto = ?2 WHERE evidence_id = ?1";
constexpr char kSetEvidenceReceipt[] =
    "UPDATE evidence SET receipt = ?2, proto = ?3 WHERE evidence_id = ?1";
}  // namespace

absl::StatusOr<std::vector<DeviceStore::PendingUpload>> DeviceStore::PendingUploads() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kPendingUploadRows));
  std::vector<PendingUpload> out;
  while (true) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(1), "evidence"));
    out.push_back({select.Text(0), e.sha256(), e.size_bytes(), select.Text(2)});
  }
  return out;
}

absl::Status DeviceStore::MarkEvidenceUploaded(const std::string& evidence_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectEvidenceReceipt));
    select.Bind(1, evidence_id);
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return absl::NotFoundError(absl::StrCat("evidence ", evidence_id, " is not here"));
    PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(0), "evidence"));
    e.set_uploaded(true);
    PALM_ASSIGN_OR_RETURN(Statement update, db_->Prepare(kSetEvidenceUploaded));
    return update.Bind(1, evidence_id).BindBlob(2, Serialize(e)).Run();
  });
}

absl::StatusOr<std::vector<std::string>> DeviceStore::EvidenceWithoutReceipt() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kEvidenceWithoutReceipt));
  std::vector<std::string> out;
  while (true) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(1), "evidence"));
    if (e.device_id() == device_id_ && !e.has_receipt()) out.push_back(select.Text(0));
  }
  return out;
}

absl::Status DeviceStore::StoreEvidenceReceipt(const v1::EvidenceReceipt& receipt) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectEvidenceReceipt));
    select.Bind(1, receipt.evidence_id());
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) {
      return absl::NotFoundError(absl::StrCat("evidence ", receipt.evidence_id(), " is not here"));
    }
    PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(0), "evidence"));
    *e.mutable_receipt() = receipt;
    PALM_ASSIGN_OR_RETURN(Statement update, db_->Prepare(kSetEvidenceReceipt));
    return update.Bind(1, receipt.evidence_id())
        .BindBlob(2, Serialize(receipt))
        .BindBlob(3, Serialize(e))
        .Run();
  });
}

absl::StatusOr<v1::EvidenceReceipt> DeviceStore::EvidenceReceipt(const std::string& evidence_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectEvidenceReceipt));
  select.Bind(1, evidence_id);
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("evidence ", evidence_id, " is not here"));
  if (!select.IsNull(1)) return Parse<v1::EvidenceReceipt>(select.Blob(1), "evidence receipt");
  // A receipt that came with a pulled server version of the record.
  PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(0), "evidence"));
  if (!e.has_receipt()) {
    return absl::FailedPreconditionError(
        absl::StrCat("evidence ", evidence_id, " has no receipt yet; it comes with a sync"));
  }
  return e.receipt();
}

}  // namespace palm::internal
