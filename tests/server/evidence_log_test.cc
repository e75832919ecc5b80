// The evidence log on the server (issue 6): receipts that verify offline,
// persistence across restarts, consistency between heads, receipts pulled
// by devices, and capture-time flags.
#include <catch2/catch.hpp>

#include <thread>

#include "server/evidence_util.h"
#include "server/sync_util.h"
#include "sync/evidence_entry.h"
#include "sync/evidence_receipt.h"
#include "sync/merkle.h"

namespace palm::testing {
namespace {

using palm::sync::DigestFromBytes;
using palm::sync::Sha256Digest;

sync::UniqueEvpPkey PublicKey(const v1::GetTreeHeadResponse& head) {
  auto key = sync::LoadPublicKeyPem(head.public_key_pem());
  REQUIRE(key.ok());
  return std::move(*key);
}

std::vector<Sha256Digest> Digests(const std::vector<std::string>& bytes) {
  std::vector<Sha256Digest> out;
  for (const auto& b : bytes) out.push_back(*DigestFromBytes(b));
  return out;
}

// A case and `n` evidence records on dev-a1 (seq from 1); returns evidence ids.
std::vector<std::string> RecordEvidence(Client& client, int n, uint64_t first_seq = 1,
                                        std::string* case_id_out = nullptr) {
  std::string case_id;
  std::vector<v1::Mutation> batch = {RecordCase("dev-a1", first_seq, &case_id)};
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    std::string id;
    batch.push_back(AddEvidence("dev-a1", first_seq + 1 + i, case_id,
                                RandomBytes(100 + i, static_cast<uint32_t>(first_seq * 100 + i)),
                                &id));
    ids.push_back(id);
  }
  auto response = client.PushBatch("dev-a1", batch);
  for (const auto& r : response.results()) {
    INFO(r.message());
    REQUIRE(r.outcome() == v1::OUTCOME_APPLIED);
  }
  if (case_id_out != nullptr) *case_id_out = case_id;
  return ids;
}

TEST_CASE("each evidence record gets a receipt that verifies offline with the log's key") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  auto ids = RecordEvidence(client, 5, 1, &case_id);
  EvidenceClient evidence(client.channel);
  auto head = evidence.TreeHead(/*fresh=*/true);
  REQUIRE(head.tree_head().tree_size() == 5);
  REQUIRE(head.tree_head().origin() == "palm.tongxiang/evidence");
  auto key = PublicKey(head);
  REQUIRE(sync::VerifyTreeHead(key.get(), head.tree_head()).ok());

  const std::string case_number = client.GetCase(case_id).case_().case_number();
  REQUIRE_FALSE(case_number.empty());
  for (size_t i = 0; i < ids.size(); ++i) {
    v1::EvidenceReceipt receipt;
    grpc::Status s = evidence.Receipt(ids[i], &receipt);
    INFO(s.error_message());
    REQUIRE(s.ok());
    REQUIRE(receipt.leaf_index() == i);
    REQUIRE(receipt.tree_head().tree_size() == 5);
    const std::string content = RandomBytes(100 + i, static_cast<uint32_t>(100 + i));
    sync::FileFacts file{sync::Sha256::Of(content), content.size()};
    absl::Status verified = sync::VerifyEvidenceReceipt(key.get(), receipt, file);
    INFO(verified.ToString());
    REQUIRE(verified.ok());
    auto entry = sync::DecodeEvidenceEntry(receipt.entry());
    REQUIRE(entry.ok());
    CHECK(entry->case_number == case_number);
    CHECK(entry->case_id.empty());
    CHECK(entry->evidence_id == ids[i]);
    CHECK(entry->device_id == "dev-a1");
    CHECK(entry->officer_id == kOfficerA1);
    CHECK(entry->size == content.size());
    CHECK(entry->has_location);
    CHECK(entry->latitude == 30.6298);
    CHECK(entry->integrated_at_ms > 0);
  }

  v1::EvidenceReceipt none;
  grpc::Status unknown = evidence.Receipt("no-such-evidence", &none);
  REQUIRE(unknown.error_code() == grpc::StatusCode::NOT_FOUND);
  REQUIRE(unknown.error_message() ==
          "evidence no-such-evidence is not in the evidence log (not on record)");
}

TEST_CASE("a receipt asked for before any head covers it gets a freshly signed head") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  auto ids = RecordEvidence(client, 1);
  EvidenceClient evidence(client.channel);
  v1::EvidenceReceipt receipt;
  REQUIRE(evidence.Receipt(ids[0], &receipt).ok());
  REQUIRE(receipt.tree_head().tree_size() >= 1);
  auto key = PublicKey(evidence.TreeHead(false));
  REQUIRE(sync::VerifyEvidenceReceipt(key.get(), receipt, std::nullopt).ok());
}

