// The audit chain (全过程记录, DESIGN.md §2 and §4): every server-side write
// appends one entry to an append-only log, in the same transaction as the
// write. Each entry carries the hash of the one before it, so an edited,
// inserted or deleted row breaks the chain at that entry and VerifyAuditChain
// names it.
//
//   hash(entry) = SHA-256(prev_hash ‖ canonical bytes of the entry)
//
// where prev_hash is the raw 32 bytes of the previous entry's hash (zeros for
// the first) and the canonical bytes are, in order, seq and at_ms as 8-byte
// big-endian integers, then actor, action, subject and details, each as a
// 4-byte big-endian length followed by its UTF-8 bytes. Hashes are stored as
// lowercase hex.
#ifndef PALM_SERVER_AUDIT_H_
#define PALM_SERVER_AUDIT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "server/store.h"

namespace palm::server {

// The hash the first entry chains to.
extern const char kAuditGenesisHash[];

// Appends an entry (next seq, `at_ms`, chained to the newest entry) in `txn`.
// Fails only on a storage error; the caller's unit of work must then fail too,
// so that no write is ever stored without its audit entry.
absl::Status AppendAudit(WriteTxn& txn, int64_t at_ms, const std::string& actor,
                         const std::string& action, const std::string& subject,
                         const nlohmann::json& details);
// The same, with `details` already serialised as a JSON object.
absl::Status AppendAudit(WriteTxn& txn, int64_t at_ms, const std::string& actor,
                         const std::string& action, const std::string& subject,
                         std::string details);

// The hash `entry` must carry given its prev_hash (lowercase hex).
std::string AuditEntryHash(const AuditEntry& entry);

// Result of checking the whole chain.
struct AuditVerdict {
  bool ok = true;
  // Entries in the log (all of them, also past a break).
  uint64_t entries = 0;
  // The first entry that does not verify (0 when ok).
  uint64_t first_bad_entry = 0;
  std::string problem;
};

// Reads the whole log from the start and checks seq continuity, each
// prev_hash and each hash up to the first break. Fails only on a storage
// error.
absl::StatusOr<AuditVerdict> VerifyAuditChain(ReadTxn& txn);

}  // namespace palm::server

#endif  // PALM_SERVER_AUDIT_H_
