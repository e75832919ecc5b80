// Hand-written inline SVG bar charts for the HTML shift report: one
// horizontal bar per value with its label and figure, no scripts, no
// external resources, every text HTML-escaped. Pure; safe from any thread.
#ifndef PALM_TOOLS_PALMCTL_REPORT_SVG_H_
#define PALM_TOOLS_PALMCTL_REPORT_SVG_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tools/palmctl/report_model.h"

namespace palm::palmctl {

// An <svg> element, role="img" with `title` as its accessible name and
// heading; bars scaled to the largest value. With no bars it shows
// `empty_text` instead. Labels wider than 16 terminal cells are cut with "…".
std::string BarChartSvg(absl::string_view title, const std::vector<Bar>& bars,
                        absl::string_view empty_text);

// `text` cut to at most `cells` terminal cells (DisplayWidth), ending in "…"
// when cut; whole UTF-8 characters only.
std::string TruncateToWidth(absl::string_view text, size_t cells);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_REPORT_SVG_H_
