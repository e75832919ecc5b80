// The device store: Palm's offline state on a handheld, in one SQLite file.
//
// Internal to client-lib (the public face is palm::Client). Besides the
// local write path it offers what the pull code of the sync client (a later
// issue) and the tests need: installing reference data and server versions
// of entities, re-applying still-pending outbox mutations on top of pulled
// state (DESIGN.md §3.5), and the sync cursor.
//
// Thread safety: every public method takes mutex_, so a DeviceStore may be
// used from any thread. Methods ending in Locked require mutex_ held and,
// when they write, an open Transaction. WAL checkpoints run on a thread of
// the store's Checkpointer, on a connection of its own (checkpointer.h).
//
// Durability: a method that wrote returns once its commit is on stable
// storage (with synchronous_full). Write() waits for that after releasing
// mutex_, so that writers on several threads share one fdatasync of the WAL
// (group commit); the other writers wait while holding it. Anything read to
// leave the device (OutboxFrom, for a push) is synced before it is returned,
// in either durability mode.
#ifndef PALM_CLIENT_DEVICE_STORE_H_
#define PALM_CLIENT_DEVICE_STORE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client-lib/src/checkpointer.h"
#include "client-lib/src/crypto.h"
#include "client-lib/src/sqlite.h"
#include "client-lib/src/wal_vfs.h"
#include "nlohmann/json.hpp"
#include "palm/types.h"
#include "palm/v1/auth.pb.h"
#include "palm/v1/case.pb.h"
#include "palm/v1/catalog.pb.h"
#include "palm/v1/mutation.pb.h"
#include "palm/v1/org.pb.h"
#include "palm/v1/sync.pb.h"
#include "sync/calendar.h"
#include "sync/hlc.h"
#include "sync/party_key.h"

namespace palm::internal {

// The fields of `report` as JSON (everything but ever_synced): how the store
// keeps the last report and how the C API returns it.
nlohmann::json SyncReportJson(const SyncReport& report);

struct StoreOptions {
  std::string path;
  // Required for a new database; must match (or be empty) on reopen.
  std::string device_id;
  std::array<uint8_t, 32> key{};
  // True: a call that wrote returns once its commit is on stable storage
  // (group commit, wal_vfs.h; what synchronous=FULL gives). False: the last
  // commits may be lost on power failure (synchronous=NORMAL). Either way
  // the connection runs synchronous=NORMAL and the file is never corrupted.
  bool synchronous_full = true;
  // Wall clock in Unix ms; empty: the system clock.
  std::function<int64_t()> now_ms;
};

// A case with everything recorded on it, in wire form. `kase` includes its
// parties (decrypted).
struct CaseBundle {
  v1::Case kase;
  std::vector<v1::Evidence> evidence;
  std::vector<std::string> evidence_paths;  // parallel to `evidence`
  std::vector<v1::Ticket> tickets;
  std::vector<v1::NoPenaltyDecision> no_penalty;
  std::vector<v1::CaseEvent> timeline;  // oldest first
};

struct CaseFilter {
  std::optional<v1::CaseState> state;
  std::string town_id;
  std::optional<int64_t> occurred_from_ms;
  std::optional<int64_t> occurred_until_ms;
  int page_size = 50;
  std::string page_token;
};

struct CaseList {
  std::vector<v1::Case> cases;  // without parties
  std::string next_page_token;
};

// One outbox entry, decrypted.
struct OutboxEntry {
  v1::Mutation mutation;
  bool acked = false;
  int64_t created_at_ms = 0;
};

// What a batch of push results did to the store.
struct PushRecorded {
  // Results per outcome (a DUPLICATE counts under its original outcome too).
  uint64_t applied = 0;
  uint64_t applied_with_conflict = 0;
  uint64_t rejected = 0;
  uint64_t duplicates = 0;
  uint64_t conflicts = 0;
  // A rejected write's local effect must be undone: the cursor was dropped
  // (in the same transaction) so that the next pull is a snapshot.
  bool needs_snapshot = false;
};

// The officer's online session as the store keeps it (sealed at rest).
struct StoredSession {
  v1::SessionToken session;
  // Device clock when the server issued it, to judge its remaining life.
  int64_t obtained_at_ms = 0;
};

class DeviceStore {
 public:
  // Opens or creates the store, migrating it forward. See Client::Open for
  // the errors (schema_too_new leaves the file untouched).
  static absl::StatusOr<std::unique_ptr<DeviceStore>> Open(StoreOptions options);

