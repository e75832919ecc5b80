// The server store: the one narrow interface between the services and the
// database that holds the authoritative state. Nothing above this interface
// speaks SQL, so a PostgreSQL backend is an addition, not a rewrite
// (DESIGN.md §6). The embedded default is SQLite (sqlite_store.cc).
//
// The store owns its threads. Services never touch the database from a gRPC
// reaction: they hand a unit of work to SubmitWrite (one writer thread,
// group commit) or SubmitRead (a small reader pool) and get a callback when
// it is done. The business rules that run inside a unit of work live above
// the store (server/apply.h) and see only the typed accessors of ReadTxn and
// WriteTxn.
#ifndef PALM_SERVER_STORE_H_
#define PALM_SERVER_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "palm/v1/admin.pb.h"
#include "palm/v1/case.pb.h"
#include "palm/v1/catalog.pb.h"
#include "palm/v1/evidence.pb.h"
#include "palm/v1/mutation.pb.h"
#include "palm/v1/org.pb.h"
#include "palm/v1/sync.pb.h"
#include "sync/hlc.h"
#include "sync/sha256.h"

namespace palm::server {

struct StoreOptions {
  // Directory holding the store's files; must exist and be writable.
  std::string data_dir;
  // Threads (each with its own connection) serving SubmitRead.
  int reader_threads = 2;
  // Most units of work the writer commits in one transaction.
  int max_group = 64;
  // PRAGMA max_page_count of the writer (0: SQLite's default), a quota:
  // past it every write fails RESOURCE_EXHAUSTED, as on a full disk.
  int64_t max_page_count = 0;
};

// The kinds of entity the change log (and so a pull) carries. Stored as
// numbers: never renumber.
enum class EntityKind : int {
  kCase = 1,
  kEvidence = 2,
  kTicket = 3,
  kNoPenalty = 4,
  kEvent = 5,
  kCatalog = 6,
  kOfficer = 7,
  kTown = 8,
  kSquad = 9,
  kPriorViolation = 10,
  kTicketLease = 11,
};

// Who may see a change. A pull from a device reads the changes whose scope is
// the device's town, GlobalScope() or DeviceScope(device id).
std::string GlobalScope();
std::string TownScope(const std::string& town_id);
std::string DeviceScope(const std::string& device_id);

// The last writer of one case field, for last-writer-wins merges.
struct FieldStamp {
  sync::HlcStamp hlc;
  std::string device_id;
  // The mutation that wrote the value (for conflict rows).
  std::string mutation_id;
};

// A case with the last-writer stamp of each field, keyed by FieldKey().
struct CaseRecord {
  palm::v1::Case value;
  std::map<std::string, FieldStamp> stamps;
};

// What most operations on a case check (its scope, the label in messages):
// read without copying or parsing the whole case.
struct CaseBrief {
  std::string case_id;
  std::string case_number;  // empty until assigned
  std::string town_id;
};

// Key of a case field in CaseRecord::stamps: the CaseField number, then
// ":" and the party id for party fields.
std::string FieldKey(palm::v1::CaseField field, const std::string& party_id);

// What the store remembers about one sequence number of one device: the
// mutation that used it and the outcome it got (idempotency, rejected list).
struct DeviceLogEntry {
  std::string device_id;
  uint64_t device_seq = 0;
  std::string mutation_id;
  // MutationContentDigest of the mutation as received.
  std::string digest;
  // The result returned when the mutation was first seen.
  palm::v1::MutationResult result;
  // Kept for rejected mutations only (the squad leader reviews them).
  std::optional<palm::v1::Mutation> mutation;
  int64_t recorded_at_ms = 0;
  // Set by the squad leader's review (AdminService.DismissRejected, or a
  // ResubmitRejected that applied): who closed it ("officer:ID") and why.
  bool dismissed = false;
  std::string dismissed_by;
  std::string note;
};

// Device-reported state for squad status.
struct DeviceReport {
  uint64_t pending_mutations = 0;
  uint64_t pending_uploads = 0;
  int64_t ticket_numbers_left = 0;
  int64_t reported_at_ms = 0;
};

// Filters for listing; empty strings match everything. A list is read in
// the order its filter names, from the start or after a position (the
// `after_*` fields, set together), and stops after `limit` rows (0: no
// limit): server/list_pages.h pages by these positions.
struct ConflictFilter {
  std::string squad_id;
  std::string case_id;
  bool include_resolved = false;
  // By (recorded_at_ms, conflict_id).
  std::optional<std::pair<int64_t, std::string>> after;
  uint32_t limit = 0;
};
struct RejectedFilter {
  std::string squad_id;
  bool include_dismissed = false;
  // By (recorded_at_ms, device_id, device_seq).
  struct Position {
    int64_t recorded_at_ms = 0;
    std::string device_id;
    uint64_t device_seq = 0;
  };
  std::optional<Position> after;
  uint32_t limit = 0;
};
// By officer id.
struct OfficerFilter {
  std::string town_id;
  std::string squad_id;
  std::string after_officer_id;  // "": from the start
  uint32_t limit = 0;
};
// By device id.
struct DeviceFilter {
  std::string town_id;
  std::string squad_id;
  std::string after_device_id;  // "": from the start
  uint32_t limit = 0;
};
struct CaseFilter {
  std::string town_id;
  std::string squad_id;
  palm::v1::CaseState state = palm::v1::CASE_STATE_UNSPECIFIED;
  int64_t from_ms = 0;  // created_at_ms >= from_ms
  int64_t to_ms = 0;    // created_at_ms < to_ms when non-zero
  // Cases are listed by (created_at_ms, case_id); the page starts after this
  // position when `after_case_id` is set.
  int64_t after_created_ms = 0;
  std::string after_case_id;
  uint32_t limit = 100;
};

// --- Security (issue 5): audit chain and officer credentials. ---------------

// One entry of the append-only audit log (server/audit.h computes hashes).
struct AuditEntry {
  uint64_t seq = 0;
  int64_t at_ms = 0;
  // Who: "officer:ID", "device:ID", "operator:NAME" or "server".
  std::string actor;
  // What, e.g. "mutation.applied", "auth.sign_in_failed", "device.revoked".
  std::string action;
  // On what: a mutation, case, device or officer id.
  std::string subject;
  // A JSON object with the particulars.
  std::string details;
  // Lowercase hex SHA-256 of the previous entry (64 zeros for the first) and
  // of this one.
  std::string prev_hash;
  std::string hash;
};

// The newest audit entry: what the next one chains to.
struct AuditHead {
  uint64_t seq = 0;
  std::string hash;  // lowercase hex
  // The same, raw, when `hash` is a digest (a tampered row may hold
  // anything: the next entry then chains to its text, as AuditEntryHash
  // would, and VerifyAuditChain names the row).
  std::optional<sync::Sha256Digest> digest;
};

// An officer's sign-in secret, as scrypt, and the failed-attempt counter.
struct OfficerCredential {
  std::string officer_id;
  std::string salt;  // raw bytes
  std::string hash;  // raw bytes, scrypt(secret, salt)
  uint32_t log2_n = 15;
  uint32_t r = 8;
  uint32_t p = 1;
  // Salt the device uses for its offline unlock verifier.
  std::string offline_salt;
  int failed_attempts = 0;
  int64_t locked_until_ms = 0;
};

// A session token ended before its expiry (server/auth_sessions.h): by
// RefreshSession, which replaced it, or by SignOut. Worth keeping only until
// the token would have expired anyway.
struct EndedSession {
  std::string token_id;  // the token's "jti" claim
  std::string officer_id;
  std::string reason;  // kSessionRefreshed or kSessionSignedOut
  int64_t ended_at_ms = 0;
  int64_t expires_at_ms = 0;
};
inline constexpr char kSessionRefreshed[] = "refreshed";
inline constexpr char kSessionSignedOut[] = "signed_out";

// --- Evidence log (issue 6; server/evidence_log.h). ------------------------

// One leaf of the evidence Merkle log: the canonical entry of one evidence
// record (sync/evidence_entry.h) and where it sits in the tree.
// A prior violation as stored: its change-log entity id and case.
struct StoredPriorViolation {
  std::string entity_id;
  std::string case_id;
  palm::v1::PriorViolation value;
};

struct LogLeaf {
  uint64_t leaf_index = 0;
  std::string evidence_id;
  // Lowercase hex SHA-256 of the evidence content.
  std::string sha256;
  std::string entry;
};

// An evidence file stored content-addressed under the data dir
// (server/blob_store.h): recorded once it is verified and durable.
struct BlobRecord {
  std::string sha256;
  uint64_t size = 0;
  int64_t stored_at_ms = 0;
};

// Reads inside one transaction: every call sees the same snapshot. Methods
// fail only on a storage error (returned as INTERNAL, DATA_LOSS, ...).
// Not thread-safe: used only by the thread running the unit of work.
class ReadTxn {
 public:
  virtual ~ReadTxn() = default;

