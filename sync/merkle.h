// An RFC 6962 / RFC 9162 §2.1 Merkle tree: the evidence log (DESIGN.md §3.6).
//
// The server appends each evidence record's canonical entry to the log and
// hands the device an inclusion proof against a signed tree head (see
// sync/ed25519.h and CheckpointText). Anyone holding the log's public key
// can verify that receipt offline with VerifyInclusion, and that a later tree
// extends an earlier one with VerifyConsistency.
#ifndef PALM_SYNC_MERKLE_H_
#define PALM_SYNC_MERKLE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "palm/v1/case.pb.h"
#include "sync/ed25519.h"
#include "sync/sha256.h"

namespace palm::sync {

// Returns SHA-256(0x00 || entry), the hash of a leaf.
Sha256Digest LeafHash(absl::string_view entry);

// Returns SHA-256(0x01 || left || right), the hash of an interior node.
Sha256Digest NodeHash(const Sha256Digest& left, const Sha256Digest& right);

// Returns SHA-256(""), the root of the empty tree
// (e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855).
Sha256Digest EmptyTreeRoot();

// Where a MerkleTree keeps its nodes. Only complete subtrees are stored: the
// node at (level L, index i) is the hash of leaves [i * 2^L, (i + 1) * 2^L),
// so level 0 holds the leaf hashes. Nodes never change once complete, which
// makes the store append-only apart from a Put retried after a failure.
class MerkleNodeStore {
 public:
  virtual ~MerkleNodeStore();

  // Returns the node at (level, index), or NOT_FOUND if it was never put.
  virtual absl::StatusOr<Sha256Digest> Get(uint32_t level, uint64_t index) = 0;

  // Stores `hash` as the node at (level, index), replacing any earlier value.
  virtual absl::Status Put(uint32_t level, uint64_t index, const Sha256Digest& hash) = 0;
};

// A MerkleNodeStore in memory, for tests and for devices rebuilding a small
// tree. Thread-compatible.
class InMemoryNodeStore : public MerkleNodeStore {
 public:
  absl::StatusOr<Sha256Digest> Get(uint32_t level, uint64_t index) override;
  absl::Status Put(uint32_t level, uint64_t index, const Sha256Digest& hash) override;

  // Number of Get() calls so far; lets tests check the O(log n) bounds.
  uint64_t gets() const { return gets_; }
  // Number of nodes stored.
  size_t node_count() const { return nodes_.size(); }

 private:
  std::map<std::pair<uint32_t, uint64_t>, Sha256Digest> nodes_;
  uint64_t gets_ = 0;
};

// Committed nodes at the upper levels of a log, kept in memory by readers.
// A complete subtree's node never changes once the leaves under it are
// committed, so any number of readers may share these; a proof at 10
// million leaves then reads ~min_level nodes from storage instead of ~24.
// Holds only nodes at levels >= min_level() (each covers at least
// 2^min_level leaves): fewer than 2 * size / 2^min_level of them, i.e.
// under 78,125 digests of 32 bytes for 10 million leaves at the default
// level 8. Thread-safe.
class NodeCache {
 public:
  explicit NodeCache(uint32_t min_level = 8) : min_level_(min_level) {}
  NodeCache(const NodeCache&) = delete;
  NodeCache& operator=(const NodeCache&) = delete;

  uint32_t min_level() const { return min_level_; }
  // The node at (level, index) if cached.
  std::optional<Sha256Digest> Find(uint32_t level, uint64_t index) const;
  // Remembers a node read from committed storage; ignored below min_level().
  void Insert(uint32_t level, uint64_t index, const Sha256Digest& hash);
  size_t size() const;

 private:
  static uint64_t Key(uint32_t level, uint64_t index) {
    return (static_cast<uint64_t>(level) << 58) | index;
  }
  const uint32_t min_level_;
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, Sha256Digest> nodes_;  // GUARDED_BY(mutex_)
};

// Reads `inner` through `cache`: for proofs and roots over committed nodes
// only (a read transaction's store), never while appending — a node put in a
// transaction that then rolls back must not be remembered. Put fails with
// FAILED_PRECONDITION. Neither argument is owned; both must outlive it.
class CachingNodeStore : public MerkleNodeStore {
 public:
  CachingNodeStore(MerkleNodeStore* inner, NodeCache* cache) : inner_(inner), cache_(cache) {}
  absl::StatusOr<Sha256Digest> Get(uint32_t level, uint64_t index) override;
  absl::Status Put(uint32_t level, uint64_t index, const Sha256Digest& hash) override;