  ~DeviceStore();
  DeviceStore(const DeviceStore&) = delete;
  DeviceStore& operator=(const DeviceStore&) = delete;

  const std::string& device_id() const { return device_id_; }

  absl::Status SetActingOfficer(const std::string& officer_id);
  // No officer acts any more: writes are refused until one is set.
  void ClearActingOfficer();
  // The officer writes are made in the name of ("" when none).
  std::string acting_officer();

  // The wall clock the store stamps with (StoreOptions::now_ms), Unix ms.
  int64_t WallClockMs() const { return now_ms_(); }

  // --- The officer's online session (device_store+session.cc). ---

  // Replaces the kept session with `session`, sealed under the store key.
  absl::Status PutSession(const v1::SessionToken& session, int64_t obtained_at_ms);
  // The kept session, or nullopt. PERMISSION_DENIED / DATA_LOSS when the
  // sealed row does not open.
  absl::StatusOr<std::optional<StoredSession>> LoadSession();
  // Drops the kept session (OK when there is none).
  absl::Status ClearSession();

  // The local write path. `draft` has its operation set; the store fills the
  // mutation id, device id and sequence number, HLC stamp, acting officer
  // and the derived fields of the entity (ids, defaults, ticket number),
  // checks the legal rules, applies the mutation to the local tables and
  // appends it to the outbox — all in one transaction — and returns the
  // mutation as recorded. Nothing is written on failure. `evidence_path`
  // (AddEvidence only) is where the content waits for upload; it stays local.
  absl::StatusOr<v1::Mutation> Write(v1::Mutation draft, const std::string& evidence_path = "");

  // Re-applies every unacknowledged outbox mutation, in sequence order, on
  // top of the current tables (after pulled server state was installed), in
  // one transaction. Mutations that no longer apply are skipped (the
  // server's outcome will tell); returns how many applied.
  absl::StatusOr<int> ReapplyPendingOutbox();

  // --- Reference data and server state (device_store+server.cc). ---
  // Each call is one transaction.

  // Replaces the matter catalogue with `catalog` (keeps its version/label).
  absl::Status ApplyCatalog(const v1::Catalog& catalog);
  // The working-day calendar (Art. 85) the last catalogue brought; empty
  // (covering no year) before one with a calendar arrived.
  absl::StatusOr<sync::WorkingDayCalendar> Calendar();
  absl::Status UpsertOfficers(const std::vector<v1::Officer>& officers);
  absl::Status UpsertTowns(const std::vector<v1::Town>& towns);
  absl::Status UpsertSquads(const std::vector<v1::Squad>& squads);
  absl::Status AddPriorViolations(const std::vector<v1::PriorViolation>& rows);
  // The key id of the bureau's party-key secret this device holds (what
  // GetReferenceData is told); empty before one arrived.
  std::string PartyKeyId();
  // Adds a block of ticket numbers; a lease already held keeps its position.
  absl::Status AddTicketLease(const v1::TicketLease& lease);
  // Server versions of entities replace the local rows.
  absl::Status UpsertServerCase(const v1::Case& c);
  absl::Status UpsertServerEvidence(const v1::Evidence& e);
  absl::Status UpsertServerTicket(const v1::Ticket& t);
  absl::Status UpsertServerNoPenalty(const v1::NoPenaltyDecision& d);
  absl::Status UpsertServerCaseEvent(const v1::CaseEvent& e);
  // Marks outbox entries up to and including `seq` as acknowledged.
  absl::Status AckOutboxThrough(uint64_t seq);

  // --- Sync, each call one transaction (device_store+server.cc). ---

  // Installs what GetReferenceData returned: the catalogue (when present and
  // newer), towns, squads and officers, and the party-key secret when one
  // came (InstallPartyKeyLocked).
  absl::Status ApplyReferenceData(const v1::GetReferenceDataResponse& reference);

