// Enrolment without the device's key leaving it (palm/enrolment.h): the
// library makes the key and a certificate request, palmctl certifies the
// request against a real mutual-TLS palm-server, and the handheld then signs
// in and syncs with its own key.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "palm/enrolment.h"
#include "palm/palm.h"
#include "security/secure_device.h"

namespace {

using palm::security_test::FileMode;
using palm::security_test::Must;
using palm::security_test::Palmctl;
using palm::security_test::SecureDevice;
using palm::testing::CommandResult;
namespace pki = palm::pki;

std::string Slurp(const std::string& path) { return Must(pki::ReadFile(path)); }

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// palmctl as the county's admin, with an operator certificate of its own.
struct Station {
  SecureDevice& county;
  std::string op_dir;

  explicit Station(SecureDevice& c) : county(c), op_dir(c.dir.File("operator")) {
    auto creds = Must(pki::IssueOperatorCertificate(county.bureau.ca, {.name = "admin"}));
    REQUIRE(pki::WriteOperatorDirectory(op_dir, creds, county.bureau.ca.credentials.certificate_pem)
                .ok());
    ::setenv("PALMCTL_TOKEN", county.admin_token.c_str(), 1);
    ::setenv("PALMCTL_CONFIG", "/dev/null", 1);
  }
  ~Station() { ::unsetenv("PALMCTL_TOKEN"); }

  CommandResult Enroll(const std::string& csr, const std::string& out,
                       const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--server",   county.server->address(),
                                     "--cert-dir", op_dir,
                                     "device",     "enroll",
                                     "--ca",       county.bureau.ca_dir(),
                                     "--town",     "town-a",
                                     "--squad",    "squad-a1",
                                     "--csr",      csr,
                                     "--out",      out};
    args.insert(args.end(), extra.begin(), extra.end());
    return Palmctl(args);
  }
};

}  // namespace

TEST_CASE("a handheld enrolled from its own certificate request signs in and syncs") {
  SecureDevice county;
  Station station(county);
  const std::string handheld = county.dir.File("handheld");
  std::filesystem::create_directories(handheld);
  const std::string key_path = handheld + "/device.key";

  palm::Result<palm::EnrolmentRequest> request = palm::CreateEnrolmentRequest(key_path, "hh-07");
  INFO(request.status().ToString());
  REQUIRE(request.ok());
  CHECK(request->device_id == "hh-07");
  CHECK(absl::StartsWith(request->csr_pem, "-----BEGIN CERTIFICATE REQUEST-----"));
  CHECK(FileMode(key_path) == 0600);
  const std::string key_pem = Slurp(key_path);

  // The key is made once: a second request on the same path is refused.
  palm::Result<palm::EnrolmentRequest> again = palm::CreateEnrolmentRequest(key_path, "hh-07");
  CHECK(again.status().code() == palm::StatusCode::kAlreadyExists);
  CHECK(again.status().reason() == "key_exists");
  CHECK(again.status().message() ==
        key_path + " already exists; refusing to overwrite a device key");
  CHECK(Slurp(key_path) == key_pem);

  const std::string csr = county.dir.File("hh-07.csr");
  WriteText(csr, request->csr_pem);
  CommandResult enrolled = station.Enroll(csr, handheld);
  INFO(enrolled.out << enrolled.err);
  REQUIRE(enrolled.exit_code == 0);
  CHECK(
      absl::StartsWith(enrolled.out, "enrolled device hh-07 (town town-a, squad squad-a1) into "));
  // The station wrote the certificate and left the device's key alone.
  CHECK(Slurp(key_path) == key_pem);
  CHECK(Slurp(handheld + "/device-id.txt") == "hh-07\n");
  const std::string cert = Slurp(handheld + "/device.crt");
  CHECK(Must(pki::DeviceIdFromCertificatePem(cert)) == "hh-07");
  CHECK(pki::VerifyCertificate(cert, Slurp(handheld + "/ca.crt")).ok());

  // The handheld works with its own key.
  palm::ClientOptions options;
  options.db_path = county.dir.File("hh-07.db");
  options.device_id = request->device_id;
  options.key_provider = std::make_shared<palm::FileKeyProvider>(county.dir.File("hh-07-keys"));
  auto client = palm::Client::Open(options);
  REQUIRE(client.ok());
  palm::SyncOptions connection;
  connection.server_address = county.server->address();
  connection.ca_cert_path = handheld + "/ca.crt";
  connection.client_cert_path = handheld + "/device.crt";
  connection.client_key_path = key_path;
  connection.tls_server_name = "localhost";
  auto signed_in =
      (*client)->SignIn(connection, palm::security_test::kOfficer, palm::security_test::kSecret);
  INFO(signed_in.status().ToString());
  REQUIRE(signed_in.ok());
  auto synced = (*client)->Sync(connection);
  INFO(synced.status().ToString());
  REQUIRE(synced.ok());
  CHECK(synced->ok);
  CHECK(*(*client)->TicketNumbersLeft() > 0);
}

