// Pages of the AdminService lists (docs/protocol.md, "Pages of the admin
// lists"): the page size a request gets, the byte budget of one answer, and
// the opaque page tokens that carry a list's position from one call to the
// next.
//
// Every list is read in a stable order of keys that never change once a row
// exists (key-set paging, never OFFSET): a page starts after the key of the
// last row of the page before, so rows inserted while a client pages never
// show twice and never push another row out of view. A token also carries a
// tag of the list and the filters it was made for: a token of another list,
// or of the same list with other filters, is refused instead of silently
// starting somewhere else.
#ifndef PALM_SERVER_LIST_PAGES_H_
#define PALM_SERVER_LIST_PAGES_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace palm::server {

// Rows of a page when the request asks for none, and at most.
inline constexpr uint32_t kDefaultPageSize = 100;
inline constexpr uint32_t kMaxPageSize = 1000;
// A page takes no further row once its rows reach this many bytes (the
// first row is always taken). Under the limits of sync/limits.h one row of
// any admin list encodes to at most about 0.5 MiB (the largest, a rejected
// ticket with every field at its limit), so an answer stays under 1.5 MiB,
// well below the 4 MiB a gRPC client accepts by default.
inline constexpr size_t kMaxPageBytes = 1024 * 1024;

// The page size of a request that asked for `requested` rows.
inline uint32_t EffectivePageSize(uint32_t requested) {
  return requested == 0 ? kDefaultPageSize : std::min(requested, kMaxPageSize);
}

// A row's position in its list's order: (at, id, seq), compared in that
// order. Each list uses the parts it needs (cases: created_at_ms and case
// id; devices: the device id alone).
struct PageKey {
  int64_t at = 0;
  std::string id;
  uint64_t seq = 0;
};

// The token of the page after `key` in list `list` (e.g. "ListCases") read
// with `filters` (any text that differs whenever the filters differ).
std::string EncodePageToken(absl::string_view list, absl::string_view filters, const PageKey& key);

// The position `token` carries; nullopt for an empty token (the first page).
// INVALID_ARGUMENT naming page_token for bytes that are not a token of this
// server ("page_token is malformed; ...") or a token made for another list
// or other filters ("page_token was made for another list or other filters;
// ..."). Thread-safe.
absl::StatusOr<std::optional<PageKey>> DecodePageToken(absl::string_view token,
                                                       absl::string_view list,
                                                       absl::string_view filters);

// One row of a list as read from the store, with its key.
template <typename Row>
struct KeyedRow {
  PageKey key;
  Row row;
};

// Reads up to `limit` rows of a list after `after` (from the start when
// nullopt), in the list's order.
template <typename Row>
using PageRead = std::function<absl::StatusOr<std::vector<KeyedRow<Row>>>(
    const std::optional<PageKey>& after, uint32_t limit)>;

// Fills one page: reads rows after `after` with `read`, a few at a time, and
// hands each to `add` while the page has fewer than `page_size` rows and
// its rows fewer than kMaxPageBytes bytes (Row::ByteSizeLong; the first row
// is always added). Returns the key of the last row added when another row
// follows (the next page starts after it), nullopt when the list ended.
template <typename Row>
absl::StatusOr<std::optional<PageKey>> FillPage(uint32_t page_size, std::optional<PageKey> after,
                                                const PageRead<Row>& read,
                                                const std::function<void(Row&&)>& add) {
  // Rows are read in small chunks so that a page of large rows never holds
  // more than a chunk beyond what it sends.
  constexpr uint32_t kChunk = 32;
  uint32_t added = 0;
  size_t bytes = 0;
  while (true) {
    const uint32_t want = std::min(page_size - added + 1, kChunk);
    absl::StatusOr<std::vector<KeyedRow<Row>>> rows = read(after, want);
    if (!rows.ok()) return rows.status();
    for (KeyedRow<Row>& r : *rows) {
      const size_t size = r.row.ByteSizeLong();
      if (added == page_size || (added > 0 && bytes + size > kMaxPageBytes)) return after;
      bytes += size;
      ++added;
      after = std::move(r.key);
      add(std::move(r.row));
    }
    if (rows->size() < want) return std::optional<PageKey>();
  }
}

}  // namespace palm::server

#endif  // PALM_SERVER_LIST_PAGES_H_