 private:
  MerkleNodeStore* inner_;
  NodeCache* cache_;
};

// A Merkle tree over the nodes in a MerkleNodeStore. Every operation costs
// O(log n) store calls. Thread-compatible: callers serialise Append() with
// everything else (the server does so inside its write transaction).
class MerkleTree {
 public:
  // Opens the tree of `size` leaves whose nodes are in `store`. `store` is
  // not owned and must outlive the tree; it must hold every complete subtree
  // of the first `size` leaves (as written by Append()).
  MerkleTree(MerkleNodeStore* store, uint64_t size);

  // Number of leaves.
  uint64_t size() const { return size_; }

  // Appends the leaf LeafHash(entry) and returns its index. On a store error
  // returns it and leaves size() unchanged (nodes already put are rewritten
  // by the next Append).
  absl::StatusOr<uint64_t> Append(absl::string_view entry);

  // Returns the root of the tree made of the first `size` leaves, for any
  // `size` <= size(); OUT_OF_RANGE otherwise.
  absl::StatusOr<Sha256Digest> Root(uint64_t size);

  // Returns the audit path of leaf `index` in the tree of the first `size`
  // leaves, from the leaf up (RFC 9162 §2.1.3.1). Requires
  // index < size <= size(); OUT_OF_RANGE otherwise.
  absl::StatusOr<std::vector<Sha256Digest>> InclusionProof(uint64_t index, uint64_t size);

  // Returns the proof that the tree of `size1` leaves is a prefix of the
  // tree of `size2` leaves (RFC 9162 §2.1.4.1). Requires
  // size1 <= size2 <= size(); OUT_OF_RANGE otherwise. Empty when size1 is 0
  // or equal to size2.
  absl::StatusOr<std::vector<Sha256Digest>> ConsistencyProof(uint64_t size1, uint64_t size2);

 private:
  // Hash of leaves [start, start + count); `start` must be a multiple of the
  // smallest power of two >= count, as every range of the RFC's recursion is.
  absl::StatusOr<Sha256Digest> RangeHash(uint64_t start, uint64_t count);
  absl::Status AppendPath(uint64_t index, uint64_t start, uint64_t count,
                          std::vector<Sha256Digest>* proof);
  absl::Status AppendSubproof(uint64_t m, uint64_t start, uint64_t count, bool whole,
                              std::vector<Sha256Digest>* proof);

  MerkleNodeStore* store_;
  uint64_t size_;
};

// Verifies an inclusion proof exactly as RFC 9162 §2.1.3.2 does: OK when
// `proof` leads from `leaf_hash` at `index` to `root` in a tree of `size`.
// Otherwise INVALID_ARGUMENT ("proof has wrong length for index/size", index
// out of range) or DATA_LOSS ("inclusion proof does not lead to the root"),
// both with a reason attached (REASON_INVALID_ARGUMENT, REASON_HASH_MISMATCH).
absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Sha256Digest& leaf_hash,
                             const std::vector<Sha256Digest>& proof, const Sha256Digest& root);

// Verifies a consistency proof exactly as RFC 9162 §2.1.4.2 does: OK when
// `proof` shows that the tree of `size1` leaves with root `root1` is a
// prefix of the tree of `size2` leaves with root `root2`. Equal sizes need
// an empty proof and equal roots; size1 = 0 needs an empty proof and the
// empty root. Failures as for VerifyInclusion, naming which root or length
// did not match.
absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, const Sha256Digest& root1,
                               const Sha256Digest& root2, const std::vector<Sha256Digest>& proof);

// Signed tree heads (checkpoints). A tree head is signed over its checkpoint
// text, four lines each ending in '\n':
//
//   <origin>\n<tree_size, decimal>\n<root_hash, standard base64>\n<timestamp_ms, decimal>\n
//
// e.g. "palm.tongxiang/evidence\n3\nqXo2...=\n1767225600000\n". The origin
// must not contain '\n'. key_id and signature are not part of the text.
std::string CheckpointText(const palm::v1::SignedTreeHead& sth);

// Signs `sth` with the Ed25519 private key `key`: sets sth->key_id to
// KeyId(key) and sth->signature to the signature of CheckpointText(*sth).
// Returns INVALID_ARGUMENT if `key` is not an Ed25519 private key, the root
// is not 32 bytes or the origin contains a newline; INTERNAL if OpenSSL fails.
absl::Status SignTreeHead(EVP_PKEY* key, palm::v1::SignedTreeHead* sth);

// Verifies `sth` against the Ed25519 public key `pub`. Returns OK, or
// INVALID_ARGUMENT (malformed head: root not 32 bytes, origin with a
// newline, signature missing or not 64 bytes), or DATA_LOSS with
// REASON_HASH_MISMATCH when the head names another key ("tree head was
// signed by key ..., not ...") or the signature does not verify ("tree head
// signature does not verify").
absl::Status VerifyTreeHead(EVP_PKEY* pub, const palm::v1::SignedTreeHead& sth);

}  // namespace palm::sync

#endif  // PALM_SYNC_MERKLE_H_