TEST_CASE(
    "the evidence log and its key survive a restart: same root, and it keeps growing "
    "consistently") {
  TempDir dir;
  const std::string data = dir.File("data");
  v1::GetTreeHeadResponse before;
  {
    TestServer server(data);
    Client client(server.address());
    client.SetUpOrganisation();
    RecordEvidence(client, 7);
    before = EvidenceClient(client.channel).TreeHead(true);
  }
  TestServer server(data);
  Client client(server.address());
  EvidenceClient evidence(client.channel);
  auto after = evidence.TreeHead(true);
  REQUIRE(after.public_key_pem() == before.public_key_pem());
  REQUIRE(after.tree_head().tree_size() == 7);
  REQUIRE(after.tree_head().root_hash() == before.tree_head().root_hash());

  RecordEvidence(client, 6, 9);
  auto grown = evidence.TreeHead(true);
  REQUIRE(grown.tree_head().tree_size() == 13);
  std::vector<std::string> proof;
  REQUIRE(evidence.Consistency(7, 13, &proof).ok());
  REQUIRE_FALSE(proof.empty());
  absl::Status consistent =
      sync::VerifyConsistency(7, 13, *DigestFromBytes(before.tree_head().root_hash()),
                              *DigestFromBytes(grown.tree_head().root_hash()), Digests(proof));
  INFO(consistent.ToString());
  REQUIRE(consistent.ok());

  // A proof against another root does not verify.
  Sha256Digest wrong = *DigestFromBytes(before.tree_head().root_hash());
  wrong[0] ^= 1;
  REQUIRE_FALSE(sync::VerifyConsistency(
                    7, 13, wrong, *DigestFromBytes(grown.tree_head().root_hash()), Digests(proof))
                    .ok());

  grpc::Status beyond = evidence.Consistency(7, 14, &proof);
  REQUIRE(beyond.error_code() == grpc::StatusCode::OUT_OF_RANGE);
  REQUIRE(beyond.error_message() == "second_size 14 is beyond the log's 13 leaves");
  grpc::Status reversed = evidence.Consistency(8, 7, &proof);
  REQUIRE(reversed.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("signing a head publishes receipts to devices through pull") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  auto ids = RecordEvidence(client, 3);
  EvidenceClient evidence(client.channel);
  auto head = evidence.TreeHead(true);
  auto key = PublicKey(head);
  int with_receipt = 0;
  for (const auto& page : client.Pull("dev-a2", "")) {
    for (const auto& change : page.page().changes()) {
      if (!change.has_evidence()) continue;
      const v1::EvidenceReceipt& r = change.evidence().receipt();
      REQUIRE(r.evidence_id() == change.evidence().evidence_id());
      REQUIRE(r.tree_head().tree_size() == 3);
      REQUIRE(sync::VerifyEvidenceReceipt(key.get(), r, std::nullopt).ok());
      ++with_receipt;
    }
  }
  REQUIRE(with_receipt == 3);
}

TEST_CASE("tree heads are signed on a schedule once the log grew") {
  TempDir dir;
  palm::server::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.insecure_loopback = true;
  config.log_level = "error";
  config.data_dir = dir.File("data");
  config.tree_head_interval_ms = 50;
  auto started = palm::server::PalmServer::Start(config);
  REQUIRE(started.ok());
  Client client((*started)->address());
  client.SetUpOrganisation();
  RecordEvidence(client, 2);
  EvidenceClient evidence(client.channel);
  uint64_t size = 0;
  for (int i = 0; i < 100 && size < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    size = evidence.TreeHead(false).tree_head().tree_size();
  }
  REQUIRE(size == 2);
  (*started)->Shutdown(std::chrono::milliseconds(1000));
}

TEST_CASE("capture times ahead of the server or before the device's previous sync are flagged") {
  // A tolerance of 50 ms stands for the default five minutes.
  TestServer server("", /*max_clock_skew_ms=*/50);
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
  const int64_t first_sync = sync::SystemNowMs();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  std::string backdated_id, ahead_id, ok_id;
  const int64_t now = sync::SystemNowMs();
  auto response = client.PushBatch(
      "dev-a1", {AddEvidence("dev-a1", 2, case_id, "old", &backdated_id, first_sync - 3600 * 1000),
                 AddEvidence("dev-a1", 3, case_id, "ahead", &ahead_id, now + 3600 * 1000),
                 AddEvidence("dev-a1", 4, case_id, "fine", &ok_id, now)});
  for (const auto& r : response.results()) {
    INFO(r.message());
    REQUIRE(r.outcome() == v1::OUTCOME_APPLIED);
  }

  auto detail = client.GetCase(case_id);
  REQUIRE(detail.evidence_size() == 3);
  for (const auto& e : detail.evidence()) {
    INFO(e.evidence_id() << ": " << e.capture_time_flag());
    CHECK(e.integrated_at_ms() >= now);
    if (e.evidence_id() == ok_id) {
      CHECK_FALSE(e.capture_time_flagged());
      CHECK(e.capture_time_flag().empty());
    } else if (e.evidence_id() == ahead_id) {
      CHECK(e.capture_time_flagged());
      CHECK_THAT(e.capture_time_flag(),
                 Catch::Contains("after the server integrated it (allowed skew 50 ms)"));
    } else {
      CHECK(e.capture_time_flagged());
      CHECK_THAT(e.capture_time_flag(), Catch::Contains("before the device's previous push"));
    }
  }
}

}  // namespace
}  // namespace palm::testing