  virtual absl::StatusOr<std::optional<CaseRecord>> GetCase(const std::string& case_id) = 0;
  virtual absl::StatusOr<std::optional<CaseBrief>> GetCaseBrief(const std::string& case_id) = 0;
  virtual absl::StatusOr<std::optional<CaseRecord>> GetCaseByNumber(const std::string& number) = 0;
  virtual absl::StatusOr<std::vector<palm::v1::Case>> ListCases(const CaseFilter& filter) = 0;
  // Cases of `town_id` (every town when empty), narrowed to `squad_id` when
  // set, in one of `states`, in case-id order after `after_case_id`, at most
  // `limit`: the cases whose clocks run (server/deadlines.h).
  virtual absl::StatusOr<std::vector<palm::v1::Case>> ListCasesInStates(
      const std::string& town_id, const std::string& squad_id,
      const std::vector<palm::v1::CaseState>& states, const std::string& after_case_id,
      uint32_t limit) = 0;
  virtual absl::StatusOr<std::optional<palm::v1::Evidence>> GetEvidence(const std::string& id) = 0;
  virtual absl::StatusOr<std::optional<palm::v1::Ticket>> GetTicket(const std::string& id) = 0;
  // The ticket carrying `number`, if any.
  virtual absl::StatusOr<std::optional<palm::v1::Ticket>> GetTicketByNumber(int64_t number) = 0;
  virtual absl::StatusOr<std::optional<palm::v1::NoPenaltyDecision>> GetNoPenalty(
      const std::string& id) = 0;
  virtual absl::StatusOr<std::optional<palm::v1::CaseEvent>> GetEvent(const std::string& id) = 0;
  // Everything recorded on a case, for GetCase.
  virtual absl::StatusOr<palm::v1::CaseDetail> GetCaseDetail(const std::string& case_id) = 0;
  // Every violation of `matter_code` on record for the party with
  // `party_key` (sync::PartyKey), voided ones included, oldest first.
  virtual absl::StatusOr<std::vector<palm::v1::PriorViolation>> PriorViolationsOf(
      const std::string& party_key, const std::string& matter_code) = 0;
  // The violations case `case_id` recorded, in entity-id order.
  virtual absl::StatusOr<std::vector<StoredPriorViolation>> PriorViolationsOfCase(
      const std::string& case_id) = 0;
  // Cases whose violations are to be checked again once at start-up
  // (server/prior_violations.h): tickets voided before voiding lapsed them.
  virtual absl::StatusOr<std::vector<std::string>> PendingPriorRechecks() = 0;

