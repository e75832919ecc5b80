// The bureau PKI as a library: what the certificates say, what verifies,
// how keys land on disk.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <regex>

#include "security/bureau.h"
#include "server/pki/pki.h"

using palm::security_test::Bureau;
using palm::security_test::FileMode;
using palm::security_test::Must;
namespace pki = palm::pki;

namespace {

using std::chrono::hours;
using std::chrono::system_clock;

double DaysBetween(pki::TimePoint a, pki::TimePoint b) {
  return std::chrono::duration<double>(b - a).count() / 86400.0;
}

std::string ReadAll(const std::string& path) { return Must(pki::ReadFile(path)); }

}  // namespace

TEST_CASE("a new bureau CA is a self-signed CA for ten years") {
  auto ca = Must(pki::CreateCertificateAuthority({.bureau = "Tongxiang Bureau"}));
  auto info = Must(pki::InspectCertificatePem(ca.credentials.certificate_pem));
  CHECK(info.is_ca);
  CHECK(info.organization == "Tongxiang Bureau");
  CHECK(DaysBetween(system_clock::now(), info.not_after) == Approx(3650).margin(1));
  CHECK(info.not_before <= system_clock::now());
  CHECK(
      pki::VerifyCertificate(ca.credentials.certificate_pem, ca.credentials.certificate_pem).ok());
  CHECK(absl::StartsWith(ca.credentials.key_pem, "-----BEGIN PRIVATE KEY-----"));
}

TEST_CASE("a bureau name in Chinese survives into the certificates") {
  const std::string bureau = "桐乡市综合行政执法局";
  auto ca = Must(pki::CreateCertificateAuthority({.bureau = bureau}));
  auto device = Must(pki::IssueDeviceCertificate(ca, {.device_id = "d1", .town_id = "wutong"}));
  CHECK(Must(pki::InspectCertificatePem(device.certificate_pem)).organization == bureau);
}

TEST_CASE("a device certificate names its device, town and bureau and chains to the CA") {
  Bureau bureau;
  const std::string id = "0190f3a2-7c4e-7b21-9a3d-5e6f7a8b9c0d";
  pki::Credentials device = bureau.Device(id);
  auto info = Must(pki::InspectCertificatePem(device.certificate_pem));
  CHECK(info.common_name == id);
  CHECK(info.organization == "Test Bureau");
  CHECK(info.organizational_unit == "town-1");
  CHECK(info.uris == std::vector<std::string>{"palm:device:" + id});
  CHECK_FALSE(info.is_ca);
  CHECK(Must(pki::DeviceIdFromCertificatePem(device.certificate_pem)) == id);
  CHECK(pki::VerifyCertificate(device.certificate_pem, bureau.ca.credentials.certificate_pem).ok());
}

TEST_CASE("a certificate from another CA does not verify against the bureau CA") {
  Bureau bureau;
  Bureau other("Other Bureau");
  absl::Status status = pki::VerifyCertificate(other.Device("d1").certificate_pem,
                                               bureau.ca.credentials.certificate_pem);
  CHECK(absl::IsUnauthenticated(status));
  CHECK(absl::StrContains(status.message(), "unable to get local issuer certificate"));
}

TEST_CASE("an expired or not yet valid device certificate does not verify") {
  Bureau bureau;
  auto now = system_clock::now();
  pki::Credentials expired =
      bureau.Device("d1", {.not_before = now - hours(48), .not_after = now - hours(24)});
  absl::Status status =
      pki::VerifyCertificate(expired.certificate_pem, bureau.ca.credentials.certificate_pem);
  CHECK(absl::IsUnauthenticated(status));
  CHECK(absl::StrContains(status.message(), "certificate has expired"));

  pki::Credentials early = bureau.Device("d2", {.not_before = now + hours(24)});
  absl::Status not_yet =
      pki::VerifyCertificate(early.certificate_pem, bureau.ca.credentials.certificate_pem);
  CHECK(absl::IsUnauthenticated(not_yet));
  CHECK(absl::StrContains(not_yet.message(), "certificate is not yet valid"));
}

