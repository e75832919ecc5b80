// The evidence log on the server (DESIGN.md §3.6, docs/evidence.md): each
// applied evidence record appends its canonical entry to an RFC 6962 Merkle
// tree kept in the store, in the same transaction as the record; tree heads
// are signed with the log's Ed25519 key; receipts (entry, signed head,
// inclusion proof) are built from the stored tree.
//
// Everything here runs inside a store transaction on a store thread and sees
// only the ReadTxn/WriteTxn accessors.
#ifndef PALM_SERVER_EVIDENCE_LOG_H_
#define PALM_SERVER_EVIDENCE_LOG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "palm/v1/case.pb.h"
#include "server/store.h"
#include "sync/ed25519.h"
#include "sync/merkle.h"

namespace palm::server {

// Default log identity (ServerConfig::log_origin).
inline constexpr char kDefaultLogOrigin[] = "palm.tongxiang/evidence";

// The log's signing identity. `key` is not owned.
struct LogSigner {
  EVP_PKEY* key = nullptr;
  std::string origin;
};

// Returns why a capture time is implausible, or "" when it is fine:
// later than `integrated_at_ms` + `tolerance_ms` (the device clock runs
// ahead), or earlier than `previous_push_ms` - `tolerance_ms` when
// `previous_push_ms` is non-zero (recorded after the device's previous push
// yet dated before it). docs/evidence.md, "Capture-time sanity".
std::string CaptureTimeFlag(int64_t captured_at_ms, int64_t integrated_at_ms,
                            int64_t previous_push_ms, int64_t tolerance_ms);

// Appends the entry of `evidence` (integrated_at_ms already set) to the log
// in `txn` and returns its leaf. `case_number` is the case's official
// number, or "" when none is assigned yet. O(log n) store calls.
absl::StatusOr<LogLeaf> AppendToEvidenceLog(WriteTxn& txn, const palm::v1::Evidence& evidence,
                                            const std::string& case_number);

// Signs a head of the whole log as of now, never dated before the latest
// stored head; stores nothing.
absl::StatusOr<palm::v1::SignedTreeHead> SignWholeTree(ReadTxn& txn, const LogSigner& signer,
                                                       int64_t now_ms);

// Signs and stores a head of the whole log as of now, then publishes
// receipts against it for every leaf the previous head did not cover: the
// evidence rows get their receipt and a change-log entry, so devices pull
// them. Returns the head.
absl::StatusOr<palm::v1::SignedTreeHead> SignAndPublishHead(WriteTxn& txn, const LogSigner& signer,
                                                            int64_t now_ms);

// The receipt of `leaf` against `head` (which must cover it): entry, head,
// inclusion proof and the log's signature over the entry. `committed`, when
// given, caches the upper Merkle nodes read: pass it only from a read
// transaction (sync::CachingNodeStore), never from one that appends.
absl::StatusOr<palm::v1::EvidenceReceipt> BuildReceipt(ReadTxn& txn, const LogSigner& signer,
                                                       const LogLeaf& leaf,
                                                       const palm::v1::SignedTreeHead& head,
                                                       sync::NodeCache* committed = nullptr);

// Records the stored file `blob` and marks every evidence record with its
// content uploaded (with change-log entries).
absl::Status RecordUploaded(WriteTxn& txn, const BlobRecord& blob);

// Loads the log's private key from `path` (PKCS#8 PEM), or creates a fresh
// Ed25519 key there (mode 0600, fsync'd) when the file does not exist.
absl::StatusOr<sync::UniqueEvpPkey> LoadOrCreateLogKey(const std::string& path);

}  // namespace palm::server

#endif  // PALM_SERVER_EVIDENCE_LOG_H_