  // Records one push response: acknowledges the outbox through
  // response.acknowledged_seq (never beyond the outbox), keeps rejections
  // and conflict losses as sync issues, and when a result is a rejection
  // drops the sync cursor so the next pull is a snapshot (the rejected
  // write's local effect must give way to the server's state).
  absl::StatusOr<PushRecorded> RecordPushResults(const v1::PushResponse& response);

  // Applies one pull page, stores its cursor with `server_epoch`, and
  // re-applies the still-pending outbox on top (DESIGN.md §3.5), all in one
  // transaction. With `replace_scope` (first page of a snapshot), the
  // server-derived entities are dropped first — cases, parties, tickets,
  // decisions, events, prior violations, and evidence not waiting for
  // upload; reference data, ticket leases and the outbox are kept. Returns
  // the number of pending writes re-applied.
  absl::StatusOr<int> ApplyPullPage(const v1::PullPage& page, bool replace_scope,
                                    const std::string& server_epoch);

  // Lowest sequence number not yet acknowledged, or 0 when all are.
  absl::StatusOr<uint64_t> FirstPendingSeq();
  // Highest sequence number written so far (0 before the first write).
  absl::StatusOr<uint64_t> LastDeviceSeq();
  // Up to `limit` outbox entries from sequence number `from_seq` on
  // (acknowledged or not: the server may ask for a resend), in order, each
  // on stable storage (in either durability mode) before it is returned.
  absl::StatusOr<std::vector<OutboxEntry>> OutboxFrom(uint64_t from_seq, size_t limit);

  absl::StatusOr<std::vector<SyncIssue>> ListSyncIssues(bool include_dismissed);
  absl::Status DismissSyncIssue(const std::string& issue_id);

  // Held by Client::Sync for the whole sync: one sync per store at a time.
  std::mutex& sync_mutex() { return sync_mutex_; }

  absl::Status SetSyncCursor(const std::string& cursor, const std::string& server_epoch);
  // Returns {cursor, server_epoch}; both empty before the first sync.
  absl::StatusOr<std::pair<std::string, std::string>> SyncCursor();
  absl::Status SetLastSyncReport(const SyncReport& report);
  absl::StatusOr<SyncReport> LastSyncReport();

  // --- Queries (device_store+queries.cc). ---

  absl::StatusOr<CaseBundle> GetCase(const std::string& case_id);
  absl::StatusOr<CaseList> ListCases(const CaseFilter& filter);
  absl::StatusOr<v1::Matter> GetMatter(const std::string& code);
  // The clocks running on the cases this device holds (sync::CaseClocks),
  // of the acting officer's cases (every case when `all_officers` or no
  // officer acts), read on `as_of` (YYYY-MM-DD; empty: the store's today)
  // and due within `within_days` (1..366) or overdue, in sync::ClockBefore
  // order. INVALID_ARGUMENT for a bad day or window.
  absl::StatusOr<std::vector<v1::CaseClock>> Deadlines(bool all_officers, const std::string& as_of,
                                                       int64_t within_days);
  absl::StatusOr<int64_t> CatalogVersion();
  absl::StatusOr<int64_t> TicketNumbersLeft();
  // The ticket leases that carry the server's signature, lowest numbers
  // first (presented to a restored server: SyncService.RestoreTicketLeases).
  absl::StatusOr<std::vector<v1::TicketLease>> SignedTicketLeases();
  // The number the server sealed for case `case_id`, if this device holds
  // the case with one (presented with a resent record_case after a restore).
  absl::StatusOr<std::optional<v1::CaseNumberClaim>> CaseNumberClaim(const std::string& case_id);
  absl::StatusOr<PendingSyncCounts> PendingCounts();
  // The outbox in sequence order, decrypted (for the push code and tests).
  absl::StatusOr<std::vector<OutboxEntry>> Outbox();

  // --- Evidence uploads and receipts (uploader.h; device_store+queries.cc). ---

