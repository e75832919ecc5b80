#include "server/cursor.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sync/uuid.h"

namespace palm::server {
namespace {

// Version tag; a new cursor layout gets a new tag.
constexpr absl::string_view kTag = "pc1";

absl::Status Malformed(absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("the cursor is malformed (", why,
                   "); send the cursor of the last page as received, or an "
                   "empty cursor for a snapshot"));
}

}  // namespace

std::string EncodeCursor(const PullCursor& cursor) {
  return absl::StrCat(kTag, ";", cursor.epoch, ";", absl::BytesToHexString(cursor.scope), ";",
                      cursor.server_seq);
}

absl::StatusOr<PullCursor> DecodeCursor(absl::string_view bytes) {
  std::vector<absl::string_view> parts = absl::StrSplit(bytes, ';');
  if (parts.size() != 4 || parts[0] != kTag) return Malformed("unknown layout");
  PullCursor cursor;
  if (!sync::IsValidUuid(parts[1])) return Malformed("bad epoch");
  cursor.epoch = std::string(parts[1]);
  if (parts[2].size() % 2 != 0 ||
      parts[2].find_first_not_of("0123456789abcdef") != absl::string_view::npos) {
    return Malformed("bad scope");
  }
  cursor.scope = absl::HexStringToBytes(parts[2]);
  if (!absl::SimpleAtoi(parts[3], &cursor.server_seq)) return Malformed("bad position");
  return cursor;
}

}  // namespace palm::server
