// Setting up an organisation on a benchmark's palm-server through the wire,
// as an admin would (AdminService, AuthService), over plaintext loopback or
// mutual TLS with a development PKI; and seeding it with cases fast.
#ifndef PALM_TOOLS_BENCH_SERVER_SETUP_H_
#define PALM_TOOLS_BENCH_SERVER_SETUP_H_

#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "palm/v1/admin.grpc.pb.h"
#include "server/pki/pki.h"

namespace palm::bench {

// A plaintext channel to `address` on its own connection.
std::shared_ptr<grpc::Channel> PlainChannel(const std::string& address);

// Readies `ctx` for a Push by `device_id`: names the device, and waits for
// the channel to connect (up to 5 minutes) instead of failing on a first
// refused attempt, as the client library's sync retries. CI once saw one
// device of the quick push fail "failed to connect to all addresses" on
// loopback from a server that was up.
void DevicePushContext(grpc::ClientContext* ctx, const std::string& device_id);

// A TLS channel to `address` trusting `ca_pem`, presenting `client`, and
// checking the server certificate against "localhost".
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca_pem,
                                          const pki::Credentials& client);

// A development bureau: CA and server credentials written under `dir`
// (dir/ca, dir/server), an admin secret file, and the palm-server flags
// for mutual TLS with a bootstrapped admin.
struct DevBureau {
  static absl::StatusOr<DevBureau> Create(const std::string& dir);
  std::vector<std::string> ServerArgs() const;
  // An operator certificate for the admin, a device certificate for `device_id`.
  absl::StatusOr<pki::Credentials> Operator() const;
  absl::StatusOr<pki::Credentials> Device(const std::string& device_id,
                                          const std::string& town_id) const;

  std::string dir;
  pki::CertificateAuthority ca;
  std::string admin_id = "bench-admin";
  std::string admin_secret = "bench-admin-secret-1";
};

// AdminService calls with an optional session token.
class AdminClient {
 public:
  AdminClient(std::shared_ptr<grpc::Channel> channel, std::string token = "");

  absl::Status LoadCatalog(const v1::Catalog& catalog);
  // `certificate_pem` binds the device to its certificate (TLS); empty for
  // plaintext loopback.
  absl::Status EnrollDevice(const std::string& device_id, const std::string& town,
                            const std::string& squad, const std::string& certificate_pem = "");
  absl::Status AddOfficer(const std::string& officer_id, const std::string& town,
                          const std::string& squad, bool sworn, const std::string& secret);

 private:
  std::unique_ptr<grpc::ClientContext> Context() const;
  std::unique_ptr<v1::AdminService::Stub> stub_;
  std::string token_;
};

// AuthService.SignIn: the officer's session token.
absl::StatusOr<std::string> SignIn(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& officer_id, const std::string& secret);

// The catalogue of the file at `path` (the sample catalogue by default).
absl::StatusOr<v1::Catalog> CatalogFromFile(const std::string& path);

// The second credentialed officer every case PushCases records names
// (Art. 55); the caller adds it to the town, sworn.
inline constexpr char kPartnerOfficer[] = "bench-officer-partner";

// Pushes `count` RecordCase mutations (summary cases of `matter`, one
// citizen party each, in `town`, with `officer_id` and kPartnerOfficer) as
// `device_id` / `officer_id`, over plaintext
// loopback, in batches of 2,000, building each batch only when it is sent.
// Every mutation must come back APPLIED.
absl::Status PushCases(const std::string& address, const std::string& device_id,
                       const std::string& officer_id, const std::string& town,
                       const std::string& matter, int64_t count);

}  // namespace palm::bench

#endif  // PALM_TOOLS_BENCH_SERVER_SETUP_H_
