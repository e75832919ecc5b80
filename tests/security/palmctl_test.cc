// palmctl's PKI commands and its command-line contract, run as a child
// process like an admin would run it.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "absl/strings/str_cat.h"
#include "security/bureau.h"

using palm::security_test::Bureau;
using palm::security_test::FileMode;
using palm::security_test::Must;
using palm::security_test::Palmctl;
using palm::testing::CommandResult;
using palm::testing::ServerProcess;
using palm::testing::TempDir;
namespace pki = palm::pki;

namespace {

std::string ReadAll(const std::string& path) { return Must(pki::ReadFile(path)); }

// palmctl reached the server and the server answered the RPC: either it did
// the work (exit 0), or it says it does not implement `rpc` yet (the admin
// service is written in parallel with these tests).
void RequireServed(const CommandResult& result, const std::string& rpc) {
  INFO("exit " << result.exit_code << "\nstdout: " << result.out << "\nstderr: " << result.err);
  if (result.exit_code == 0) return;
  REQUIRE(result.exit_code == 1);
  REQUIRE(absl::StartsWith(result.err, "palmctl: the server does not support " + rpc + " yet\n"));
}

}  // namespace

TEST_CASE("palmctl ca init creates a CA and refuses to overwrite it") {
  TempDir dir;
  CommandResult first = Palmctl({"ca", "init", "--dir", dir.File("ca"), "--bureau", "Test"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(absl::StrContains(first.out, "created the bureau CA of 'Test'"));
  CHECK(FileMode(dir.File("ca/ca.key")) == 0600);
  CHECK(FileMode(dir.File("ca/ca.crt")) == 0644);
  const std::string key = ReadAll(dir.File("ca/ca.key"));

  CommandResult second = Palmctl({"ca", "init", "--dir", dir.File("ca")});
  CHECK(second.exit_code == 1);
  CHECK(second.err == "palmctl: a bureau CA already exists in " + dir.File("ca") + " (" +
                          dir.File("ca/ca.key") + "); refusing to overwrite it\n");
  CHECK(second.out.empty());
  CHECK(ReadAll(dir.File("ca/ca.key")) == key);
}

TEST_CASE("palmctl with wrong arguments prints usage and exits 2") {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string usage;  // the usage line of the command concerned
    std::string says;   // part of the error line
  };
  const std::vector<Case> cases = {
      {{}, "Usage: palmctl", "subcommand is required"},
      {{"--no-such-flag"}, "Usage: palmctl", "unexpected arguments: --no-such-flag"},
      {{"frobnicate"}, "Usage: palmctl", "unexpected arguments: frobnicate"},
      {{"device"}, "Usage: palmctl device", "subcommand is required"},
      {{"ca", "init"}, "Usage: palmctl ca init", "--dir is required"},
      {{"device", "revoke", "d1"}, "Usage: palmctl device revoke", "--reason is required"},
      {{"device", "enroll", "--ca", dir.File("ca"), "--town", "t", "--out", dir.File("d"),
        "--valid-days", "0"},
       "Usage: palmctl device enroll",
       "--valid-days"},
  };
  for (const Case& c : cases) {
    CommandResult result = Palmctl(c.args);
    INFO("palmctl " << absl::StrJoin(c.args, " ") << "\nstderr: " << result.err);
    CHECK(result.exit_code == 2);
    CHECK(absl::StartsWith(result.err, "palmctl: "));
    CHECK(absl::StrContains(result.err, c.says));
    CHECK(absl::StrContains(result.err, c.usage));
    CHECK(result.out.empty());
  }
  CHECK_FALSE(std::filesystem::exists(dir.File("d")));
}

TEST_CASE("palmctl --help lists the command groups and exits 0") {
  CommandResult result = Palmctl({"--help"});
  CHECK(result.exit_code == 0);
  for (const char* group :
       {"ca", "server", "operator", "device", "--server", "--cert-dir", "--insecure"}) {
    CHECK(absl::StrContains(result.out, group));
  }
  CommandResult enroll = Palmctl({"device", "enroll", "--help"});
  CHECK(enroll.exit_code == 0);
  CHECK(absl::StrContains(enroll.out, "--no-register"));
}

TEST_CASE("palmctl device enroll --no-register writes a device directory for a new UUIDv7") {
  Bureau bureau;
  const std::string out = bureau.dir.File("device");
  CommandResult result = Palmctl({"device", "enroll", "--ca", bureau.ca_dir(), "--town", "wutong",
                                  "--out", out, "--no-register", "--json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto json = nlohmann::json::parse(result.out);
  const std::string id = json.at("device_id");
  CHECK(std::regex_match(id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                        "[0-9a-f]{12}")));
  CHECK(json.at("registered") == false);
  CHECK(ReadAll(out + "/device-id.txt") == id + "\n");
  CHECK(FileMode(out + "/device.key") == 0600);
  CHECK(FileMode(out + "/device.crt") == 0644);
  const std::string cert = ReadAll(out + "/device.crt");
  CHECK(Must(pki::DeviceIdFromCertificatePem(cert)) == id);
  CHECK(Must(pki::InspectCertificatePem(cert)).organizational_unit == "wutong");
  CHECK(json.at("certificate_sha256") == Must(pki::CertificateSha256(cert)));
  CHECK(pki::VerifyCertificate(cert, ReadAll(out + "/ca.crt")).ok());

  // The same directory again is refused, and the first device stays.
  CommandResult again = Palmctl({"device", "enroll", "--ca", bureau.ca_dir(), "--town", "wutong",
                                 "--out", out, "--no-register", "--device-id", "other"});
  CHECK(again.exit_code == 1);
  CHECK(absl::StrContains(again.err, "refusing to overwrite"));
  CHECK(ReadAll(out + "/device-id.txt") == id + "\n");
}

TEST_CASE("palmctl refuses --insecure for a server that is not on loopback") {
  // Refused before any connection is attempted.
  CommandResult result = Palmctl({"--insecure", "--server", "192.0.2.1:7443", "device", "list"});
  CHECK(result.exit_code == 1);
  CHECK(result.err ==
        "palmctl: --insecure talks plaintext only to a loopback server, not 192.0.2.1:7443\n");
}

TEST_CASE("palmctl needs client TLS material unless --insecure") {
  CommandResult result = Palmctl({"device", "list"});
  CHECK(result.exit_code == 1);
  CHECK(absl::StartsWith(result.err, "palmctl: give --cert-dir DIR"));
}

TEST_CASE("palmctl device commands reach a plaintext loopback server") {
  TempDir dir;
  ServerProcess server(dir.File("data"));
  const std::vector<std::string> global = {"--insecure", "--server", server.address()};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), global.begin(), global.end());
    return Palmctl(args);
  };

  CommandResult list = with({"device", "list", "--json"});
  RequireServed(list, "ListDevices");
  if (list.exit_code == 0) CHECK(nlohmann::json::parse(list.out).contains("devices"));

  CommandResult revoke = with({"device", "revoke", "no-such-device", "--reason", "lost"});
  CHECK(revoke.exit_code == 1);
  CHECK(revoke.err ==
        "palmctl: RevokeDevice failed: NOT_FOUND: device no-such-device is not "
        "enrolled\n");
}

