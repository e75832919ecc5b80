// The link of a sync (client-lib/src/link.h): the byte budget halves after a
// message the link broke and doubles back after good ones, the backoff
// grows with jitter, only transient call failures are retried, and the
// retries stop at progress-less attempts, the deadline or a cancellation.
#include <catch2/catch.hpp>

#include <thread>

#include "client-lib/src/link.h"

namespace palm::testing {
namespace {

using internal::Backoff;
using internal::CallSlot;
using internal::IsTransient;
using internal::IsTransientCall;
using internal::kMaxAttemptsWithoutProgress;
using internal::LinkBudget;
using internal::MarkTransient;
using internal::RunWithRetries;
using internal::SyncLink;
using std::chrono::milliseconds;

constexpr size_t kKiB = 1024;

// Delivers `n` messages that fill the current budget.
void DeliverFull(LinkBudget& b, int n) {
  for (int i = 0; i < n; ++i) b.Delivered(b.bytes(), b.bytes());
}

TEST_CASE("the link budget starts at the ceiling, or where the last sync left it, clamped") {
  CHECK(LinkBudget().bytes() == LinkBudget::kCeiling);
  CHECK(LinkBudget::kCeiling == 1024 * kKiB);
  CHECK(LinkBudget(64 * kKiB).bytes() == 64 * kKiB);
  CHECK(LinkBudget(1).bytes() == LinkBudget::kFloor);
  CHECK(LinkBudget(100 * 1024 * kKiB).bytes() == LinkBudget::kCeiling);
}

TEST_CASE("the link budget halves after each cut message, down to the floor") {
  LinkBudget b;
  b.Cut(b.bytes());
  CHECK(b.bytes() == 512 * kKiB);
  b.Cut(b.bytes());
  CHECK(b.bytes() == 256 * kKiB);
  for (int i = 0; i < 20; ++i) b.Cut(b.bytes());
  CHECK(b.bytes() == LinkBudget::kFloor);
  CHECK(LinkBudget::kFloor == 4 * kKiB);
  // A message sized under an older, smaller budget halves that one.
  LinkBudget c(256 * kKiB);
  c.Cut(64 * kKiB);
  CHECK(c.bytes() == 32 * kKiB);
}

TEST_CASE("the link budget doubles after four full messages in a row, up to the ceiling") {
  LinkBudget b(16 * kKiB);
  DeliverFull(b, 3);
  CHECK(b.bytes() == 16 * kKiB);
  DeliverFull(b, 1);
  CHECK(b.bytes() == 32 * kKiB);
  DeliverFull(b, 4);
  CHECK(b.bytes() == 64 * kKiB);
  // Half full counts; a cut starts the count again.
  DeliverFull(b, 3);
  b.Cut(b.bytes());
  CHECK(b.bytes() == 32 * kKiB);
  DeliverFull(b, 3);
  CHECK(b.bytes() == 32 * kKiB);
  b.Delivered(32 * kKiB, 16 * kKiB);
  CHECK(b.bytes() == 64 * kKiB);
  DeliverFull(b, 40);
  CHECK(b.bytes() == LinkBudget::kCeiling);
}

TEST_CASE("small messages and messages under an older budget do not grow the link budget") {
  LinkBudget b(16 * kKiB);
  // Pages of a few changes say nothing about what the link carries.
  for (int i = 0; i < 20; ++i) b.Delivered(16 * kKiB, 2 * kKiB);
  CHECK(b.bytes() == 16 * kKiB);
  DeliverFull(b, 4);
  REQUIRE(b.bytes() == 32 * kKiB);
  // A stream opened at 16 KiB keeps sending 16 KiB pages: they proved 16
  // KiB, not 32.
  for (int i = 0; i < 20; ++i) b.Delivered(16 * kKiB, 16 * kKiB);
  CHECK(b.bytes() == 32 * kKiB);
}

TEST_CASE("the backoff doubles from 100 ms up to 2 s, each wait in the upper half of its range") {
  Backoff backoff;
  const int64_t tops[] = {100, 200, 400, 800, 1600, 2000, 2000};
  for (int64_t top : tops) {
    const int64_t wait = backoff.Next().count();
    CHECK(wait >= top / 2);
    CHECK(wait <= top);
  }
  backoff.Reset();
  const int64_t wait = backoff.Next().count();
  CHECK(wait >= 50);
  CHECK(wait <= 100);
}

TEST_CASE(
    "only a broken link, a busy server, a call's own deadline or gRPC's size limit is "
    "transient") {
  using grpc::StatusCode;
  CHECK(IsTransientCall(grpc::Status(StatusCode::UNAVAILABLE, "Socket closed")));
  CHECK(IsTransientCall(grpc::Status(StatusCode::ABORTED, "the store was busy")));
  CHECK(IsTransientCall(grpc::Status(StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded")));
  CHECK(IsTransientCall(grpc::Status(StatusCode::RESOURCE_EXHAUSTED,
                                     "Received message larger than max (5000000 vs. 4194304)")));
  CHECK_FALSE(IsTransientCall(
      grpc::Status(StatusCode::RESOURCE_EXHAUSTED, "the server's disk is full; nothing was kept")));
  CHECK_FALSE(IsTransientCall(grpc::Status(StatusCode::INVALID_ARGUMENT, "malformed request")));
  CHECK_FALSE(IsTransientCall(grpc::Status(StatusCode::PERMISSION_DENIED, "not your town")));
  CHECK_FALSE(IsTransientCall(grpc::Status(StatusCode::UNAUTHENTICATED, "revoked")));
  CHECK_FALSE(IsTransientCall(grpc::Status(StatusCode::FAILED_PRECONDITION, "stale")));
  CHECK_FALSE(IsTransientCall(grpc::Status(StatusCode::DATA_LOSS, "hash mismatch")));

  absl::Status marked = MarkTransient(absl::UnavailableError("pulling changes: Socket closed"));
  CHECK(IsTransient(marked));
  CHECK(marked.code() == absl::StatusCode::kUnavailable);
  CHECK(marked.message() == "pulling changes: Socket closed");
  CHECK_FALSE(IsTransient(absl::UnavailableError("not marked")));
  CHECK_FALSE(IsTransient(MarkTransient(absl::OkStatus())));
}

SyncLink::Clock::time_point In(milliseconds d) { return SyncLink::Clock::now() + d; }

TEST_CASE("a transient failure is retried and counted, a refusal is returned at once") {
  SyncLink link(In(milliseconds(60000)));
  int calls = 0;
  absl::Status s = RunWithRetries(link, [&](bool*) {
    return ++calls < 3 ? MarkTransient(absl::UnavailableError("cut")) : absl::OkStatus();
  });
  CHECK(s.ok());
  CHECK(calls == 3);
  CHECK(link.retries == 2);

  calls = 0;
  s = RunWithRetries(link, [&](bool*) {
    ++calls;
    return absl::InvalidArgumentError("cursor: malformed");
  });
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() == "cursor: malformed");
  CHECK(calls == 1);
  CHECK(link.retries == 2);
}

TEST_CASE(
    "retries stop after eight attempts in a row without progress, and progress resets the "
    "count") {
  SyncLink link(SyncLink::Clock::time_point::max());
  int calls = 0;
  absl::Status s = RunWithRetries(link, [&](bool* progressed) {
    ++calls;
    // The first three attempts each keep something, then none does.
    *progressed = calls <= 3;
    return MarkTransient(absl::UnavailableError("pulling changes: Socket closed"));
  });
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(s.message() == "pulling changes: Socket closed");
  CHECK(calls == 3 + kMaxAttemptsWithoutProgress - 1);
  CHECK(kMaxAttemptsWithoutProgress == 8);
  CHECK(link.retries == static_cast<uint64_t>(calls - 1));
}

TEST_CASE("no retry waits past the sync's deadline: the last failure is returned") {
  SyncLink link(In(milliseconds(30)));
  int calls = 0;
  absl::Status s = RunWithRetries(link, [&](bool*) {
    ++calls;
    return MarkTransient(absl::UnavailableError("reading reference data: Connection refused"));
  });
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(s.message() == "reading reference data: Connection refused");
  // The first wait (50..100 ms) already ends past the deadline.
  CHECK(calls == 1);
  CHECK(link.retries == 0);
}

TEST_CASE("a cancellation ends the wait between two attempts") {
  SyncLink link(SyncLink::Clock::time_point::max());
  int calls = 0;
  std::thread canceller;
  absl::Status s = RunWithRetries(link, [&](bool*) {
    if (++calls == 3) canceller = std::thread([&] { link.slot.Cancel(); });
    return MarkTransient(absl::UnavailableError("cut"));
  });
  canceller.join();
  CHECK(s.code() == absl::StatusCode::kCancelled);
  CHECK(s.message() == "the sync was cancelled; what was done is kept and the next sync resumes");
  CHECK(calls == 3);
  CHECK(link.slot.cancelled());
  // Once cancelled, waits end at once.
  CHECK_FALSE(link.slot.SleepFor(milliseconds(60000)));
}

}  // namespace
}  // namespace palm::testing
