// palmctl device enroll|register|list|revoke: handhelds and their
// certificates (AdminService EnrollDevice, ListDevices, RevokeDevice).
#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "palm/v1/admin.grpc.pb.h"
#include "server/pki/pki.h"
#include "sync/uuid.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/cmd_util.h"
#include "tools/palmctl/command.h"

namespace palm::palmctl {
namespace {

nlohmann::json DeviceJson(const palm::v1::Device& device) {
  return {{"device_id", device.device_id()},
          {"town_id", device.town_id()},
          {"squad_id", device.squad_id()},
          {"enrolled_at_ms", device.enrolled_at_ms()},
          {"revoked", device.revoked()},
          {"revoke_reason", device.revoke_reason()},
          {"revoked_at_ms", device.revoked_at_ms()},
          {"certificate_sha256", device.certificate_sha256()}};
}

// Registers an issued device certificate with the server. Returns the exit
// code; on failure says where the credentials are and how to retry.
int Register(const GlobalOptions& global, const std::shared_ptr<grpc::Channel>& channel,
             const std::string& dir, const std::string& device_id, const std::string& town_id,
             const std::string& squad_id, const std::string& certificate_pem) {
  palm::v1::EnrollDeviceRequest request;
  request.set_town_id(town_id);
  request.set_squad_id(squad_id);
  request.set_device_id(device_id);
  request.set_certificate_pem(certificate_pem);
  palm::v1::EnrollDeviceResponse response;
  int code = CallUnary(channel, global, "EnrollDevice", &palm::v1::AdminService::Stub::EnrollDevice,
                       request, &response);
  if (code != kExitOk) {
    std::cerr << "palmctl: device " << device_id << " is not registered; its credentials are in "
              << dir << " — retry with `palmctl device register --dir " << dir << "`\n";
  }
  return code;
}

struct EnrollOptions {
  std::string ca_dir;
  std::string town;
  std::string squad;
  std::string device_id;
  std::string out;
  std::string csr;
  int valid_days = 730;
  bool no_register = false;
  bool json = false;
};

int RunEnroll(const EnrollOptions& options, const GlobalOptions& global) {
  // Flag mistakes surface before anything is written.
  std::shared_ptr<grpc::Channel> channel;
  if (!options.no_register) {
    auto made = MakeClientChannel(global);
    if (!made.ok()) return Fail(made.status());
    channel = *made;
  }
  auto ca = pki::LoadCertificateAuthority(options.ca_dir);
  if (!ca.ok()) return Fail(ca.status());
  std::string device_id = options.device_id;
  absl::StatusOr<pki::Credentials> device;
  if (!options.csr.empty()) {
    // The device made its key and this request; the key never leaves it.
    auto request = pki::ReadFile(options.csr);
    if (!request.ok()) return Fail(request.status());
    auto named = pki::DeviceIdFromRequestPem(*request);
    if (!named.ok()) return Fail(absl::StrCat(options.csr, ": ", named.status().message()));
    if (device_id.empty()) device_id = *named;
    auto certificate =
        pki::IssueDeviceCertificateForRequest(*ca,
                                              {.device_id = device_id,
                                               .town_id = options.town,
                                               .validity = {.valid_days = options.valid_days}},
                                              *request);
    if (!certificate.ok()) {
      return Fail(absl::StrCat(options.csr, ": ", certificate.status().message()));
    }
    device = pki::Credentials{.key_pem = "", .certificate_pem = std::move(*certificate)};
  } else {
    if (device_id.empty()) device_id = palm::sync::NewUuidV7();
    device = pki::IssueDeviceCertificate(*ca, {.device_id = device_id,
                                               .town_id = options.town,
                                               .validity = {.valid_days = options.valid_days}});
  }
  if (!device.ok()) return Fail(device.status());
  if (absl::Status s = pki::WriteDeviceDirectory(options.out, device_id, *device,
                                                 ca->credentials.certificate_pem);
      !s.ok()) {
    return Fail(s);
  }
  if (!options.no_register) {
    int code = Register(global, channel, options.out, device_id, options.town, options.squad,
                        device->certificate_pem);
    if (code != kExitOk) return code;
  }
  auto fingerprint = pki::CertificateSha256(device->certificate_pem);
  if (options.json) {
    PrintJson({{"device_id", device_id},
               {"town_id", options.town},
               {"squad_id", options.squad},
               {"dir", options.out},
               {"certificate_sha256", fingerprint.value_or("")},
               {"registered", !options.no_register}});
    return kExitOk;
  }
  std::cout << (options.no_register ? "issued" : "enrolled") << " device " << device_id << " (town "
            << options.town
            << (options.squad.empty() ? "" : absl::StrCat(", squad ", options.squad)) << ") into "
            << options.out << "\n  certificate sha256 " << fingerprint.value_or("?") << "\n";
  if (options.no_register) {
    std::cout << "  not registered; run `palmctl device register --dir " << options.out
              << "` to register it\n";
  }
  return kExitOk;
}

struct RegisterOptions {
  std::string dir;
  std::string squad;
};

int RunRegister(const RegisterOptions& options, const GlobalOptions& global) {
  const std::filesystem::path dir(options.dir);
  auto pem = pki::ReadFile((dir / pki::kDeviceCertFile).string());
  if (!pem.ok()) return Fail(pem.status());
  auto ca_pem = pki::ReadFile((dir / pki::kCaCertFile).string());
  if (!ca_pem.ok()) return Fail(ca_pem.status());
  if (absl::Status s = pki::VerifyCertificate(*pem, *ca_pem); !s.ok()) {
    return Fail(absl::StrCat((dir / pki::kDeviceCertFile).string(), ": ", s.message()));
  }
  auto device_id = pki::DeviceIdFromCertificatePem(*pem);
  if (!device_id.ok()) return Fail(device_id.status());
  auto info = pki::InspectCertificatePem(*pem);
  if (!info.ok()) return Fail(info.status());
  auto channel = MakeClientChannel(global);
  if (!channel.ok()) return Fail(channel.status());
  int code = Register(global, *channel, options.dir, *device_id, info->organizational_unit,
                      options.squad, *pem);
  if (code == kExitOk) std::cout << "registered device " << *device_id << "\n";
  return code;
}

struct ListOptions {
  std::string town;
  bool json = false;
};

int RunList(const ListOptions& options, const GlobalOptions& global) {
  palm::v1::ListDevicesRequest request;
  request.set_town_id(options.town);
  auto channel = MakeClientChannel(global);
  if (!channel.ok()) return Fail(channel.status());
  palm::v1::ListDevicesResponse response;
  if (int code = CallAllPages(
          *channel, global, "ListDevices", &palm::v1::AdminService::Stub::ListDevices, request,
          [](palm::v1::ListDevicesResponse* r) { return r->mutable_devices(); }, &response);
      code != kExitOk) {
    return code;
  }
  if (options.json) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& device : response.devices()) devices.push_back(DeviceJson(device));
    PrintJson({{"devices", devices}});
    return kExitOk;
  }
  PrintTableOrEmpty(
      response.devices(), "no devices are enrolled\n",
      {"DEVICE", "TOWN", "SQUAD", "ENROLLED", "STATE"},
      [](const palm::v1::Device& device) -> std::vector<std::string> {
        return {device.device_id(), device.town_id(), device.squad_id(),
                FormatUnixMs(device.enrolled_at_ms()),
                device.revoked() ? absl::StrCat("revoked: ", device.revoke_reason()) : "active"};
      });
  return kExitOk;
}

