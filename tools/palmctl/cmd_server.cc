// palmctl server cert: the server's TLS certificate from the bureau CA.
#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/strings/str_join.h"
#include "server/pki/pki.h"
#include "tools/palmctl/command.h"

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

void RegisterServer(CommandLine& cli) {
  CLI::App* group = cli.Group("server", "palm-server's own TLS material");
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
}

}  // namespace

PALMCTL_REGISTER_GROUP(server, RegisterServer);

}  // namespace palm::palmctl
