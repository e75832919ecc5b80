/*
 * Palm C API: the device store for integrators reaching the library through
 * FFI (Android JNI, Swift, Dart ...). It sits over the same library as the
 * C++ API (palm/client.h) and follows the same rules.
 *
 * Conventions
 *  - All strings are UTF-8, NUL-terminated.
 *  - Every function returns a palm_code: PALM_OK (0) or one of the canonical
 *    gRPC codes. After a failure, palm_last_error_message() and
 *    palm_last_error_reason() describe it (e.g. reason "fine_over_limit" and
 *    "fine 250 yuan exceeds the on-the-spot limit ..."). The last error is
 *    kept per thread, like errno, so concurrent callers never see each
 *    other's errors.
 *  - Results come back as newly allocated UTF-8 strings (ids, or JSON) in an
 *    out-parameter; the caller frees them with palm_free(). On failure the
 *    out-parameter is set to NULL.
 *  - JSON inputs and outputs use the protobuf JSON mapping of the palm.v1
 *    wire types (proto/palm/v1/case.proto), with proto field names, e.g.
 *    {"matter_code": "SR-0101", "procedure": "PROCEDURE_SUMMARY",
 *     "parties": [{"kind": "PARTY_KIND_CITIZEN", "name": "..."}]}.
 *    Enums are accepted by name or number.
 *  - JSON arguments that are not protobuf messages (options, queries) are
 *    objects whose keys are checked by type: a refusal is
 *    PALM_INVALID_ARGUMENT naming the argument or the key, e.g.
 *    "options_json is not valid JSON", "options_json must be a JSON object",
 *    "db_path must be a string", "server_address is required". Keys the
 *    function does not know are ignored.
 *  - A refusal always has a machine reason (never ""): the library's own
 *    ("fine_over_limit", "sign_in_required" ...) or, when a failure has
 *    none more specific, its code's name in lower case ("unavailable").
 *  - No C++ exception ever leaves a palm_* function: an unexpected one is
 *    PALM_INTERNAL (reason "internal"), running out of memory
 *    PALM_RESOURCE_EXHAUSTED (reason "out_of_memory").
 *  - A palm_client is safe to use from any thread; close it exactly once.
 *    Like the C++ Client it owns one background thread (WAL checkpoints)
 *    and opens its SQLite connections through a VFS the library registers,
 *    not as the default, under the name "palm-wal-gather" (palm/client.h).
 */
#ifndef PALM_PALM_H_
#define PALM_PALM_H_

#include <stdint.h>

#include "palm/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Canonical status codes (the gRPC numbering). */
typedef enum palm_code {
  PALM_OK = 0,
  PALM_CANCELLED = 1,
  PALM_UNKNOWN = 2,
  PALM_INVALID_ARGUMENT = 3,
  PALM_DEADLINE_EXCEEDED = 4,
  PALM_NOT_FOUND = 5,
  PALM_ALREADY_EXISTS = 6,
  PALM_PERMISSION_DENIED = 7,
  PALM_RESOURCE_EXHAUSTED = 8,
  PALM_FAILED_PRECONDITION = 9,
  PALM_ABORTED = 10,
  PALM_OUT_OF_RANGE = 11,
  PALM_UNIMPLEMENTED = 12,
  PALM_INTERNAL = 13,
  PALM_UNAVAILABLE = 14,
  PALM_DATA_LOSS = 15,
  PALM_UNAUTHENTICATED = 16
} palm_code;

/* An open device store. Opaque. */
typedef struct palm_client palm_client;

/*
 * Supplies the 32-byte key called `name` (Android Keystore, iOS Keychain ...)
 * into `key_out`. Returns 0 on success, non-zero when the key is unavailable.
 * Called only during palm_open, on the calling thread.
 */
typedef int (*palm_key_fn)(void* ctx, const char* name, uint8_t key_out[32]);

/*
 * Opens (creating if needed) a device store. `options_json`:
 *   {"db_path": "...", "device_id": "...",       (device_id: required when new)
 *    "key_name": "palm-device-db",                (optional)
 *    "key_dir": "...",                            (file keys, when key_fn is NULL)
 *    "durability": "full" | "normal"}             (optional, default "full")
 * On success stores a new handle in *out (close it with palm_close).
 * Refusals as palm::Client::Open (e.g. FAILED_PRECONDITION "schema_too_new").
 */
PALM_EXPORT palm_code palm_open(const char* options_json, palm_key_fn key_fn, void* key_ctx,
                                palm_client** out);