  // The newest catalogue, if any was loaded.
  virtual absl::StatusOr<std::optional<palm::v1::Catalog>> CurrentCatalog() = 0;
  virtual absl::StatusOr<std::optional<palm::v1::Town>> GetTown(const std::string& id) = 0;
  virtual absl::StatusOr<std::optional<palm::v1::Squad>> GetSquad(const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<palm::v1::Town>> ListTowns() = 0;
  // Squads of `town_id`, or all when empty.
  virtual absl::StatusOr<std::vector<palm::v1::Squad>> ListSquads(const std::string& town_id) = 0;
  virtual absl::StatusOr<std::optional<palm::v1::Officer>> GetOfficer(const std::string& id) = 0;
  // Officers of `town_id` (all when empty), narrowed to `squad_id` when set,
  // by officer id.
  absl::StatusOr<std::vector<palm::v1::Officer>> ListOfficers(const std::string& town_id,
                                                              const std::string& squad_id) {
    OfficerFilter f;
    f.town_id = town_id;
    f.squad_id = squad_id;
    return ListOfficers(f);
  }
  virtual absl::StatusOr<std::vector<palm::v1::Officer>> ListOfficers(const OfficerFilter& f) = 0;
  virtual absl::StatusOr<std::optional<palm::v1::Device>> GetDevice(const std::string& id) = 0;
  // Devices of `town_id` (all when empty), by device id.
  absl::StatusOr<std::vector<palm::v1::Device>> ListDevices(const std::string& town_id) {
    DeviceFilter f;
    f.town_id = town_id;
    return ListDevices(f);
  }
  virtual absl::StatusOr<std::vector<palm::v1::Device>> ListDevices(const DeviceFilter& f) = 0;
  // Highest sequence number of `device_id` that has an outcome (0 if none).
  virtual absl::StatusOr<uint64_t> AcknowledgedSeq(const std::string& device_id) = 0;
  virtual absl::StatusOr<std::optional<DeviceReport>> GetDeviceReport(
      const std::string& device_id) = 0;
  virtual absl::StatusOr<int64_t> LastPushMs(const std::string& device_id) = 0;

  // What was recorded for sequence number `seq` of `device_id`.
  virtual absl::StatusOr<std::optional<DeviceLogEntry>> GetDeviceLog(const std::string& device_id,
                                                                     uint64_t seq) = 0;
  // True when some device already used `mutation_id`.
  virtual absl::StatusOr<bool> MutationIdKnown(const std::string& mutation_id) = 0;
  // Rejected mutations, oldest first (RejectedFilter's order).
  virtual absl::StatusOr<std::vector<DeviceLogEntry>> ListRejected(const RejectedFilter& f) = 0;
  // The newest rejected entry using `mutation_id`, if any.
  virtual absl::StatusOr<std::optional<DeviceLogEntry>> GetRejected(
      const std::string& mutation_id) = 0;

  // Conflicts, oldest first (ConflictFilter's order).
  virtual absl::StatusOr<std::vector<palm::v1::ConflictRecord>> ListConflicts(
      const ConflictFilter& f) = 0;
  virtual absl::StatusOr<std::optional<palm::v1::ConflictRecord>> GetConflict(
      const std::string& conflict_id) = 0;

  virtual absl::StatusOr<std::optional<palm::v1::TicketLease>> GetLease(
      const std::string& lease_id) = 0;
  // Leases of `device_id`, oldest first.
  virtual absl::StatusOr<std::vector<palm::v1::TicketLease>> ListLeases(
      const std::string& device_id) = 0;
  // Highest ticket number ever leased to anyone (0 if none).
  virtual absl::StatusOr<int64_t> HighestLeasedNumber() = 0;
  // The case-number counters: year -> last number given.
  virtual absl::StatusOr<std::map<int32_t, int64_t>> CaseNumberCounters() = 0;
  // A lease holding a number of [first, last], the lowest such, if any.
  virtual absl::StatusOr<std::optional<palm::v1::TicketLease>> LeaseOverlapping(int64_t first,
                                                                                int64_t last) = 0;
  // Highest number in [first, last] carried by a ticket (0 if none).
  virtual absl::StatusOr<int64_t> HighestUsedTicketNumber(int64_t first, int64_t last) = 0;

  // Change log. Each entity appears once, at the position of its latest
  // change, so reading from 0 yields the current state of every entity (a
  // snapshot) and reading from a cursor yields what changed since.
  virtual absl::StatusOr<uint64_t> HighestServerSeq() = 0;
  // Number of changes in (after, up_to] whose scope is one of `scopes`.
  virtual absl::StatusOr<uint64_t> CountChanges(uint64_t after, uint64_t up_to,
                                                const std::vector<std::string>& scopes) = 0;
  // Up to `limit` changes in (after, up_to] in `scopes`, by server_seq, each
  // with the entity's current value.
  virtual absl::StatusOr<std::vector<palm::v1::Change>> ReadChanges(
      uint64_t after, uint64_t up_to, const std::vector<std::string>& scopes, uint32_t limit) = 0;
  // --- Security (issue 5). ---
  // Up to `limit` audit entries with seq > `after_seq`, by seq.
  virtual absl::StatusOr<std::vector<AuditEntry>> ReadAudit(uint64_t after_seq, uint32_t limit) = 0;
  virtual absl::StatusOr<std::optional<OfficerCredential>> GetCredential(
      const std::string& officer_id) = 0;
  // The sessions ended before their expiry that expire after `now_ms`.
  virtual absl::StatusOr<std::vector<EndedSession>> ListEndedSessions(int64_t now_ms) = 0;
  // --- Evidence log (issue 6). ---
  // The hash (32 raw bytes) of Merkle node (level, index), if stored.
  virtual absl::StatusOr<std::optional<std::string>> GetLogNode(uint32_t level, uint64_t index) = 0;
  // Number of leaves in the evidence log.
  virtual absl::StatusOr<uint64_t> LogSize() = 0;
  virtual absl::StatusOr<std::optional<LogLeaf>> GetLogLeaf(uint64_t leaf_index) = 0;
  virtual absl::StatusOr<std::optional<LogLeaf>> GetLogLeafOfEvidence(
      const std::string& evidence_id) = 0;
  // Leaves with index in [from, to), by index.
  virtual absl::StatusOr<std::vector<LogLeaf>> ListLogLeaves(uint64_t from, uint64_t to) = 0;
  // Leaves (so evidence records) whose content has SHA-256 `sha256` (hex).
  virtual absl::StatusOr<std::vector<LogLeaf>> LogLeavesWithContent(const std::string& sha256) = 0;
  // The most recently signed tree head, if any.
  virtual absl::StatusOr<std::optional<palm::v1::SignedTreeHead>> LatestTreeHead() = 0;
  // The stored evidence file with content `sha256` (hex), if any.
  virtual absl::StatusOr<std::optional<BlobRecord>> GetBlob(const std::string& sha256) = 0;
  // --- Audit checkpoints (issue 18; server/audit_checkpoint.h). ---
  // The most recently stored audit checkpoint, if any.
  virtual absl::StatusOr<std::optional<palm::v1::AuditCheckpoint>> LatestAuditCheckpoint() = 0;
  // --- The evidence log across restores (server/log_lineage.h). ---
  // Every transition this store's history went through, oldest first.
  virtual absl::StatusOr<std::vector<palm::v1::LogTransition>> LogTransitions() = 0;
  // --- Prior violations' party keys (server/party_secret.h). ---
  // The key ids prior violations are stored under, each once, in order
  // ("" for the plain SHA-256 keys of older servers).
  virtual absl::StatusOr<std::vector<std::string>> PriorViolationKeyIds() = 0;
  // The prior violations stored under `key_id`, in entity-id order.
  virtual absl::StatusOr<std::vector<StoredPriorViolation>> PriorViolationsUnder(
      const std::string& key_id) = 0;
};

// Reads and writes inside one transaction. Every Put appends nothing to the
// change log by itself: callers say what changed with AppendChange, so that
// one unit of work touching an entity twice logs it once.
class WriteTxn : public ReadTxn {
 public:
  // Creates or replaces. Takes the record by value: a caller done with it
  // moves it in (the writer keeps it for the rest of its transaction).
  virtual absl::Status PutCase(CaseRecord record) = 0;
  virtual absl::Status PutEvidence(const palm::v1::Evidence& evidence) = 0;
  virtual absl::Status PutTicket(const palm::v1::Ticket& ticket) = 0;
  virtual absl::Status PutNoPenalty(const palm::v1::NoPenaltyDecision& decision) = 0;
  virtual absl::Status PutEvent(const palm::v1::CaseEvent& event) = 0;
  // Records a prior violation; returns its change-log entity id.
  virtual absl::StatusOr<std::string> AddPriorViolation(const palm::v1::PriorViolation& v,
                                                        const std::string& case_id) = 0;
  // Replaces the stored prior violation `entity_id` by `v` (the same
  // violation under another party key, or voided), keeping its entity id:
  // the change log's entries for it stay valid. NOT_FOUND when there is none.
  virtual absl::Status ReplacePriorViolation(const std::string& entity_id,
                                             const palm::v1::PriorViolation& v) = 0;
  // Drops case `case_id` from PendingPriorRechecks.
  virtual absl::Status ClearPriorRecheck(const std::string& case_id) = 0;
  virtual absl::Status PutCatalog(const palm::v1::Catalog& catalog) = 0;
  virtual absl::Status PutTown(const palm::v1::Town& town) = 0;
  virtual absl::Status PutSquad(const palm::v1::Squad& squad) = 0;
  virtual absl::Status PutOfficer(const palm::v1::Officer& officer) = 0;
  virtual absl::Status PutDevice(const palm::v1::Device& device) = 0;
  virtual absl::Status PutLease(const palm::v1::TicketLease& lease) = 0;
  virtual absl::Status PutConflict(const palm::v1::ConflictRecord& conflict) = 0;
  virtual absl::Status PutDeviceReport(const std::string& device_id,
                                       const DeviceReport& report) = 0;

