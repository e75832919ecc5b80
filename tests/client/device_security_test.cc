// The device's own security state: offline unlock with a limit on failed
// attempts, the revocation mark a sync leaves, and wiping the store.
#include <catch2/catch.hpp>
#include <filesystem>

#include "palm/device_security.h"
#include "tests/client/client_test_util.h"

using namespace palm;
using namespace palm::testing;

namespace {

const std::string kSalt = "0123456789abcdef";

std::unique_ptr<DeviceSecurity> OpenSecurity(Device& device) {
  auto security = DeviceSecurity::Open(device.db_path());
  INFO(security.status().ToString());
  REQUIRE(security.ok());
  return std::move(*security);
}

}  // namespace

TEST_CASE("an officer unlocks offline with the secret of the last online sign-in") {
  Device device(/*seed=*/false);
  auto security = OpenSecurity(device);
  RequireRefused(security->UnlockOffline(kSworn, "1234"), StatusCode::kNotFound,
                 "no_offline_verifier",
                 "officer officer-sworn has not signed in online on this device yet");
  REQUIRE(security->CacheOfflineVerifier(kSworn, "1234", kSalt).ok());
  CHECK(security->UnlockOffline(kSworn, "1234").ok());
  RequireRefused(security->UnlockOffline(kSworn, "9999"), StatusCode::kUnauthenticated,
                 "wrong_secret", "wrong secret for officer officer-sworn; 4 attempts left");
  // Kept across restarts, and never the secret itself.
  security = OpenSecurity(device);
  CHECK(security->UnlockOffline(kSworn, "1234").ok());
  CHECK(ReadFileBytes(DeviceSecurity::PathFor(device.db_path())).find("1234") == std::string::npos);
}

TEST_CASE("five wrong offline secrets lock the officer until the next online sign-in") {
  Device device(/*seed=*/false);
  auto security = OpenSecurity(device);
  REQUIRE(security->CacheOfflineVerifier(kSworn, "1234", kSalt).ok());
  for (int i = 0; i < DeviceSecurity::kMaxOfflineFailures; ++i) {
    RequireRefused(security->UnlockOffline(kSworn, "0000"), StatusCode::kUnauthenticated,
                   "wrong_secret");
  }
  security = OpenSecurity(device);
  RequireRefused(security->UnlockOffline(kSworn, "1234"), StatusCode::kPermissionDenied,
                 "offline_unlock_locked",
                 "offline unlock of officer officer-sworn is locked after 5 wrong secrets; sign "
                 "in online");
  REQUIRE(security->CacheOfflineVerifier(kSworn, "1234", kSalt).ok());
  CHECK(security->UnlockOffline(kSworn, "1234").ok());
}

TEST_CASE("a revocation reported by sync locks the device, and a wipe deletes store and key") {
  Device device;
  auto security = OpenSecurity(device);
  REQUIRE(security->CacheOfflineVerifier(kSworn, "1234", kSalt).ok());
  auto other = security->RecordSyncStatus(Status(StatusCode::kUnavailable, "", "no network"));
  REQUIRE(other.ok());
  CHECK_FALSE(*other);
  CHECK_FALSE(security->IsRevoked());
  auto revoked = security->RecordSyncStatus(Status(StatusCode::kUnauthenticated, "device_revoked",
                                                   "device device-test-01 was revoked: lost"));
  REQUIRE(revoked.ok());
  CHECK(*revoked);
  security = OpenSecurity(device);
  CHECK(security->IsRevoked());
  RequireRefused(security->UnlockOffline(kSworn, "1234"), StatusCode::kPermissionDenied,
                 "device_revoked",
                 "this device was revoked: device device-test-01 was revoked: lost");

  const std::string key_file = device.key_dir() + "/palm-device-db.key";
  REQUIRE(std::filesystem::exists(key_file));
  device.client.reset();
  security.reset();
  REQUIRE(Client::WipeStore(device.Options()).ok());
  CHECK_FALSE(std::filesystem::exists(device.db_path()));
  CHECK_FALSE(std::filesystem::exists(device.db_path() + "-wal"));
  CHECK_FALSE(std::filesystem::exists(DeviceSecurity::PathFor(device.db_path())));
  CHECK_FALSE(std::filesystem::exists(key_file));
  // Idempotent.
  CHECK(Client::WipeStore(device.Options()).ok());
}