/* Closes the store and frees the handle. NULL is ignored. */
PALM_EXPORT void palm_close(palm_client* client);

/*
 * The library's version, e.g. "0.1.0". Static: do not free. Thread-safe.
 */
PALM_EXPORT const char* palm_version(void);

/*
 * Deletes the device store that `options_json` (the keys of palm_open) names:
 * the database with its "-wal", "-shm" and security files, and, with
 * "key_dir", its key file (palm::Client::WipeStore), e.g. after the server
 * revoked the device. An app whose key comes from a palm_key_fn deletes
 * that key from its keystore itself. Close every palm_client on the store
 * first. PALM_OK when nothing was there. Thread-safe.
 */
PALM_EXPORT palm_code palm_wipe_store(const char* options_json);

/*
 * Sets the officer working on the device without signing in (tests, tools,
 * apps with their own sign-in); later writes are in their name. Apps use
 * palm_sign_in or palm_unlock_offline instead.
 */
PALM_EXPORT palm_code palm_set_officer(palm_client* client, const char* officer_id);

/* --- Officers: sign-in, offline unlock, sign-out (palm::Client::SignIn ...) --- */

/*
 * Signs `officer_id` in with `secret` at the server `connection_json` names:
 *   {"server_address": "host:port", "ca_cert_path": "...",
 *    "client_cert_path": "...", "client_key_path": "...",
 *    "tls_server_name": "...", "insecure_loopback": false, "timeout_ms": 0}
 * (the connection keys of palm_sync; server_address is required). The
 * library keeps the session, sealed in the device store, makes the officer
 * the acting officer, caches their offline-unlock verifier, and later syncs
 * send and renew the session themselves: the app never handles a token.
 * *session_json_out gets the state, as palm_session_state. Blocks on the
 * network. Refusals, with their reasons: PALM_UNAUTHENTICATED
 * "wrong_secret", "officer_locked", "device_not_enrolled", "device_revoked"
 * (wipe the store); PALM_PERMISSION_DENIED "out_of_jurisdiction";
 * PALM_UNAVAILABLE "server_unreachable".
 */
PALM_EXPORT palm_code palm_sign_in(palm_client* client, const char* connection_json,
                                   const char* officer_id, const char* secret,
                                   char** session_json_out);

/*
 * Signs the officer out: the kept session is dropped at once, always, and
 * nobody acts any more; with `connection_json` (as palm_sign_in; may be
 * NULL) the server is told too, best-effort (its answer does not matter).
 */
PALM_EXPORT palm_code palm_sign_out(palm_client* client, const char* connection_json);

/*
 * Who works on the device, as JSON:
 *   {"signed_in": true, "officer_id": "...", "officer_name": "...",
 *    "role": "officer", "expires_at_ms": t, "expired": false,
 *    "acting_officer_id": "...", "offline_only": false,
 *    "device_revoked": false, "revoke_message": ""}
 * "offline_only": the acting officer was unlocked offline and a sync will
 * ask for an online sign-in first. Never blocks on the network.
 */
PALM_EXPORT palm_code palm_session_state(palm_client* client, char** state_json_out);

/*
 * Unlocks the app offline for `officer_id` with the secret of their last
 * online sign-in on this device, and makes them the acting officer
 * (palm::Client::UnlockOffline). Refusals: PALM_NOT_FOUND
 * "no_offline_verifier", PALM_UNAUTHENTICATED "wrong_secret",
 * PALM_PERMISSION_DENIED "offline_unlock_locked" or "device_revoked".
 */
PALM_EXPORT palm_code palm_unlock_offline(palm_client* client, const char* officer_id,
                                          const char* secret);

/* Records a case (palm.v1.Case JSON without ids); *case_id_out gets its id. */
PALM_EXPORT palm_code palm_record_case(palm_client* client, const char* case_json,
                                       char** case_id_out);

/* Adds or corrects case fields: a JSON array of palm.v1.CaseFieldChange. */
PALM_EXPORT palm_code palm_update_case_fields(palm_client* client, const char* case_id,
                                              const char* changes_json);

/*
 * Attaches the file at `path` as evidence (palm.v1.Evidence JSON with case_id,
 * kind, mime_type ...; the SHA-256 and size are computed while streaming the
 * file). *evidence_id_out gets the new evidence id.
 */
PALM_EXPORT palm_code palm_add_evidence_file(palm_client* client, const char* evidence_json,
                                             const char* path, char** evidence_id_out);

