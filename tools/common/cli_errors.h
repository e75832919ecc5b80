// One sentence for a CLI11 parse error, as palm-server, palm-sim and
// palm-bench print it: `unknown flag --x (see --help)`, `unexpected argument
// 'x' (see --help)`, `--data-dir needs a value`, or CLI11's own sentence for
// a value a check refused (`--devices: must be a whole number from 1 to
// 5000, not 'many'`). Header-only, so that palm-server can use it without
// linking the tools' libraries.
#ifndef PALM_TOOLS_COMMON_CLI_ERRORS_H_
#define PALM_TOOLS_COMMON_CLI_ERRORS_H_

#include <limits>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace palm::tools {

inline std::string DescribeCliError(const CLI::ParseError& e, CLI::App& app) {
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    const std::vector<std::string> extra = app.remaining();
    const std::string first = extra.empty() ? "" : extra.front();
    if (first.rfind("-", 0) == 0) {
      return "unknown flag " + first.substr(0, first.find('=')) + " (see --help)";
    }
    return "unexpected argument '" + first + "' (see --help)";
  }
  const std::string what = e.what();
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    const size_t colon = what.find(':');
    if (what.rfind("--", 0) == 0 && colon != std::string::npos) {
      return what.substr(0, colon) + " needs a value";
    }
  }
  return what;
}

// A CLI11 check: a whole number from `min` to `max` (no upper bound named
// when `max` is the type's largest).
template <typename Int>
CLI::Validator WholeNumber(Int min, Int max) {
  return CLI::Validator(
      [min, max](std::string& v) -> std::string {
        Int n{};
        if (CLI::detail::lexical_cast(v, n) && n >= min && n <= max) return "";
        const std::string range =
            max == std::numeric_limits<Int>::max()
                ? "of at least " + std::to_string(min)
                : "from " + std::to_string(min) + " to " + std::to_string(max);
        return "must be a whole number " + range + ", not '" + v + "'";
      },
      "");
}

}  // namespace palm::tools

#endif  // PALM_TOOLS_COMMON_CLI_ERRORS_H_
