#include "sync/hlc.h"

#include <catch2/catch.hpp>

namespace palm::sync {
namespace {

TEST_CASE("a clock stamps with physical time while it moves forward", "[hlc]") {
  int64_t now = 1000;
  HybridClock clock([&] { return now; });
  CHECK(clock.Now() == HlcStamp{1000, 0});
  now = 1005;
  CHECK(clock.Now() == HlcStamp{1005, 0});
  CHECK(clock.last() == HlcStamp{1005, 0});
}

TEST_CASE("stamps stay strictly increasing within one millisecond", "[hlc]") {
  HybridClock clock([] { return int64_t{1000}; });
  CHECK(clock.Now() == HlcStamp{1000, 0});
  CHECK(clock.Now() == HlcStamp{1000, 1});
  CHECK(clock.Now() == HlcStamp{1000, 2});
}

TEST_CASE("stamps stay monotonic when the physical clock goes backwards", "[hlc]") {
  int64_t now = 5000;
  HybridClock clock([&] { return now; });
  HlcStamp previous = clock.Now();
  for (int step = 0; step < 100; ++step) {
    now = (step % 3 == 0) ? now - 700 : now + 100;  // mostly backwards in total
    const HlcStamp next = clock.Now();
    CHECK(next > previous);
    CHECK(next.wall_ms >= now);
    previous = next;
  }
  CHECK(previous.wall_ms == 5000);  // never ahead of the highest physical time seen
}

TEST_CASE("observing a remote stamp ahead moves the clock past it", "[hlc]") {
  int64_t now = 1000;
  HybridClock clock([&] { return now; });
  clock.Now();
  const HlcStamp received = clock.Observe(HlcStamp{9000, 4});
  CHECK(received == HlcStamp{9000, 5});
  CHECK(clock.Now() == HlcStamp{9000, 6});
  now = 9500;
  CHECK(clock.Now() == HlcStamp{9500, 0});
}

TEST_CASE("observing a remote stamp behind keeps the local clock", "[hlc]") {
  HybridClock clock([] { return int64_t{2000}; });
  CHECK(clock.Observe(HlcStamp{1500, 9}) == HlcStamp{2000, 0});
  CHECK(clock.Observe(HlcStamp{1500, 9}) == HlcStamp{2000, 1});
}

TEST_CASE("a restored clock continues after the persisted stamp", "[hlc]") {
  HybridClock clock([] { return int64_t{100}; });
  clock.Restore(HlcStamp{7000, 3});
  CHECK(clock.Now() == HlcStamp{7000, 4});
  clock.Restore(HlcStamp{10, 0});  // never backwards
  CHECK(clock.Now() == HlcStamp{7000, 5});
}

TEST_CASE("stamps round-trip through the wire form and print readably", "[hlc]") {
  const HlcStamp stamp{1767225600000, 3};
  CHECK(HlcStamp::FromProto(stamp.ToProto()) == stamp);
  CHECK(stamp.ToString() == "1767225600000.3");
}

TEST_CASE("the total order breaks equal stamps by device id", "[hlc]") {
  const HlcStamp a{1000, 1};
  const HlcStamp b{1000, 2};
  CHECK(HlcAfter(b, "dev-a", a, "dev-z"));
  CHECK_FALSE(HlcAfter(a, "dev-z", b, "dev-a"));
  CHECK(HlcAfter(a, "dev-b", a, "dev-a"));
  CHECK_FALSE(HlcAfter(a, "dev-a", a, "dev-b"));
  CHECK_FALSE(HlcAfter(a, "dev-a", a, "dev-a"));
  CHECK(HlcAfter(HlcStamp{1001, 0}, "a", HlcStamp{1000, 99}, "z"));
}

TEST_CASE("a stamp too far ahead of the server is clamped and flagged", "[hlc]") {
  bool clamped = false;
  CHECK(ClampHlc(HlcStamp{100000, 7}, 1000, 60000, &clamped) == HlcStamp{61000, 0});
  CHECK(clamped);
  CHECK(ClampHlc(HlcStamp{61000, 7}, 1000, 60000, &clamped) == HlcStamp{61000, 7});
  CHECK_FALSE(clamped);
  CHECK(ClampHlc(HlcStamp{500, 1}, 1000, 60000, nullptr) == HlcStamp{500, 1});
}

}  // namespace
}  // namespace palm::sync
