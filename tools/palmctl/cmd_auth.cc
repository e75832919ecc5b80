// palmctl auth: officer sign-in for palmctl users (AuthService.SignIn,
// SignOut). The session token goes to a file created 0600, which later
// commands read (see client_channel.h, SessionToken); the secret is read
// from stdin — with a prompt and without echo on a terminal — never from
// the command line.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "palm/v1/auth.grpc.pb.h"
#include "server/pki/pki.h"
#include "sync/hlc.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"
#include "tools/palmctl/session.h"
#include "tools/palmctl/terminal.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

std::string RoleLabel(v1::Role role) { return EnumLabel(v1::Role_descriptor(), role); }

struct LoginOptions {
  std::string officer_id;
  std::string out;
};

int RunLogin(const LoginOptions& options, const GlobalOptions& global) {
  auto secret = ReadSecretLine(
      absl::StrCat("Secret (PIN or password) of officer ", options.officer_id, ": "));
  if (!secret.ok()) {
    return Fail(absl::StrCat(secret.status().message(), " (give the PIN or password on one line)"));
  }
  v1::SignInRequest request;
  request.set_officer_id(options.officer_id);
  request.set_secret(*secret);
  v1::SignInResponse response;
  if (int code = CallUnary(global, "SignIn", &v1::AuthService::Stub::SignIn, request, &response);
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
  std::cout << "signed in as " << options.officer_id << " (" << RoleLabel(response.session().role())
            << ") until " << FormatUnixMs(response.session().expires_at_ms()) << "; token in "
            << path << "\n";
  return kExitOk;
}

struct StatusOptions {
  bool json = false;
};

int RunStatus(const StatusOptions& options) {
  const char* env = std::getenv(kTokenEnv);
  const bool from_env = env != nullptr && *env != '\0';
  const std::string source = from_env ? std::string("$") + kTokenEnv : DefaultTokenFile();
  std::optional<SessionInfo> session = CurrentSession();
  if (!session) {
    if (options.json) PrintJson({{"signed_in", false}, {"token", source}});
    return Fail("not signed in: run palmctl auth login");
  }
  const bool expired = sync::SystemNowMs() >= session->expires_at_ms;
  if (options.json) {
    PrintJson({{"signed_in", !expired},
               {"officer_id", session->officer_id},
               {"role", v1::Role_Name(session->role)},
               {"town_id", session->town_id},
               {"squad_id", session->squad_id},
               {"issued_to", session->principal},
               {"expires_at_ms", session->expires_at_ms},
               {"expires_at", FormatUnixMs(session->expires_at_ms)},
               {"token", source}});
  } else {
    std::cout << KeyValueLines(
        {{"officer", session->officer_id},
         {"role", RoleLabel(session->role)},
         {"town", session->town_id},
         {"squad", session->squad_id},
         {"issued to", session->principal},
         {expired ? "expired" : "expires", FormatUnixMs(session->expires_at_ms)},
         {"token", source}});
  }
  if (expired) {
    return Fail(absl::StrCat("the session of officer ", session->officer_id,
                             " has expired: run palmctl auth login"));
  }
  return kExitOk;
}

int RunLogout(const GlobalOptions& global) {
  const std::string token = SessionToken();
  if (token.empty()) {
    std::cout << "not signed in; nothing to do\n";
    return kExitOk;
  }
  v1::SignOutResponse response;
  if (int code = CallUnary(global, "SignOut", &v1::AuthService::Stub::SignOut, v1::SignOutRequest(),
                           &response);
      code != kExitOk) {
    return code;  // the token stays, so that logout can be tried again
  }
  std::optional<SessionInfo> session = ReadSession(token);
  const std::string who = session ? absl::StrCat(" officer ", session->officer_id) : "";
  const char* env = std::getenv(kTokenEnv);
  if (env != nullptr && *env != '\0') {
    std::cout << "signed out" << who << "; unset $" << kTokenEnv << "\n";
    return kExitOk;
  }
  const std::string path = DefaultTokenFile();
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return Fail(absl::StrCat("signed out, but cannot remove ", path, ": ", ec.message()));
  std::cout << "signed out" << who << "; removed " << path << "\n";
  return kExitOk;
}

void RegisterAuth(CommandLine& cli) {
  CLI::App* group = cli.Group("auth", "Officer sign-in: login, status, logout");
  const GlobalOptions& global = cli.global();
  auto login = std::make_shared<LoginOptions>();
  CLI::App* login_cmd = cli.Command(
      group, "login",
      "Sign in as an officer: asks for the secret (hidden) on a terminal, else reads one line "
      "from stdin; writes the session token 0600",
      [login, &global] { return RunLogin(*login, global); });
  login_cmd->add_option("--officer", login->officer_id, "Officer id")->required();
  login_cmd->add_option("--out", login->out,
                        "Token file (default $PALMCTL_TOKEN_FILE or ~/.palmctl/token)");
  SetExamples(
      login_cmd,
      {"palmctl --server 10.0.0.5:7443 --cert-dir ~/palm-operator auth login --officer "
       "leader-1",
       "palmctl auth login --officer admin < admin.secret   # scripts: the secret on stdin"});

  auto status = std::make_shared<StatusOptions>();
  CLI::App* status_cmd =
      cli.Command(group, "status",
                  "Who is signed in (from the saved session token), until when; exit 1 when "
                  "nobody is or the session has expired",
                  [status] { return RunStatus(*status); });
  AddJsonFlag(status_cmd, &status->json);

  cli.Command(group, "logout",
              "End the session on the server (AuthService.SignOut) and remove the saved token",
              [&global] { return RunLogout(global); });
}

}  // namespace

PALMCTL_REGISTER_GROUP(auth, RegisterAuth);

}  // namespace palm::palmctl
