// The one set of control-flow helpers for absl::Status and absl::StatusOr,
// used by sync/, the server, the client library and the tools alike (not
// part of the wire contract or of the public headers).
#ifndef PALM_SYNC_STATUS_MACROS_H_
#define PALM_SYNC_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define PALM_RETURN_IF_ERROR(expr)                                  \
  do {                                                              \
    if (::absl::Status palm_status_ = (expr); !palm_status_.ok()) { \
      return palm_status_;                                          \
    }                                                               \
  } while (false)

#define PALM_CONCAT_INNER_(a, b) a##b
#define PALM_CONCAT_(a, b) PALM_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::StatusOr<T>); returns its status when not OK,
// otherwise moves the value into `lhs` (a declaration or an lvalue).
#define PALM_ASSIGN_OR_RETURN(lhs, expr) \
  PALM_ASSIGN_OR_RETURN_IMPL_(PALM_CONCAT_(palm_statusor_, __LINE__), lhs, expr)
#define PALM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#endif  // PALM_SYNC_STATUS_MACROS_H_
