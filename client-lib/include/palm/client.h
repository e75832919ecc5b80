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
//
// Threads and connections: each Client owns one background thread, with a
// second SQLite connection to the same file, that copies the write-ahead log
// into the database file (WAL checkpoints) off the write path; a write copies
// only the last few pages the thread left, or waits for it when the log has
// grown very long. The thread never calls back into the application;
// destroying the Client stops and joins it. The library registers a SQLite
// VFS named "palm-wal-gather" (never as the default) and opens its own
// connections through it; it wraps the default VFS and writes each commit's
// WAL frames to the file in one write. Other SQLite users in the process are
// not affected.
#ifndef PALM_CLIENT_H_
#define PALM_CLIENT_H_

#include <chrono>
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
class Sessions;
struct ClientAccess;
struct CancelAccess;
}  // namespace internal

// A request to stop a running sync, shared by copies: keep one copy, put
// another in SyncOptions, and call Cancel() from any thread. Thread-safe.
class PALM_EXPORT CancelToken {
 public:
  CancelToken();
  // Asks every sync using this token (or a copy) to stop. Returns at once;
  // the sync returns CANCELLED within about a second, leaving the store
  // consistent (a pull page is applied whole or not at all). Idempotent.
  void Cancel() const;
  bool cancelled() const;

 private:
  friend struct internal::CancelAccess;
  struct State;
  std::shared_ptr<State> state_;
};

// Where and how Client::Sync reaches the server.
struct SyncOptions {
  // "host:port" of palm-server.
  std::string server_address;
  // Mutual TLS (DESIGN.md §4): PEM files of the bureau CA that signed the
  // server certificate, and of the device's client certificate and key
  // (both or neither). Required unless insecure_loopback.
  std::string ca_cert_path;
  std::string client_cert_path;
  std::string client_key_path;
  // Name to check the server certificate against instead of the host in
  // server_address (e.g. when connecting by IP address).
  std::string tls_server_name;
  // Plaintext, for tests and development only: refused unless
  // server_address is a loopback address (127.0.0.0/8, [::1], localhost).
  bool insecure_loopback = false;
  // Normally empty: Sync then sends the session that Client::SignIn keeps
  // (refreshing it first when it is about to expire). A token given here
  // overrides it (tools that sign in themselves). Either way it travels as
  // `authorization: Bearer <token>` on every call, and only over TLS; the
  // server requires one whenever TLS is on.
  std::string session_token;
  // Sync first renews the kept session (AuthService.RefreshSession) when it
  // expires within this margin, or within `timeout` when that is longer.
  std::chrono::milliseconds session_refresh_margin{10 * 60 * 1000};

  // Called on the syncing thread as work is done; must not call back into
  // the Client. May be empty.
  std::function<void(const SyncProgress&)> on_progress;
  // Cancels the sync from another thread.
  CancelToken cancel;
  // Whole-sync time limit; 0 for none. When it passes, Sync returns
  // DEADLINE_EXCEEDED; what was done so far is kept and the next sync resumes.
  std::chrono::milliseconds timeout{0};

  // Ask for a new block of ticket numbers when fewer than this are left.
  int64_t ticket_numbers_low_water = 50;
  uint32_t ticket_numbers_per_lease = 200;
  // Mutations per push batch (the server takes at most 2000) and changes per
  // pull page (the server caps it). Smaller means more, cheaper checkpoints.
  uint32_t push_batch_size = 500;
  uint32_t pull_page_size = 500;
};

