// Control-flow helper for functions returning absl::Status (internal to
// palm_sync and its users; not part of the wire contract).
#ifndef PALM_SYNC_STATUS_MACROS_H_
#define PALM_SYNC_STATUS_MACROS_H_

#include "absl/status/status.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define PALM_RETURN_IF_ERROR(expr)                                  \
  do {                                                              \
    if (::absl::Status palm_status_ = (expr); !palm_status_.ok()) { \
      return palm_status_;                                          \
    }                                                               \
  } while (false)

#endif  // PALM_SYNC_STATUS_MACROS_H_
