#include "sync/merkle.h"

#include <bit>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "sync/status.h"
#include "sync/status_macros.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

// Largest power of two strictly below n (n >= 2): the RFC's split point k.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

absl::Status Malformed(absl::string_view message) {
  return InvalidArgument(v1::REASON_INVALID_ARGUMENT, message);
}

absl::Status Mismatch(absl::string_view message) {
  return Refuse(absl::StatusCode::kDataLoss, v1::REASON_HASH_MISMATCH, message);
}

// Right-shifts fn and sn until fn's lowest bit is set or fn is 0
// (RFC 9162 §2.1.3.2 step 4.2 and §2.1.4.2 step 6.2.2).
void ShiftWhileEven(uint64_t* fn, uint64_t* sn) {
  while (*fn != 0 && (*fn & 1) == 0) {
    *fn >>= 1;
    *sn >>= 1;
  }
}

}  // namespace

Sha256Digest LeafHash(absl::string_view entry) {
  Sha256 hash;
  const uint8_t prefix = 0x00;
  hash.Update(&prefix, 1);
  hash.Update(entry);
  return hash.Final();
}

Sha256Digest NodeHash(const Sha256Digest& left, const Sha256Digest& right) {
  Sha256 hash;
  const uint8_t prefix = 0x01;
  hash.Update(&prefix, 1);
  hash.Update(left.data(), left.size());
  hash.Update(right.data(), right.size());
  return hash.Final();
}

Sha256Digest EmptyTreeRoot() { return Sha256::Of(""); }

MerkleNodeStore::~MerkleNodeStore() = default;

absl::StatusOr<Sha256Digest> InMemoryNodeStore::Get(uint32_t level, uint64_t index) {
  ++gets_;
  auto it = nodes_.find({level, index});
  if (it == nodes_.end()) {
    return absl::NotFoundError(absl::StrCat("no Merkle node at level ", level, " index ", index));
  }
  return it->second;
}

absl::Status InMemoryNodeStore::Put(uint32_t level, uint64_t index, const Sha256Digest& hash) {
  nodes_[{level, index}] = hash;
  return absl::OkStatus();
}

std::optional<Sha256Digest> NodeCache::Find(uint32_t level, uint64_t index) const {
  if (level < min_level_) return std::nullopt;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = nodes_.find(Key(level, index));
  if (it == nodes_.end()) return std::nullopt;
  return it->second;
}

void NodeCache::Insert(uint32_t level, uint64_t index, const Sha256Digest& hash) {
  if (level < min_level_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  nodes_.emplace(Key(level, index), hash);
}

size_t NodeCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return nodes_.size();
}

absl::StatusOr<Sha256Digest> CachingNodeStore::Get(uint32_t level, uint64_t index) {
  if (std::optional<Sha256Digest> cached = cache_->Find(level, index)) return *cached;
  absl::StatusOr<Sha256Digest> node = inner_->Get(level, index);
  if (node.ok()) cache_->Insert(level, index, *node);
  return node;
}

absl::Status CachingNodeStore::Put(uint32_t, uint64_t, const Sha256Digest&) {
  return absl::FailedPreconditionError(
      "a CachingNodeStore reads committed nodes only; append through the store itself");
}

MerkleTree::MerkleTree(MerkleNodeStore* store, uint64_t size) : store_(store), size_(size) {}

absl::StatusOr<uint64_t> MerkleTree::Append(absl::string_view entry) {
  const uint64_t leaf = size_;
  Sha256Digest hash = LeafHash(entry);
  PALM_RETURN_IF_ERROR(store_->Put(0, leaf, hash));
  // Each trailing 1 bit of the leaf index completes one more subtree.
  uint64_t index = leaf;
  for (uint32_t level = 0; (index & 1) == 1; ++level) {
    absl::StatusOr<Sha256Digest> left = store_->Get(level, index - 1);
    if (!left.ok()) return left.status();
    hash = NodeHash(*left, hash);
    index >>= 1;
    PALM_RETURN_IF_ERROR(store_->Put(level + 1, index, hash));
  }
  size_ = leaf + 1;
  return leaf;
}

