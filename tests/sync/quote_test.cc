#include "sync/quote.h"

#include <catch2/catch.hpp>
#include <string>

using palm::sync::QuotePrefix;

TEST_CASE("a short value is quoted whole") {
  CHECK(QuotePrefix("officer-a1") == "officer-a1");
  CHECK(QuotePrefix(std::string(64, 'x')) == std::string(64, 'x'));
  CHECK(QuotePrefix("") == "");
}

TEST_CASE("a long value is cut to its prefix with an ellipsis") {
  CHECK(QuotePrefix(std::string(65, 'x')) == std::string(64, 'x') + "…");
  CHECK(QuotePrefix(std::string(1 << 20, 'x'), 8) == "xxxxxxxx…");
}

TEST_CASE("the cut never splits a UTF-8 character") {
  // "桐" is 3 bytes: 4 bytes hold one, 6 hold two.
  CHECK(QuotePrefix("桐桐桐", 4) == "桐…");
  CHECK(QuotePrefix("桐桐桐", 6) == "桐桐…");
  CHECK(QuotePrefix("桐桐桐", 2) == "…");
  // A 4-byte character (U+1F600) straddling the cut is dropped whole.
  CHECK(QuotePrefix("a\xF0\x9F\x98\x80z", 4) == "a…");
  CHECK(QuotePrefix("a\xF0\x9F\x98\x80z", 5) == "a\xF0\x9F\x98\x80…");
}
