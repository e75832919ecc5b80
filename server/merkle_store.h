// The evidence log's Merkle nodes in the server store: a sync::MerkleNodeStore
// over one store transaction, so that an append commits or rolls back with
// the evidence record it registers (DESIGN.md §3.6).
#ifndef PALM_SERVER_MERKLE_STORE_H_
#define PALM_SERVER_MERKLE_STORE_H_

#include "server/store.h"
#include "sync/merkle.h"

namespace palm::server {

// Reads nodes through `read`; writes through `write` when given (a write
// transaction), else Put fails with FAILED_PRECONDITION. Neither is owned;
// both must outlive this object. Used only by the thread running the unit
// of work.
class TxnNodeStore : public sync::MerkleNodeStore {
 public:
  explicit TxnNodeStore(ReadTxn* read) : read_(read), write_(nullptr) {}
  explicit TxnNodeStore(WriteTxn* write) : read_(write), write_(write) {}

  absl::StatusOr<sync::Sha256Digest> Get(uint32_t level, uint64_t index) override;
  absl::Status Put(uint32_t level, uint64_t index, const sync::Sha256Digest& hash) override;

 private:
  ReadTxn* read_;
  WriteTxn* write_;
};

}  // namespace palm::server

#endif  // PALM_SERVER_MERKLE_STORE_H_
