// palmctl evidence verify|receipt and palmctl log head|key|consistency
// (issue 6): offline verification of a receipt names exactly the check a
// single flipped byte breaks.
#include <catch2/catch.hpp>

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "palm/v1/evidence.pb.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "sync/ed25519.h"
#include "sync/evidence_entry.h"
#include "sync/evidence_receipt.h"
#include "sync/merkle.h"
#include "sync/sha256.h"

namespace palm::testing {
namespace {

namespace v1 = palm::v1;

std::string Palmctl() {
  std::filesystem::path build =
      std::filesystem::path(PalmServerBinary()).parent_path().parent_path();
  return (build / "tools" / "palmctl" / "palmctl").string();
}

void Write(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  REQUIRE(google::protobuf::util::MessageToJsonString(m, &out, options).ok());
  return out;
}

// A log of seven evidence records signed with a fresh key, built offline as
// the server does; the receipt of leaf 4 and its file.
struct OfflineLog {
  OfflineLog() {
    key = std::move(*sync::GenerateEd25519Key());
    Write(dir.File("log.pub"), *sync::PublicKeyPem(key.get()));
    sync::InMemoryNodeStore nodes;
    sync::MerkleTree tree(&nodes, 0);
    std::vector<std::string> entries;
    for (int i = 0; i < 7; ++i) {
      std::string content = "photo " + std::to_string(i) + std::string(5000, static_cast<char>(i));
      sync::EvidenceEntry e;
      e.case_number = "桐综执罚〔2026〕0007号";
      e.evidence_id = "ev-" + std::to_string(i);
      e.sha256 = sync::Sha256::Of(content);
      e.size = content.size();
      e.device_id = "dev-a1";
      e.officer_id = "officer-a1";
      e.has_location = true;
      e.latitude = 30.6;
      e.longitude = 120.5;
      e.captured_at_ms = 1767225600000 + i;
      e.integrated_at_ms = 1767225700000 + i;
      entries.push_back(sync::EncodeEvidenceEntry(e));
      REQUIRE(tree.Append(entries.back()).ok());
      if (i == 4) Write(dir.File("photo.jpg"), content);
    }
    v1::SignedTreeHead head;
    head.set_origin("palm.tongxiang/evidence");
    head.set_tree_size(7);
    head.set_root_hash(sync::DigestBytes(*tree.Root(7)));
    head.set_timestamp_ms(1767225800000);
    REQUIRE(sync::SignTreeHead(key.get(), &head).ok());
    receipt.set_evidence_id("ev-4");
    receipt.set_leaf_index(4);
    receipt.set_entry(entries[4]);
    *receipt.mutable_tree_head() = head;
    auto proof = tree.InclusionProof(4, 7);
    REQUIRE(proof.ok());
    for (const auto& node : *proof) {
      receipt.add_inclusion_proof(sync::DigestBytes(node));
    }
    REQUIRE(sync::SignReceiptEntry(key.get(), &receipt).ok());
  }

  // palmctl evidence verify on `file` with `r`.
  CommandResult Verify(const v1::EvidenceReceipt& r, const std::string& file = "") {
    Write(dir.File("receipt.json"), Json(r));
    return RunCommand({Palmctl(), "evidence", "verify", file.empty() ? dir.File("photo.jpg") : file,
                       "--receipt", dir.File("receipt.json"), "--log-key", dir.File("log.pub")});
  }

