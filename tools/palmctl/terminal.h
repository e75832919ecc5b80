// Reading a secret the way people expect from gh or ssh: on a terminal a
// prompt on stderr and no echo of what is typed; from a pipe or a file (a
// script, a test) one line, silently.
#ifndef PALM_TOOLS_PALMCTL_TERMINAL_H_
#define PALM_TOOLS_PALMCTL_TERMINAL_H_

#include <string>

#include "absl/status/statusor.h"

namespace palm::palmctl {

// Reads one line from stdin without its line end. When stdin is a terminal,
// turns echo off, then writes `prompt` to stderr, while the line is typed
// (restoring the terminal however the read ends) and ends the prompt line.
// INVALID_ARGUMENT when the line is empty or stdin is at its end.
absl::StatusOr<std::string> ReadSecretLine(const std::string& prompt);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_TERMINAL_H_
