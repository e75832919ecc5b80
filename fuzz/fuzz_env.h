// Shared by the fuzz targets and fuzz_seeds: the county every input runs
// against — town fz with squad fz-1, two credentialed officers and an
// auxiliary, the sample catalogue — and a helper that waits for a write.
#ifndef PALM_FUZZ_FUZZ_ENV_H_
#define PALM_FUZZ_FUZZ_ENV_H_

#include <future>
#include <string>

#include "client-lib/src/catalog_json.h"
#include "palm/v1/org.pb.h"
#include "server/store.h"

namespace palm::fuzz {

inline constexpr char kTown[] = "fz";
inline constexpr char kSquad[] = "fz-1";
inline constexpr char kOfficer1[] = "fz-officer-1";
inline constexpr char kOfficer2[] = "fz-officer-2";
inline constexpr char kAuxiliary[] = "fz-aux-1";

// Runs `work` on the store's writer and waits until it is durable.
inline absl::Status WriteAndWait(server::ServerStore& store, server::ServerStore::WriteWork work) {
  std::promise<absl::Status> done;
  store.SubmitWrite(std::move(work), [&done](absl::Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

inline palm::v1::Officer Officer(const std::string& id, bool sworn, const std::string& cert) {
  palm::v1::Officer o;
  o.set_officer_id(id);
  o.set_name(id);
  o.set_role(sworn ? palm::v1::ROLE_OFFICER : palm::v1::ROLE_AUXILIARY);
  o.set_sworn(sworn);
  o.set_certificate_number(cert);
  o.set_town_id(kTown);
  o.set_squad_id(kSquad);
  o.set_active(true);
  return o;
}

// Puts the county into `txn`.
inline absl::Status PutCounty(server::WriteTxn& txn, const palm::v1::Catalog& catalog) {
  palm::v1::Town town;
  town.set_town_id(kTown);
  town.set_name("模糊测试镇");
  palm::v1::Squad squad;
  squad.set_squad_id(kSquad);
  squad.set_town_id(kTown);
  squad.set_name("模糊测试中队");
  for (absl::Status s : {txn.PutCatalog(catalog), txn.PutTown(town), txn.PutSquad(squad),
                         txn.PutOfficer(Officer(kOfficer1, true, "ZJ-FZ-0001")),
                         txn.PutOfficer(Officer(kOfficer2, true, "ZJ-FZ-0002")),
                         txn.PutOfficer(Officer(kAuxiliary, false, ""))}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace palm::fuzz

#endif  // PALM_FUZZ_FUZZ_ENV_H_
