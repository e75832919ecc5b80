#include "sync/evidence_receipt.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "sync/ed25519.h"
#include "sync/evidence_entry.h"
#include "sync/merkle.h"

namespace palm::sync {
namespace {

absl::Status Named(absl::string_view check, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(check, ": ", s.message()));
}

}  // namespace

std::string EntrySignedText(absl::string_view origin, uint64_t leaf_index,
                            absl::string_view entry) {
  return absl::StrCat("palm-evidence-entry/v1\n", origin, "\n", leaf_index, "\n", entry);
}

absl::Status SignReceiptEntry(EVP_PKEY* key, palm::v1::EvidenceReceipt* receipt) {
  auto signature = Ed25519Sign(
      key, EntrySignedText(receipt->tree_head().origin(), receipt->leaf_index(), receipt->entry()));
  if (!signature.ok()) return signature.status();
  receipt->set_entry_signature(*signature);
  return absl::OkStatus();
}

absl::Status VerifyEvidenceReceipt(EVP_PKEY* pub, const palm::v1::EvidenceReceipt& receipt,
                                   const std::optional<FileFacts>& file) {
  const palm::v1::SignedTreeHead& head = receipt.tree_head();
  // 0. The right key: otherwise every signature below fails for no fault of
  // the receipt.
  if (head.key_id() != KeyId(pub)) {
    return absl::DataLossError(absl::StrCat("tree head signature: the head was signed by key ",
                                            head.key_id(), ", not by the given key ", KeyId(pub)));
  }
  // 1. The entry: well formed, about this evidence, and signed by the log.
  auto entry = DecodeEvidenceEntry(receipt.entry());
  if (!entry.ok()) return Named("entry", entry.status());
  if (!receipt.evidence_id().empty() && entry->evidence_id != receipt.evidence_id()) {
    return absl::DataLossError(absl::StrCat("entry: it names evidence ", entry->evidence_id,
                                            ", the receipt is for ", receipt.evidence_id()));
  }
  if (!Ed25519Verify(pub, EntrySignedText(head.origin(), receipt.leaf_index(), receipt.entry()),
                     receipt.entry_signature())) {
    return absl::DataLossError(
        "entry: the log's signature over the entry and its leaf index does not verify (the "
        "entry or its index was altered)");
  }
  // 2. The file is the content the entry registered.
  if (file.has_value()) {
    if (file->sha256 != entry->sha256) {
      return absl::DataLossError(absl::StrCat("file: its SHA-256 ", HexEncode(file->sha256),
                                              " is not the registered ", HexEncode(entry->sha256)));
    }
    if (file->size != entry->size) {
      return absl::DataLossError(
          absl::StrCat("file: it is ", file->size, " bytes, the registered content ", entry->size));
    }
  }
  // 3. The leaf is in the signed tree. A single altered root breaks both the
  // proof and the signature; an altered proof node only the proof; an
  // altered signature only the signature.
  auto root = DigestFromBytes(head.root_hash());
  if (!root.ok()) return Named("root hash", root.status());
  std::vector<Sha256Digest> proof;
  for (const std::string& node : receipt.inclusion_proof()) {
    auto digest = DigestFromBytes(node);
    if (!digest.ok()) return Named("inclusion proof", digest.status());
    proof.push_back(*digest);
  }
  absl::Status included = VerifyInclusion(receipt.leaf_index(), head.tree_size(),
                                          LeafHash(receipt.entry()), proof, *root);
  absl::Status signed_ok = VerifyTreeHead(pub, head);
  if (!included.ok() && !signed_ok.ok() && signed_ok.code() == absl::StatusCode::kDataLoss) {
    return absl::DataLossError(
        "root hash: the tree head's root is not the one the inclusion proof leads to, and the "
        "head's signature does not cover it (the root was altered)");
  }
  if (!included.ok()) return Named("inclusion proof", included);
  if (!signed_ok.ok()) return Named("tree head signature", signed_ok);
  return absl::OkStatus();
}

}  // namespace palm::sync