  TempDir dir;
  sync::UniqueEvpPkey key;
  v1::EvidenceReceipt receipt;
};

void Flip(std::string* bytes, size_t at) { (*bytes)[at] ^= 0x01; }

// Exit 1 with one line naming `check`.
void RequireCaught(const CommandResult& result, const std::string& check) {
  INFO("stdout: " << result.out << "\nstderr: " << result.err);
  REQUIRE(result.exit_code == 1);
  REQUIRE(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  REQUIRE_THAT(result.err, Catch::StartsWith("palmctl: verification failed: " + check + ": "));
}

TEST_CASE("palmctl evidence verify accepts a genuine file and receipt offline") {
  OfflineLog log;
  CommandResult result = log.Verify(log.receipt);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  REQUIRE_THAT(result.out, Catch::StartsWith("verified: "));
  REQUIRE_THAT(result.out, Catch::Contains("evidence ev-4 of 桐综执罚〔2026〕0007号"));
  REQUIRE_THAT(result.out, Catch::Contains("inclusion proof leads to the root of 7 leaves"));

  // The binary protobuf form verifies alike.
  Write(log.dir.File("receipt.pb"), log.receipt.SerializeAsString());
  result = RunCommand({Palmctl(), "evidence", "verify", log.dir.File("photo.jpg"), "--receipt",
                       log.dir.File("receipt.pb"), "--log-key", log.dir.File("log.pub")});
  REQUIRE(result.exit_code == 0);
}

TEST_CASE("one flipped byte in the file is caught and named") {
  OfflineLog log;
  std::string file = Read(log.dir.File("photo.jpg"));
  Flip(&file, 2500);
  Write(log.dir.File("tampered.jpg"), file);
  RequireCaught(log.Verify(log.receipt, log.dir.File("tampered.jpg")), "file");
}

TEST_CASE("one flipped byte in the entry is caught and named") {
  OfflineLog log;
  for (size_t at : {size_t{20}, log.receipt.entry().size() - 1}) {
    v1::EvidenceReceipt r = log.receipt;
    Flip(r.mutable_entry(), at);
    RequireCaught(log.Verify(r), "entry");
  }
}

TEST_CASE("one flipped byte in a proof node is caught and named") {
  OfflineLog log;
  for (int node = 0; node < log.receipt.inclusion_proof_size(); ++node) {
    v1::EvidenceReceipt r = log.receipt;
    Flip(r.mutable_inclusion_proof(node), 7);
    RequireCaught(log.Verify(r), "inclusion proof");
  }
}

TEST_CASE("one flipped byte in the root is caught and named") {
  OfflineLog log;
  v1::EvidenceReceipt r = log.receipt;
  Flip(r.mutable_tree_head()->mutable_root_hash(), 31);
  RequireCaught(log.Verify(r), "root hash");
}

TEST_CASE("one flipped byte in the tree head signature is caught and named") {
  OfflineLog log;
  v1::EvidenceReceipt r = log.receipt;
  Flip(r.mutable_tree_head()->mutable_signature(), 10);
  RequireCaught(log.Verify(r), "tree head signature");
}

TEST_CASE("palmctl evidence verify with another log's key says so") {
  OfflineLog log;
  auto other = sync::GenerateEd25519Key();
  Write(log.dir.File("log.pub"), *sync::PublicKeyPem(other->get()));
  CommandResult result = log.Verify(log.receipt);
  RequireCaught(result, "tree head signature");
  REQUIRE_THAT(result.err, Catch::Contains("not by the given key"));
}

TEST_CASE("palmctl log head, key and consistency against a running server") {
  TempDir dir;
  ServerProcess server(dir.File("data"));
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {Palmctl(), "--insecure", "--server", server.address()});
    return RunCommand(args);
  };
  CommandResult key = run({"log", "key", "--out", dir.File("log.pub")});
  INFO(key.err);
  REQUIRE(key.exit_code == 0);
  CommandResult head = run({"log", "head", "--fresh", "--json", "--out", dir.File("h1.json")});
  INFO(head.err);
  REQUIRE(head.exit_code == 0);
  REQUIRE_THAT(head.out, Catch::Contains("\"origin\": \"palm.tongxiang/evidence\""));

  v1::SignedTreeHead saved;
  REQUIRE(google::protobuf::util::JsonStringToMessage(Read(dir.File("h1.json")), &saved).ok());
  auto pub = sync::LoadPublicKeyPem(Read(dir.File("log.pub")));
  REQUIRE(pub.ok());
  REQUIRE(sync::VerifyTreeHead(pub->get(), saved).ok());

  REQUIRE(run({"log", "head", "--fresh", "--out", dir.File("h2.json")}).exit_code == 0);
  CommandResult consistent = run({"log", "consistency", dir.File("h1.json"), dir.File("h2.json"),
                                  "--log-key", dir.File("log.pub")});
  INFO(consistent.err);
  REQUIRE(consistent.exit_code == 0);
  REQUIRE_THAT(consistent.out, Catch::StartsWith("consistent: "));

  // A head whose root was altered is not consistent with the other.
  v1::SignedTreeHead altered = saved;
  altered.set_tree_size(0);
  Flip(altered.mutable_root_hash(), 0);
  Write(dir.File("bad.json"), Json(altered));
  CommandResult bad = run({"log", "consistency", dir.File("bad.json"), dir.File("h2.json")});
  REQUIRE(bad.exit_code == 1);
  REQUIRE_THAT(bad.err, Catch::StartsWith("palmctl: consistency proof: "));

  CommandResult missing = run({"evidence", "receipt", "no-such-evidence"});
  REQUIRE(missing.exit_code == 1);
  REQUIRE_THAT(missing.err, Catch::Contains("NOT_FOUND"));
}

}  // namespace
}  // namespace palm::testing
