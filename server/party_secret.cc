#include "server/party_secret.h"

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/pki/pki.h"
#include "sync/fsync.h"
#include "sync/scrypt.h"
#include "sync/status_macros.h"

namespace palm::server {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<sync::PartyKeySecret> ReadSecret(const std::string& path) {
  PALM_ASSIGN_OR_RETURN(std::string bytes, pki::ReadFile(path));
  absl::StatusOr<sync::PartyKeySecret> secret = sync::PartyKeySecret::FromBytes(bytes);
  if (!secret.ok()) {
    return absl::DataLossError(
        absl::StrCat("the party-key secret ", path, " is not one: ", secret.status().message()));
  }
  return secret;
}

}  // namespace

absl::StatusOr<PartyKeyOpening> OpenPartyKeySecret(const std::string& data_dir, WriteTxn& txn) {
  const std::string path = (fs::path(data_dir) / kPartyKeySecretFile).string();
  PALM_ASSIGN_OR_RETURN(std::vector<std::string> key_ids, txn.PriorViolationKeyIds());
  std::vector<std::string> keyed;  // the secrets (by id) the store's keys are under
  std::copy_if(key_ids.begin(), key_ids.end(), std::back_inserter(keyed),
               [](const std::string& id) { return !id.empty(); });
  std::error_code ec;
  std::optional<sync::PartyKeySecret> secret;
  const bool exists = fs::exists(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot look for ", path, ": ", ec.message()));
  if (exists) {
    PALM_ASSIGN_OR_RETURN(secret, ReadSecret(path));
  } else {
    if (!keyed.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the store keys prior violations under party-key secret ", absl::StrJoin(keyed, ", "),
          " but ", path,
          " is missing: put back the copy kept with the evidence log's key (it is not in "
          "backups); without it no prior violation on record can be found"));
    }
    const std::string bytes = sync::RandomBytes(sync::kPartyKeySecretSize);
    PALM_RETURN_IF_ERROR(
        sync::ReplaceFileDurably(path, bytes, absl::StrCat("the party-key secret ", path)));
    PALM_ASSIGN_OR_RETURN(secret, sync::PartyKeySecret::FromBytes(bytes));
  }
  PartyKeyOpening opening{.secret = std::move(*secret)};
  for (const std::string& id : keyed) {
    if (id == opening.secret.key_id()) continue;
    return absl::FailedPreconditionError(absl::StrCat(
        "the store keys prior violations under party-key secret ", id, " but ", path, " is secret ",
        opening.secret.key_id(), ": put back the party-key.secret that belongs with this store"));
  }
  if (std::find(key_ids.begin(), key_ids.end(), "") == key_ids.end()) return opening;
  // Records of an older server: their key is the plain SHA-256, which the
  // secret rekeys without the ID number (sync/party_key.h).
  PALM_ASSIGN_OR_RETURN(std::vector<StoredPriorViolation> legacy, txn.PriorViolationsUnder(""));
  for (StoredPriorViolation& row : legacy) {
    absl::StatusOr<std::string> key = opening.secret.Rekey(row.value.party_key());
    if (!key.ok()) {
      return absl::DataLossError(absl::StrCat("prior violation ", row.entity_id,
                                              " cannot be rekeyed: ", key.status().message()));
    }
    row.value.set_party_key(*key);
    row.value.set_key_id(opening.secret.key_id());
    PALM_RETURN_IF_ERROR(txn.ReplacePriorViolation(row.entity_id, row.value));
    PALM_RETURN_IF_ERROR(
        txn.AppendChange(EntityKind::kPriorViolation, row.entity_id, GlobalScope()).status());
    ++opening.rekeyed;
  }
  return opening;
}

}  // namespace palm::server
