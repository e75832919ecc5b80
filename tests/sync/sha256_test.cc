#include "sync/sha256.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

namespace palm::sync {
namespace {

constexpr char kAbcHex[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kEmptyHex[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::filesystem::path TempPath(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         (name + "." + std::to_string(static_cast<long>(::getpid())));
}

TEST_CASE("sha256 matches the FIPS 180-2 known answers", "[sha256]") {
  CHECK(HexEncode(Sha256::Of("abc")) == kAbcHex);
  CHECK(HexEncode(Sha256::Of("")) == kEmptyHex);
  Sha256 incremental;
  incremental.Update("a", 1);
  incremental.Update(nullptr, 0);
  incremental.Update("bc", 2);
  CHECK(HexEncode(incremental.Final()) == kAbcHex);
}

TEST_CASE("a hex digest decodes back, in either case", "[sha256]") {
  auto digest = HexDecodeDigest(kAbcHex);
  REQUIRE(digest.ok());
  CHECK(*digest == Sha256::Of("abc"));
  auto upper = HexDecodeDigest("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  REQUIRE(upper.ok());
  CHECK(*upper == *digest);
  CHECK(IsLowerHexSha256(kAbcHex));
  CHECK_FALSE(IsLowerHexSha256("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
}

TEST_CASE("a malformed hex digest is refused with the reason", "[sha256]") {
  auto short_hex = HexDecodeDigest("abc");
  CHECK(short_hex.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(short_hex.status().message() == "a SHA-256 digest is 64 hex characters, got 3");
  std::string bad(kAbcHex);
  bad[10] = 'x';
  auto not_hex = HexDecodeDigest(bad);
  CHECK(not_hex.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(not_hex.status().message() ==
        "a SHA-256 digest is hex, but character 10 is not a hex digit");
}

TEST_CASE("digests convert to and from raw bytes", "[sha256]") {
  const Sha256Digest digest = Sha256::Of("abc");
  CHECK(DigestBytes(digest).size() == 32);
  auto back = DigestFromBytes(DigestBytes(digest));
  REQUIRE(back.ok());
  CHECK(*back == digest);
  CHECK(DigestFromBytes("short").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("hashing a file gives its known digest and size", "[sha256]") {
  const auto path = TempPath("palm-sha256-abc");
  {
    std::ofstream out(path, std::ios::binary);
    out << "abc";
  }
  auto digest = Sha256File(path.string());
  std::filesystem::remove(path);
  REQUIRE(digest.ok());
  CHECK(digest->sha256_hex == kAbcHex);
  CHECK(digest->size == 3);
}

TEST_CASE("hashing a file larger than the buffer equals hashing it in memory", "[sha256]") {
  const auto path = TempPath("palm-sha256-big");
  std::string content;
  content.reserve(3 * 1024 * 1024 + 17);
  for (size_t i = 0; i < 3 * 1024 * 1024 + 17; ++i) content.push_back(static_cast<char>(i * 31));
  {
    std::ofstream out(path, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  auto digest = Sha256File(path.string());
  std::filesystem::remove(path);
  REQUIRE(digest.ok());
  CHECK(digest->sha256_hex == HexEncode(Sha256::Of(content)));
  CHECK(digest->size == content.size());

  std::istringstream in(content);
  auto streamed = Sha256Stream(in);
  REQUIRE(streamed.ok());
  CHECK(streamed->sha256_hex == digest->sha256_hex);
  CHECK(streamed->size == content.size());
}

TEST_CASE("hashing a missing file is NOT_FOUND naming the path", "[sha256]") {
  const std::string path = TempPath("palm-sha256-missing").string();
  auto digest = Sha256File(path);
  CHECK(digest.status().code() == absl::StatusCode::kNotFound);
  CHECK(digest.status().message() == "cannot open " + path + ": No such file or directory");
}

TEST_CASE("hashing a directory is refused naming the path", "[sha256]") {
  const std::string path = std::filesystem::temp_directory_path().string();
  auto digest = Sha256File(path);
  CHECK_FALSE(digest.ok());
  CHECK(digest.status().message().find(path) != absl::string_view::npos);
}

TEST_CASE("hashing an empty stream gives the empty digest", "[sha256]") {
  std::istringstream in("");
  auto digest = Sha256Stream(in);
  REQUIRE(digest.ok());
  CHECK(digest->sha256_hex == kEmptyHex);
  CHECK(digest->size == 0);
}

}  // namespace
}  // namespace palm::sync