  // Next number of the gapless per-year case counter (1 for a new year). The
  // increment commits or rolls back with the transaction.
  virtual absl::StatusOr<int64_t> NextCaseNumber(int year) = 0;
  // Raises the case-number counter of `year` to at least `last` (a restored
  // store resumes above the numbers its fence reserved).
  virtual absl::Status RaiseCaseNumberCounter(int year, int64_t last) = 0;

  // Records the outcome of one sequence number of a device. The device's
  // acknowledged sequence number moves with AdvanceDeviceSync.
  virtual absl::Status PutDeviceLog(const DeviceLogEntry& entry) = 0;
  // Moves the acknowledged sequence number of `device_id` up to `acked_seq`
  // (never down) and records `at_ms` as its last push. Called once per push
  // batch, after the batch's PutDeviceLog calls.
  virtual absl::Status AdvanceDeviceSync(const std::string& device_id, uint64_t acked_seq,
                                         int64_t at_ms) = 0;
  // Stores the review fields (dismissed, dismissed_by, note) of the recorded
  // entry (entry.device_id, entry.device_seq); nothing else changes.
  virtual absl::Status PutRejectedReview(const DeviceLogEntry& entry) = 0;

  // Appends a change of entity (`kind`, `entity_id`) visible in `scope` to the
  // change log and returns its server_seq. An entity this transaction has
  // already logged in the same scope may keep the position it got (and that
  // position is returned): every reader's cursor lies below it, and readers
  // see the transaction whole, so no pull can tell the difference.
  virtual absl::StatusOr<uint64_t> AppendChange(EntityKind kind, const std::string& entity_id,
                                                const std::string& scope) = 0;

