#include "server/identity.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "server/pki/pki.h"
#include "sync/status.h"

namespace palm::server {
namespace {

// The enrolled, unrevoked device `device_id`.
absl::StatusOr<palm::v1::Device> EnrolledDevice(const ServerStore& store,
                                                const std::string& device_id) {
  std::optional<palm::v1::Device> device = store.LookupDevice(device_id);
  if (!device) {
    return absl::UnauthenticatedError(absl::StrCat("device ", device_id, " is not enrolled"));
  }
  if (device->revoked()) {
    return sync::Refuse(
        absl::StatusCode::kUnauthenticated, palm::v1::REASON_DEVICE_REVOKED,
        absl::StrCat("device ", device_id, " was revoked: ", device->revoke_reason()));
  }
  return *device;
}

Principal OfDevice(const palm::v1::Device& d) {
  Principal p;
  p.device = Caller{d.device_id(), d.town_id(), d.squad_id(), ""};
  return p;
}

absl::StatusOr<Principal> FromCertificate(const grpc::CallbackServerContext* ctx,
                                          const ServerStore& store) {
  auto auth = ctx->auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("the connection presented no verified client certificate");
  }
  std::vector<grpc::string_ref> pems = auth->FindPropertyValues("x509_pem_cert");
  if (pems.empty()) {
    return absl::UnauthenticatedError("the verified peer carries no client certificate");
  }
  const std::string pem(pems.front().data(), pems.front().size());
  auto device_id = pki::DeviceIdFromCertificatePem(pem);
  if (!device_id.ok()) {
    if (device_id.status().code() != absl::StatusCode::kNotFound) {
      return absl::UnauthenticatedError(
          absl::StrCat("the client certificate is unusable: ", device_id.status().message()));
    }
    auto name = pki::OperatorNameFromCertificatePem(pem);
    if (!name.ok()) {
      return absl::UnauthenticatedError(
          "the client certificate names neither a device nor an operator");
    }
    Principal p;
    p.operator_name = *name;
    return p;
  }
  auto device = EnrolledDevice(store, *device_id);
  if (!device.ok()) return device.status();
  auto fingerprint = pki::CertificateSha256(pem);
  if (!fingerprint.ok()) return absl::UnauthenticatedError(fingerprint.status().message());
  if (device->certificate_sha256().empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("device ", *device_id, " was enrolled without a certificate"));
  }
  if (*fingerprint != device->certificate_sha256()) {
    return absl::UnauthenticatedError(
        absl::StrCat("device ", *device_id, " presented certificate ", *fingerprint,
                     " but is enrolled with certificate ", device->certificate_sha256(),
                     " (a certificate replaced by re-enrolment no longer works)"));
  }
  return OfDevice(*device);
}

}  // namespace

absl::StatusOr<Principal> IdentifyPrincipal(const grpc::CallbackServerContext* ctx,
                                            const ServerStore& store, bool tls) {
  if (tls) return FromCertificate(ctx, store);
  const auto& metadata = ctx->client_metadata();
  auto it = metadata.find(kDeviceIdMetadata);
  if (it == metadata.end() || it->second.empty()) {
    Principal p;
    p.operator_name = kLoopbackOperator;
    return p;
  }
  auto device = EnrolledDevice(store, std::string(it->second.data(), it->second.size()));
  if (!device.ok()) return device.status();
  return OfDevice(*device);
}

}  // namespace palm::server
