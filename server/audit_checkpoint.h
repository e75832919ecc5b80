// Signed checkpoints of the audit chain (issue 18; docs/security.md, "The
// audit log"). The hash chain of server/audit.h catches an edited, inserted
// or deleted row, but not a log whose last rows were dropped, nor one
// rewritten from some entry on with every later hash recomputed: the chain
// of what is left verifies. A checkpoint commits to the chain's head
// (entries, hash of the newest entry) under the server's Ed25519 key; a
// chain that ends before a checkpoint's entry was cut, one whose entry there
// hashes differently was rewritten.
//
// The signed bytes are, in order: the ASCII line "palm audit checkpoint v1\n",
// origin as a 4-byte big-endian length and its UTF-8 bytes, entries and
// timestamp_ms as 8-byte big-endian integers, and the 32 raw bytes of
// head_hash.
//
// Checkpoints are written at most once a second with push batches (in the
// batch's own transaction), on a schedule (--audit-checkpoint-interval-ms),
// on demand (AdminService.GetAuditCheckpoint) and at shutdown; never per
// entry.
#ifndef PALM_SERVER_AUDIT_CHECKPOINT_H_
#define PALM_SERVER_AUDIT_CHECKPOINT_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "palm/v1/admin.pb.h"
#include "server/audit.h"
#include "server/store.h"
#include "sync/ed25519.h"

namespace palm::server {

// The bytes a checkpoint's signature covers (see above).
std::string AuditCheckpointBytes(const palm::v1::AuditCheckpoint& checkpoint);

// True when `checkpoint` carries a valid signature under `key`.
bool AuditCheckpointSignatureValid(EVP_PKEY* key, const palm::v1::AuditCheckpoint& checkpoint);

// What comparing the chain with one checkpoint found.
struct CheckpointCheck {
  palm::v1::AuditFinding finding = palm::v1::AUDIT_FINDING_INTACT;
  std::string problem;
  // The entry named (the checkpoint's), 0 when intact.
  uint64_t entry = 0;
};

// Compares the log in `txn` (whose chain `chain` verified intact) with
// `checkpoint`, named `label` in the problem ("the stored checkpoint"): CUT
// when the log ends before checkpoint.entries, REWRITTEN when that entry's
// hash differs from the signed one. The signature is the caller's to check.
absl::StatusOr<CheckpointCheck> CheckAgainstCheckpoint(ReadTxn& txn, const AuditVerdict& chain,
                                                       const palm::v1::AuditCheckpoint& checkpoint,
                                                       const std::string& label);

// Checks a checkpoint a caller kept before it is compared with the log:
// INVALID_ARGUMENT when it names another origin or its signature does not
// verify under `key`, FAILED_PRECONDITION when the server has no key.
absl::Status CheckKeptCheckpoint(EVP_PKEY* key, const std::string& origin,
                                 const palm::v1::AuditCheckpoint& kept);

// AdminService.VerifyAudit in `txn`: the chain, then the newest stored
// checkpoint (its signature under `key` when given) and `kept` (already
// checked with CheckKeptCheckpoint) when not null. Fills `response`.
absl::Status VerifyAuditLog(ReadTxn& txn, EVP_PKEY* key, const palm::v1::AuditCheckpoint* kept,
                            palm::v1::VerifyAuditResponse* response);

// Signs and stores audit checkpoints. Thread-safe.
class AuditCheckpointer {
 public:
  // `key` signs; `origin` names the server (--log-origin). With
  // `interval_ms` > 0, Start() runs a thread that checkpoints that often
  // when the log grew.
  AuditCheckpointer(ServerStore* store, sync::UniqueEvpPkey key, std::string origin,
                    int64_t interval_ms);
  ~AuditCheckpointer();
  AuditCheckpointer(const AuditCheckpointer&) = delete;
  AuditCheckpointer& operator=(const AuditCheckpointer&) = delete;

  void Start();
  // Stops the schedule and writes a last checkpoint (waits for it). Call
  // before the store closes; idempotent.
  void Stop();

  // In `txn` (on the writer thread): signs and stores a checkpoint of the
  // current head when the head moved past the newest checkpoint and that
  // one is at least `min_spacing_ms` old. Returns the newest checkpoint
  // (perhaps the one just made); none while the log is empty.
  // FAILED_PRECONDITION when the log no longer extends the newest checkpoint
  // (cut or rewritten): nothing is signed then.
  absl::StatusOr<std::optional<palm::v1::AuditCheckpoint>> Checkpoint(WriteTxn& txn, int64_t now_ms,
                                                                      int64_t min_spacing_ms);
  // With a push batch: Checkpoint(txn, now_ms, 1000), skipped without a
  // store read when the last checkpoint is younger than a second.
  absl::Status OnBatch(WriteTxn& txn, int64_t now_ms);

  EVP_PKEY* key() const { return key_.get(); }
  const std::string& origin() const { return origin_; }
  const std::string& public_key_pem() const { return public_pem_; }

 private:
  void Schedule();
  // OK for FAILED_PRECONDITION (a diverged log, logged once), else `s`.
  absl::Status Quietly(absl::Status s);
  // Checkpoints through the store's writer and waits for it (logs a failure).
  void SubmitAndWait();

  ServerStore* store_;
  sync::UniqueEvpPkey key_;
  std::string origin_;
  std::string public_pem_;
  int64_t interval_ms_;
  // When the newest committed checkpoint was signed (0: not known yet).
  std::atomic<int64_t> last_signed_ms_{0};
  std::atomic<bool> divergence_logged_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool stopped_ = false;   // guarded by mu_
  std::thread thread_;
};

}  // namespace palm::server

#endif  // PALM_SERVER_AUDIT_CHECKPOINT_H_
