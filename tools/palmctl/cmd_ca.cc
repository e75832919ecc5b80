// palmctl ca init|show: the bureau CA.
#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "server/pki/pki.h"
#include "tools/palmctl/command.h"

namespace palm::palmctl {
namespace {

struct InitOptions {
  std::string dir;
  std::string bureau = "Palm Bureau";
};

int RunInit(const InitOptions& options) {
  for (const char* name : {pki::kCaKeyFile, pki::kCaCertFile}) {
    std::string path = (std::filesystem::path(options.dir) / name).string();
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
      return Fail(absl::StrCat("a bureau CA already exists in ", options.dir, " (", path,
                               "); refusing to overwrite it"));
    }
  }
  auto ca = pki::CreateCertificateAuthority({.bureau = options.bureau});
  if (!ca.ok()) return Fail(ca.status());
  if (absl::Status s = pki::WriteCertificateAuthority(*ca, options.dir); !s.ok()) return Fail(s);
  auto fingerprint = pki::CertificateSha256(ca->credentials.certificate_pem);
  std::cout << "created the bureau CA of '" << ca->bureau << "' in " << options.dir << "\n"
            << "  " << pki::kCaCertFile << "  sha256 " << fingerprint.value_or("?") << "\n"
            << "  " << pki::kCaKeyFile << "  mode 0600: keep it offline and backed up\n";
  return kExitOk;
}

struct ShowOptions {
  std::string dir;
  bool json = false;
};

int RunShow(const ShowOptions& options) {
  auto pem = pki::ReadFile((std::filesystem::path(options.dir) / pki::kCaCertFile).string());
  if (!pem.ok()) return Fail(pem.status());
  auto info = pki::InspectCertificatePem(*pem);
  if (!info.ok()) return Fail(info.status());
  auto ms = [](pki::TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  if (options.json) {
    PrintJson({{"bureau", info->organization},
               {"common_name", info->common_name},
               {"not_before_ms", ms(info->not_before)},
               {"not_after_ms", ms(info->not_after)},
               {"is_ca", info->is_ca},
               {"sha256", info->sha256}});
    return kExitOk;
  }
  std::cout << "bureau      " << info->organization << "\n"
            << "subject CN  " << info->common_name << "\n"
            << "valid       " << FormatUnixMs(ms(info->not_before)) << " .. "
            << FormatUnixMs(ms(info->not_after)) << "\n"
            << "sha256      " << info->sha256 << "\n";
  return kExitOk;
}

void RegisterCa(CommandLine& cli) {
  CLI::App* group = cli.Group("ca", "The bureau certificate authority");

  auto init = std::make_shared<InitOptions>();
  CLI::App* init_cmd = cli.Command(group, "init", "Create the bureau CA (ca.key 0600, ca.crt)",
                                   [init] { return RunInit(*init); });
  init_cmd->add_option("--dir", init->dir, "Directory for ca.key and ca.crt")->required();
  init_cmd->add_option("--bureau", init->bureau, "Bureau name (certificate O)")
      ->capture_default_str();

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_cmd = cli.Command(group, "show", "Show the bureau CA certificate",
                                   [show] { return RunShow(*show); });
  show_cmd->add_option("--dir", show->dir, "CA directory")->required();
  AddJsonFlag(show_cmd, &show->json);
}

}  // namespace

PALMCTL_REGISTER_GROUP(ca, RegisterCa);

}  // namespace palm::palmctl