/* Withdraws evidence with a reason (evidence itself is never edited). */
PALM_EXPORT palm_code palm_withdraw_evidence(palm_client* client, const char* case_id,
                                             const char* evidence_id, const char* reason);

/*
 * Issues an on-the-spot ticket (palm.v1.Ticket JSON). *ticket_json_out gets the
 * issued ticket as JSON, with its number.
 */
PALM_EXPORT palm_code palm_issue_ticket(palm_client* client, const char* ticket_json,
                                        char** ticket_json_out);

/* Voids an issued ticket with a reason. */
PALM_EXPORT palm_code palm_void_ticket(palm_client* client, const char* case_id,
                                       const char* ticket_id, const char* reason);

/* Records a no-penalty decision (palm.v1.NoPenaltyDecision JSON). */
PALM_EXPORT palm_code palm_record_no_penalty(palm_client* client, const char* decision_json,
                                             char** decision_id_out);

/* Moves a case to `to_state` ("FILED" or "CASE_STATE_FILED"). */
PALM_EXPORT palm_code palm_transition_case(palm_client* client, const char* case_id,
                                           const char* to_state, const char* reason);

/*
 * Appends a note / notification / service / payment / hand-over
 * (palm.v1.CaseEvent JSON, with its `service`, `payment` or `hand_over`
 * record; docs/integrating.md, section 5).
 */
PALM_EXPORT palm_code palm_append_event(palm_client* client, const char* event_json,
                                        char** event_id_out);

/*
 * Returns a case as JSON: {"case": {...with parties}, "evidence": [...],
 * "tickets": [...], "no_penalty_decisions": [...], "timeline": [...]}.
 */
PALM_EXPORT palm_code palm_get_case(palm_client* client, const char* case_id, char** case_json_out);

/*
 * Lists cases, newest first. `query_json` (may be NULL):
 *   {"state": "FILED", "town_id": "...", "occurred_from_ms": 0,
 *    "occurred_until_ms": 0, "page_size": 50, "page_token": "..."}
 * Result: {"cases": [...], "next_page_token": "..."}.
 */
PALM_EXPORT palm_code palm_list_cases(palm_client* client, const char* query_json,
                                      char** page_json_out);

/*
 * The law's clocks on this device's cases (Client::ListDeadlines).
 * `query_json` (may be NULL):
 *   {"within_days": 7, "all_officers": false, "as_of": "YYYY-MM-DD"}
 * Result: {"clocks": [{"case_id": "...", "case_number": "...",
 *   "kind": "CLOCK_KIND_SERVICE", "started_on": "2026-12-01",
 *   "last_day": "2026-12-10", "state": "CLOCK_STATE_DUE_SOON",
 *   "days_left": "3", ...}]} (palm.v1.CaseClock as proto JSON, field names
 * as in the proto), overdue first.
 */
PALM_EXPORT palm_code palm_list_deadlines(palm_client* client, const char* query_json,
                                          char** json_out);

/* {"mutations": n, "uploads": n, "oldest_pending_at_ms": t} */
PALM_EXPORT palm_code palm_pending_counts(palm_client* client, char** json_out);

/* Ticket numbers left in the device's leased blocks. */
PALM_EXPORT palm_code palm_ticket_numbers_left(palm_client* client, int64_t* left_out);

/* The last sync's outcome as JSON ({"ever_synced": false} before the first). */
PALM_EXPORT palm_code palm_last_sync_report(palm_client* client, char** json_out);

/*
 * Syncs with the server (palm::Client::Sync). `options_json`:
 *   {"server_address": "host:port", "ca_cert_path": "...",
 *    "client_cert_path": "...", "client_key_path": "...",
 *    "tls_server_name": "...", "insecure_loopback": false,
 *    "timeout_ms": 0, "push_batch_size": 500, "pull_page_size": 500,
 *    "ticket_numbers_low_water": 50, "ticket_numbers_per_lease": 200,
 *    "session_refresh_margin_ms": 600000}
 * (server_address is required). Over TLS the session palm_sign_in keeps is
 * sent and renewed as needed; with none, PALM_UNAUTHENTICATED reason
 * "sign_in_required" and a message that says to sign in online.
 * *report_json_out gets the report, as palm_last_sync_report. When evidence
 * files failed to upload the call is PALM_OK but the report has "ok": false,
 * "error_reason": "uploads_pending", "uploads_failed", "uploads_pending",
 * "upload_error_code" and "upload_error" (docs/protocol.md, "Sync
 * results"). Blocks; call
 * palm_sync_cancel from another thread to stop it (PALM_CANCELLED).
 */
