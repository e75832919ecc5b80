// Loading a matter catalogue (palm.v1.Catalog) from JSON, e.g.
// tools/data/sample-catalog.json. Shared by the tools and the server; it
// knows nothing of the device store. (Candidate to move to sync/.)
//
// The JSON is protobuf's canonical JSON mapping of palm.v1.Catalog: field
// names as in catalog.proto (snake_case or lowerCamelCase), int64 fen
// amounts as numbers or strings. Unknown fields are refused so that a typo
// in a hand-edited catalogue is caught.
#ifndef PALM_CLIENT_CATALOG_JSON_H_
#define PALM_CLIENT_CATALOG_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "palm/v1/catalog.pb.h"

namespace palm::internal {

// Parses `json` and checks it: every matter has a code, a name and a legal
// basis, codes are unique, fine ranges are 0 <= min <= max. Returns
// INVALID_ARGUMENT naming the problem otherwise.
absl::StatusOr<v1::Catalog> CatalogFromJson(absl::string_view json);

// Reads and parses the file at `path` (NOT_FOUND when it cannot be read).
absl::StatusOr<v1::Catalog> LoadCatalogFile(const std::string& path);

}  // namespace palm::internal

#endif  // PALM_CLIENT_CATALOG_JSON_H_
