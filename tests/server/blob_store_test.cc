// BlobStore (server/blob_store.h): partial files written with O_DIRECT and
// hashed as they arrive, resumed at any offset, committed only when the
// content hashes to its name. Runs on the temp dir's file system (O_DIRECT)
// and on tmpfs when /dev/shm is one (buffered where O_DIRECT is refused).
#include "server/blob_store.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "server/evidence_util.h"
#include "support/temp_dir.h"

namespace palm::testing {
namespace {

namespace fs = std::filesystem;
using server::BlobStore;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A store under a fresh directory of the temp dir, or of /dev/shm.
struct StoreFixture {
  explicit StoreFixture(bool on_shm) {
    if (on_shm) {
      std::string pattern = "/dev/shm/palm-blob-XXXXXX";
      if (mkdtemp(pattern.data()) != nullptr) shm = pattern;
    }
    root = (shm.empty() ? temp.path().string() : shm) + "/evidence";
    store = std::make_unique<BlobStore>(root);
  }
  ~StoreFixture() {
    std::error_code ignored;
    if (!shm.empty()) fs::remove_all(shm, ignored);
  }
  std::unique_ptr<BlobStore::Partial> Open(const std::string& sha, uint64_t offset) {
    auto partial = store->OpenPartial(sha, offset);
    INFO(partial.status().ToString());
    REQUIRE(partial.ok());
    return std::move(*partial);
  }
  // Appends content[from, to) in `chunk`-byte pieces.
  static void Append(BlobStore::Partial& partial, const std::string& content, size_t from,
                     size_t to, size_t chunk) {
    for (size_t at = from; at < to; at += chunk) {
      absl::Status s =
          partial.Append(absl::string_view(content).substr(at, std::min(chunk, to - at)));
      INFO(s.ToString());
      REQUIRE(s.ok());
    }
  }

  TempDir temp;
  std::string shm;
  std::string root;
  std::unique_ptr<BlobStore> store;
};

TEST_CASE("an upload resumed at an unaligned offset commits the exact content under its hash") {
  const bool on_shm = GENERATE(false, true);
  const uint64_t resume_at =
      GENERATE(uint64_t{100}, uint64_t{1024 * 1024 + 123}, BlobStore::kSyncEveryBytes,
               BlobStore::kSyncEveryBytes + 3 * 4096 + 1);
  INFO("tmpfs " << on_shm << ", resumed at " << resume_at);
  StoreFixture f(on_shm);
  const std::string content = RandomBytes(2 * BlobStore::kSyncEveryBytes + 4567, 11);
  const std::string sha = Sha256Hex(content);

  {
    // More than is kept: the resume drops the bytes past its offset.
    auto partial = f.Open(sha, 0);
    StoreFixture::Append(*partial, content, 0, resume_at + 50000, 10007);
    REQUIRE(partial->Sync().ok());
  }
  REQUIRE(*f.store->DurableOffset(sha) == resume_at + 50000);
  auto partial = f.Open(sha, resume_at);
  REQUIRE(partial->size() == resume_at);
  REQUIRE(fs::file_size(f.store->PartialPath(sha)) == resume_at);
  StoreFixture::Append(*partial, content, resume_at, content.size(), 65536);

  absl::Status s = f.store->Commit(sha, std::move(partial));
  INFO(s.ToString());
  REQUIRE(s.ok());
  REQUIRE(f.store->Has(sha));
  REQUIRE(ReadAll(f.store->FinalPath(sha)) == content);
  REQUIRE_FALSE(fs::exists(f.store->PartialPath(sha)));
}

TEST_CASE("a wrong byte after a resume is DATA_LOSS and nothing is kept") {
  const bool on_shm = GENERATE(false, true);
  StoreFixture f(on_shm);
  const std::string content = RandomBytes(3 * 1024 * 1024 + 17, 12);
  const std::string sha = Sha256Hex(content);
  const uint64_t resume_at = 1024 * 1024 + 123;
  {
    auto partial = f.Open(sha, 0);
    StoreFixture::Append(*partial, content, 0, resume_at, 65536);
  }
  std::string forged = content;
  forged[resume_at + 5000] ^= 0x01;
  auto partial = f.Open(sha, resume_at);
  StoreFixture::Append(*partial, forged, resume_at, forged.size(), 65536);

  absl::Status s = f.store->Commit(sha, std::move(partial));
  REQUIRE(s.code() == absl::StatusCode::kDataLoss);
  REQUIRE(s.message() == "content does not match its recorded SHA-256 " + sha + " (the " +
                             std::to_string(forged.size()) + " bytes received hash to " +
                             Sha256Hex(forged) + "); nothing was kept");
  REQUIRE_FALSE(f.store->Has(sha));
  REQUIRE_FALSE(fs::exists(f.store->PartialPath(sha)));
  REQUIRE(*f.store->DurableOffset(sha) == 0);
}

TEST_CASE("Sync after an unaligned tail leaves the file holding exactly the bytes appended") {
  const bool on_shm = GENERATE(false, true);
  StoreFixture f(on_shm);
  const std::string content = RandomBytes(BlobStore::kSyncEveryBytes + 3 * 4096 + 5, 13);
  const std::string sha = Sha256Hex(content);
  auto partial = f.Open(sha, 0);
  const std::string path = f.store->PartialPath(sha);

  // A tail inside the first block, one past a whole block, then a tail left
  // after the staging buffer filled and was written.
  for (size_t end : {size_t{17}, size_t{3 * 4096 + 5}, size_t{3 * 4096 + 5000},
                     static_cast<size_t>(content.size())}) {
    StoreFixture::Append(*partial, content, partial->size(), end, 100003);
    REQUIRE(partial->size() == end);
    REQUIRE(partial->Sync().ok());
    INFO("after " << end << " bytes");
    REQUIRE(fs::file_size(path) == end);
    REQUIRE(ReadAll(path) == content.substr(0, end));
    REQUIRE(*f.store->DurableOffset(sha) == end);
  }
  REQUIRE(f.store->Commit(sha, std::move(partial)).ok());
  REQUIRE(ReadAll(f.store->FinalPath(sha)) == content);
}

TEST_CASE("the durable offset of an open upload counts the bytes it has staged") {
  StoreFixture f(false);
  const std::string content = RandomBytes(1024 * 1024 + 77, 15);
  const std::string sha = Sha256Hex(content);
  auto partial = f.Open(sha, 0);
  StoreFixture::Append(*partial, content, 0, content.size(), 65536);
  REQUIRE(*f.store->DurableOffset(sha) == content.size());
  REQUIRE(ReadAll(f.store->PartialPath(sha)) == content);
  partial.reset();
  // Closed, the file alone answers.
  REQUIRE(*f.store->DurableOffset(sha) == content.size());
}

TEST_CASE("resuming beyond what the partial file holds is refused") {
  StoreFixture f(false);
  const std::string content = RandomBytes(10000, 14);
  const std::string sha = Sha256Hex(content);
  {
    auto partial = f.Open(sha, 0);
    StoreFixture::Append(*partial, content, 0, 5000, 4096);
  }
  auto partial = f.store->OpenPartial(sha, 5001);
  REQUIRE(partial.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(partial.status().message() ==
          "the upload starts at offset 5001 but the server holds 5000 bytes of " + sha +
              "; resume from GetUploadOffset");
}

}  // namespace
}  // namespace palm::testing