  // Runs `fn` after the transaction commits (never if it rolls back), on the
  // writer thread. For in-memory caches that must follow committed state.
  virtual void OnCommit(std::function<void()> fn) = 0;
  // --- Security (issue 5). ---
  // The newest audit entry's seq and hash; nullptr while the log is empty.
  // Valid until the next call on this transaction.
  virtual absl::StatusOr<const AuditHead*> LastAuditHead() = 0;
  // Inserts `entry` as is (server/audit.h AppendAudit computes seq and
  // hashes); `digest` is entry.hash, raw.
  virtual absl::Status InsertAudit(const AuditEntry& entry, const sync::Sha256Digest& digest) = 0;
  // Creates or replaces.
  virtual absl::Status PutCredential(const OfficerCredential& credential) = 0;
  // Records `session` as ended; false (and nothing written) when its token
  // had already ended. Forgets sessions that expired before
  // session.ended_at_ms.
  virtual absl::StatusOr<bool> EndSession(const EndedSession& session) = 0;
  // --- Evidence log (issue 6). ---
  // Creates or replaces node (level, index); `hash` is 32 raw bytes.
  virtual absl::Status PutLogNode(uint32_t level, uint64_t index, const std::string& hash) = 0;
  // Inserts a leaf; ALREADY_EXISTS-like storage error when its index or
  // evidence id is taken.
  virtual absl::Status PutLogLeaf(const LogLeaf& leaf) = 0;
  // Records a signed tree head; it becomes LatestTreeHead().
  virtual absl::Status PutTreeHead(const palm::v1::SignedTreeHead& head) = 0;
  // Creates or replaces.
  virtual absl::Status PutBlob(const BlobRecord& blob) = 0;
  // Records a signed audit checkpoint; it becomes LatestAuditCheckpoint().
  virtual absl::Status PutAuditCheckpoint(const palm::v1::AuditCheckpoint& checkpoint) = 0;
  // Records a transition; it becomes the last of LogTransitions().
  virtual absl::Status PutLogTransition(const palm::v1::LogTransition& transition) = 0;
};

// Thread-safe: every method may be called from any thread.
class ServerStore {
 public:
  using WriteWork = std::function<absl::Status(WriteTxn&)>;
  using ReadWork = std::function<absl::Status(ReadTxn&)>;
  using Done = std::function<void(absl::Status)>;

