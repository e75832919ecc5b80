// Test helper: the refusal message of a first-violation no-penalty decision
// for a party with a violation on record (sync::CheckNoPenalty).
#ifndef PALM_TESTS_SUPPORT_ART33_H_
#define PALM_TESTS_SUPPORT_ART33_H_

#include <cstdint>
#include <string>

#include "sync/calendar.h"

namespace palm::testing {

// `window_months` 0: the matter's list entry looks back without limit.
inline std::string NotFirstViolationMessage(const std::string& matter, int64_t prior_at_ms,
                                            const std::string& case_number = "",
                                            int window_months = 0) {
  std::string m = "the party already violated matter " + matter + " on " +
                  sync::FormatCivilDay(sync::ShanghaiDay(prior_at_ms));
  if (!case_number.empty()) m += " (case " + case_number + ")";
  if (window_months > 0) {
    m += " within the " + std::to_string(window_months) + " months the list entry looks back";
  }
  return m +
         ": Art. 33 ¶1 (first violation, slight harm, corrected in time) is only for a first "
         "violation";
}

}  // namespace palm::testing

#endif  // PALM_TESTS_SUPPORT_ART33_H_
