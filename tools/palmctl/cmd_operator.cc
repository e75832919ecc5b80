// palmctl operator cert: a client certificate for a palmctl user, so that
// tools call the server under mutual TLS like any device.
#include <iostream>
#include <memory>

#include "server/pki/pki.h"
#include "tools/palmctl/command.h"

namespace palm::palmctl {
namespace {

struct CertOptions {
  std::string ca_dir;
  std::string name;
  std::string out;
  int valid_days = 365;
};

int RunCert(const CertOptions& options) {
  auto ca = pki::LoadCertificateAuthority(options.ca_dir);
  if (!ca.ok()) return Fail(ca.status());
  auto client = pki::IssueOperatorCertificate(
      *ca, {.name = options.name, .validity = {.valid_days = options.valid_days}});
  if (!client.ok()) return Fail(client.status());
  if (absl::Status s =
          pki::WriteOperatorDirectory(options.out, *client, ca->credentials.certificate_pem);
      !s.ok()) {
    return Fail(s);
  }
  std::cout << "issued the operator certificate " << pki::kOperatorUriPrefix << options.name
            << " into " << options.out << "\nuse it with: palmctl --cert-dir " << options.out
            << " ...\n";
  return kExitOk;
}

void RegisterOperator(CommandLine& cli) {
  CLI::App* group = cli.Group("operator", "Client certificates for palmctl users");
  auto cert = std::make_shared<CertOptions>();
  CLI::App* cmd = cli.Command(group, "cert",
                              "Issue an operator key and certificate (client.key 0600, "
                              "client.crt, ca.crt)",
                              [cert] { return RunCert(*cert); });
  cmd->add_option("--ca", cert->ca_dir, "Bureau CA directory")->required();
  cmd->add_option("--name", cert->name, "Operator name ([A-Za-z0-9._-], at most 64)")->required();
  cmd->add_option("--out", cert->out, "Directory to write into")->required();
  cmd->add_option("--valid-days", cert->valid_days, "Validity in days")
      ->capture_default_str()
      ->check(CLI::Range(1, 36500));
}

}  // namespace

PALMCTL_REGISTER_GROUP(operator, RegisterOperator);

}  // namespace palm::palmctl
