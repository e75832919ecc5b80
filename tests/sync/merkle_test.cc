#include "sync/merkle.h"

#include <bit>
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "tests/sync/refusal.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

// ---- An independent, naive implementation straight from RFC 6962 §2.1 ----

Sha256Digest RawSha256(const std::string& data) {
  Sha256 hash;
  hash.Update(data.data(), data.size());
  return hash.Final();
}

std::string Bytes(const Sha256Digest& d) { return std::string(d.begin(), d.end()); }

// MTH(D[lo:hi]).
Sha256Digest NaiveMth(const std::vector<std::string>& d, size_t lo, size_t hi) {
  const size_t n = hi - lo;
  if (n == 0) return RawSha256("");
  if (n == 1) return RawSha256(std::string(1, '\0') + d[lo]);
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return RawSha256(std::string(1, '\1') + Bytes(NaiveMth(d, lo, lo + k)) +
                   Bytes(NaiveMth(d, lo + k, hi)));
}

// PATH(m, D[lo:hi]).
std::vector<Sha256Digest> NaivePath(const std::vector<std::string>& d, size_t m, size_t lo,
                                    size_t hi) {
  const size_t n = hi - lo;
  if (n == 1) return {};
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  std::vector<Sha256Digest> path;
  if (m < k) {
    path = NaivePath(d, m, lo, lo + k);
    path.push_back(NaiveMth(d, lo + k, hi));
  } else {
    path = NaivePath(d, m - k, lo + k, hi);
    path.push_back(NaiveMth(d, lo, lo + k));
  }
  return path;
}

// SUBPROOF(m, D[lo:hi], b).
std::vector<Sha256Digest> NaiveSubproof(const std::vector<std::string>& d, size_t m, size_t lo,
                                        size_t hi, bool b) {
  const size_t n = hi - lo;
  if (m == n) {
    if (b) return {};
    return {NaiveMth(d, lo, hi)};
  }
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  std::vector<Sha256Digest> proof;
  if (m <= k) {
    proof = NaiveSubproof(d, m, lo, lo + k, b);
    proof.push_back(NaiveMth(d, lo + k, hi));
  } else {
    proof = NaiveSubproof(d, m - k, lo + k, hi, false);
    proof.push_back(NaiveMth(d, lo, lo + k));
  }
  return proof;
}

std::vector<std::string> Entries(size_t n) {
  std::vector<std::string> entries;
  for (size_t i = 0; i < n; ++i) entries.push_back("evidence entry " + std::to_string(i));
  return entries;
}

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

uint64_t LogBound(uint64_t n) { return 2 * std::bit_width(n) + 2; }

// ---- Known answers ----

