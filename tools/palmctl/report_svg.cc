#include "tools/palmctl/report_svg.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/palmctl/format.h"
#include "tools/palmctl/report_render.h"

namespace palm::palmctl {
namespace {

constexpr int kWidth = 360;
constexpr int kLabelWidth = 120;  // labels, right-aligned at its end
constexpr int kValueWidth = 56;   // figures after the longest bar
constexpr int kTitleHeight = 26;
constexpr int kRowHeight = 24;
constexpr int kBarHeight = 16;
constexpr char kDefaultColour[] = "#3b6ea5";

// Length of the UTF-8 sequence that starts with `lead`.
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

}  // namespace

std::string TruncateToWidth(absl::string_view text, size_t cells) {
  if (DisplayWidth(text) <= cells) return std::string(text);
  std::string out;
  size_t used = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t n = std::min(SequenceLength(static_cast<unsigned char>(text[i])), text.size() - i);
    const absl::string_view ch = text.substr(i, n);
    const size_t w = DisplayWidth(ch);
    if (used + w + 1 > cells) break;  // keep a cell for "…"
    out.append(ch.data(), ch.size());
    used += w;
    i += n;
  }
  return out + "…";
}

std::string BarChartSvg(absl::string_view title, const std::vector<Bar>& bars,
                        absl::string_view empty_text) {
  const int rows = std::max<int>(1, static_cast<int>(bars.size()));
  const int height = kTitleHeight + rows * kRowHeight + 6;
  std::string out = absl::StrFormat(
      "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"%d\" "
      "height=\"%d\" viewBox=\"0 0 %d %d\" aria-label=\"%s\">\n<title>%s</title>\n"
      "<text x=\"0\" y=\"16\" font-size=\"14\" font-weight=\"bold\">%s</text>\n",
      kWidth, height, kWidth, height, HtmlEscape(title), HtmlEscape(title), HtmlEscape(title));
  if (bars.empty()) {
    absl::StrAppend(&out, "<text x=\"0\" y=\"", kTitleHeight + 16,
                    "\" font-size=\"12\" fill=\"#555\">", HtmlEscape(empty_text),
                    "</text>\n</svg>");
    return out;
  }
  double largest = 0;
  for (const Bar& bar : bars) largest = std::max(largest, bar.value);
  const int span = kWidth - kLabelWidth - 6 - kValueWidth;
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& bar = bars[i];
    const int y = kTitleHeight + static_cast<int>(i) * kRowHeight;
    const int length =
        largest > 0 ? std::max(1, static_cast<int>(bar.value / largest * span + 0.5)) : 1;
    absl::StrAppendFormat(&out,
                          "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">%s</text>\n"
                          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n"
                          "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n",
                          kLabelWidth, y + 13, HtmlEscape(TruncateToWidth(bar.label, 16)),
                          kLabelWidth + 6, y, length, kBarHeight,
                          HtmlEscape(bar.color.empty() ? kDefaultColour : bar.color),
                          kLabelWidth + 6 + length + 4, y + 13, HtmlEscape(bar.value_text));
  }
  out += "</svg>";
  return out;
}

}  // namespace palm::palmctl
