#include "sync/uuid.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace palm::sync {
namespace {

TEST_CASE("a UUIDv7 is lowercase 8-4-4-4-12 with version 7 and variant 10", "[uuid]") {
  for (int i = 0; i < 100; ++i) {
    const std::string id = NewUuidV7();
    REQUIRE(id.size() == 36);
    CHECK(IsValidUuid(id));
    CHECK(id[8] == '-');
    CHECK(id[13] == '-');
    CHECK(id[18] == '-');
    CHECK(id[23] == '-');
    CHECK(id[14] == '7');
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);
    for (char c : id) CHECK((c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
  }
}

TEST_CASE("a UUIDv7 carries its millisecond timestamp in the first 48 bits", "[uuid]") {
  const std::string id = NewUuidV7(int64_t{0x0123456789ab});
  CHECK(id.substr(0, 8) == "01234567");
  CHECK(id.substr(9, 4) == "89ab");
}

TEST_CASE("UUIDv7s sort by time and are strictly increasing within a millisecond", "[uuid]") {
  CHECK(NewUuidV7(1000) < NewUuidV7(1001));
  // A time ahead of any other test's, so this one is the newest the process
  // has seen; 10000 ids also run the 12-bit counter over.
  constexpr int64_t kFuture = int64_t{0x0fffffffff00};
  std::string previous = NewUuidV7(kFuture);
  std::set<std::string> seen{previous};
  for (int i = 0; i < 10000; ++i) {
    const std::string next = NewUuidV7(kFuture);
    CHECK(next > previous);
    seen.insert(next);
    previous = next;
  }
  CHECK(seen.size() == 10001);
  CHECK(previous.substr(0, 8) == "0fffffff");
}

TEST_CASE("UUID syntax is checked in canonical form, any version, either case", "[uuid]") {
  CHECK(IsValidUuid("123e4567-e89b-12d3-a456-426614174000"));
  CHECK(IsValidUuid("123E4567-E89B-42D3-A456-426614174000"));
  CHECK_FALSE(IsValidUuid(""));
  CHECK_FALSE(IsValidUuid("00000000-0000-0000-0000-000000000000"));
  CHECK_FALSE(IsValidUuid("123e4567e89b12d3a456426614174000"));
  CHECK_FALSE(IsValidUuid("{123e4567-e89b-12d3-a456-426614174000}"));
  CHECK_FALSE(IsValidUuid("123e4567-e89b-12d3-a456-42661417400g"));
  CHECK_FALSE(IsValidUuid("123e4567-e89b-12d3-a456_426614174000"));
}

}  // namespace
}  // namespace palm::sync