  virtual ~ServerStore() = default;

  // Identity of this store's history. A store restored from a backup gets a
  // new epoch (AssignNewEpoch), so cursors issued before the restore are
  // recognised as stale.
  virtual std::string epoch() const = 0;

  // How the writer may run a unit of work (SubmitWrite).
  struct WriteOptions {
    // `work` may run more than once, each run on a fresh transaction and
    // from the start, with only the last run's writes kept: whatever it
    // keeps outside the store it sets afresh on every run (a push batch
    // resets its outcome). A group made only of such units runs without a
    // savepoint per unit; if one of them fails, the whole group is rolled
    // back and run again, each unit in its own savepoint.
    bool rerunnable = false;
  };

  // Queues `work` for the writer thread. The writer runs several queued units
  // in one transaction (group commit); a unit returning non-OK is rolled back
  // alone (in its own savepoint, or by running the group again without it
  // when every unit is rerunnable) and `done` gets its status. `done` runs on
  // the writer thread once the transaction is durable (or with the error
  // that prevented it) and must not block. After Close(), `done` gets
  // UNAVAILABLE at once.
  virtual void SubmitWrite(WriteWork work, Done done, WriteOptions options) = 0;
  void SubmitWrite(WriteWork work, Done done) {
    SubmitWrite(std::move(work), std::move(done), WriteOptions());
  }