TEST_CASE("the empty tree's root is SHA-256 of nothing", "[merkle]") {
  InMemoryNodeStore store;
  MerkleTree tree(&store, 0);
  auto root = tree.Root(0);
  REQUIRE(root.ok());
  CHECK(HexEncode(*root) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(*root == EmptyTreeRoot());
}

TEST_CASE("leaf and node hashes use the RFC 6962 domain prefixes", "[merkle]") {
  CHECK(LeafHash("abc") == RawSha256(std::string("\0abc", 4)));
  const Sha256Digest l = LeafHash("l");
  const Sha256Digest r = LeafHash("r");
  CHECK(NodeHash(l, r) == RawSha256("\1" + Bytes(l) + Bytes(r)));
}

TEST_CASE("roots match the RFC 6962 reference test vectors", "[merkle]") {
  // The eight leaves and roots used by the certificate-transparency reference
  // implementations' Merkle tree tests.
  const std::vector<std::string> leaves = {"",
                                           "00",
                                           "10",
                                           "2021",
                                           "3031",
                                           "40414243",
                                           "5051525354555657",
                                           "606162636465666768696a6b6c6d6e6f"};
  const char* roots[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };
  InMemoryNodeStore store;
  MerkleTree tree(&store, 0);
  for (size_t i = 0; i < leaves.size(); ++i) {
    auto index = tree.Append(Unhex(leaves[i]));
    REQUIRE(index.ok());
    CHECK(*index == i);
    auto root = tree.Root(i + 1);
    REQUIRE(root.ok());
    CHECK(HexEncode(*root) == roots[i]);
  }
}

// ---- Exhaustive comparison with the naive implementation ----

TEST_CASE("roots and inclusion proofs equal the RFC definitions for every index and size",
          "[merkle]") {
  constexpr size_t kMax = 64;
  const std::vector<std::string> entries = Entries(kMax);
  InMemoryNodeStore store;
  MerkleTree tree(&store, 0);
  for (const std::string& e : entries) REQUIRE(tree.Append(e).ok());
  CHECK(tree.size() == kMax);
  CHECK(store.node_count() == 2 * kMax - 1);

  for (size_t size = 0; size <= kMax; ++size) {
    auto root = tree.Root(size);
    REQUIRE(root.ok());
    const Sha256Digest expected_root = NaiveMth(entries, 0, size);
    CHECK(*root == expected_root);
    for (size_t index = 0; index < size; ++index) {
      INFO("index " << index << " size " << size);
      const uint64_t gets_before = store.gets();
      auto proof = tree.InclusionProof(index, size);
      REQUIRE(proof.ok());
      CHECK(store.gets() - gets_before <= LogBound(size));
      CHECK(*proof == NaivePath(entries, index, 0, size));
      CHECK(VerifyInclusion(index, size, LeafHash(entries[index]), *proof, expected_root).ok());
    }
  }
}

TEST_CASE("consistency proofs equal the RFC definitions for every pair of sizes", "[merkle]") {
  constexpr size_t kMax = 64;
  const std::vector<std::string> entries = Entries(kMax);
  InMemoryNodeStore store;
  MerkleTree tree(&store, 0);
  for (const std::string& e : entries) REQUIRE(tree.Append(e).ok());

  for (size_t size2 = 0; size2 <= kMax; ++size2) {
    const Sha256Digest root2 = NaiveMth(entries, 0, size2);
    for (size_t size1 = 0; size1 <= size2; ++size1) {
      INFO("size1 " << size1 << " size2 " << size2);
      const uint64_t gets_before = store.gets();
      auto proof = tree.ConsistencyProof(size1, size2);
      REQUIRE(proof.ok());
      CHECK(store.gets() - gets_before <= LogBound(size2));
      const std::vector<Sha256Digest> expected =
          (size1 == 0 || size1 == size2) ? std::vector<Sha256Digest>{}
                                         : NaiveSubproof(entries, size1, 0, size2, true);
      CHECK(*proof == expected);
      const Sha256Digest root1 = NaiveMth(entries, 0, size1);
      CHECK(VerifyConsistency(size1, size2, root1, root2, *proof).ok());
    }
  }
}

TEST_CASE("a larger tree reopened from its store still proves what it holds", "[merkle]") {
  constexpr size_t kMax = 1000;
  const std::vector<std::string> entries = Entries(kMax);
  InMemoryNodeStore store;
  {
    MerkleTree tree(&store, 0);
    for (size_t i = 0; i < 600; ++i) REQUIRE(tree.Append(entries[i]).ok());
  }
  MerkleTree tree(&store, 600);  // as the server does after a restart
  for (size_t i = 600; i < kMax; ++i) REQUIRE(tree.Append(entries[i]).ok());
  std::mt19937_64 random(42);
  for (int trial = 0; trial < 50; ++trial) {
    const uint64_t size = 1 + random() % kMax;
    const uint64_t index = random() % size;
    const uint64_t size1 = 1 + random() % size;
    const Sha256Digest root = NaiveMth(entries, 0, size);
    auto inclusion = tree.InclusionProof(index, size);
    REQUIRE(inclusion.ok());
    CHECK(*inclusion == NaivePath(entries, index, 0, size));
    CHECK(VerifyInclusion(index, size, LeafHash(entries[index]), *inclusion, root).ok());
    auto consistency = tree.ConsistencyProof(size1, size);
    REQUIRE(consistency.ok());
    CHECK(VerifyConsistency(size1, size, NaiveMth(entries, 0, size1), root, *consistency).ok());
  }
}

TEST_CASE("proofs read through a node cache equal the RFC definitions and read less",
          "[merkle][cache]") {
  constexpr size_t kMax = 1000;
  const std::vector<std::string> entries = Entries(kMax);
  InMemoryNodeStore store;
  {
    MerkleTree tree(&store, 0);
    for (const std::string& e : entries) REQUIRE(tree.Append(e).ok());
  }
  NodeCache cache(/*min_level=*/3);
  CachingNodeStore cached(&store, &cache);
  MerkleTree tree(&cached, kMax);
  std::mt19937_64 random(7);
  for (int pass = 0; pass < 2; ++pass) {
    const uint64_t gets_before = store.gets();
    for (int trial = 0; trial < 50; ++trial) {
      const uint64_t size = 1 + random() % kMax;
      const uint64_t index = random() % size;
      auto inclusion = tree.InclusionProof(index, size);
      REQUIRE(inclusion.ok());
      CHECK(*inclusion == NaivePath(entries, index, 0, size));
      const uint64_t size1 = 1 + random() % size;
      auto consistency = tree.ConsistencyProof(size1, size);
      REQUIRE(consistency.ok());
      CHECK(VerifyConsistency(size1, size, NaiveMth(entries, 0, size1), NaiveMth(entries, 0, size),
                              *consistency)
                .ok());
    }
    if (pass == 1) {
      // Warm: at most the three levels below the cache come from the store
      // per inclusion proof, plus the right edges of consistency proofs.
      CHECK(store.gets() - gets_before < 50 * 2 * 3 * 4);
    }
  }
  // Only levels >= 3: fewer than 2 * 1000 / 8 nodes.
  CHECK(cache.size() > 0);
  CHECK(cache.size() < 2 * kMax / 8);
  CHECK_FALSE(cache.Find(2, 0).has_value());
  REQUIRE(cache.Find(3, 0).has_value());
  CHECK(*cache.Find(3, 0) == NaiveMth(entries, 0, 8));
}

TEST_CASE("a caching node store refuses writes", "[merkle][cache]") {
  InMemoryNodeStore store;
  NodeCache cache;
  CachingNodeStore cached(&store, &cache);
  MerkleTree tree(&cached, 0);
  absl::StatusOr<uint64_t> appended = tree.Append("entry");
  REQUIRE(appended.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(appended.status().message() ==
        "a CachingNodeStore reads committed nodes only; append through the store itself");
  CHECK(store.node_count() == 0);
}

TEST_CASE("asking beyond the tree is OUT_OF_RANGE", "[merkle]") {
  InMemoryNodeStore store;
  MerkleTree tree(&store, 0);
  REQUIRE(tree.Append("a").ok());
  CHECK(tree.Root(2).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(tree.InclusionProof(1, 1).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(tree.InclusionProof(0, 2).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(tree.ConsistencyProof(1, 2).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(tree.ConsistencyProof(2, 1).status().code() == absl::StatusCode::kOutOfRange);
}

// ---- Tampering ----

struct Fixture {
  std::vector<std::string> entries = Entries(7);
  InMemoryNodeStore store;
  MerkleTree tree{&store, 0};
  Fixture() {
    for (const std::string& e : entries) REQUIRE(tree.Append(e).ok());
  }
};

TEST_CASE("a flipped byte in the entry is caught by the inclusion check", "[merkle][tamper]") {
  Fixture f;
  auto proof = f.tree.InclusionProof(3, 7);
  auto root = f.tree.Root(7);
  REQUIRE((proof.ok() && root.ok()));
  std::string entry = f.entries[3];
  entry[0] ^= 0x01;
  CHECK_REFUSED(VerifyInclusion(3, 7, LeafHash(entry), *proof, *root), absl::StatusCode::kDataLoss,
                v1::REASON_HASH_MISMATCH,
                "inclusion proof does not lead to the root: leaf 3 of tree size 7 is not proven");
}

TEST_CASE("a flipped byte in a proof node or the root is caught", "[merkle][tamper]") {
  Fixture f;
  auto proof = f.tree.InclusionProof(3, 7);
  auto root = f.tree.Root(7);
  REQUIRE((proof.ok() && root.ok()));
  const Sha256Digest leaf = LeafHash(f.entries[3]);
  for (size_t i = 0; i < proof->size(); ++i) {
    std::vector<Sha256Digest> bad = *proof;
    bad[i][17] ^= 0x80;
    CHECK_REFUSED(VerifyInclusion(3, 7, leaf, bad, *root), absl::StatusCode::kDataLoss,
                  v1::REASON_HASH_MISMATCH,
                  "inclusion proof does not lead to the root: leaf 3 of tree size 7 is not "
                  "proven");
  }
  Sha256Digest bad_root = *root;
  bad_root[0] ^= 0x01;
  CHECK_REFUSED(VerifyInclusion(3, 7, leaf, *proof, bad_root), absl::StatusCode::kDataLoss,
                v1::REASON_HASH_MISMATCH,
                "inclusion proof does not lead to the root: leaf 3 of tree size 7 is not proven");
}

TEST_CASE("an inclusion proof of the wrong length or index is refused", "[merkle][tamper]") {
  Fixture f;
  auto proof = f.tree.InclusionProof(3, 7);
  auto root = f.tree.Root(7);
  REQUIRE((proof.ok() && root.ok()));
  const Sha256Digest leaf = LeafHash(f.entries[3]);
  std::vector<Sha256Digest> longer = *proof;
  longer.push_back(leaf);
  CHECK_REFUSED(VerifyInclusion(3, 7, leaf, longer, *root), absl::StatusCode::kInvalidArgument,
                v1::REASON_INVALID_ARGUMENT,
                "inclusion proof has wrong length for index/size 3/7 (4 nodes)");
  std::vector<Sha256Digest> shorter(proof->begin(), proof->end() - 1);
  CHECK_REFUSED(VerifyInclusion(3, 7, leaf, shorter, *root), absl::StatusCode::kInvalidArgument,
                v1::REASON_INVALID_ARGUMENT,
                "inclusion proof has wrong length for index/size 3/7 (2 nodes)");
  CHECK_REFUSED(VerifyInclusion(7, 7, leaf, *proof, *root), absl::StatusCode::kInvalidArgument,
                v1::REASON_INVALID_ARGUMENT, "leaf index 7 is outside a tree of size 7");
  // The right proof for another position does not prove this one.
  CHECK_FALSE(VerifyInclusion(2, 7, leaf, *proof, *root).ok());
}

TEST_CASE("a tampered consistency proof or root is caught naming which root", "[merkle][tamper]") {
  Fixture f;
  auto proof = f.tree.ConsistencyProof(3, 7);
  auto root1 = f.tree.Root(3);
  auto root2 = f.tree.Root(7);
  REQUIRE((proof.ok() && root1.ok() && root2.ok()));
  REQUIRE(VerifyConsistency(3, 7, *root1, *root2, *proof).ok());

  Sha256Digest bad_root2 = *root2;
  bad_root2[31] ^= 0x01;
  CHECK_REFUSED(VerifyConsistency(3, 7, *root1, bad_root2, *proof), absl::StatusCode::kDataLoss,
                v1::REASON_HASH_MISMATCH,
                "consistency proof does not lead to the second root (size 7)");
  Sha256Digest bad_root1 = *root1;
  bad_root1[0] ^= 0x01;
  CHECK_REFUSED(VerifyConsistency(3, 7, bad_root1, *root2, *proof), absl::StatusCode::kDataLoss,
                v1::REASON_HASH_MISMATCH,
                "consistency proof does not lead to the first root (size 3)");
  std::vector<Sha256Digest> bad = *proof;
  bad[0][5] ^= 0x10;
  CHECK_FALSE(VerifyConsistency(3, 7, *root1, *root2, bad).ok());
  CHECK(ReasonOf(VerifyConsistency(3, 7, *root1, *root2, bad)) == v1::REASON_HASH_MISMATCH);
  CHECK_REFUSED(VerifyConsistency(3, 7, *root1, *root2, {}), absl::StatusCode::kInvalidArgument,
                v1::REASON_INVALID_ARGUMENT,
                "consistency proof has wrong length for sizes 3 and 7 (0 nodes)");
  CHECK_REFUSED(VerifyConsistency(7, 3, *root2, *root1, *proof), absl::StatusCode::kInvalidArgument,
                v1::REASON_INVALID_ARGUMENT, "first tree size 7 is larger than second tree size 3");
  CHECK_REFUSED(VerifyConsistency(7, 7, *root2, bad_root2, {}), absl::StatusCode::kDataLoss,
                v1::REASON_HASH_MISMATCH, "roots differ for the same tree size 7");
  CHECK_REFUSED(VerifyConsistency(0, 7, *root1, *root2, {}), absl::StatusCode::kDataLoss,
                v1::REASON_HASH_MISMATCH, "first root is not the root of the empty tree");
  CHECK(VerifyConsistency(0, 7, EmptyTreeRoot(), *root2, {}).ok());
}

// ---- Signed tree heads ----

v1::SignedTreeHead TreeHead(const Sha256Digest& root, uint64_t size) {
  v1::SignedTreeHead sth;
  sth.set_origin("palm.tongxiang/evidence");
  sth.set_tree_size(size);
  sth.set_root_hash(DigestBytes(root));
  sth.set_timestamp_ms(1767225600000);
  return sth;
}

TEST_CASE("the checkpoint text is origin, size, base64 root and time, one per line",
          "[merkle][sth]") {
  const v1::SignedTreeHead sth = TreeHead(EmptyTreeRoot(), 0);
  CHECK(CheckpointText(sth) ==
        "palm.tongxiang/evidence\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        "1767225600000\n");
}

TEST_CASE("a signed tree head verifies with the log's public key", "[merkle][sth]") {
  auto key = GenerateEd25519Key();
  REQUIRE(key.ok());
  Fixture f;
  auto root = f.tree.Root(7);
  REQUIRE(root.ok());
  v1::SignedTreeHead sth = TreeHead(*root, 7);
  REQUIRE(SignTreeHead(key->get(), &sth).ok());
  CHECK(sth.signature().size() == 64);
  CHECK(sth.key_id() == KeyId(key->get()));

  auto pem = PublicKeyPem(key->get());
  REQUIRE(pem.ok());
  auto pub = LoadPublicKeyPem(*pem);
  REQUIRE(pub.ok());
  CHECK(VerifyTreeHead(pub->get(), sth).ok());
}

TEST_CASE("a flipped byte in the signature or the head is caught", "[merkle][sth][tamper]") {
  auto key = GenerateEd25519Key();
  REQUIRE(key.ok());
  v1::SignedTreeHead sth = TreeHead(LeafHash("x"), 1);
  REQUIRE(SignTreeHead(key->get(), &sth).ok());

  v1::SignedTreeHead bad = sth;
  (*bad.mutable_signature())[10] ^= 0x01;
  CHECK_REFUSED(VerifyTreeHead(key->get(), bad), absl::StatusCode::kDataLoss,
                v1::REASON_HASH_MISMATCH, "tree head signature does not verify");
  bad = sth;
  (*bad.mutable_root_hash())[0] ^= 0x01;
  CHECK_REFUSED(VerifyTreeHead(key->get(), bad), absl::StatusCode::kDataLoss,
                v1::REASON_HASH_MISMATCH, "tree head signature does not verify");
  bad = sth;
  bad.set_tree_size(2);
  CHECK_REFUSED(VerifyTreeHead(key->get(), bad), absl::StatusCode::kDataLoss,
                v1::REASON_HASH_MISMATCH, "tree head signature does not verify");
  bad = sth;
  bad.clear_signature();
  CHECK_REFUSED(VerifyTreeHead(key->get(), bad), absl::StatusCode::kInvalidArgument,
                v1::REASON_INVALID_ARGUMENT, "tree head signature must be 64 bytes, got 0");
}

TEST_CASE("a tree head signed by another key is refused naming both keys", "[merkle][sth]") {
  auto key = GenerateEd25519Key();
  auto other = GenerateEd25519Key();
  REQUIRE((key.ok() && other.ok()));
  v1::SignedTreeHead sth = TreeHead(LeafHash("x"), 1);
  REQUIRE(SignTreeHead(key->get(), &sth).ok());
  CHECK_REFUSED(
      VerifyTreeHead(other->get(), sth), absl::StatusCode::kDataLoss, v1::REASON_HASH_MISMATCH,
      "tree head was signed by key " + KeyId(key->get()) + ", not " + KeyId(other->get()));
  sth.clear_key_id();
  CHECK_REFUSED(VerifyTreeHead(other->get(), sth), absl::StatusCode::kDataLoss,
                v1::REASON_HASH_MISMATCH, "tree head signature does not verify");
}

TEST_CASE("a malformed tree head is refused before signing", "[merkle][sth]") {
  auto key = GenerateEd25519Key();
  REQUIRE(key.ok());
  v1::SignedTreeHead sth = TreeHead(LeafHash("x"), 1);
  sth.set_root_hash("short");
  CHECK_REFUSED(SignTreeHead(key->get(), &sth), absl::StatusCode::kInvalidArgument,
                v1::REASON_INVALID_ARGUMENT, "tree head root_hash must be 32 bytes, got 5");
  sth = TreeHead(LeafHash("x"), 1);
  sth.set_origin("two\nlines");
  CHECK_REFUSED(SignTreeHead(key->get(), &sth), absl::StatusCode::kInvalidArgument,
                v1::REASON_INVALID_ARGUMENT, "tree head origin must not contain a newline");
}

TEST_CASE("a receipt verifies offline end to end", "[merkle][sth]") {
  // What a device holds: entry, index, signed head, proof, and the log's
  // public key PEM.
  auto key = GenerateEd25519Key();
  REQUIRE(key.ok());
  Fixture f;
  auto root = f.tree.Root(7);
  auto proof = f.tree.InclusionProof(5, 7);
  REQUIRE((root.ok() && proof.ok()));
  v1::EvidenceReceipt receipt;
  receipt.set_leaf_index(5);
  receipt.set_entry(f.entries[5]);
  *receipt.mutable_tree_head() = TreeHead(*root, 7);
  REQUIRE(SignTreeHead(key->get(), receipt.mutable_tree_head()).ok());
  for (const Sha256Digest& node : *proof) receipt.add_inclusion_proof(DigestBytes(node));

  auto pem = PublicKeyPem(key->get());
  REQUIRE(pem.ok());
  auto pub = LoadPublicKeyPem(*pem);
  REQUIRE(pub.ok());
  REQUIRE(VerifyTreeHead(pub->get(), receipt.tree_head()).ok());
  std::vector<Sha256Digest> nodes;
  for (const std::string& bytes : receipt.inclusion_proof()) {
    auto node = DigestFromBytes(bytes);
    REQUIRE(node.ok());
    nodes.push_back(*node);
  }
  auto signed_root = DigestFromBytes(receipt.tree_head().root_hash());
  REQUIRE(signed_root.ok());
  CHECK(VerifyInclusion(receipt.leaf_index(), receipt.tree_head().tree_size(),
                        LeafHash(receipt.entry()), nodes, *signed_root)
            .ok());
}

}  // namespace
}  // namespace palm::sync