TEST_CASE("DeviceIdFromCertificatePem refuses certificates that name no device") {
  Bureau bureau;
  absl::StatusOr<std::string> from_server =
      pki::DeviceIdFromCertificatePem(bureau.server.certificate_pem);
  CHECK(absl::IsNotFound(from_server.status()));
  CHECK(absl::StrContains(from_server.status().message(), "names no device id"));

  auto op = Must(pki::IssueOperatorCertificate(bureau.ca, {.name = "admin"}));
  CHECK(absl::IsNotFound(pki::DeviceIdFromCertificatePem(op.certificate_pem).status()));
  CHECK(Must(pki::OperatorNameFromCertificatePem(op.certificate_pem)) == "admin");

  CHECK(absl::IsInvalidArgument(pki::DeviceIdFromCertificatePem("not a certificate").status()));
  CHECK(absl::IsInvalidArgument(pki::DeviceIdFromCertificatePem("").status()));
}

TEST_CASE("device ids and town ids that would need escaping are refused") {
  Bureau bureau;
  for (const std::string& id : {std::string(), std::string("a/b"), std::string("a,URI:x"),
                                std::string(65, 'a'), std::string("设备")}) {
    INFO("device id '" << id << "'");
    auto issued = pki::IssueDeviceCertificate(bureau.ca, {.device_id = id, .town_id = "t"});
    CHECK(absl::IsInvalidArgument(issued.status()));
  }
  CHECK(absl::IsInvalidArgument(
      pki::IssueDeviceCertificate(bureau.ca, {.device_id = "d", .town_id = "t 1"}).status()));
}

TEST_CASE("a certificate whose validity ends before it starts is refused") {
  Bureau bureau;
  auto now = system_clock::now();
  auto issued = pki::IssueDeviceCertificate(
      bureau.ca, {.device_id = "d",
                  .town_id = "t",
                  .validity = {.not_before = now, .not_after = now - hours(1)}});
  CHECK(absl::IsInvalidArgument(issued.status()));
}

TEST_CASE("the server certificate names localhost, 127.0.0.1 and any extra hosts") {
  Bureau bureau;
  auto info = Must(pki::InspectCertificatePem(bureau.server.certificate_pem));
  CHECK(info.dns_names == std::vector<std::string>{"localhost"});
  CHECK(info.ip_addresses == std::vector<std::string>{"127.0.0.1"});

  auto more = Must(pki::IssueServerCertificate(
      bureau.ca, {.hosts = {"palm.example.org", "10.1.2.3", "::1", "127.0.0.1"}}));
  auto more_info = Must(pki::InspectCertificatePem(more.certificate_pem));
  CHECK(more_info.dns_names == std::vector<std::string>{"localhost", "palm.example.org"});
  CHECK(more_info.ip_addresses == std::vector<std::string>{"127.0.0.1", "10.1.2.3", "::1"});
  CHECK(absl::IsInvalidArgument(
      pki::IssueServerCertificate(bureau.ca, {.hosts = {"bad host"}}).status()));
}

TEST_CASE("CertificateSha256 is a stable fingerprint, distinct per certificate") {
  Bureau bureau;
  pki::Credentials a = bureau.Device("a");
  pki::Credentials b = bureau.Device("a");  // same subject, new key and serial
  std::string fa = Must(pki::CertificateSha256(a.certificate_pem));
  CHECK(std::regex_match(fa, std::regex("[0-9a-f]{64}")));
  CHECK(fa == Must(pki::CertificateSha256(a.certificate_pem)));
  CHECK(fa == Must(pki::InspectCertificatePem(a.certificate_pem)).sha256);
  CHECK(fa != Must(pki::CertificateSha256(b.certificate_pem)));
  CHECK(absl::IsInvalidArgument(pki::CertificateSha256("junk").status()));
}

