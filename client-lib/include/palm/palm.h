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

/* Sets the officer signed in on the device; later writes are in their name. */
PALM_EXPORT palm_code palm_set_officer(palm_client* client, const char* officer_id);

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

/* Appends a note / notification / service / payment (palm.v1.CaseEvent JSON). */
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
 *    "timeout_ms": 0, "push_batch_size": 500, "pull_page_size": 500}
 * *report_json_out gets the report, as palm_last_sync_report. Blocks; call
 * palm_sync_cancel from another thread to stop it (PALM_CANCELLED).
 */
PALM_EXPORT palm_code palm_sync(palm_client* client, const char* options_json,
                                char** report_json_out);

/* Cancels the sync running on `client`, if any. Thread-safe; returns at once. */
PALM_EXPORT palm_code palm_sync_cancel(palm_client* client);

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
