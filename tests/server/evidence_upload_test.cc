// Evidence file upload (issue 6): chunked, resumable after drops, verified
// against the recorded SHA-256 before it is acknowledged, stored once per
// content under the data dir.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/evidence_util.h"
#include "server/sync_util.h"

namespace palm::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) ++n;
  }
  return n;
}

struct UploadFixture {
  UploadFixture() : client(server.address()), evidence(client.channel) {
    client.SetUpOrganisation();
    client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
  }
  // Records evidence with `content` as the next mutation of dev-a1.
  std::string Record(const std::string& content) {
    std::string id;
    auto r = client.PushBatch("dev-a1", {AddEvidence("dev-a1", ++seq, case_id, content, &id)});
    REQUIRE(r.results(0).outcome() == v1::OUTCOME_APPLIED);
    return id;
  }
  const v1::Evidence& Stored(const std::string& id) {
    detail = client.GetCase(case_id);
    for (const auto& e : detail.evidence()) {
      if (e.evidence_id() == id) return e;
    }
    FAIL("evidence " << id << " not found");
    return detail.evidence(0);
  }
  std::string BlobPath(const std::string& sha) const {
    return server.config.data_dir + "/evidence/sha256/" + sha.substr(0, 2) + "/" + sha;
  }
  std::string PartialDir() const { return server.config.data_dir + "/evidence/partial"; }
  // Uploads `content` of evidence `id` from `offset` to the end; it must be
  // stored byte-for-byte under its hash, with no partial file left.
  void UploadRestFrom(const std::string& id, const std::string& content, uint64_t offset,
                      size_t chunk) {
    v1::UploadResponse response;
    grpc::Status s = evidence.UploadRetrying("dev-a1", id, content, offset, chunk, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
    REQUIRE(response.complete());
    REQUIRE(ReadAll(BlobPath(Sha256Hex(content))) == content);
    REQUIRE(CountFiles(PartialDir()) == 0);
    REQUIRE(Stored(id).uploaded());
  }

  TestServer server;
  Client client;
  EvidenceClient evidence;
  std::string case_id;
  uint64_t seq = 1;
  v1::CaseDetail detail;
};

TEST_CASE("a file uploads in chunks and is stored content-addressed once verified") {
  UploadFixture f;
  const std::string content = RandomBytes(3 * 1024 * 1024 + 17, 1);
  const std::string sha = Sha256Hex(content);
  const std::string id = f.Record(content);
  REQUIRE_FALSE(f.Stored(id).uploaded());

  v1::UploadResponse response;
  grpc::Status s = f.evidence.Upload("dev-a1", id, content, 0, 256 * 1024, &response);
  INFO(s.error_message());
  REQUIRE(s.ok());
  REQUIRE(response.complete());
  REQUIRE(response.sha256() == sha);
  REQUIRE(response.size() == content.size());
  REQUIRE(ReadAll(f.BlobPath(sha)) == content);
  REQUIRE(CountFiles(f.PartialDir()) == 0);
  REQUIRE(f.Stored(id).uploaded());
  auto offset = f.evidence.Offset("dev-a1", sha);
  REQUIRE(offset.complete());
  REQUIRE(offset.offset() == content.size());

  // Devices learn it through pull.
  bool pulled = false;
  for (const auto& page : f.client.Pull("dev-a2", "")) {
    for (const auto& change : page.page().changes()) {
      if (change.has_evidence() && change.evidence().evidence_id() == id) {
        pulled = change.evidence().uploaded();
      }
    }
  }
  REQUIRE(pulled);
}

TEST_CASE("an upload cut off three times resumes from GetUploadOffset and completes") {
  UploadFixture f;
  const std::string content = RandomBytes(4 * 1024 * 1024 + 3, 2);
  const std::string sha = Sha256Hex(content);
  const std::string id = f.Record(content);
  const size_t chunk = 64 * 1024;

  uint64_t offset = 0;
  std::vector<uint64_t> offsets;
  for (int drop = 0; drop < 3; ++drop) {
    v1::UploadResponse response;
    grpc::Status s = f.evidence.UploadRetrying("dev-a1", id, content, offset, chunk, &response,
                                               /*cut_after=*/16);
    REQUIRE(s.error_code() == grpc::StatusCode::CANCELLED);
    // The server may still be finishing the cut stream; its offset only grows.
    auto reported = f.evidence.Offset("dev-a1", sha);
    REQUIRE_FALSE(reported.complete());
    REQUIRE(reported.offset() >= offset);
    REQUIRE(reported.offset() < content.size());
    REQUIRE(reported.offset() % chunk == 0);
    offset = reported.offset();
    offsets.push_back(offset);
  }
  REQUIRE(offsets.back() > 0);
  f.UploadRestFrom(id, content, offset, chunk);
}

TEST_CASE("an upload cut at an offset inside a disk block resumes and completes byte-for-byte") {
  UploadFixture f;
  const std::string content = RandomBytes(9 * 1024 * 1024 + 5, 7);
  const std::string sha = Sha256Hex(content);
  const std::string id = f.Record(content);
  // No multiple of this chunk below the content's size is a multiple of 4096.
  const size_t chunk = 100003;

  uint64_t offset = 0;
  for (int drop = 0; drop < 5 && offset == 0; ++drop) {
    v1::UploadResponse response;
    grpc::Status s = f.evidence.UploadRetrying("dev-a1", id, content, 0, chunk, &response,
                                               /*cut_after=*/30);
    REQUIRE(s.error_code() == grpc::StatusCode::CANCELLED);
    // Once the server has finished the cut stream it holds whole chunks.
    for (int poll = 0; poll < 200 && offset == 0; ++poll) {
      const uint64_t held = f.evidence.Offset("dev-a1", sha).offset();
      if (held > 0 && held % chunk == 0) offset = held;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  REQUIRE(offset > 0);
  REQUIRE(offset % 4096 != 0);
  f.UploadRestFrom(id, content, offset, chunk);
}

TEST_CASE(
    "content that does not match its recorded SHA-256 is refused with DATA_LOSS and "
    "nothing is kept") {
  UploadFixture f;
  const std::string content = RandomBytes(300 * 1024, 3);
  const std::string sha = Sha256Hex(content);
  const std::string id = f.Record(content);
  std::string forged = content;
  forged[1000] ^= 0x01;

  v1::UploadResponse response;
  grpc::Status s =
      f.evidence.Upload("dev-a1", id, forged, 0, 64 * 1024, &response, 0, /*claimed=*/sha);
  REQUIRE(s.error_code() == grpc::StatusCode::DATA_LOSS);
  REQUIRE_THAT(s.error_message(),
               Catch::StartsWith("content does not match its recorded SHA-256 " + sha));
  REQUIRE_THAT(s.error_message(), Catch::EndsWith("nothing was kept"));
  REQUIRE_FALSE(fs::exists(f.BlobPath(sha)));
  REQUIRE(CountFiles(f.PartialDir()) == 0);
  REQUIRE(f.evidence.Offset("dev-a1", sha).offset() == 0);
  REQUIRE_FALSE(f.Stored(id).uploaded());

  // The genuine file still uploads afterwards.
  REQUIRE(f.evidence.Upload("dev-a1", id, content, 0, 64 * 1024, &response).ok());
  REQUIRE(response.complete());
}

TEST_CASE("the same content uploaded twice is stored once, and both records are uploaded") {
  UploadFixture f;
  const std::string content = RandomBytes(200 * 1024, 4);
  const std::string sha = Sha256Hex(content);
  const std::string first = f.Record(content);
  const std::string second = f.Record(content);

  v1::UploadResponse response;
  REQUIRE(f.evidence.Upload("dev-a1", first, content, 0, 64 * 1024, &response).ok());
  REQUIRE(response.complete());
  // The second upload is answered complete after its first chunk: nothing is written again.
  grpc::Status s = f.evidence.Upload("dev-a1", second, content, 0, 64 * 1024, &response);
  INFO(s.error_message());
  REQUIRE(s.ok());
  REQUIRE(response.complete());
  REQUIRE(CountFiles(f.server.config.data_dir + "/evidence/sha256") == 1);
  REQUIRE(f.Stored(first).uploaded());
  REQUIRE(f.Stored(second).uploaded());

  // Evidence recorded after the content arrived is uploaded at once.
  const std::string third = f.Record(content);
  REQUIRE(f.Stored(third).uploaded());
}

TEST_CASE("a file for evidence not on record, or with another hash, is refused") {
  UploadFixture f;
  const std::string content = RandomBytes(1000, 5);
  v1::UploadResponse response;
  grpc::Status s = f.evidence.Upload("dev-a1", "unknown-evidence", content, 0, 512, &response);
  REQUIRE(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE(s.error_message() ==
          "evidence unknown-evidence is not on record; push its add_evidence mutation before "
          "uploading its file");

  const std::string id = f.Record(content);
  const std::string other = RandomBytes(1000, 6);
  s = f.evidence.Upload("dev-a1", id, other, 0, 512, &response);
  REQUIRE(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE_THAT(s.error_message(), Catch::Contains("was recorded with SHA-256"));

  // Resuming beyond what the server holds is refused.
  s = f.evidence.Upload("dev-a1", id, content, 500, 512, &response);
  REQUIRE(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE_THAT(s.error_message(), Catch::Contains("but the server holds 0 bytes"));

  // A device is required, as for every device RPC (server/authz.h).
  grpc::ClientContext ctx;
  v1::GetUploadOffsetRequest request;
  request.set_sha256(Sha256Hex(content));
  v1::GetUploadOffsetResponse offset;
  grpc::Status no_device = f.evidence.stub->GetUploadOffset(&ctx, request, &offset);
  REQUIRE(no_device.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  REQUIRE(no_device.error_message() == "the call names no device (metadata x-palm-device-id)");
}

}  // namespace
}  // namespace palm::testing
