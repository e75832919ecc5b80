// Revocation seen from the device: the next sync reports it with reason
// "device_revoked", the app records it (DeviceSecurity) and wipes the store.
#include <catch2/catch.hpp>
#include <filesystem>

#include "palm/device_security.h"
#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

TEST_CASE("a revoked device's sync reports the revocation, and the app locks and wipes") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-a");
  Device device(admin, "device-a1", town);
  device.SyncUntilOk(server.address());

  auto stub = v1::AdminService::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::RevokeDeviceRequest request;
  request.set_device_id("device-a1");
  request.set_reason("lost on patrol");
  v1::RevokeDeviceResponse response;
  grpc::Status revoked = stub->RevokeDevice(&ctx, request, &response);
  INFO(revoked.error_message());
  REQUIRE(revoked.ok());

  Result<SyncReport> r = device.Sync(server.address());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kUnauthenticated);
  CHECK(r.status().reason() == "device_revoked");
  CHECK_THAT(r.status().message(), Catch::Contains("device device-a1 was revoked: lost on patrol"));

  const std::string db_path = device.dir.File("data") + "/palm.db";
  auto security = DeviceSecurity::Open(db_path);
  REQUIRE(security.ok());
  auto recorded = (*security)->RecordSyncStatus(r.status());
  REQUIRE(recorded.ok());
  CHECK(*recorded);
  CHECK((*security)->IsRevoked());

  device.client.reset();
  ClientOptions o;
  o.db_path = db_path;
  o.key_provider = std::make_shared<FileKeyProvider>(device.dir.File("keys"));
  REQUIRE(Client::WipeStore(o).ok());
  CHECK_FALSE(std::filesystem::exists(db_path));
  CHECK_FALSE(std::filesystem::exists(device.dir.File("keys") + "/palm-device-db.key"));
}

}  // namespace
}  // namespace palm::e2e
