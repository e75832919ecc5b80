#include "client-lib/src/catalog_json.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "sync/calendar.h"

namespace palm::internal {

absl::StatusOr<v1::Catalog> CatalogFromJson(absl::string_view json) {
  v1::Catalog catalog;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &catalog, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("catalogue JSON is not a palm.v1.Catalog: ", parsed.message().as_string()));
  }
  std::set<std::string> codes;
  for (const v1::Matter& m : catalog.matters()) {
    if (m.code().empty() || m.name().empty() || m.legal_basis().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("matter \"", m.code(), "\" needs a code, a name and a legal basis"));
    }
    if (!codes.insert(m.code()).second) {
      return absl::InvalidArgumentError(absl::StrCat("matter code ", m.code(), " appears twice"));
    }
    if (m.fine_min_fen() < 0 || m.fine_max_fen() < m.fine_min_fen()) {
      return absl::InvalidArgumentError(
          absl::StrCat("matter ", m.code(), " has an invalid fine range"));
    }
  }
  if (absl::Status s = sync::CheckCalendar(catalog.calendar(), "calendar"); !s.ok()) {
    return absl::InvalidArgumentError(s.message());
  }
  return catalog;
}

absl::StatusOr<v1::Catalog> LoadCatalogFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read catalogue ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<v1::Catalog> catalog = CatalogFromJson(buffer.str());
  if (!catalog.ok()) {
    return absl::Status(catalog.status().code(),
                        absl::StrCat(path, ": ", catalog.status().message()));
  }
  return catalog;
}

}  // namespace palm::internal
