// The HTML shift report as a browser shows it: rendered in headless
// Chromium (Debian's `chromium`, installed by tools/setup.sh), which must
// write a real, non-trivial screenshot. Skipped, saying so, only when
// chromium is not installed.
//
// PALM_SHIFT_REPORT_PNG=FILE keeps the zh-CN screenshot in FILE; that is
// how docs/images/shift-report-zh.png is made:
//   PALM_SHIFT_REPORT_PNG=$PWD/docs/images/shift-report-zh.png build/debug/tests/palm_tools_tests
//     "the zh-CN HTML shift report renders in headless Chromium"
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/chromium.h"
#include "support/temp_dir.h"
#include "tests/tools/shift_report_sample.h"
#include "tools/palmctl/bureau_time.h"
#include "tools/palmctl/report_render.h"

namespace palm::palmctl {
namespace {

using testing::BigEndian32;
using testing::Chromium;
using testing::ReadAll;

TEST_CASE("the zh-CN HTML shift report renders in headless Chromium", "[palmctl]") {
  const std::string chromium = Chromium();
  if (chromium.empty()) {
    WARN(
        "SKIP: chromium is not installed (tools/setup.sh installs it): the HTML shift report "
        "was not rendered");
    return;
  }
  REQUIRE(SetBureauTimeZone("Asia/Shanghai").ok());
  testing::TempDir dir;
  const std::string html_path = dir.File("shift-report.html");
  const std::string png_path = dir.File("shift-report.png");
  {
    std::ofstream html(html_path, std::ios::binary);
    html << RenderShiftReportHtml(sample::RealisticShift(), sample::RealisticContext());
  }
  const testing::CommandResult run =
      testing::Screenshot(chromium, dir.path().string(), html_path, png_path, 1200, 1600);
  INFO("chromium exit " << run.exit_code << "\n" << run.err);
  REQUIRE(run.exit_code == 0);
  const std::string png = ReadAll(png_path);
  REQUIRE(png.size() > 24);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  CHECK(png.substr(12, 4) == "IHDR");
  CHECK(BigEndian32(png, 16) == 1200);  // width
  CHECK(BigEndian32(png, 20) == 1600);  // height
  // A blank or nearly blank page compresses to a few kilobytes; the report
  // with its tables, charts and Chinese text does not.
  CHECK(png.size() > 40000);
  if (const char* keep = std::getenv("PALM_SHIFT_REPORT_PNG"); keep != nullptr && *keep != '\0') {
    std::filesystem::copy_file(png_path, keep, std::filesystem::copy_options::overwrite_existing);
  }
}

}  // namespace
}  // namespace palm::palmctl
