// palm::Client: the offline device store a handheld app embeds.
//
// Everything here works with no network and survives the app being killed at
// any instant. Each write is one SQLite transaction that changes the local
// tables and appends one mutation (device-made UUIDv7, gapless device
// sequence number, hybrid-logical-clock stamp, acting officer) to the outbox
// that a later sync pushes to the server (DESIGN.md §3). Before anything is
// written the device re-checks the legal rules (Art. 33, 51, 52, 58 and the
// case lifecycle) against the matter catalogue, officer roster and
// prior-violation data synced to it; a refusal is a Status with a code, a
// machine reason and a sentence an officer can act on.
//
// Party personal data is encrypted at rest with AES-256-GCM under a key from
// the integrator's KeyProvider.
//
// Thread safety: a Client is safe to use from any number of threads; one
// internal mutex serialises its calls (writes are short: one transaction).
// Do not open two Clients on the same database file at once.
#ifndef PALM_CLIENT_H_
#define PALM_CLIENT_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "palm/export.h"
#include "palm/key_provider.h"
#include "palm/status.h"
#include "palm/types.h"

namespace palm {

namespace internal {
class DeviceStore;
struct ClientAccess;
}  // namespace internal

// How hard each write is pushed to stable storage.
enum class Durability {
  // PRAGMA synchronous=FULL: an acknowledged write survives power loss.
  kFull,
  // synchronous=NORMAL: survives the app being killed; the last writes may be
  // lost on power failure. For benchmarks and tools.
  kNormal,
};

struct ClientOptions {
  // Path of the SQLite database file (created if missing). "-wal" and "-shm"
  // files live beside it.
  std::string db_path;
  // The enrolled device's id. Required when creating the database; on reopen
  // it must match the stored id, or be empty to use it.
  std::string device_id;
  // Supplies the key that encrypts party data. Required. Shared: the Client
  // keeps a reference only while opening.
  std::shared_ptr<KeyProvider> key_provider;
  // Name of the key to ask the provider for.
  std::string key_name = "palm-device-db";
  Durability durability = Durability::kFull;
  // Test hook: the wall clock in Unix ms feeding the hybrid logical clock
  // and default timestamps. Empty: the system clock.
  std::function<int64_t()> TEST_now_ms;
};

class PALM_EXPORT Client {
 public:
  // Opens (creating if needed) the device store at options.db_path, running
  // any pending schema migrations. On success the caller owns the Client.
  // Fails with:
  //   INVALID_ARGUMENT     missing db_path, device_id (new database) or key
  //                        provider, or a FileKeyProvider keeping its keys in
  //                        the database's own directory;
  //   FAILED_PRECONDITION  reason "schema_too_new": the database was written
  //                        by a newer Palm (the file is left untouched);
  //                        reason "wrong_device": it belongs to another device;
  //   PERMISSION_DENIED    the key does not open this database;
  //   other codes for I/O errors, with the path in the message.
  static Result<std::unique_ptr<Client>> Open(const ClientOptions& options);

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The device id this store belongs to.
  std::string device_id() const;

  // Sets the officer logged in on the device; every later write is made in
  // their name. Writes without an acting officer fail FAILED_PRECONDITION
  // (reason "unknown_officer"). INVALID_ARGUMENT for an empty id;
  // FAILED_PRECONDITION "unknown_officer" when the synced roster is not empty
  // and does not contain the officer.
  Status SetActingOfficer(const std::string& officer_id);

  // --- Writes. Each is one transaction + one outbox mutation, or nothing. ---

  // Records a new case and returns its device-made id. The case starts in
  // the procedure's initial state (ISSUED or REGISTERED).
  Result<std::string> RecordCase(const CaseInput& input);

  // Adds or corrects case fields (one mutation for all `changes`).
  Status UpdateCaseFields(const std::string& case_id, const std::vector<CaseFieldChange>& changes);

  // Attaches the file at `path` as evidence and returns the evidence id. The
  // file is hashed (SHA-256) while streaming through a fixed buffer, never
  // held in memory; its path is kept for the later upload, so the app must
  // keep the file there until it is uploaded.
  Result<std::string> AttachEvidenceFile(const EvidenceInput& input, const std::string& path);

  // As AttachEvidenceFile, hashing everything left in `content`.
  // input.content_path should say where the app keeps the bytes for upload.
  Result<std::string> AttachEvidenceStream(const EvidenceInput& input, std::istream& content);

  // Records evidence whose content was hashed elsewhere (input.sha256_hex,
  // 64 lowercase hex, and input.size_bytes must be set).
  Result<std::string> AddEvidenceRecord(const EvidenceInput& input);

  // Withdraws evidence with a reason (a timeline event; evidence itself is
  // append-only and never edited or deleted).
  Status WithdrawEvidence(const std::string& case_id, const std::string& evidence_id,
                          const std::string& reason);

  // Issues an on-the-spot ticket (Art. 51-52) numbered from the device's
  // leased blocks, and returns it. FAILED_PRECONDITION
  // "ticket_number_exhausted" when no number is left (nothing is written).
  Result<Ticket> IssueTicket(const TicketInput& input);

  // Voids an issued ticket with a reason (tickets are immutable; the void is
  // a separate, reasoned event).
  Status VoidTicket(const std::string& case_id, const std::string& ticket_id,
                    const std::string& reason);

  // Records a no-penalty decision (Art. 33) and moves the case to
  // NO_PENALTY; returns the decision id.
  Result<std::string> RecordNoPenalty(const NoPenaltyInput& input);

  // Moves a case along its lifecycle (DESIGN.md §2), with the Art. 58 legal
  // review gate before DECIDED.
  Status TransitionCase(const std::string& case_id, CaseState to, const std::string& reason);

  // Appends a note, notification, service or payment event; returns its id.
  Result<std::string> AppendCaseEvent(const CaseEventInput& input);

  // --- Queries. ---

  // Returns a case with its parties (decrypted), evidence, tickets,
  // no-penalty decisions and timeline. NOT_FOUND "unknown_case" otherwise.
  Result<CaseView> GetCase(const std::string& case_id);

  // Returns one page of cases matching `query` (without their parties).
  // INVALID_ARGUMENT for a bad page size or page token.
  Result<CasePage> ListCases(const CaseQuery& query);

  // Returns the catalogue entry `code`; NOT_FOUND "unknown_matter" otherwise.
  Result<Matter> GetMatter(const std::string& code);

  // Returns the version of the matter catalogue held (0 for none).
  Result<int64_t> CatalogVersion();

  // Returns how many ticket numbers are left in the device's leased blocks,
  // so the app can warn before they run out.
  Result<int64_t> TicketNumbersLeft();

  // Returns what is waiting to be synced.
  Result<PendingSyncCounts> PendingCounts();

  // Returns the outcome of the last sync (ever_synced = false before the
  // first).
  Result<SyncReport> LastSyncReport();

  // Pushes the outbox and pulls the device's scope. Not available yet:
  // returns UNIMPLEMENTED "sync is not available in this build yet".
  Status Sync();

 private:
  friend struct internal::ClientAccess;
  explicit Client(std::unique_ptr<internal::DeviceStore> store);

  std::unique_ptr<internal::DeviceStore> store_;
};

}  // namespace palm

#endif  // PALM_CLIENT_H_
