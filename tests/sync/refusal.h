// Test helper: asserts that a status is a Palm refusal with the given code,
// reason and exact message.
#ifndef PALM_TESTS_SYNC_REFUSAL_H_
#define PALM_TESTS_SYNC_REFUSAL_H_

#include <catch2/catch.hpp>
#include <string>

#include "absl/status/status.h"
#include "sync/status.h"

#define CHECK_REFUSED(status_expr, code_, reason_, message_)                \
  do {                                                                      \
    const absl::Status palm_status_ = (status_expr);                        \
    INFO("status: " << palm_status_);                                       \
    CHECK(palm_status_.code() == (code_));                                  \
    CHECK(::palm::sync::ReasonName(::palm::sync::ReasonOf(palm_status_)) == \
          ::palm::sync::ReasonName(reason_));                               \
    CHECK(std::string(palm_status_.message()) == std::string(message_));    \
  } while (false)

#endif  // PALM_TESTS_SYNC_REFUSAL_H_
