#include "client-lib/src/link.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"

namespace palm::internal {
namespace {

constexpr char kTransientPayload[] = "palm.client.TransientCall";

}  // namespace

// --- CallSlot ----------------------------------------------------------------

void CallSlot::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  if (ctx_ != nullptr) ctx_->TryCancel();
  woken_.notify_all();
}

bool CallSlot::cancelled() {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

bool CallSlot::SleepFor(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  return !woken_.wait_for(lock, delay, [this] { return cancelled_; });
}

CallSlot::Scope::Scope(CallSlot& slot, grpc::ClientContext* ctx) : slot_(slot) {
  std::lock_guard<std::mutex> lock(slot_.mu_);
  slot_.ctx_ = ctx;
  if (slot_.cancelled_) ctx->TryCancel();
}

CallSlot::Scope::~Scope() {
  std::lock_guard<std::mutex> lock(slot_.mu_);
  slot_.ctx_ = nullptr;
}

// --- LinkBudget --------------------------------------------------------------

LinkBudget::LinkBudget(size_t initial)
    : bytes_(initial == 0 ? kCeiling : std::clamp(initial, kFloor, kCeiling)) {}

void LinkBudget::Delivered(size_t budget, size_t size) {
  // Only a message sized under the current budget, and big enough to have
  // tested it, says that the link carries that much.
  if (budget < bytes_ || size * 2 < bytes_) return;
  if (++streak_ < kGrowAfter) return;
  bytes_ = std::min(kCeiling, bytes_ * 2);
  streak_ = 0;
}

void LinkBudget::Cut(size_t budget) {
  bytes_ = std::max(kFloor, std::min(bytes_, budget) / 2);
  streak_ = 0;
}

// --- Backoff -----------------------------------------------------------------

Backoff::Backoff() : rng_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::Next() {
  const int64_t top = next_.count();
  next_ = std::min(kMax, next_ * 2);
  std::uniform_int_distribution<int64_t> jitter(top / 2, top);
  return std::chrono::milliseconds(jitter(rng_));
}

// --- Transient failures ------------------------------------------------------

bool IsTransientCall(const grpc::Status& s) {
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return true;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      // gRPC's own words for a message over the limit ("Received message
      // larger than max", "Sent message larger than max"); the server's
      // full disk says otherwise and is not retried.
      return absl::StrContains(s.error_message(), "message larger than max");
    default:
      return false;
  }
}

absl::Status MarkTransient(absl::Status s) {
  if (!s.ok()) s.SetPayload(kTransientPayload, absl::Cord());
  return s;
}

bool IsTransient(const absl::Status& s) {
  return !s.ok() && s.GetPayload(kTransientPayload).has_value();
}

absl::Status SyncCancelled() {
  return absl::CancelledError(
      "the sync was cancelled; what was done is kept and the next sync resumes");
}

// --- Retries -----------------------------------------------------------------

absl::Status RunWithRetries(SyncLink& link,
                            absl::FunctionRef<absl::Status(bool* progressed)> attempt) {
  Backoff backoff;
  int without_progress = 0;
  for (;;) {
    bool progressed = false;
    absl::Status s = attempt(&progressed);
    if (s.ok() || !IsTransient(s)) return s;
    if (progressed) {
      backoff.Reset();
      without_progress = 0;
    }
    if (++without_progress >= kMaxAttemptsWithoutProgress) return s;
    const std::chrono::milliseconds wait = backoff.Next();
    // The sync's time would be spent waiting: say what failed, not that
    // time ran out.
    if (SyncLink::Clock::now() + wait >= link.deadline) return s;
    if (!link.slot.SleepFor(wait)) return SyncCancelled();
    ++link.retries;
  }
}

}  // namespace palm::internal
