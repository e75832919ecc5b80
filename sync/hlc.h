// Hybrid logical clocks (Kulkarni et al., "Logical Physical Clocks", 2014).
//
// Every mutation a device makes carries an HLC stamp. Stamps order writes
// across devices whose wall clocks disagree: a stamp is never behind any stamp
// its clock has made or observed, and it stays close to physical time. The
// server merges case fields last-writer-wins by (stamp, device id).
#ifndef PALM_SYNC_HLC_H_
#define PALM_SYNC_HLC_H_

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "palm/v1/common.pb.h"

namespace palm::sync {

// One HLC stamp. Ordered by (wall_ms, logical); the device id breaks the
// remaining ties (see HlcAfter).
struct HlcStamp {
  int64_t wall_ms = 0;
  uint32_t logical = 0;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy misreads the defaulted operator.
  auto operator<=>(const HlcStamp&) const = default;

  // Returns the wire form of this stamp.
  palm::v1::Hlc ToProto() const;
  // Returns the stamp carried by `hlc`.
  static HlcStamp FromProto(const palm::v1::Hlc& hlc);
  // Returns a readable form for logs and messages, e.g. "1767225600000.3".
  std::string ToString() const;
};

// Returns the system's wall clock as Unix milliseconds.
int64_t SystemNowMs();

// A hybrid logical clock.
//
// Thread-compatible: const methods may be called concurrently, but callers
// must serialise Now(), Observe() and Restore() (the device store calls them
// under its write transaction, so it already does).
class HybridClock {
 public:
  using NowFn = std::function<int64_t()>;

  // Creates a clock reading physical time from `now` (Unix ms); tests pass a
  // fake. The clock starts at the zero stamp: call Restore() with the last
  // stamp persisted by a store before issuing new stamps.
  explicit HybridClock(NowFn now = SystemNowMs);

  // Returns a stamp for a local or send event: strictly greater than every
  // stamp this clock returned or observed before, even if the physical clock
  // went backwards, and with wall_ms = physical time whenever that is ahead.
  HlcStamp Now();

  // Merges a stamp received from elsewhere and returns a stamp for the
  // receive event: strictly greater than both `remote` and every earlier
  // stamp of this clock. A remote stamp far ahead pulls this clock ahead
  // too; callers that do not trust the sender clamp it first (ClampHlc).
  HlcStamp Observe(const HlcStamp& remote);

  // Returns the last stamp returned by Now() or Observe(), or restored.
  HlcStamp last() const { return last_; }

  // Sets the clock so that subsequent stamps are greater than `last`; used
  // after reopening a store. Never moves the clock backwards.
  void Restore(const HlcStamp& last);

 private:
  NowFn now_;
  HlcStamp last_;
};

// Returns true when stamp `a` made by `device_a` is later than stamp `b` made
// by `device_b` in Palm's total order: by stamp, then by device id (bytewise).
// Equal stamps from the same device are not later than each other.
bool HlcAfter(const HlcStamp& a, absl::string_view device_a, const HlcStamp& b,
              absl::string_view device_b);

// Returns `s`, unless it is more than `max_skew_ms` ahead of `server_now_ms`:
// then returns {server_now_ms + max_skew_ms, 0}. Sets *clamped (if not null)
// to whether it clamped. Protects last-writer-wins from a device whose clock
// is set years ahead.
HlcStamp ClampHlc(const HlcStamp& s, int64_t server_now_ms, int64_t max_skew_ms, bool* clamped);

}  // namespace palm::sync

#endif  // PALM_SYNC_HLC_H_