PALM_EXPORT palm_code palm_sync(palm_client* client, const char* options_json,
                                char** report_json_out);

/*
 * Called on the syncing thread as a sync progresses: `phase` is
 * "reference", "push", "upload" or "pull" (static strings), `done` and
 * `total` count items of that phase (total 0 while unknown). It must return
 * quickly and must not call back into the palm_client that is syncing
 * (palm_sync_cancel excepted).
 */
typedef void (*palm_progress_fn)(void* ctx, const char* phase, uint64_t done, uint64_t total);

/* As palm_sync, reporting progress to `progress` (may be NULL) with `ctx`. */
PALM_EXPORT palm_code palm_sync_with_progress(palm_client* client, const char* options_json,
                                              palm_progress_fn progress, void* ctx,
                                              char** report_json_out);

/* Cancels the sync running on `client`, if any. Thread-safe; returns at once. */
PALM_EXPORT palm_code palm_sync_cancel(palm_client* client);

/*
 * The rejected writes and lost field values syncs reported, oldest first
 * (dismissed ones too when `include_dismissed` is non-zero), as a JSON array:
 *   [{"issue_id": "...", "kind": "rejected" | "conflict",
 *     "mutation_id": "...", "device_seq": n, "case_id": "...",
 *     "recorded_at_ms": t, "dismissed": false,
 *     "reason": "...", "message": "...",                (rejected)
 *     "field": "CASE_FIELD_...", "party_id": "...",      (conflict)
 *     "losing_value": "...", "losing_device_id": "...",
 *     "winning_value": "...", "winning_device_id": "..."}]
 */
PALM_EXPORT palm_code palm_list_sync_issues(palm_client* client, int include_dismissed,
                                            char** issues_json_out);

/* Marks a sync issue as seen. PALM_NOT_FOUND when there is no such issue. */
PALM_EXPORT palm_code palm_dismiss_sync_issue(palm_client* client, const char* issue_id);

/*
 * The Merkle-log receipt of evidence `evidence_id` as protobuf JSON of
 * palm.v1.EvidenceReceipt, for offline verification. PALM_NOT_FOUND for
 * unknown evidence, PALM_FAILED_PRECONDITION while no sync brought it yet.
 */
PALM_EXPORT palm_code palm_export_evidence_receipt(palm_client* client, const char* evidence_id,
                                                   char** receipt_json_out);

/*
 * Verifies `receipt_json` (as palm_export_evidence_receipt gives it) offline
 * with the evidence log's public key `log_key_pem` (Ed25519 PEM text) and,
 * when `file_path` is not NULL, the evidence file (palm::VerifyEvidenceReceipt).
 * Needs no palm_client. PALM_OK when it verifies; PALM_DATA_LOSS reason
 * "receipt_mismatch" naming the failed check; PALM_INVALID_ARGUMENT for a
 * receipt or key that cannot be read; PALM_NOT_FOUND "file_not_found".
 */
PALM_EXPORT palm_code palm_verify_evidence_receipt(const char* receipt_json,
                                                   const char* log_key_pem, const char* file_path);

/*
 * Enrolment without the key leaving the device (palm/enrolment.h): makes
 * the device's TLS key at `key_path` (0600; never overwrites: PALM_ALREADY_EXISTS
 * reason "key_exists") and a certificate request for it naming `device_id`
 * (NULL or "": a new UUIDv7). *request_json_out gets
 *   {"device_id": "...", "csr_pem": "-----BEGIN CERTIFICATE REQUEST-----..."}
 * Hand csr_pem to the station (`palmctl device enroll --csr FILE`); keep
 * device_id for palm_open and key_path as the sync's client_key_path.
 * Needs no palm_client. Thread-safe.
 */
PALM_EXPORT palm_code palm_create_enrolment_request(const char* key_path, const char* device_id,
                                                    char** request_json_out);

/*
 * The message / machine reason of this thread's last failed call ("" after a
 * success). Valid until the thread's next palm_* call; do not free.
 */
PALM_EXPORT const char* palm_last_error_message(void);
PALM_EXPORT const char* palm_last_error_reason(void);

/* Frees a string returned by this library. NULL is ignored. */
PALM_EXPORT void palm_free(void* p);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif /* PALM_PALM_H_ */
