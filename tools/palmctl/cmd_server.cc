// palmctl server cert: the server's TLS certificate from the bureau CA.
// palmctl server backup: an online backup of the server's store
// (AdminService.BackupServer; docs/operations.md).
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "absl/strings/str_join.h"
#include "palm/v1/admin.grpc.pb.h"
#include "server/pki/pki.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

struct CertOptions {
  std::string ca_dir;
  std::string out;
  std::vector<std::string> hosts;
};

int RunCert(const CertOptions& options) {
  auto ca = pki::LoadCertificateAuthority(options.ca_dir);
  if (!ca.ok()) return Fail(ca.status());
  auto server = pki::IssueServerCertificate(*ca, {.hosts = options.hosts});
  if (!server.ok()) return Fail(server.status());
  if (absl::Status s =
          pki::WriteServerDirectory(options.out, *server, ca->credentials.certificate_pem);
      !s.ok()) {
    return Fail(s);
  }
  auto info = pki::InspectCertificatePem(server->certificate_pem);
  if (!info.ok()) return Fail(info.status());
  const std::filesystem::path out(options.out);
  std::cout << "issued the server certificate for DNS:" << absl::StrJoin(info->dns_names, ", DNS:")
            << ", IP:" << absl::StrJoin(info->ip_addresses, ", IP:") << " into " << options.out
            << "\nstart the server with:\n  palm-server --tls-cert "
            << (out / pki::kServerCertFile).string() << " --tls-key "
            << (out / pki::kServerKeyFile).string() << " --client-ca "
            << (out / pki::kCaCertFile).string() << "\n";
  return kExitOk;
}

struct BackupOptions {
  std::string name;
  bool json = false;
};

int RunBackup(const BackupOptions& options, const GlobalOptions& global) {
  palm::v1::BackupServerRequest request;
  request.set_name(options.name);
  palm::v1::BackupServerResponse response;
  if (int code = CallUnary(global, "BackupServer", &palm::v1::AdminService::Stub::BackupServer,
                           request, &response);
      code != kExitOk) {
    return code;
  }
  nlohmann::json manifest = nlohmann::json::parse(response.manifest_json(), nullptr, false);
  if (options.json) {
    PrintJson({{"directory", response.directory()}, {"manifest", manifest}});
    return kExitOk;
  }
  std::cout << "backed up the store into " << response.directory() << " (" << response.store_bytes()
            << " bytes, sha256 " << response.store_sha256() << ")\n";
  if (manifest.is_object()) {
    std::cout << "  change log up to " << manifest.value("change_log_head", int64_t{0}) << ", "
              << manifest.value("cases", int64_t{0}) << " cases, "
              << manifest.value("tickets", int64_t{0}) << " tickets, "
              << manifest.value("evidence_files", int64_t{0}) << " evidence files, "
              << manifest.value("audit_entries", int64_t{0}) << " audit entries\n";
    if (int64_t missing = manifest.value("evidence_files_missing_content", int64_t{0}); missing) {
      std::cout << "  " << missing
                << " evidence file(s) had no content on the server's disk (see "
                   "evidence-index.tsv)\n";
    }
  }
  std::cout << "evidence contents and the server's secret keys are not in it: see "
               "docs/operations.md\n";
  return kExitOk;
}

void RegisterServer(CommandLine& cli) {
  CLI::App* group = cli.Group("server", "palm-server's TLS material and backups");
  auto cert = std::make_shared<CertOptions>();
  CLI::App* cmd = cli.Command(group, "cert",
                              "Issue the server key and certificate (server.key 0600, "
                              "server.crt, ca.crt)",
                              [cert] { return RunCert(*cert); });
  cmd->add_option("--ca", cert->ca_dir, "Bureau CA directory")->required();
  cmd->add_option("--out", cert->out, "Directory to write into")->required();
  cmd->add_option("--host", cert->hosts,
                  "Extra host name or IP address for the certificate (repeatable); localhost "
                  "and 127.0.0.1 are always in it");

  const GlobalOptions& global = cli.global();
  auto backup = std::make_shared<BackupOptions>();
  CLI::App* backup_cmd = cli.Command(
      group, "backup",
      "Take a consistent online backup of the server's store into its --backup-dir (admin)",
      [backup, &global] { return RunBackup(*backup, global); });
  backup_cmd->add_option("--name", backup->name,
                         "The backup's directory name (default palm-<UTC time>)");
  AddJsonFlag(backup_cmd, &backup->json);
  SetExamples(backup_cmd, {"palmctl server backup", "palmctl server backup --name before-upgrade"});
}

}  // namespace

PALMCTL_REGISTER_GROUP(server, RegisterServer);

}  // namespace palm::palmctl
