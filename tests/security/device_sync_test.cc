// The device library syncing with palm-server under mutual TLS: the device
// certificate names the device and the officer's session token rides on
// every call (SyncOptions::session_token).
#include <catch2/catch.hpp>

#include "palm/client.h"
#include "security/secure_device.h"

namespace {

using palm::security_test::kOfficer;
using palm::security_test::kSecret;
using palm::security_test::SecureDevice;

}  // namespace

TEST_CASE("a device syncs over mutual TLS with its officer's session token, and not without") {
  SecureDevice d;
  // A tool that signs in itself (AuthService.SignIn over the device's
  // channel) passes the token; without one the library asks for a sign-in.
  const std::string token = d.RawSignIn(kOfficer, kSecret);
  palm::SyncOptions sync = d.Connection();
  auto refused = d.client->Sync(sync);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == palm::StatusCode::kUnauthenticated);
  CHECK(refused.status().reason() == "sign_in_required");
  CHECK_THAT(refused.status().message(), Catch::Contains("sign in online"));

  sync.session_token = token;
  auto synced = d.client->Sync(sync);
  INFO(synced.status().ToString());
  REQUIRE(synced.ok());
}
