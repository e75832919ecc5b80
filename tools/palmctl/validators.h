// CLI11 validators shared by palmctl's commands: a value they refuse is a
// usage error (exit 2, with the command's usage), caught before any call.
#ifndef PALM_TOOLS_PALMCTL_VALIDATORS_H_
#define PALM_TOOLS_PALMCTL_VALIDATORS_H_

#include <CLI/CLI.hpp>
#include <string>

#include <google/protobuf/descriptor.h>

namespace palm::palmctl {

// Accepts a value of `type` as ParseEnum (format.h) reads it; the refusal
// lists the accepted tokens. `what` names the value ("case state").
CLI::Validator EnumValidator(const google::protobuf::EnumDescriptor* type, std::string what);

// Accepts "today", "yesterday" or a calendar date written YYYY-MM-DD
// (resolve it with ResolveDate, bureau_time.h).
CLI::Validator DateValidator();

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_VALIDATORS_H_
