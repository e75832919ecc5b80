#include "sync/hlc.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace palm::sync {

palm::v1::Hlc HlcStamp::ToProto() const {
  palm::v1::Hlc hlc;
  hlc.set_wall_ms(wall_ms);
  hlc.set_logical(logical);
  return hlc;
}

HlcStamp HlcStamp::FromProto(const palm::v1::Hlc& hlc) {
  return HlcStamp{hlc.wall_ms(), hlc.logical()};
}

std::string HlcStamp::ToString() const { return absl::StrCat(wall_ms, ".", logical); }

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// The stamp immediately after `s`. The logical counter overflowing would
// need four billion events in one millisecond; should it happen, borrow the
// next millisecond rather than wrap.
HlcStamp Successor(const HlcStamp& s) {
  if (s.logical == std::numeric_limits<uint32_t>::max()) return HlcStamp{s.wall_ms + 1, 0};
  return HlcStamp{s.wall_ms, s.logical + 1};
}

}  // namespace

HybridClock::HybridClock(NowFn now) : now_(std::move(now)) {}

HlcStamp HybridClock::Now() {
  const int64_t physical = now_();
  last_ = physical > last_.wall_ms ? HlcStamp{physical, 0} : Successor(last_);
  return last_;
}

HlcStamp HybridClock::Observe(const HlcStamp& remote) {
  const int64_t physical = now_();
  const HlcStamp newest = std::max(last_, remote);
  last_ = physical > newest.wall_ms ? HlcStamp{physical, 0} : Successor(newest);
  return last_;
}

void HybridClock::Restore(const HlcStamp& last) { last_ = std::max(last_, last); }

bool HlcAfter(const HlcStamp& a, absl::string_view device_a, const HlcStamp& b,
              absl::string_view device_b) {
  if (a != b) return a > b;
  return device_a > device_b;
}

HlcStamp ClampHlc(const HlcStamp& s, int64_t server_now_ms, int64_t max_skew_ms, bool* clamped) {
  const int64_t limit = server_now_ms + max_skew_ms;
  const bool too_far = s.wall_ms > limit;
  if (clamped != nullptr) *clamped = too_far;
  return too_far ? HlcStamp{limit, 0} : s;
}

}  // namespace palm::sync
