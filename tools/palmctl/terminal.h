// Reading a secret the way people expect from gh or ssh: on a terminal a
// prompt on stderr and no echo of what is typed; from a pipe or a file (a
// script, a test) one line, silently.
#ifndef PALM_TOOLS_PALMCTL_TERMINAL_H_
#define PALM_TOOLS_PALMCTL_TERMINAL_H_

#include <string>

#include "absl/status/statusor.h"

namespace palm::palmctl {

// Reads one line from stdin without its line end. When stdin is a terminal,
// turns its echo off (restored however the read ends), then writes `prompt`
// to stderr; the Enter that ends the line still ends the prompt's line.
// INVALID_ARGUMENT when the line is empty or stdin is at its end.
absl::StatusOr<std::string> ReadSecretLine(const std::string& prompt);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_TERMINAL_H_
