// How one sync gets through a link that breaks (docs/protocol.md, "Bad
// links"): the call in flight, which a cancellation reaches; the byte budget
// of the sync's large messages, which adapts to what the link carries
// between two breaks; and retries of failed calls, with backoff, inside the
// sync's deadline. Internal to client-lib.
#ifndef PALM_CLIENT_LINK_H_
#define PALM_CLIENT_LINK_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <random>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "sync/limits.h"

namespace palm::internal {

// The one call of a sync in flight, so that a cancellation from another
// thread can reach it, and the waits between attempts. Thread-safe.
class CallSlot {
 public:
  // Cancels the call in flight and every later one, and ends a wait.
  void Cancel();
  bool cancelled();

  // Waits `delay`, or less when cancelled; returns false when cancelled.
  bool SleepFor(std::chrono::milliseconds delay);

  // RAII: `ctx` is the call in flight for the scope's lifetime.
  class Scope {
   public:
    Scope(CallSlot& slot, grpc::ClientContext* ctx);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    CallSlot& slot_;
  };

 private:
  std::mutex mu_;
  std::condition_variable woken_;
  grpc::ClientContext* ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// The size of the next large message of a sync — a pull page, a push
// batch, an upload chunk, a part of the reference data — in bytes. A
// message that does not arrive whole (the link broke while it travelled)
// halves the budget of the message that failed, down to kFloor; after
// kGrowAfter messages in a row that arrived whole under the current budget
// and filled at least half of it, the budget doubles, up to kCeiling. A
// single entity larger than the budget still travels (a page, a batch, a
// part always carries at least one). Thread-compatible.
class LinkBudget {
 public:
  static constexpr size_t kFloor = 4 * 1024;
  static constexpr size_t kCeiling = sync::kMaxPullPageBytes;
  static constexpr int kGrowAfter = 4;

  // Starts at `initial`, clamped to [kFloor, kCeiling]; 0 means kCeiling
  // (a link not yet known to break).
  explicit LinkBudget(size_t initial = 0);

  // The budget for the next message.
  size_t bytes() const { return bytes_; }

  // A message sent under `budget` (what bytes() said when it was sized)
  // arrived whole, `size` bytes long.
  void Delivered(size_t budget, size_t size);

  // A message sent under `budget` did not arrive whole.
  void Cut(size_t budget);

 private:
  size_t bytes_;
  int streak_ = 0;
};

// The wait before each retry: 100 ms, doubling up to 2 s, each drawn at
// random from the upper half of its range (jitter, so that devices cut off
// together do not come back together). Reset() after progress.
class Backoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{100};
  static constexpr std::chrono::milliseconds kMax{2000};

  Backoff();
  std::chrono::milliseconds Next();
  void Reset() { next_ = kFirst; }

 private:
  std::chrono::milliseconds next_ = kFirst;
  std::minstd_rand rng_;
};

// True when a call that failed with `s` is worth another attempt on a new
// connection: UNAVAILABLE (the link broke, the server is restarting),
// ABORTED (the server's store was busy, or another stream of this content
// is still open), DEADLINE_EXCEEDED (the call's own; the caller rules out a
// spent sync deadline first) and RESOURCE_EXHAUSTED for a message over
// gRPC's size limit (a smaller budget fits). Never for a refusal
// (INVALID_ARGUMENT, PERMISSION_DENIED, ...) or a full disk.
bool IsTransientCall(const grpc::Status& s);

// `s`, marked as the failure of a call worth another attempt, and the test
// for that mark (a payload, so that the mark travels with the status).
absl::Status MarkTransient(absl::Status s);
bool IsTransient(const absl::Status& s);

// The status of a sync cancelled through its CancelToken.
absl::Status SyncCancelled();

// What the calls of one sync share. Used on the syncing thread; only
// slot.Cancel() may be called from another.
struct SyncLink {
  using Clock = std::chrono::system_clock;

  explicit SyncLink(Clock::time_point deadline, size_t initial_budget = 0)
      : budget(initial_budget), deadline(deadline) {}

  CallSlot slot;
  LinkBudget budget;
  const Clock::time_point deadline;
  // Attempts made again after a transient failure (SyncReport::retries).
  uint64_t retries = 0;
};

// Attempts without progress after which a transient failure is final:
// enough for the budget to halve from kCeiling to kFloor, so that a link
// that carries only a few kilobytes is found within one sync.
inline constexpr int kMaxAttemptsWithoutProgress = 8;

// Runs `attempt` until it returns OK or a status not marked transient; a
// transient failure is tried again after a Backoff wait, unless the wait
// would end past link.deadline or kMaxAttemptsWithoutProgress attempts in a
// row made no progress: then that failure is returned. `attempt` sets
// *progressed when it kept something durable (a page applied, a batch
// answered, bytes the server holds), which resets the backoff and the count.
// CANCELLED (SyncCancelled) when the sync is cancelled during a wait.
absl::Status RunWithRetries(SyncLink& link,
                            absl::FunctionRef<absl::Status(bool* progressed)> attempt);

}  // namespace palm::internal

#endif  // PALM_CLIENT_LINK_H_