TEST_CASE("private keys are written 0600 and certificates 0644, whatever the umask") {
  palm::testing::TempDir dir;
  mode_t old_umask = ::umask(0);  // the most permissive: modes come from fchmod alone
  auto ca = Must(pki::CreateCertificateAuthority({}));
  absl::Status written = pki::WriteCertificateAuthority(ca, dir.File("ca"));
  auto device = Must(pki::IssueDeviceCertificate(ca, {.device_id = "dev-1", .town_id = "t"}));
  absl::Status device_written = pki::WriteDeviceDirectory(dir.File("device"), "dev-1", device,
                                                          ca.credentials.certificate_pem);
  ::umask(old_umask);
  REQUIRE(written.ok());
  REQUIRE(device_written.ok());
  CHECK(FileMode(dir.File("ca/ca.key")) == 0600);
  CHECK(FileMode(dir.File("ca/ca.crt")) == 0644);
  CHECK(FileMode(dir.File("ca")) == 0700);
  CHECK(FileMode(dir.File("device/device.key")) == 0600);
  CHECK(FileMode(dir.File("device/device.crt")) == 0644);
  CHECK(ReadAll(dir.File("device/device-id.txt")) == "dev-1\n");
  CHECK(ReadAll(dir.File("device/ca.crt")) == ca.credentials.certificate_pem);
  CHECK(ReadAll(dir.File("device/device.key")) == device.key_pem);
}

TEST_CASE("an existing CA or device directory is never overwritten") {
  palm::testing::TempDir dir;
  auto first = Must(pki::CreateCertificateAuthority({}));
  auto second = Must(pki::CreateCertificateAuthority({}));
  REQUIRE(pki::WriteCertificateAuthority(first, dir.File("ca")).ok());
  absl::Status again = pki::WriteCertificateAuthority(second, dir.File("ca"));
  CHECK(absl::IsAlreadyExists(again));
  CHECK(absl::StrContains(again.message(), "refusing to overwrite"));
  CHECK(ReadAll(dir.File("ca/ca.key")) == first.credentials.key_pem);

  // One file in the way stops the whole set, and nothing is left behind.
  std::filesystem::create_directories(dir.File("device"));
  REQUIRE(pki::WriteNewFile(dir.File("device/ca.crt"), "x", 0644).ok());
  auto device = Must(pki::IssueDeviceCertificate(first, {.device_id = "d", .town_id = "t"}));
  CHECK(absl::IsAlreadyExists(pki::WriteDeviceDirectory(dir.File("device"), "d", device,
                                                        first.credentials.certificate_pem)));
  CHECK_FALSE(std::filesystem::exists(dir.File("device/device.key")));
}

TEST_CASE("a CA directory loads back, and a key that does not match its certificate is refused") {
  Bureau bureau;
  auto loaded = Must(pki::LoadCertificateAuthority(bureau.ca_dir()));
  CHECK(loaded.bureau == "Test Bureau");
  CHECK(loaded.credentials.certificate_pem == bureau.ca.credentials.certificate_pem);
  // Issuing from the loaded CA chains to the original.
  auto device = Must(pki::IssueDeviceCertificate(loaded, {.device_id = "d", .town_id = "t"}));
  CHECK(pki::VerifyCertificate(device.certificate_pem, bureau.ca.credentials.certificate_pem).ok());

  Bureau other;
  std::filesystem::remove(std::filesystem::path(bureau.ca_dir()) / "ca.crt");
  REQUIRE(pki::WriteNewFile(bureau.ca_dir() + "/ca.crt", other.ca.credentials.certificate_pem, 0644)
              .ok());
  auto mismatched = pki::LoadCertificateAuthority(bureau.ca_dir());
  CHECK(absl::IsInvalidArgument(mismatched.status()));
  CHECK(absl::StrContains(mismatched.status().message(), "is not the key of"));

  CHECK(absl::IsNotFound(pki::LoadCertificateAuthority(bureau.dir.File("nowhere")).status()));
}
