// The sync report's upload and link fields are kept with the last report
// and carried by its JSON form (palm_sync, palm_last_sync_report) under the
// names docs/protocol.md gives.
#include <catch2/catch.hpp>

#include "client-lib/src/device_store.h"
#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

TEST_CASE(
    "the last sync report keeps the pending uploads, why they failed, retries and the link "
    "budget") {
  Device d;
  SyncReport r;
  r.ok = false;
  r.error_reason = "uploads_pending";
  r.uploads_done = 2;
  r.uploads_failed = 3;
  r.uploads_pending = 4;
  r.upload_error_code = "RESOURCE_EXHAUSTED";
  r.upload_error = "the server's disk is full";
  r.pulls = 2;
  r.retries = 17;
  r.link_budget_bytes = 32768;
  REQUIRE(d.store().SetLastSyncReport(r).ok());
  Result<SyncReport> back = d.client->LastSyncReport();
  REQUIRE(back.ok());
  CHECK_FALSE(back->ok);
  CHECK(back->error_reason == "uploads_pending");
  CHECK(back->uploads_done == 2);
  CHECK(back->uploads_failed == 3);
  CHECK(back->uploads_pending == 4);
  CHECK(back->upload_error_code == "RESOURCE_EXHAUSTED");
  CHECK(back->upload_error == "the server's disk is full");
  CHECK(back->pulls == 2);
  CHECK(back->retries == 17);
  CHECK(back->link_budget_bytes == 32768);

  const nlohmann::json j = internal::SyncReportJson(r);
  CHECK(j.at("uploads_done") == 2);
  CHECK(j.at("uploads_failed") == 3);
  CHECK(j.at("uploads_pending") == 4);
  CHECK(j.at("upload_error_code") == "RESOURCE_EXHAUSTED");
  CHECK(j.at("upload_error") == "the server's disk is full");
  CHECK(j.at("pulls") == 2);
  CHECK(j.at("retries") == 17);
  CHECK(j.at("link_budget_bytes") == 32768);
}

}  // namespace
}  // namespace palm::testing
