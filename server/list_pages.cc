#include "server/list_pages.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "sync/sha256.h"

namespace palm::server {
namespace {

// The token, before base64url (no padding):
//   byte 1 (the format) | 8 bytes: the tag (SHA-256 of list, NUL, filters) |
//   varint zigzag(at) | varint len, id | varint seq
// Nothing follows the last field.
constexpr char kFormat = 1;
constexpr size_t kTagBytes = 8;
// A key's id is an id of the contract (at most 128 bytes); a token holding
// more is not one of ours.
constexpr uint64_t kMaxIdBytes = 128;

std::string Tag(absl::string_view list, absl::string_view filters) {
  sync::Sha256 sha;
  sha.Update(list);
  sha.Update("\0", 1);
  sha.Update(filters);
  const sync::Sha256Digest digest = sha.Final();
  return std::string(reinterpret_cast<const char*>(digest.data()), kTagBytes);
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

absl::Status Malformed() {
  return absl::InvalidArgumentError("page_token is malformed; pass next_page_token as received");
}

}  // namespace

std::string EncodePageToken(absl::string_view list, absl::string_view filters, const PageKey& key) {
  std::string raw(1, kFormat);
  raw += Tag(list, filters);
  const uint64_t at = key.at;
  PutVarint(&raw, (at << 1) ^ static_cast<uint64_t>(key.at >> 63));
  PutVarint(&raw, key.id.size());
  raw += key.id;
  PutVarint(&raw, key.seq);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::optional<PageKey>> DecodePageToken(absl::string_view token,
                                                       absl::string_view list,
                                                       absl::string_view filters) {
  if (token.empty()) return std::optional<PageKey>();
  std::string raw;
  // Only what EncodePageToken writes: base64url without padding, so that a
  // token has one spelling.
  if (token.find('=') != absl::string_view::npos || !absl::WebSafeBase64Unescape(token, &raw) ||
      absl::WebSafeBase64Escape(raw) != token) {
    return Malformed();
  }
  absl::string_view in(raw);
  if (in.size() < 1 + kTagBytes || in[0] != kFormat) return Malformed();
  in.remove_prefix(1);
  const absl::string_view tag = in.substr(0, kTagBytes);
  in.remove_prefix(kTagBytes);
  PageKey key;
  uint64_t at = 0, id_size = 0;
  if (!GetVarint(&in, &at) || !GetVarint(&in, &id_size) || id_size > kMaxIdBytes ||
      id_size > in.size()) {
    return Malformed();
  }
  key.at = static_cast<int64_t>(at >> 1) ^ -static_cast<int64_t>(at & 1);
  key.id = std::string(in.substr(0, id_size));
  in.remove_prefix(id_size);
  if (!GetVarint(&in, &key.seq) || !in.empty()) return Malformed();
  if (tag != Tag(list, filters)) {
    return absl::InvalidArgumentError(
        "page_token was made for another list or other filters; pass next_page_token with the "
        "request it came from, or start again without page_token");
  }
  return std::optional<PageKey>(std::move(key));
}

}  // namespace palm::server
