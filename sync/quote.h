// Quoting values a caller sent in refusals and log lines: a hostile client
// may send megabytes where an id belongs, and neither an error message nor
// a log line should carry them back whole.
#ifndef PALM_SYNC_QUOTE_H_
#define PALM_SYNC_QUOTE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace palm::sync {

// How much of a value refusals and log lines quote by default.
inline constexpr size_t kQuoteBytes = 64;

// Returns `value` unchanged when it has at most `max_bytes` bytes; otherwise
// its longest prefix of at most `max_bytes` bytes that ends on a UTF-8
// character boundary, followed by "…" (U+2026). Bytes that are not UTF-8 are
// kept as they are (the cut never lands inside a well-formed sequence).
// Thread-safe, allocates only the result.
std::string QuotePrefix(absl::string_view value, size_t max_bytes = kQuoteBytes);

// `text` with &, <, >, " and ' replaced by character references, for HTML
// text and attribute values.
std::string HtmlEscape(absl::string_view text);

}  // namespace palm::sync

#endif  // PALM_SYNC_QUOTE_H_
