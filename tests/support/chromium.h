// Test helper: headless Chromium (Debian's `chromium`, installed by
// tools/setup.sh) taking a screenshot of a local page, for the tests of the
// pages Palm prints.
#ifndef PALM_TESTS_SUPPORT_CHROMIUM_H_
#define PALM_TESTS_SUPPORT_CHROMIUM_H_

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "support/process.h"

namespace palm::testing {

// The chromium binary, or empty when it is not installed.
inline std::string Chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline uint32_t BigEndian32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

// Renders the page at `html_path` in headless `chromium` into `png_path`
// at `width` x `height`, with its profile under `scratch_dir`.
inline CommandResult Screenshot(const std::string& chromium, const std::string& scratch_dir,
                                const std::string& html_path, const std::string& png_path,
                                int width, int height) {
  return RunCommand(
      {"/usr/bin/env", "HOME=" + scratch_dir, chromium, "--headless", "--no-sandbox",
       "--disable-gpu", "--user-data-dir=" + scratch_dir + "/profile", "--screenshot=" + png_path,
       "--window-size=" + std::to_string(width) + "," + std::to_string(height),
       "file://" + html_path},
      180000);
}

}  // namespace palm::testing

#endif  // PALM_TESTS_SUPPORT_CHROMIUM_H_
