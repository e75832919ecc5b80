// docs/law.md names, for every article, the tests that show how Palm
// enforces it. This test keeps the table honest: every test it names must
// exist in the suite it says, as each suite binary lists its tests.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "support/process.h"

namespace palm::testing {
namespace {

// The suite binaries by the prefix docs/law.md uses ("sync: ...").
const std::map<std::string, std::string>& Suites() {
  static const std::map<std::string, std::string> suites = {
      {"sync", "palm_sync_tests"},         {"client", "palm_client_tests"},
      {"server", "palm_server_tests"},     {"e2e", "palm_e2e_tests"},
      {"security", "palm_security_tests"}, {"tools", "palm_tools_tests"},
      {"wire", "palm_wire_tests"},
  };
  return suites;
}

std::string ReadLaw() {
  std::ifstream in(std::string(PALM_SOURCE_DIR) + "/docs/law.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The test names of `binary`, one per line of --list-test-names-only.
std::set<std::string> ListedTests(const std::string& binary) {
  const std::string path = std::string(PALM_BINARY_DIR) + "/tests/" + binary;
  CommandResult listed = RunCommand({path, "--list-test-names-only"});
  INFO(path << ": " << listed.err);
  REQUIRE(listed.exit_code >= 0);
  std::set<std::string> names;
  for (absl::string_view line : absl::StrSplit(listed.out, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) names.insert(std::string(line));
  }
  return names;
}

// Every `suite: test name` in the table rows of docs/law.md.
std::vector<std::pair<std::string, std::string>> NamedTests(const std::string& law) {
  std::vector<std::pair<std::string, std::string>> named;
  for (absl::string_view line : absl::StrSplit(law, '\n')) {
    if (!absl::StartsWith(line, "|")) continue;
    const std::vector<absl::string_view> quoted = absl::StrSplit(line, '`');
    for (size_t i = 1; i < quoted.size(); i += 2) {
      const size_t colon = quoted[i].find(": ");
      if (colon == absl::string_view::npos) continue;
      const std::string suite(quoted[i].substr(0, colon));
      if (Suites().count(suite) == 0) continue;
      named.emplace_back(suite, std::string(quoted[i].substr(colon + 2)));
    }
  }
  return named;
}

TEST_CASE("every test docs/law.md names exists in its suite", "[law]") {
  const std::string law = ReadLaw();
  const auto named = NamedTests(law);
  REQUIRE(named.size() >= 20);
  std::map<std::string, std::set<std::string>> listed;
  for (const auto& [suite, name] : named) {
    if (listed.count(suite) == 0) listed[suite] = ListedTests(Suites().at(suite));
    INFO("docs/law.md names " << suite << ": " << name);
    CHECK(listed[suite].count(name) == 1);
  }
}

TEST_CASE("docs/law.md has a row for every article Palm answers for", "[law]") {
  const std::string law = ReadLaw();
  for (const char* article :
       {"24", "33", "38", "42", "44", "45", "51", "52", "55", "57", "58", "62", "85"}) {
    INFO("Art. " << article);
    CHECK(law.find(std::string("\n| ") + article + " |") != std::string::npos);
  }
}

}  // namespace
}  // namespace palm::testing