absl::StatusOr<Sha256Digest> MerkleTree::RangeHash(uint64_t start, uint64_t count) {
  if (count == 0) return EmptyTreeRoot();
  // The range splits into complete subtrees, largest first; MTH folds them
  // from the right.
  Sha256Digest subtrees[64];
  int n = 0;
  uint64_t offset = start;
  for (int level = 63; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((count & width) == 0) continue;
    absl::StatusOr<Sha256Digest> node = store_->Get(static_cast<uint32_t>(level), offset >> level);
    if (!node.ok()) return node.status();
    subtrees[n++] = *node;
    offset += width;
  }
  Sha256Digest hash = subtrees[n - 1];
  for (int i = n - 2; i >= 0; --i) hash = NodeHash(subtrees[i], hash);
  return hash;
}

absl::StatusOr<Sha256Digest> MerkleTree::Root(uint64_t size) {
  if (size > size_) {
    return absl::OutOfRangeError(
        absl::StrCat("tree size ", size, " is beyond the log's ", size_, " entries"));
  }
  return RangeHash(0, size);
}

// PATH(m, D[start:start+count]) of RFC 9162 §2.1.3.1, leaf first.
absl::Status MerkleTree::AppendPath(uint64_t index, uint64_t start, uint64_t count,
                                    std::vector<Sha256Digest>* proof) {
  if (count <= 1) return absl::OkStatus();
  const uint64_t k = SplitPoint(count);
  absl::StatusOr<Sha256Digest> sibling;
  if (index - start < k) {
    PALM_RETURN_IF_ERROR(AppendPath(index, start, k, proof));
    sibling = RangeHash(start + k, count - k);
  } else {
    PALM_RETURN_IF_ERROR(AppendPath(index, start + k, count - k, proof));
    sibling = RangeHash(start, k);
  }
  if (!sibling.ok()) return sibling.status();
  proof->push_back(*sibling);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Sha256Digest>> MerkleTree::InclusionProof(uint64_t index,
                                                                     uint64_t size) {
  if (size > size_ || index >= size) {
    return absl::OutOfRangeError(absl::StrCat("no leaf ", index, " in a tree of size ", size,
                                              " (the log has ", size_, " entries)"));
  }
  std::vector<Sha256Digest> proof;
  PALM_RETURN_IF_ERROR(AppendPath(index, 0, size, &proof));
  return proof;
}

// SUBPROOF(m, D[start:start+count], whole) of RFC 9162 §2.1.4.1.
absl::Status MerkleTree::AppendSubproof(uint64_t m, uint64_t start, uint64_t count, bool whole,
                                        std::vector<Sha256Digest>* proof) {
  absl::StatusOr<Sha256Digest> node;
  if (m == count) {
    if (whole) return absl::OkStatus();
    node = RangeHash(start, count);
  } else {
    const uint64_t k = SplitPoint(count);
    if (m <= k) {
      PALM_RETURN_IF_ERROR(AppendSubproof(m, start, k, whole, proof));
      node = RangeHash(start + k, count - k);
    } else {
      PALM_RETURN_IF_ERROR(AppendSubproof(m - k, start + k, count - k, false, proof));
      node = RangeHash(start, k);
    }
  }
  if (!node.ok()) return node.status();
  proof->push_back(*node);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Sha256Digest>> MerkleTree::ConsistencyProof(uint64_t size1,
                                                                       uint64_t size2) {
  if (size2 > size_ || size1 > size2) {
    return absl::OutOfRangeError(absl::StrCat("no consistency proof from size ", size1, " to ",
                                              size2, " (the log has ", size_, " entries)"));
  }
  std::vector<Sha256Digest> proof;
  if (size1 == 0 || size1 == size2) return proof;
  PALM_RETURN_IF_ERROR(AppendSubproof(size1, 0, size2, true, &proof));
  return proof;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Sha256Digest& leaf_hash,
                             const std::vector<Sha256Digest>& proof, const Sha256Digest& root) {
  if (index >= size) {
    return Malformed(absl::StrCat("leaf index ", index, " is outside a tree of size ", size));
  }
  const std::string wrong_length = absl::StrCat("inclusion proof has wrong length for index/size ",
                                                index, "/", size, " (", proof.size(), " nodes)");
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Sha256Digest r = leaf_hash;
  for (const Sha256Digest& p : proof) {
    if (sn == 0) return Malformed(wrong_length);
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) ShiftWhileEven(&fn, &sn);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Malformed(wrong_length);
  if (r != root) {
    return Mismatch(absl::StrCat("inclusion proof does not lead to the root: leaf ", index,
                                 " of tree size ", size, " is not proven"));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, const Sha256Digest& root1,
                               const Sha256Digest& root2, const std::vector<Sha256Digest>& proof) {
  const std::string wrong_length =
      absl::StrCat("consistency proof has wrong length for sizes ", size1, " and ", size2, " (",
                   proof.size(), " nodes)");
  if (size1 > size2) {
    return Malformed(
        absl::StrCat("first tree size ", size1, " is larger than second tree size ", size2));
  }
  if (size1 == size2 || size1 == 0) {
    if (!proof.empty()) return Malformed(wrong_length);
    if (size1 == 0 && root1 != EmptyTreeRoot()) {
      return Mismatch("first root is not the root of the empty tree");
    }
    if (size1 == size2 && root1 != root2) {
      return Mismatch(absl::StrCat("roots differ for the same tree size ", size1));
    }
    return absl::OkStatus();
  }
  if (proof.empty()) return Malformed(wrong_length);

  // RFC 9162 §2.1.4.2, steps 2 to 7.
  std::vector<Sha256Digest> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(size1)) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Sha256Digest fr = path[0];
  Sha256Digest sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Sha256Digest& c = path[i];
    if (sn == 0) return Malformed(wrong_length);
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) ShiftWhileEven(&fn, &sn);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Malformed(wrong_length);
  if (fr != root1) {
    return Mismatch(
        absl::StrCat("consistency proof does not lead to the first root (size ", size1, ")"));
  }
  if (sr != root2) {
    return Mismatch(
        absl::StrCat("consistency proof does not lead to the second root (size ", size2, ")"));
  }
  return absl::OkStatus();
}

std::string CheckpointText(const v1::SignedTreeHead& sth) {
  return absl::StrCat(sth.origin(), "\n", sth.tree_size(), "\n",
                      absl::Base64Escape(sth.root_hash()), "\n", sth.timestamp_ms(), "\n");
}

namespace {

absl::Status CheckTreeHeadShape(const v1::SignedTreeHead& sth) {
  if (sth.root_hash().size() != 32) {
    return Malformed(
        absl::StrCat("tree head root_hash must be 32 bytes, got ", sth.root_hash().size()));
  }
  if (sth.origin().find('\n') != std::string::npos) {
    return Malformed("tree head origin must not contain a newline");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SignTreeHead(EVP_PKEY* key, v1::SignedTreeHead* sth) {
  PALM_RETURN_IF_ERROR(CheckTreeHeadShape(*sth));
  absl::StatusOr<std::string> signature = Ed25519Sign(key, CheckpointText(*sth));
  if (!signature.ok()) return signature.status();
  sth->set_key_id(KeyId(key));
  sth->set_signature(*std::move(signature));
  return absl::OkStatus();
}

absl::Status VerifyTreeHead(EVP_PKEY* pub, const v1::SignedTreeHead& sth) {
  PALM_RETURN_IF_ERROR(CheckTreeHeadShape(sth));
  if (sth.signature().size() != 64) {
    return Malformed(
        absl::StrCat("tree head signature must be 64 bytes, got ", sth.signature().size()));
  }
  const std::string key_id = KeyId(pub);
  if (!sth.key_id().empty() && sth.key_id() != key_id) {
    return Mismatch(absl::StrCat("tree head was signed by key ", sth.key_id(), ", not ", key_id));
  }
  if (!Ed25519Verify(pub, CheckpointText(sth), sth.signature())) {
    return Mismatch("tree head signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace palm::sync
