// The bureau's public-key infrastructure: one self-signed bureau CA that
// issues the server certificate, a client certificate to every enrolled
// handheld, and client certificates to operators (palmctl users), all for
// mutual TLS (DESIGN.md §4).
//
// Keys are ECDSA P-256 and signatures ECDSA with SHA-256, which gRPC's TLS
// stack accepts on both ends. Everything here goes through the OpenSSL 3
// library; nothing runs the `openssl` binary.
//
// Identities live in the subjectAltName as URIs, so that the server reads
// them from the *verified* peer certificate and never from a request field:
//   palm:device:<device-id>      a handheld (extendedKeyUsage clientAuth)
//   palm:operator:<name>         a palmctl user (extendedKeyUsage clientAuth)
//
// On disk (file names below):
//   CA dir      ca.key (0600), ca.crt
//   server dir  server.key (0600), server.crt, ca.crt
//   device dir  device.key (0600), device.crt, ca.crt, device-id.txt
//   operator    client.key (0600), client.crt, ca.crt
// Private keys are unencrypted PKCS#8 PEM created 0600 from the first byte;
// certificates are PEM, 0644. No writer here ever overwrites a file.
//
// All functions are thread-safe (they share no state of their own).
#ifndef PALM_SERVER_PKI_PKI_H_
#define PALM_SERVER_PKI_PKI_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace palm::pki {

using TimePoint = std::chrono::system_clock::time_point;

inline constexpr char kCaKeyFile[] = "ca.key";
inline constexpr char kCaCertFile[] = "ca.crt";
inline constexpr char kServerKeyFile[] = "server.key";
inline constexpr char kServerCertFile[] = "server.crt";
inline constexpr char kDeviceKeyFile[] = "device.key";
inline constexpr char kDeviceCertFile[] = "device.crt";
inline constexpr char kDeviceIdFile[] = "device-id.txt";
inline constexpr char kClientKeyFile[] = "client.key";
inline constexpr char kClientCertFile[] = "client.crt";

inline constexpr char kDeviceUriPrefix[] = "palm:device:";
inline constexpr char kOperatorUriPrefix[] = "palm:operator:";

// How long a certificate is valid. By default from one hour before now (so a
// peer whose clock is a little behind still accepts it) for `valid_days`.
// `not_before` / `not_after` override either end; tests use them to make
// certificates that are already expired or not yet valid.
struct Validity {
  int valid_days = 365;
  std::optional<TimePoint> not_before = std::nullopt;
  std::optional<TimePoint> not_after = std::nullopt;
};

// A private key and the certificate issued for it, both PEM. The key is a
// secret: never log it, never write it anywhere but a 0600 file.
struct Credentials {
  std::string key_pem;
  std::string certificate_pem;
};

// The bureau CA: its key and self-signed certificate, and the bureau name
// (the certificate's O), which every certificate it issues carries as O.
struct CertificateAuthority {
  Credentials credentials;
  std::string bureau;
};

struct CaOptions {
  // Organisation name, UTF-8, 1..64 characters. Chinese names are fine.
  std::string bureau = "Palm Bureau";
  Validity validity = {.valid_days = 3650};
};

// Creates a new bureau CA: a fresh P-256 key and a self-signed certificate
// with basicConstraints critical CA:TRUE, pathlen:0 (it signs only leaf
// certificates), keyUsage critical keyCertSign+cRLSign, SKI and AKI, valid
// ten years by default. INVALID_ARGUMENT for a bad bureau name or validity;
// INTERNAL if OpenSSL fails.
absl::StatusOr<CertificateAuthority> CreateCertificateAuthority(const CaOptions& options);

struct ServerCertificateOptions {
  // Extra host names or IP addresses (v4 or v6 literals) for the SAN, besides
  // DNS:localhost and IP:127.0.0.1, which are always present.
  std::vector<std::string> hosts;
  Validity validity = {.valid_days = 825};
};

// Issues a server certificate signed by `ca`: CN = the first host (or
// "localhost"), O = bureau, SAN as in `options`, extendedKeyUsage serverAuth.
// INVALID_ARGUMENT for a host that is neither an IP literal nor a DNS name.
absl::StatusOr<Credentials> IssueServerCertificate(const CertificateAuthority& ca,
                                                   const ServerCertificateOptions& options);

struct DeviceCertificateOptions {
  // 1..64 characters of [A-Za-z0-9._-]; palmctl uses a UUIDv7.
  std::string device_id;
  // The town the device belongs to; same character set.
  std::string town_id;
  Validity validity = {.valid_days = 730};
};

// Issues a handheld's client certificate signed by `ca`: subject CN = device
// id, O = bureau, OU = town id; SAN URI palm:device:<device-id>;
// extendedKeyUsage clientAuth. INVALID_ARGUMENT for a bad id or validity.
absl::StatusOr<Credentials> IssueDeviceCertificate(const CertificateAuthority& ca,
                                                   const DeviceCertificateOptions& options);