// How hard each write is pushed to stable storage.
enum class Durability {
  // A write returns once it is on stable storage (an fdatasync of SQLite's
  // WAL, as PRAGMA synchronous=FULL would make): an acknowledged write
  // survives power loss. Writes made at the same time on several threads
  // share one sync (group commit). A failed sync fails the write with
  // kDataLoss (it was stored, but may not survive a crash); from then on
  // every write is refused with the same status, before it is stored,
  // until the Client is reopened.
  kFull,
  // synchronous=NORMAL: survives the app being killed; the last writes may be
  // lost on power failure. Sync() still puts every write it pushes on stable
  // storage first. For benchmarks and tools.
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

// Who is working on the device, and on what authority (Client::GetSessionState).
struct SessionState {
  // An online session (Client::SignIn) is kept; it may have expired since.
  bool signed_in = false;
  // The session's officer, with their name and role as the server gave them
  // (role in lower case: "officer", "auxiliary", "squad_leader", ...).
  std::string officer_id;
  std::string officer_name;
  std::string role;
  // When the session ends (Unix ms), and whether it has by the device clock.
  int64_t expires_at_ms = 0;
  bool expired = false;
  // The officer writes are made in the name of: the signed-in officer, one
  // unlocked offline (Client::UnlockOffline), or "" when nobody is.
  std::string acting_officer_id;
  // The acting officer was unlocked offline and holds no online session: they
  // can record, and a sync asks for an online sign-in first.
  bool offline_only = false;
  // The server revoked the device (a sign-in or sync was refused with
  // "device_revoked"): lock the app and offer Client::WipeStore.
  bool device_revoked = false;
  std::string revoke_message;
};

// Verifies evidence receipt `receipt` (what Client::ExportEvidenceReceipt
// returns: protobuf JSON or binary palm.v1.EvidenceReceipt) offline, with the
// evidence log's public key `log_public_key_pem` (Ed25519, PEM), and, when
// `file_path` is not empty, that the file there is the evidence it names.
// Needs no Client and no network. Thread-safe. OK when every check holds;
// otherwise DATA_LOSS (reason "receipt_mismatch") naming the failed check
// ("file: ...", "inclusion proof: ...", "tree head signature: ..."),
// INVALID_ARGUMENT (reason "invalid_argument") for a receipt or key that
// cannot be read, NOT_FOUND (reason "file_not_found") for a missing file.
PALM_EXPORT Status VerifyEvidenceReceipt(const std::string& receipt,
                                         const std::string& log_public_key_pem,
                                         const std::string& file_path = "");

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

  // Deletes the device store of `options` — the database file with its
  // "-wal" and "-shm" files and its security file (palm/device_security.h) — and
  // its key (options.key_provider->DeleteKey(options.key_name)), e.g. after
  // the server revoked the device (palm/device_security.h). Close every
  // Client on it first. OK when nothing was there; otherwise the first
  // failure (the files are deleted even when the key cannot be).
  static Status WipeStore(const ClientOptions& options);

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

  // --- Officers: online sign-in, offline unlock, sign-out. ---

  // Signs `officer_id` in with `secret` (PIN or password) at the server that
  // `connection` names (AuthService.SignIn; only the connection fields are
  // used: address, TLS files, tls_server_name, insecure_loopback, and
  // timeout — 30 s when 0). On success the session is kept in the device
  // store, sealed under the store key like party data, and replaces any
  // earlier one; the officer becomes the acting officer (and joins the local
  // roster); and the verifier that lets them unlock offline later with the
  // same secret is cached (palm/device_security.h). Later syncs use and renew
  // the session by themselves. Returns the new state. Blocks on the network.
  // Refusals (nothing is kept), each with its reason:
  //   INVALID_ARGUMENT   "invalid_argument": empty id or secret, unusable
  //                      connection options;
  //   UNAUTHENTICATED    "wrong_secret": unknown officer or wrong secret;
  //                      "officer_locked": too many failed sign-ins, the
  //                      server locked the officer for a while;
  //                      "device_not_enrolled": the server does not know
  //                      this device's certificate;
  //                      "device_revoked": the device was revoked (recorded
  //                      in DeviceSecurity: lock the app, offer WipeStore);
  //   PERMISSION_DENIED  "out_of_jurisdiction": the officer belongs to
  //                      another town than the device;
  //   UNAVAILABLE        "server_unreachable": the server cannot be reached;
  //   DEADLINE_EXCEEDED  "deadline_exceeded".
  Result<SessionState> SignIn(const SyncOptions& connection, const std::string& officer_id,
                              const std::string& secret);

  // Ends the kept session: drops it from the device at once, always, and
  // clears the acting officer; then, when connection.server_address is not
  // empty, asks the server to end it too (AuthService.SignOut), best-effort:
  // whatever the server answers (or a server too old to know the call, or
  // none reachable) does not change the outcome. OK when nobody was signed
  // in. Fails only when the device store cannot be written.
  Status SignOut(const SyncOptions& connection);

  // Returns who is signed in or unlocked, and until when. Never blocks on
  // the network.
  Result<SessionState> GetSessionState();

  // Unlocks the app offline for `officer_id` with the secret of their last
  // online sign-in on this device (DeviceSecurity::UnlockOffline) and makes
  // them the acting officer, so that they can record with no network. A kept
  // online session of another officer is dropped (one officer works on a
  // device at a time). Refusals as DeviceSecurity::UnlockOffline:
  // NOT_FOUND "no_offline_verifier" (sign in online first), UNAUTHENTICATED
  // "wrong_secret", PERMISSION_DENIED "offline_unlock_locked" or
  // "device_revoked".
  Status UnlockOffline(const std::string& officer_id, const std::string& secret);

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