struct RevokeOptions {
  std::string device_id;
  std::string reason;
};

int RunRevoke(const RevokeOptions& options, const GlobalOptions& global) {
  palm::v1::RevokeDeviceRequest request;
  request.set_device_id(options.device_id);
  request.set_reason(options.reason);
  palm::v1::RevokeDeviceResponse response;
  if (int code = CallUnary(global, "RevokeDevice", &palm::v1::AdminService::Stub::RevokeDevice,
                           request, &response);
      code != kExitOk) {
    return code;
  }
  std::cout << "revoked device " << options.device_id << ": " << options.reason << "\n";
  return kExitOk;
}

void RegisterDevice(CommandLine& cli) {
  CLI::App* group = cli.Group("device", "Enrolled handhelds");
  const GlobalOptions& global = cli.global();

  auto enroll = std::make_shared<EnrollOptions>();
  CLI::App* enroll_cmd =
      cli.Command(group, "enroll",
                  "Issue a device key and certificate from the bureau CA and register the device",
                  [enroll, &global] { return RunEnroll(*enroll, global); });
  enroll_cmd->add_option("--ca", enroll->ca_dir, "Bureau CA directory")->required();
  enroll_cmd->add_option("--town", enroll->town, "Town id of the device")->required();
  enroll_cmd->add_option("--squad", enroll->squad, "Squad id of the device");
  enroll_cmd->add_option("--device-id", enroll->device_id,
                         "Device id (default: a new UUIDv7, or the one the --csr request names)");
  enroll_cmd->add_option("--csr", enroll->csr,
                         "A certificate request the device made (palm_create_enrolment_request): "
                         "certify its key instead of making one; device.key stays on the device");
  enroll_cmd
      ->add_option("--out", enroll->out,
                   "Directory for device.key (0600, not with --csr), device.crt, ca.crt, "
                   "device-id.txt")
      ->required();
  SetExamples(enroll_cmd,
              {"palmctl device enroll --ca ca/ --town wutong --squad wutong-1 --out handheld-07/",
               "palmctl device enroll --ca ca/ --town wutong --squad wutong-1 "
               "--csr handheld-07.csr --out handheld-07/"});
  enroll_cmd->add_option("--valid-days", enroll->valid_days, "Certificate validity in days")
      ->capture_default_str()
      ->check(CLI::Range(1, 36500));
  enroll_cmd->add_flag("--no-register", enroll->no_register,
                       "Only issue the credentials; do not call the server");
  AddJsonFlag(enroll_cmd, &enroll->json);

  auto reg = std::make_shared<RegisterOptions>();
  CLI::App* register_cmd =
      cli.Command(group, "register", "Register an already issued device directory",
                  [reg, &global] { return RunRegister(*reg, global); });
  register_cmd->add_option("--dir", reg->dir, "Device directory written by `device enroll`")
      ->required();
  register_cmd->add_option("--squad", reg->squad, "Squad id of the device");

  auto list = std::make_shared<ListOptions>();
  CLI::App* list_cmd = cli.Command(group, "list", "List enrolled devices",
                                   [list, &global] { return RunList(*list, global); });
  list_cmd->add_option("--town", list->town, "Only this town's devices");
  AddJsonFlag(list_cmd, &list->json);

  auto revoke = std::make_shared<RevokeOptions>();
  CLI::App* revoke_cmd =
      cli.Command(group, "revoke", "Revoke a device; it is refused from its next call",
                  [revoke, &global] { return RunRevoke(*revoke, global); });
  revoke_cmd->add_option("id", revoke->device_id, "Device id")->required();
  revoke_cmd->add_option("--reason", revoke->reason, "Why (kept in the audit log)")->required();
}

}  // namespace

PALMCTL_REGISTER_GROUP(device, RegisterDevice);

}  // namespace palm::palmctl
