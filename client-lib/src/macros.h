// PALM_ASSIGN_OR_RETURN for absl::StatusOr, next to sync's PALM_RETURN_IF_ERROR.
#ifndef PALM_CLIENT_MACROS_H_
#define PALM_CLIENT_MACROS_H_

#include "sync/status_macros.h"

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

#endif  // PALM_CLIENT_MACROS_H_