  // Queues `work` for a reader thread, in one read transaction (a consistent
  // snapshot); `done` runs on that thread and must not block.
  virtual void SubmitRead(ReadWork work, Done done) = 0;

  // The enrolled device `device_id`, from memory (never touches the disk, so
  // it may be called from a gRPC reaction). Follows committed PutDevice.
  virtual std::optional<palm::v1::Device> LookupDevice(const std::string& device_id) const = 0;

  // Gives the store a new epoch, durably: every cursor issued before becomes
  // stale and its holder is told to resync. What a restore from a backup
  // must do before the server serves again (palm-server --new-epoch).
  // `also`, when given, runs in the same transaction with the new epoch
  // (the evidence log's transition): both happen, or neither.
  using EpochWork = std::function<absl::Status(WriteTxn&, const std::string& epoch)>;
  virtual absl::Status AssignNewEpoch(const EpochWork& also) = 0;
  absl::Status AssignNewEpoch() { return AssignNewEpoch(EpochWork()); }

  // Writes a consistent copy of the whole store, as of one moment, into the
  // new file `dest_path` while writers go on (server/backup.h). Blocking:
  // call it off gRPC's threads.
  virtual absl::Status WriteConsistentCopy(const std::string& dest_path) = 0;

  // Finishes queued work, stops the threads and closes. Further submissions
  // fail with UNAVAILABLE. Idempotent.
  virtual absl::Status Close() = 0;
};

// Opens (creating if needed) the embedded SQLite store `palm.db` under
// options.data_dir. Fails with FAILED_PRECONDITION when the file was written
// by a newer schema, DATA_LOSS when it is not a database, PERMISSION_DENIED
// when it cannot be written.
absl::StatusOr<std::unique_ptr<ServerStore>> OpenSqliteStore(const StoreOptions& options);

}  // namespace palm::server

#endif  // PALM_SERVER_STORE_H_