  // An evidence file waiting for upload.
  struct PendingUpload {
    std::string evidence_id;
    std::string sha256_hex;
    uint64_t size_bytes = 0;
    std::string content_path;
  };
  // Evidence whose file is kept here and not yet acknowledged by the server.
  absl::StatusOr<std::vector<PendingUpload>> PendingUploads();
  // The server acknowledged the file of `evidence_id`: no longer pending.
  // The file itself stays where it is (the app decides when to delete it).
  absl::Status MarkEvidenceUploaded(const std::string& evidence_id);
  // Ids of this device's evidence with no receipt yet, oldest first.
  absl::StatusOr<std::vector<std::string>> EvidenceWithoutReceipt();
  // Keeps `receipt` for its evidence (column and the record's receipt).
  absl::Status StoreEvidenceReceipt(const v1::EvidenceReceipt& receipt);
  // The receipt of `evidence_id`: NOT_FOUND when the evidence is unknown,
  // FAILED_PRECONDITION when it has none yet.
  absl::StatusOr<v1::EvidenceReceipt> EvidenceReceipt(const std::string& evidence_id);

  // --- WAL checkpoints (checkpointer.h). ---

  Checkpointer::Stats CheckpointStats() const { return checkpointer_->stats(); }
  // Returns once no checkpoint is asked for or under way. Tests only.
  void TEST_WaitForCheckpoints() { checkpointer_->TEST_WaitIdle(); }
  // The WAL's durability (wal_vfs.h). Tests only.
  WalDurability& TEST_wal() { return *wal_; }

 private:
  DeviceStore(std::unique_ptr<Db> db, std::unique_ptr<Checkpointer> checkpointer,
              std::unique_ptr<WalDurability> wal, bool durable_writes, std::string device_id,
              const std::array<uint8_t, 32>& key, std::function<int64_t()> now_ms);

  // After a commit: returns once it is on stable storage, when writes are
  // durable (see StoreOptions::synchronous_full).
  absl::Status MakeDurable() { return durable_writes_ ? wal_->Sync() : absl::OkStatus(); }
  // Before a write: once a sync has failed, nothing more is committed (it
  // could only be reported as failed) until the store is reopened.
  absl::Status CanWrite() const { return durable_writes_ ? wal_->failure() : absl::OkStatus(); }

  int64_t NowMs() const { return now_ms_(); }

  // Write() up to its commit (takes mutex_).
  absl::StatusOr<v1::Mutation> CommitWrite(v1::Mutation draft, const std::string& evidence_path);

