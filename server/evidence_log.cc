#include "server/evidence_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "server/merkle_store.h"
#include "sync/evidence_entry.h"
#include "sync/evidence_receipt.h"
#include "sync/fsync.h"
#include "sync/merkle.h"
#include "sync/status_macros.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

// Appends a change of evidence `e`, visible in its case's town.
absl::Status EvidenceChanged(WriteTxn& txn, const v1::Evidence& e) {
  PALM_ASSIGN_OR_RETURN(auto brief, txn.GetCaseBrief(e.case_id()));
  if (!brief) {
    return absl::DataLossError(
        absl::StrCat("evidence ", e.evidence_id(), " names case ", e.case_id(), " not on record"));
  }
  return txn.AppendChange(EntityKind::kEvidence, e.evidence_id(), TownScope(brief->town_id))
      .status();
}

absl::Status FsyncPath(const std::string& path) {
  const sync::FsyncFailure failure = sync::FsyncPath(path);
  if (failure.err == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("cannot ", failure.step, " ", path, ": ", strerror(failure.err)));
}

}  // namespace

std::string CaptureTimeFlag(int64_t captured_at_ms, int64_t integrated_at_ms,
                            int64_t previous_push_ms, int64_t tolerance_ms) {
  if (captured_at_ms > integrated_at_ms + tolerance_ms) {
    return absl::StrCat("captured_at_ms ", captured_at_ms, " is ",
                        captured_at_ms - integrated_at_ms,
                        " ms after the server integrated it (allowed skew ", tolerance_ms,
                        " ms): the device clock was ahead or the time was altered");
  }
  if (previous_push_ms > 0 && captured_at_ms < previous_push_ms - tolerance_ms) {
    return absl::StrCat(
        "captured_at_ms ", captured_at_ms, " is ", previous_push_ms - captured_at_ms,
        " ms before the device's previous push at ", previous_push_ms, " (tolerance ", tolerance_ms,
        " ms), yet it was recorded after that push: backdated or clock wrong");
  }
  return "";
}

absl::StatusOr<LogLeaf> AppendToEvidenceLog(WriteTxn& txn, const v1::Evidence& evidence,
                                            const std::string& case_number) {
  PALM_ASSIGN_OR_RETURN(sync::EvidenceEntry entry, sync::EntryOfEvidence(evidence, case_number));
  PALM_ASSIGN_OR_RETURN(uint64_t size, txn.LogSize());
  TxnNodeStore nodes(&txn);
  sync::MerkleTree tree(&nodes, size);
  LogLeaf leaf;
  leaf.entry = sync::EncodeEvidenceEntry(entry);
  PALM_ASSIGN_OR_RETURN(leaf.leaf_index, tree.Append(leaf.entry));
  leaf.evidence_id = evidence.evidence_id();
  leaf.sha256 = evidence.sha256();
  PALM_RETURN_IF_ERROR(txn.PutLogLeaf(leaf));
  return leaf;
}

absl::StatusOr<v1::EvidenceReceipt> BuildReceipt(ReadTxn& txn, const LogSigner& signer,
                                                 const LogLeaf& leaf,
                                                 const v1::SignedTreeHead& head,
                                                 sync::NodeCache* committed) {
  if (leaf.leaf_index >= head.tree_size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "leaf ", leaf.leaf_index, " is not covered by the tree head of size ", head.tree_size()));
  }
  PALM_ASSIGN_OR_RETURN(uint64_t size, txn.LogSize());
  TxnNodeStore nodes(&txn);
  sync::CachingNodeStore cached(&nodes, committed);
  sync::MerkleTree tree(
      committed != nullptr ? static_cast<sync::MerkleNodeStore*>(&cached) : &nodes, size);
  PALM_ASSIGN_OR_RETURN(auto proof, tree.InclusionProof(leaf.leaf_index, head.tree_size()));
  v1::EvidenceReceipt receipt;
  receipt.set_evidence_id(leaf.evidence_id);
  receipt.set_leaf_index(leaf.leaf_index);
  receipt.set_entry(leaf.entry);
  *receipt.mutable_tree_head() = head;
  for (const auto& node : proof) receipt.add_inclusion_proof(sync::DigestBytes(node));
  PALM_RETURN_IF_ERROR(sync::SignReceiptEntry(signer.key, &receipt));
  return receipt;
}

