// palmctl auth: officer sign-in for palmctl users (AuthService.SignIn). The
// session token goes to a file created 0600, which later commands read (see
// client_channel.h, SessionToken); the secret is read from stdin, never from
// the command line.
#include <filesystem>
#include <iostream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "palm/v1/auth.grpc.pb.h"
#include "server/pki/pki.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/command.h"

namespace palm::palmctl {
namespace {

struct LoginOptions {
  std::string officer_id;
  std::string out;
};

int RunLogin(const LoginOptions& options, const GlobalOptions& global) {
  std::string secret;
  std::getline(std::cin, secret);
  secret = std::string(absl::StripTrailingAsciiWhitespace(secret));
  if (secret.empty()) return Fail("no secret on stdin (give the PIN or password on one line)");
  palm::v1::SignInRequest request;
  request.set_officer_id(options.officer_id);
  request.set_secret(secret);
  palm::v1::SignInResponse response;
  if (int code =
          CallUnary(global, "SignIn", &palm::v1::AuthService::Stub::SignIn, request, &response);
      code != kExitOk) {
    return code;
  }
  const std::string path = options.out.empty() ? DefaultTokenFile() : options.out;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::filesystem::remove(path, ec);
  if (auto s = pki::WriteNewFile(path, response.session().token() + "\n", 0600); !s.ok()) {
    return Fail(s);
  }
  std::cout << "signed in as " << options.officer_id << " ("
            << palm::v1::Role_Name(response.session().role()) << ") until "
            << FormatUnixMs(response.session().expires_at_ms()) << "; token in " << path << "\n";
  return kExitOk;
}

void RegisterAuth(CommandLine& cli) {
  CLI::App* group = cli.Group("auth", "Officer sign-in");
  const GlobalOptions& global = cli.global();
  auto login = std::make_shared<LoginOptions>();
  CLI::App* login_cmd = cli.Command(
      group, "login", "Sign in as an officer (secret on stdin); writes the session token 0600",
      [login, &global] { return RunLogin(*login, global); });
  login_cmd->add_option("--officer", login->officer_id, "Officer id")->required();
  login_cmd->add_option("--out", login->out,
                        "Token file (default $PALMCTL_TOKEN_FILE or ~/.palmctl/token)");
}

}  // namespace

PALMCTL_REGISTER_GROUP(auth, RegisterAuth);

}  // namespace palm::palmctl
