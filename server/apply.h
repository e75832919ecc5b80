// Applying pushed mutations to the authoritative state (DESIGN.md §3.2–3.4):
// idempotency, sequence gaps, server-side validation, case numbers,
// last-writer-wins merges with conflict rows. Runs inside a store write
// transaction and sees only the typed WriteTxn accessors, so every store
// backend shares these rules.
#ifndef PALM_SERVER_APPLY_H_
#define PALM_SERVER_APPLY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "palm/v1/catalog.pb.h"
#include "palm/v1/mutation.pb.h"
#include "palm/v1/sync.pb.h"
#include "server/numbering.h"
#include "server/store.h"
#include "sync/calendar.h"
#include "sync/hlc.h"
#include "sync/party_key.h"

namespace palm::server {

// The device on the other end of a call, as Authorize (server/authz.h)
// established it.
struct Caller {
  std::string device_id;
  std::string town_id;
  std::string squad_id;
  // Who the audit log names for this caller's writes: "officer:ID" of the
  // session, or "device:ID" (server/authz.h Authority::actor).
  std::string actor;
};

struct ApplyOptions {
  // ServerConfig::case_number_format: {year} and {seq} / {seq:N}.
  std::string case_number_format;
  // ServerConfig::max_clock_skew_ms.
  int64_t max_clock_skew_ms = 0;
  // Reserves and seals case numbers (server/numbering.h); null in harnesses
  // that need neither.
  Numbering* numbering = nullptr;
  // The bureau's party-key secret (server/party_secret.h), which keys prior
  // violations; null in harnesses, which then use the legacy key.
  const sync::PartyKeySecret* party_key = nullptr;
};

// A mutation after the checks that need no stored state. Made on any thread
// (a gRPC reaction) so that the writer thread does only what needs the store.
struct PreparedMutation {
  // As received.
  palm::v1::Mutation mutation;
  // MutationContentDigest(mutation).
  std::string digest;
  // OK, or the refusal (REASON_WRONG_DEVICE, REASON_INVALID_ARGUMENT).
  absl::Status shape;
  // The HLC stamp used for merges: the received one, clamped.
  sync::HlcStamp hlc;
  bool hlc_clamped = false;
  // For a record_case after a restore: the number the old server gave the
  // case, its seal verified (PushRequest.case_number_claims).
  std::optional<palm::v1::CaseNumberClaim> case_number_claim;
};

// Prepares `m` pushed by `caller` at server time `now_ms`.
PreparedMutation PrepareMutation(const Caller& caller, palm::v1::Mutation m, int64_t now_ms,
                                 const ApplyOptions& options);

// The current catalogue's matters by code, cached across transactions.
// Thread-compatible: used only on the store's writer thread.
class MatterCache {
 public:
  // The matter `code` of the newest catalogue in `txn`, or null.
  absl::StatusOr<const palm::v1::Matter*> Find(ReadTxn& txn, const std::string& code);
  // The working-day calendar of the newest catalogue in `txn`, or null when
  // it has none (Art. 85).
  absl::StatusOr<const sync::WorkingDayCalendar*> Calendar(ReadTxn& txn);
  // Forgets the cache (a new catalogue was committed).
  void Invalidate() { loaded_ = false; }
  // Every town on record, by id (delegation, sync/delegation.h); cached as
  // the matters are, until InvalidateTowns (a town was put).
  absl::StatusOr<const std::vector<palm::v1::Town>*> Towns(ReadTxn& txn);
  void InvalidateTowns() { towns_loaded_ = false; }

 private:
  absl::Status Load(ReadTxn& txn);

  bool towns_loaded_ = false;
  std::vector<palm::v1::Town> towns_;
  bool loaded_ = false;
  std::map<std::string, palm::v1::Matter> matters_;
  std::optional<sync::WorkingDayCalendar> calendar_;
};

// What one push batch got.
struct BatchOutcome {
  std::vector<palm::v1::MutationResult> results;
  uint64_t resend_from = 0;
  uint64_t acknowledged_seq = 0;
};

// Applies `batch` (mutations of `caller`, in the order received) in `txn`:
// each mutation in sequence order gets exactly one result (APPLIED,
// APPLIED_WITH_CONFLICT, REJECTED or DUPLICATE); a rejected one is recorded
// and consumes its sequence number; a gap stops the batch with
// out->resend_from set to the first missing number. Returns non-OK only for a
// storage error — then the caller must roll the whole batch back.
absl::Status ApplyBatch(WriteTxn& txn, MatterCache& matters, const Caller& caller,
                        const std::vector<PreparedMutation>& batch, const ApplyOptions& options,
                        int64_t now_ms, BatchOutcome* out);

// The device id in the field stamp of a write the server makes itself (a
// restored conflict value). Enrolment never hands out this id.
inline constexpr char kServerWriter[] = "server";

// AdminService.ResubmitRejected: re-runs the stored rejected mutation
// `entry` of `caller` (the device that pushed it; caller.actor is the squad
// leader) against the current state in `txn`, through the same rules as a
// push. Its original device_seq was consumed by the rejection, so this is a
// server-side re-application keyed by the mutation id: the device's sequence
// and device log stay as they are. Sets *result (APPLIED,
// APPLIED_WITH_CONFLICT or REJECTED with the new reason) and appends the
// audit entry `mutation.resubmitted`. Non-OK only for a storage error.
absl::Status ResubmitRejected(WriteTxn& txn, MatterCache& matters, const Caller& caller,
                              const DeviceLogEntry& entry, const ApplyOptions& options,
                              int64_t now_ms, palm::v1::MutationResult* result);

// AdminService.ResolveConflict with restore_losing_value: writes
// `loss.losing_value` into its field as a new server write stamped after the
// field's current stamp (device id kServerWriter), with the same value rules
// as UpdateCaseFields, and logs the case so devices pull it. Returns the
// change's server_seq. A refusal (e.g. the case is archived,
// REASON_IMMUTABLE) carries its ReasonCode; NOT_FOUND when the case is gone.
absl::StatusOr<uint64_t> RestoreLosingValue(WriteTxn& txn, MatterCache& matters,
                                            const palm::v1::ConflictLoss& loss,
                                            const std::string& officer_id,
                                            const ApplyOptions& options, int64_t now_ms);

// Formats case number `seq` of `year` with `format` ({year}, {seq}, {seq:N}).
std::string FormatCaseNumber(const std::string& format, int year, int64_t seq);

// The calendar year of `unix_ms` in China Standard Time (UTC+8), the year
// case numbers are counted in.
int BureauYear(int64_t unix_ms);

}  // namespace palm::server

#endif  // PALM_SERVER_APPLY_H_