  // Write path steps (mutex_ held, transaction open).
  absl::Status PrepareLocked(v1::Mutation* m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status CheckRulesLocked(const v1::Mutation& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<sync::WorkingDayCalendar> CalendarLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Applies `m` to the local tables: the single place a mutation's effect is
  // defined, for new writes and for re-applying pending ones.
  absl::Status ApplyMutationLocked(const v1::Mutation& m, const std::string& evidence_path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status AppendOutboxLocked(const v1::Mutation& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Decrypts the outbox rows `select` yields (device_seq, mutation_id,
  // acked, created_at_ms, sealed mutation), checking each against its
  // sequence number.
  absl::StatusOr<std::vector<OutboxEntry>> ReadOutboxLocked(Statement& select)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // Row helpers (mutex_ held).
  absl::StatusOr<std::optional<v1::Case>> LoadCaseLocked(const std::string& case_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<v1::Case> RequireCaseLocked(const std::string& case_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<std::vector<v1::Party>> LoadPartiesLocked(const std::string& case_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Every town on record (the roster's reference data), kept in memory
  // until a write to the towns table forgets it (ForgetTownsLocked): every
  // record_case checks its town's delegation against it.
  absl::StatusOr<const std::vector<v1::Town>*> LoadTownsLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void ForgetTownsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { towns_.reset(); }
  // sync::CheckDelegated for a case of `town_id` under `matter` (nothing to
  // check without either).
  absl::Status CheckDelegatedLocked(const std::string& town_id, const v1::Matter* matter)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<std::optional<v1::Matter>> LoadMatterLocked(const std::string& code)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<std::vector<v1::Officer>> LoadOfficersLocked(const std::vector<std::string>& ids)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Writes the case row (parties stripped) and, when `with_parties`, replaces
  // its parties with c.parties().
  absl::Status PutCaseLocked(const v1::Case& c, bool with_parties)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status PutPartyLocked(const std::string& case_id, const v1::Party& p, int64_t ordinal)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status PutEventLocked(const v1::CaseEvent& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status ApplyFieldChangeLocked(v1::Case* c, const v1::CaseFieldChange& change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status RunInTransaction(const std::function<absl::Status()>& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // Bodies of the reference-data and server-state writers (mutex_ held,
  // transaction open), shared by the one-call methods and ApplyPullPage.
  absl::Status ApplyCatalogLocked(const v1::Catalog& catalog) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Records, for the parties of case `case_id` with an ID number (only
  // `party_id` when it is not empty), that they violated `matter_code`: the
  // device's own copy of what the server records (sync::PriorViolationOf).
  absl::Status RecordPriorViolationsLocked(const std::string& case_id, const std::string& party_id,
                                           const std::string& matter_code, int64_t at_ms);
  // Marks voided the violation of `matter_code` by `party_id` that case
  // `case_id` recorded, unless it still stands (sync::ViolationStands).
  absl::Status LapseViolationLocked(const std::string& case_id, const std::string& party_id,
                                    const std::string& matter_code)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<CaseBundle> GetCaseLocked(const std::string& case_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status AddPriorViolationLocked(const v1::PriorViolation& p)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Keeps the bureau's party-key secret `key` (sealed) and rekeys under it
  // the prior violations of an older server (plain SHA-256; their case
  // numbers are forgotten, as pulled records carry none now, while their
  // violation ids and whether they are voided are kept); records under
  // another secret are dropped (a snapshot brings them again). Returns the
  // secret, for the caller to take into use once the transaction commits.
  // DATA_LOSS when `key` is not a secret or its key id does not name it.
  absl::StatusOr<sync::PartyKeySecret> InstallPartyKeyLocked(const v1::PartyKeySecret& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Reads the sealed secret at open. A row that does not open (damaged) is
  // treated as no secret: the store opens, and the next sync brings it.
  absl::Status LoadPartyKeyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The secret prior violations are keyed under, or null (legacy keys).
  const sync::PartyKeySecret* PartyKeyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return party_key_ ? &*party_key_ : nullptr;
  }
  absl::Status AddTicketLeaseLocked(const v1::TicketLease& lease)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status UpsertServerEvidenceLocked(const v1::Evidence& e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status UpsertServerTicketLocked(const v1::Ticket& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status UpsertServerNoPenaltyLocked(const v1::NoPenaltyDecision& d)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status ApplyChangeLocked(const v1::Change& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status SetSyncCursorLocked(const std::string& cursor, const std::string& epoch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<int> ReapplyPendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status PutSyncIssueLocked(const std::string& issue_id, SyncIssueKind kind,
                                  const v1::MutationResult& result, const std::string& case_id,
                                  const google::protobuf::MessageLite& detail)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  std::mutex sync_mutex_;
  std::mutex mutex_;
  std::unique_ptr<Db> db_ ABSL_GUARDED_BY(mutex_);
  // Hooked into db_'s commits; stopped in the destructor, before db_ closes.
  std::unique_ptr<Checkpointer> checkpointer_;
  // db_'s WAL; destroyed before db_ closes (declared after it).
  const std::unique_ptr<WalDurability> wal_;
  const bool durable_writes_;
  const std::string device_id_;
  const Aead aead_;
  const std::function<int64_t()> now_ms_;
  sync::HybridClock clock_ ABSL_GUARDED_BY(mutex_);
  std::string acting_officer_ ABSL_GUARDED_BY(mutex_);
  // The bureau's party-key secret (sync/party_key.h), unsealed at open or
  // when GetReferenceData brings it; unset before the first such sync.
  std::optional<sync::PartyKeySecret> party_key_ ABSL_GUARDED_BY(mutex_);
  // LoadTownsLocked's copy of the towns table; unset until read.
  std::optional<std::vector<v1::Town>> towns_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace palm::internal

#endif  // PALM_CLIENT_DEVICE_STORE_H_