TEST_CASE("the station refuses a certificate request that is forged, foreign or not one") {
  SecureDevice county;
  Station station(county);
  const std::string dir = county.dir.File("requests");
  std::filesystem::create_directories(dir);
  auto request = palm::CreateEnrolmentRequest(dir + "/a.key", "hh-08");
  REQUIRE(request.ok());

  // Not a request at all.
  WriteText(dir + "/junk.csr", "hello\n");
  CommandResult junk = station.Enroll(dir + "/junk.csr", dir + "/out-junk");
  CHECK(junk.exit_code == 1);
  CHECK(junk.err == "palmctl: " + dir + "/junk.csr: not a PEM certificate request (PKCS #10)\n");

  // A request for one device presented for another.
  WriteText(dir + "/a.csr", request->csr_pem);
  CommandResult foreign =
      station.Enroll(dir + "/a.csr", dir + "/out-foreign", {"--device-id", "hh-09"});
  CHECK(foreign.exit_code == 1);
  CHECK(foreign.err ==
        "palmctl: " + dir + "/a.csr: the certificate request is for device hh-08, not hh-09\n");

  // A request whose signature does not match its content (one character of
  // the signature changed): whoever sent it does not hold the key.
  std::string forged = request->csr_pem;
  const size_t end = forged.find("-----END");
  REQUIRE(end != std::string::npos);
  const size_t at = end - 8;  // the last bytes of the DER are the signature's
  forged[at] = forged[at] == 'A' ? 'B' : 'A';
  WriteText(dir + "/forged.csr", forged);
  CommandResult bad = station.Enroll(dir + "/forged.csr", dir + "/out-forged");
  CHECK(bad.exit_code == 1);
  CHECK(bad.err == "palmctl: " + dir +
                       "/forged.csr: the certificate request's signature does not verify with "
                       "its own key\n");
  CHECK_FALSE(std::filesystem::exists(dir + "/out-forged/device.crt"));
}

TEST_CASE("the C API makes an enrolment request and refuses a bad device id") {
  palm::testing::TempDir dir;
  char* json = nullptr;
  REQUIRE(palm_create_enrolment_request(dir.File("k.key").c_str(), nullptr, &json) == PALM_OK);
  auto parsed = nlohmann::json::parse(json);
  palm_free(json);
  CHECK(parsed.at("device_id").get<std::string>().size() == 36);  // a UUIDv7
  CHECK(absl::StartsWith(parsed.at("csr_pem").get<std::string>(),
                         "-----BEGIN CERTIFICATE REQUEST-----"));
  CHECK(Must(pki::DeviceIdFromRequestPem(parsed.at("csr_pem").get<std::string>())) ==
        parsed.at("device_id").get<std::string>());

  json = reinterpret_cast<char*>(1);
  CHECK(palm_create_enrolment_request(dir.File("k2.key").c_str(), "no spaces", &json) ==
        PALM_INVALID_ARGUMENT);
  CHECK(json == nullptr);
  CHECK(std::string(palm_last_error_reason()) == "invalid_argument");
  CHECK(std::string(palm_last_error_message()) ==
        "a device id is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
  CHECK_FALSE(std::filesystem::exists(dir.File("k2.key")));
  CHECK(palm_create_enrolment_request(nullptr, nullptr, &json) == PALM_INVALID_ARGUMENT);
}
