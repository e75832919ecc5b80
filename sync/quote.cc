#include "sync/quote.h"

#include "absl/strings/str_cat.h"

namespace palm::sync {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

std::string QuotePrefix(absl::string_view value, size_t max_bytes) {
  if (value.size() <= max_bytes) return std::string(value);
  size_t cut = max_bytes;
  // Step back over continuation bytes to the start of the character that
  // straddles the cut (at most 3 for well-formed UTF-8), and drop it.
  for (size_t back = 0; back < 3 && cut > 0 && IsContinuation(value[cut]); ++back) --cut;
  return absl::StrCat(value.substr(0, cut), "…");
}

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace palm::sync
