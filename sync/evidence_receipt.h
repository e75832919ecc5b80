// Offline verification of an evidence receipt (DESIGN.md §3.6): everything a
// court, a reviewer or palmctl needs to check, without the server, that a
// file is the evidence the log registered. docs/evidence.md describes the
// checks; this is their one implementation.
#ifndef PALM_SYNC_EVIDENCE_RECEIPT_H_
#define PALM_SYNC_EVIDENCE_RECEIPT_H_

#include <cstdint>
#include <optional>
#include <string>

#include <openssl/evp.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "palm/v1/case.pb.h"
#include "sync/sha256.h"

namespace palm::sync {

// The text the log key signs for one entry (the receipt's entry_signature):
//   "palm-evidence-entry/v1\n" <origin> "\n" <leaf_index, decimal> "\n" <entry bytes>
std::string EntrySignedText(absl::string_view origin, uint64_t leaf_index, absl::string_view entry);

// Sets receipt->entry_signature with `key` over EntrySignedText of the
// receipt's origin (from its tree head), leaf index and entry.
absl::Status SignReceiptEntry(EVP_PKEY* key, palm::v1::EvidenceReceipt* receipt);

// What is known of the file a receipt is checked against.
struct FileFacts {
  Sha256Digest sha256{};
  uint64_t size = 0;
};

// Verifies `receipt` with the log's public key `pub`, and `file` against
// its entry when given. OK, or the first failed check, its message starting
// with the check's name:
//   "entry: ..."          the entry is malformed, names other evidence, or
//                         the log's signature over it does not verify;
//   "file: ..."           the file's SHA-256 or size is not the entry's;
//   "inclusion proof: ..." the proof does not lead from the leaf to the
//                         signed root (while the head's signature holds);
//   "root hash: ..."      the head's root is neither where the proof leads
//                         nor what the signature covers;
//   "tree head signature: ..." the proof leads to the root but the head's
//                         signature does not verify (or names another key).
// Codes: DATA_LOSS for a mismatch, INVALID_ARGUMENT for a malformed receipt.
absl::Status VerifyEvidenceReceipt(EVP_PKEY* pub, const palm::v1::EvidenceReceipt& receipt,
                                   const std::optional<FileFacts>& file);

}  // namespace palm::sync

#endif  // PALM_SYNC_EVIDENCE_RECEIPT_H_