absl::StatusOr<v1::SignedTreeHead> SignWholeTree(ReadTxn& txn, const LogSigner& signer,
                                                 int64_t now_ms) {
  PALM_ASSIGN_OR_RETURN(auto previous, txn.LatestTreeHead());
  PALM_ASSIGN_OR_RETURN(uint64_t size, txn.LogSize());
  TxnNodeStore nodes(&txn);
  sync::MerkleTree tree(&nodes, size);
  PALM_ASSIGN_OR_RETURN(sync::Sha256Digest root, tree.Root(size));
  v1::SignedTreeHead head;
  head.set_origin(signer.origin);
  head.set_tree_size(size);
  head.set_root_hash(sync::DigestBytes(root));
  // Timestamps never go backwards, even if the server clock does.
  head.set_timestamp_ms(previous ? std::max(now_ms, previous->timestamp_ms()) : now_ms);
  PALM_RETURN_IF_ERROR(sync::SignTreeHead(signer.key, &head));
  return head;
}

absl::StatusOr<v1::SignedTreeHead> SignAndPublishHead(WriteTxn& txn, const LogSigner& signer,
                                                      int64_t now_ms) {
  PALM_ASSIGN_OR_RETURN(auto previous, txn.LatestTreeHead());
  PALM_ASSIGN_OR_RETURN(v1::SignedTreeHead head, SignWholeTree(txn, signer, now_ms));
  const uint64_t size = head.tree_size();
  PALM_RETURN_IF_ERROR(txn.PutTreeHead(head));
  const uint64_t from = previous ? std::min(previous->tree_size(), size) : 0;
  PALM_ASSIGN_OR_RETURN(auto leaves, txn.ListLogLeaves(from, size));
  for (const LogLeaf& leaf : leaves) {
    PALM_ASSIGN_OR_RETURN(auto evidence, txn.GetEvidence(leaf.evidence_id));
    if (!evidence) {
      return absl::DataLossError(absl::StrCat("evidence log leaf ", leaf.leaf_index,
                                              " names evidence ", leaf.evidence_id,
                                              " which is not stored"));
    }
    PALM_ASSIGN_OR_RETURN(*evidence->mutable_receipt(), BuildReceipt(txn, signer, leaf, head));
    PALM_RETURN_IF_ERROR(txn.PutEvidence(*evidence));
    PALM_RETURN_IF_ERROR(EvidenceChanged(txn, *evidence));
  }
  return head;
}

absl::Status RecordUploaded(WriteTxn& txn, const BlobRecord& blob) {
  PALM_RETURN_IF_ERROR(txn.PutBlob(blob));
  PALM_ASSIGN_OR_RETURN(auto leaves, txn.LogLeavesWithContent(blob.sha256));
  for (const LogLeaf& leaf : leaves) {
    PALM_ASSIGN_OR_RETURN(auto evidence, txn.GetEvidence(leaf.evidence_id));
    if (!evidence || evidence->uploaded()) continue;
    evidence->set_uploaded(true);
    PALM_RETURN_IF_ERROR(txn.PutEvidence(*evidence));
    PALM_RETURN_IF_ERROR(EvidenceChanged(txn, *evidence));
  }
  return absl::OkStatus();
}

absl::StatusOr<sync::UniqueEvpPkey> LoadOrCreateLogKey(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::PermissionDeniedError(absl::StrCat("cannot read the log key ", path));
    std::ostringstream pem;
    pem << in.rdbuf();
    auto key = sync::LoadPrivateKeyPem(pem.str());
    if (!key.ok()) {
      return absl::DataLossError(
          absl::StrCat("the log key ", path, " is not an Ed25519 key: ", key.status().message()));
    }
    return key;
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return absl::PermissionDeniedError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  PALM_ASSIGN_OR_RETURN(auto key, sync::GenerateEd25519Key());
  PALM_ASSIGN_OR_RETURN(std::string pem, sync::PrivateKeyPem(key.get()));
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(absl::StrCat("cannot create ", tmp, ": ", strerror(errno)));
  }
  bool ok = write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("cannot write the log key ", path, ": ", strerror(err)));
  }
  PALM_RETURN_IF_ERROR(FsyncPath(dir));
  return key;
}

}  // namespace palm::server
