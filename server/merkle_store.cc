#include "server/merkle_store.h"

#include "absl/strings/str_cat.h"

namespace palm::server {

absl::StatusOr<sync::Sha256Digest> TxnNodeStore::Get(uint32_t level, uint64_t index) {
  auto node = read_->GetLogNode(level, index);
  if (!node.ok()) return node.status();
  if (!node->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("evidence log node (", level, ", ", index, ") is not stored"));
  }
  auto digest = sync::DigestFromBytes(**node);
  if (!digest.ok()) {
    return absl::DataLossError(
        absl::StrCat("evidence log node (", level, ", ", index, ") is not 32 bytes"));
  }
  return *digest;
}

absl::Status TxnNodeStore::Put(uint32_t level, uint64_t index, const sync::Sha256Digest& hash) {
  if (write_ == nullptr) {
    return absl::FailedPreconditionError("the evidence log is read-only in a read transaction");
  }
  return write_->PutLogNode(level, index, sync::DigestBytes(hash));
}

}  // namespace palm::server
