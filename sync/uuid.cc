#include "sync/uuid.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <mutex>

#include "absl/strings/ascii.h"
#include "sync/hlc.h"
#include "sync/random.h"
#include "sync/sha256.h"

namespace palm::sync {
namespace {

constexpr int64_t kMaxUnixMs = (int64_t{1} << 48) - 1;

// Monotonicity state (RFC 9562 §6.2 method 1, "fixed bit-length dedicated
// counter"): the 12-bit rand_a field is a counter seeded randomly at each new
// newest millisecond and incremented for further ids in that millisecond.
struct Monotonic {
  std::mutex mu;
  int64_t requested_ms = -1;  // newest time asked for; guarded by mu
  int64_t last_ms = -1;       // time in the last id; guarded by mu
  uint16_t counter = 0;       // counter in the last id; guarded by mu
};

Monotonic& State() {
  static Monotonic* state = new Monotonic;
  return *state;
}

}  // namespace

std::string NewUuidV7() { return NewUuidV7(SystemNowMs()); }

std::string NewUuidV7(int64_t unix_ms) {
  unix_ms = std::clamp<int64_t>(unix_ms, 0, kMaxUnixMs);
  std::array<uint8_t, 16> bytes;
  // The CSPRNG fails only when it cannot be seeded; an id made from
  // predictable bits would collide across devices, so do not carry on.
  if (!RandomBytes(bytes.data(), bytes.size())) std::abort();

  int64_t ms = unix_ms;
  // Seed with 11 random bits so there is room to count up.
  uint16_t counter = static_cast<uint16_t>(((bytes[6] << 8) | bytes[7]) & 0x7ff);
  {
    Monotonic& state = State();
    std::lock_guard<std::mutex> lock(state.mu);
    if (unix_ms >= state.requested_ms) {
      state.requested_ms = unix_ms;
      if (unix_ms > state.last_ms) {
        state.last_ms = unix_ms;
        state.counter = counter;
      } else if (state.counter < 0xfff) {
        ++state.counter;
      } else if (state.last_ms < kMaxUnixMs) {
        // Counter exhausted: borrow the next millisecond (RFC 9562 §6.2).
        ++state.last_ms;
        state.counter = 0;
      }
      ms = state.last_ms;
      counter = state.counter;
    }
    // An explicit time before the last one (a test clock, or the system
    // clock stepping back) gets a random counter and leaves the state alone:
    // the id carries the time it was asked for.
  }

  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  bytes[6] = static_cast<uint8_t>(0x70 | (counter >> 8));  // version 7
  bytes[7] = static_cast<uint8_t>(counter & 0xff);
  bytes[8] = static_cast<uint8_t>(0x80 | (bytes[8] & 0x3f));  // variant 10

  const std::string hex = HexEncode(bytes.data(), bytes.size());
  std::string text;
  text.reserve(36);
  text.append(hex, 0, 8).append("-");
  text.append(hex, 8, 4).append("-");
  text.append(hex, 12, 4).append("-");
  text.append(hex, 16, 4).append("-");
  text.append(hex, 20, 12);
  return text;
}

bool IsValidUuid(absl::string_view text) {
  if (text.size() != 36) return false;
  bool all_zero = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return false;
    } else if (c != '0') {
      all_zero = false;
    }
  }
  return !all_zero;
}

}  // namespace palm::sync