// Issues a handheld's certificate, as IssueDeviceCertificate, for the key of
// `request_pem`: a PKCS #10 request the device made itself, so that its
// private key never leaves it (palm/enrolment.h). The request must name
// options.device_id as its subject CN, carry a P-256 key, and be signed by
// that key. Returns the certificate PEM. INVALID_ARGUMENT, naming the
// problem, for anything else.
absl::StatusOr<std::string> IssueDeviceCertificateForRequest(
    const CertificateAuthority& ca, const DeviceCertificateOptions& options,
    absl::string_view request_pem);

// The device id a certificate request names (its subject CN), checked as
// device ids are. INVALID_ARGUMENT for a request that does not parse.
absl::StatusOr<std::string> DeviceIdFromRequestPem(absl::string_view request_pem);

struct OperatorCertificateOptions {
  // 1..64 characters of [A-Za-z0-9._-].
  std::string name;
  Validity validity = {.valid_days = 365};
};

// Issues an operator's (palmctl user's) client certificate signed by `ca`:
// CN = name, O = bureau, OU = "operators"; SAN URI palm:operator:<name>;
// extendedKeyUsage clientAuth. It carries no device identity.
absl::StatusOr<Credentials> IssueOperatorCertificate(const CertificateAuthority& ca,
                                                     const OperatorCertificateOptions& options);

// What a certificate says, for display and for identity checks.
struct CertificateInfo {
  std::string common_name;
  std::string organization;
  std::string organizational_unit;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // text form
  std::vector<std::string> uris;
  TimePoint not_before;
  TimePoint not_after;
  bool is_ca = false;
  std::string sha256;  // of the DER encoding, lowercase hex
};

// Parses the first certificate in `pem`. INVALID_ARGUMENT if there is none.
// It does not verify anything: see VerifyCertificate.
absl::StatusOr<CertificateInfo> InspectCertificatePem(absl::string_view pem);

// Returns the device id of a device certificate: the text after
// "palm:device:" in its one SAN URI of that form. For the server, `pem` is
// the peer certificate that TLS already verified against the bureau CA
// (gRPC auth context property "x509_pem_cert"). NOT_FOUND when the
// certificate names no device (e.g. an operator's), INVALID_ARGUMENT when
// the PEM does not parse, names two devices, or the id is malformed.
absl::StatusOr<std::string> DeviceIdFromCertificatePem(absl::string_view pem);

// Like DeviceIdFromCertificatePem, for "palm:operator:<name>".
absl::StatusOr<std::string> OperatorNameFromCertificatePem(absl::string_view pem);

// Returns the SHA-256 of the certificate's DER encoding as 64 lowercase hex
// digits (the fingerprint that palm.v1.Device.certificate_sha256 holds).
// INVALID_ARGUMENT when the PEM does not parse.
absl::StatusOr<std::string> CertificateSha256(absl::string_view pem);

// Checks that `certificate_pem` chains to `ca_certificate_pem` and is valid
// at `at` (default now). INVALID_ARGUMENT when either PEM does not parse;
// UNAUTHENTICATED, naming OpenSSL's reason ("certificate has expired",
// "unable to get local issuer certificate", ...), when it does not verify.
absl::Status VerifyCertificate(absl::string_view certificate_pem,
                               absl::string_view ca_certificate_pem,
                               std::optional<TimePoint> at = std::nullopt);

// Writes ca.key (0600) and ca.crt into `dir`, creating `dir` (0700) if it is
// missing. ALREADY_EXISTS, writing nothing, when either file is there: a
// bureau CA is never replaced by accident.
absl::Status WriteCertificateAuthority(const CertificateAuthority& ca, const std::string& dir);

// Loads ca.key and ca.crt from `dir` and checks that the key matches the
// certificate and that the certificate is a CA. NOT_FOUND when a file is
// missing, INVALID_ARGUMENT when they do not parse or do not match.
absl::StatusOr<CertificateAuthority> LoadCertificateAuthority(const std::string& dir);

// Write the server, device or operator directory layout (see the top of this
// file) into `dir`, creating it (0700) if missing. ALREADY_EXISTS, writing
// nothing, when any of the files is there; on a later failure the files
// written so far are removed again.
absl::Status WriteServerDirectory(const std::string& dir, const Credentials& server,
                                  absl::string_view ca_certificate_pem);
absl::Status WriteDeviceDirectory(const std::string& dir, absl::string_view device_id,
                                  const Credentials& device, absl::string_view ca_certificate_pem);
absl::Status WriteOperatorDirectory(const std::string& dir, const Credentials& client,
                                    absl::string_view ca_certificate_pem);

// Creates `path` exclusively (O_CREAT|O_EXCL|O_NOFOLLOW) with exactly `mode`
// — set with fchmod before the first byte is written, whatever the umask —
// writes `contents` and fsyncs it. ALREADY_EXISTS when `path` exists.
absl::Status WriteNewFile(const std::string& path, absl::string_view contents, int mode);

// Reads a whole file. NOT_FOUND when it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace palm::pki

#endif  // PALM_SERVER_PKI_PKI_H_
