#include "sync/delegation.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sync/rules.h"
#include "sync/status.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

std::string TownLabel(const v1::Town& town) {
  return town.name().empty() ? town.town_id()
                             : absl::StrCat(town.name(), " (", town.town_id(), ")");
}

}  // namespace

bool MayActOn(const v1::Town& town, const v1::Matter& matter) {
  if (!town.delegated()) return true;
  if (town.delegated_matters().empty()) return matter.delegated_to_towns();
  return std::find(town.delegated_matters().begin(), town.delegated_matters().end(),
                   matter.code()) != town.delegated_matters().end();
}

absl::Status CheckDelegated(const v1::Town* town, const v1::Matter& matter,
                            const std::vector<v1::Town>& towns) {
  if (town == nullptr || MayActOn(*town, matter)) return absl::OkStatus();
  std::vector<std::string> handlers;
  for (const v1::Town& t : towns) {
    if (!t.delegated()) handlers.push_back(TownLabel(t));
  }
  return Refuse(absl::StatusCode::kPermissionDenied, v1::REASON_NOT_DELEGATED,
                absl::StrCat("matter ", MatterLabel(matter), " is not delegated to ",
                             TownLabel(*town), " (Art. 24): ",
                             handlers.empty()
                                 ? "the bureau itself handles it"
                                 : absl::StrCat("it is handled by ", absl::StrJoin(handlers, ", ")),
                             "; hand the case over"));
}

const v1::Town* FindTown(const std::vector<v1::Town>& towns, const std::string& town_id) {
  for (const v1::Town& t : towns) {
    if (t.town_id() == town_id) return &t;
  }
  return nullptr;
}

}  // namespace palm::sync
