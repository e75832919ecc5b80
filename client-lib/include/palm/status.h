// Errors are values. Every fallible call of Palm's C++ API returns a
// palm::Status or a palm::Result<T>; no exception crosses the API.
//
// A refusal carries three things: a canonical code (the gRPC codes, so an
// error means the same on the device and from the server), a machine reason
// such as "fine_over_limit" or "ticket_number_exhausted" that apps switch on,
// and a sentence an officer can act on.
//
// Status and Result are plain values: copyable, movable, and thread-compatible
// (distinct objects may be used from distinct threads freely).
#ifndef PALM_STATUS_H_
#define PALM_STATUS_H_

#include <optional>
#include <string>
#include <utility>

#include "palm/export.h"

namespace palm {

// The canonical status codes, with the numbers gRPC uses.
enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Returns the upper-case name of `code`, e.g. "FAILED_PRECONDITION". The
// returned string is static.
PALM_EXPORT const char* StatusCodeName(StatusCode code);

class Status {
 public:
  // An OK status.
  Status() = default;
  // A status with `code`, a machine `reason` (may be empty) and `message`.
  Status(StatusCode code, std::string reason, std::string message)
      : code_(code), reason_(std::move(reason)), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // Machine reason, e.g. "fine_over_limit"; empty when OK or when the error
  // has no specific reason.
  const std::string& reason() const { return reason_; }
  // A sentence for people; empty when OK.
  const std::string& message() const { return message_; }

  // Returns e.g. "INVALID_ARGUMENT [fine_over_limit]: fine 250 yuan ...", or "OK".
  PALM_EXPORT std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string reason_;
  std::string message_;
};

// Either a value of type T or a non-OK Status.
template <typename T>
class Result {
 public:
  // Holds `value`.
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // Holds `status`, which must not be OK (an OK status without a value is
  // turned into an INTERNAL error).
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "", "Result without a value");
  }

  bool ok() const { return value_.has_value(); }
  // OK when a value is held.
  const Status& status() const { return status_; }

  // The value. Must only be called when ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace palm

#endif  // PALM_STATUS_H_
