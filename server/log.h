// Structured logging: one JSON object per line on stderr.
#ifndef PALM_SERVER_LOG_H_
#define PALM_SERVER_LOG_H_

#include <string>

#include "nlohmann/json.hpp"

namespace palm::server {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug" | "info" | "warn" | "error"; anything else is kInfo.
LogLevel ParseLogLevel(const std::string& name);

// Sets the lowest level written. Thread-safe.
void SetLogLevel(LogLevel level);

// Writes `fields` plus "ts" (RFC 3339 UTC, ms) and "level" as one line.
// Thread-safe: lines from concurrent callers never interleave.
void Log(LogLevel level, nlohmann::json fields);

}  // namespace palm::server

#endif  // PALM_SERVER_LOG_H_