  // Returns the law's clocks running on this device's cases (the acting
  // officer's, or every case with query.all_officers): the time to decide,
  // to serve, to pay, to apply to the court, each due within
  // query.within_days or overdue, overdue first, then by last day. Read
  // offline, with the working-day calendar the server sent. INVALID_ARGUMENT
  // for a bad window or day; FAILED_PRECONDITION when the calendar does not
  // cover a running clock's days.
  Result<std::vector<CaseClock>> ListDeadlines(const DeadlineQuery& query);

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

  // Reconciles the device with the server (DESIGN.md §3), in order:
  // reference data (catalogue, towns, squads, officers) and, when running
  // low, a new block of ticket numbers; push the outbox in sequence order
  // (each mutation acknowledged once the server made it durable; rejections
  // and lost field values are kept, see ListSyncIssues); pull the changes of
  // the device's scope after the stored cursor, applying each page with its
  // cursor in one transaction and re-applying still-pending writes on top;
  // report the device's status. Returns the report (also kept, see
  // LastSyncReport). A sync that wrote pulls a second time, so that on
  // return the device equals the server for its scope (report.pulls). When
  // evidence files failed to upload the call still returns the report, with
  // ok = false and error_reason "uploads_pending": uploads_failed,
  // uploads_pending and upload_error_code / upload_error say how many and
  // why (docs/protocol.md, "Sync results").
  //
  // A sync interrupted anywhere (connection lost, cancelled, deadline, app
  // killed) loses nothing and duplicates nothing: the next call resumes.
  // Within one call, a call the link broke (or a server briefly
  // unavailable) is tried again with backoff inside options.timeout,
  // resuming from what was kept, with pull pages, push batches, upload
  // chunks and reference-data parts sized to what the link carries
  // (report.retries, report.link_budget_bytes; docs/protocol.md, "Bad
  // links"). A refusal is never retried.
  // If the server answers "resync required" the device drops its copy of the
  // scope and its cursor — never its outbox — and takes a fresh snapshot.
  //
  // Over TLS the sync carries the officer session kept by SignIn (unless
  // options.session_token is given), renewed first when it expires within
  // options.session_refresh_margin. With no usable session it fails before
  // connecting — UNAUTHENTICATED, reason "sign_in_required", with a message
  // that says to sign in online (nobody signed in, an officer unlocked
  // offline only, or the session expired) — and the same when the server
  // ends the session (it is then dropped from the device).
  //
  // Fails with INVALID_ARGUMENT for unusable options (no address, missing
  // TLS files, insecure_loopback with a non-loopback address), CANCELLED,
  // DEADLINE_EXCEEDED, ABORTED "sync_in_progress" when another Sync of this
  // Client is running, or the server's status (UNAVAILABLE when it cannot
  // be reached, UNAUTHENTICATED / PERMISSION_DENIED for an unknown or revoked
  // device). Blocks the calling thread; other calls on this Client stay
  // usable meanwhile (app writes made during a sync go with the next one).
  Result<SyncReport> Sync(const SyncOptions& options);

  // Returns the rejected writes and lost field values syncs have reported,
  // oldest first; dismissed ones only when `include_dismissed`.
  Result<std::vector<SyncIssue>> ListSyncIssues(bool include_dismissed = false);

  // Marks an issue as seen. NOT_FOUND when there is no such issue.
  Status DismissSyncIssue(const std::string& issue_id);

  // Returns the Merkle-log receipt of evidence `evidence_id` for offline
  // verification (`palmctl evidence verify FILE --receipt R --log-key K`):
  // protobuf JSON of palm.v1.EvidenceReceipt when `json`, else its binary
  // encoding (docs/evidence.md, "Files"). NOT_FOUND for unknown evidence,
  // FAILED_PRECONDITION while no sync has brought its receipt yet.
  Result<std::string> ExportEvidenceReceipt(const std::string& evidence_id, bool json = true);

 private:
  friend struct internal::ClientAccess;
  Client(std::unique_ptr<internal::DeviceStore> store, std::string db_path);

  std::unique_ptr<internal::DeviceStore> store_;
  std::unique_ptr<internal::Sessions> sessions_;
};

}  // namespace palm

#endif  // PALM_CLIENT_H_