TEST_CASE("palmctl-made PKI runs a mutual TLS server that palmctl enrols a device with") {
  TempDir dir;
  const std::string ca = dir.File("ca"), server_dir = dir.File("server"), op = dir.File("operator"),
                    device = dir.File("device");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"ca", "init", "--dir", ca},
           {"server", "cert", "--ca", ca, "--out", server_dir},
           {"operator", "cert", "--ca", ca, "--name", "admin", "--out", op}}) {
    CommandResult result = Palmctl(args);
    INFO("palmctl " << absl::StrJoin(args, " ") << "\n" << result.err);
    REQUIRE(result.exit_code == 0);
  }
  CHECK(FileMode(server_dir + "/server.key") == 0600);
  CHECK(FileMode(op + "/client.key") == 0600);
  // The first admin officer is made at start-up; palmctl signs in with the
  // operator certificate and keeps the session token in a 0600 file.
  const std::string secret = dir.File("admin.secret"), token = dir.File("token");
  REQUIRE(pki::WriteNewFile(secret, "s3cret-admin\n", 0600).ok());
  ServerProcess server(dir.File("data"),
                       {"--tls-cert", server_dir + "/server.crt", "--tls-key",
                        server_dir + "/server.key", "--client-ca", server_dir + "/ca.crt",
                        "--bootstrap-admin", "admin", "--bootstrap-secret-file", secret});
  CommandResult login = palm::testing::RunCommand(
      {"/bin/sh", "-c",
       absl::StrCat(palm::security_test::PalmctlBinary(), " --server ", server.address(),
                    " --cert-dir ", op, " auth login --officer admin --out ", token, " < ",
                    secret)});
  INFO(login.out << login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(FileMode(token) == 0600);

  ::setenv("PALMCTL_TOKEN_FILE", token.c_str(), 1);
  CommandResult enroll =
      Palmctl({"--server", server.address(), "--cert-dir", op, "device", "enroll", "--ca", ca,
               "--town", "wutong", "--squad", "s1", "--device-id", "dev-1", "--out", device});
  // A device issued offline (--no-register) is registered later with
  // `device register`, the retry path when registration failed.
  const std::string offline = dir.File("device-2");
  CommandResult issued = Palmctl({"device", "enroll", "--ca", ca, "--town", "wutong", "--device-id",
                                  "dev-2", "--out", offline, "--no-register"});
  CommandResult registered = Palmctl({"--server", server.address(), "--cert-dir", op, "device",
                                      "register", "--dir", offline, "--squad", "s1"});
  CommandResult listed =
      Palmctl({"--server", server.address(), "--cert-dir", op, "device", "list", "--json"});
  ::unsetenv("PALMCTL_TOKEN_FILE");
  INFO(enroll.out << enroll.err);
  REQUIRE(enroll.exit_code == 0);
  CHECK(ReadAll(device + "/device-id.txt") == "dev-1\n");
  INFO(issued.err << registered.out << registered.err << listed.err);
  REQUIRE(issued.exit_code == 0);
  REQUIRE(registered.exit_code == 0);
  CHECK(registered.out == "registered device dev-2\n");
  REQUIRE(listed.exit_code == 0);
  const nlohmann::json devices = nlohmann::json::parse(listed.out).at("devices");
  REQUIRE(devices.size() == 2);
  CHECK(devices[1].at("device_id") == "dev-2");
  CHECK(devices[1].at("squad_id") == "s1");

  // A device directory is client material too.
  // A device directory is client material too: the server answers (and asks
  // for an officer session, which a device certificate alone is not).
  CommandResult list =
      Palmctl({"--server", server.address(), "--cert-dir", device, "device", "list"});
  CHECK(list.exit_code == 1);
  CHECK(list.err == "palmctl: not signed in: run palmctl auth login\n");
}
