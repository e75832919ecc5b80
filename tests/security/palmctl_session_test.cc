// palmctl as an officer uses it day to day: signing in (a hidden prompt on a
// terminal), status and logout, the squad and date it defaults to, times in
// the bureau's zone, --json, errors that name the fix, and unlocking an
// officer. palmctl runs as a child process against a real palm-server on
// 127.0.0.1, with HOME and the token file in a temporary directory.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "security/bureau.h"
#include "support/temp_dir.h"

using palm::security_test::Bureau;
using palm::security_test::FileMode;
using palm::security_test::Must;
using palm::security_test::PalmctlBinary;
using palm::testing::CommandResult;
using palm::testing::RunCommand;
using palm::testing::ServerProcess;
using palm::testing::TempDir;
namespace pki = palm::pki;

namespace {

constexpr char kLeader[] = "leader-1";
constexpr char kLeaderSecret[] = "leader-pin-1";
constexpr char kSquad[] = "sq-a";

// Unix ms now.
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `unix_ms` shifted by `offset_hours` and formatted with `format` (gmtime).
std::string Format(int64_t unix_ms, int offset_hours, const char* format) {
  const time_t seconds = static_cast<time_t>(unix_ms / 1000 + offset_hours * 3600);
  struct tm parts;
  gmtime_r(&seconds, &parts);
  char text[64];
  std::strftime(text, sizeof text, format, &parts);
  return text;
}

// palmctl with its own HOME and token file, against `server` (plaintext on
// loopback unless `global` says otherwise).
class Palmctl {
 public:
  explicit Palmctl(std::vector<std::string> global) : global_(std::move(global)) {}

  std::string token_file() const { return dir_.File("home/.palmctl/token"); }
  const TempDir& dir() const { return dir_; }

  // palmctl GLOBAL ARGS, with `env` ("NAME=value") added to its environment
  // and stdin from `stdin_file` (else /dev/null).
  CommandResult Run(const std::vector<std::string>& args, const std::string& stdin_file = "",
                    const std::vector<std::string>& env = {}) const {
    std::vector<std::string> argv = {"/bin/sh",
                                     "-c",
                                     "exec \"$@\" < \"$0\"",
                                     stdin_file.empty() ? "/dev/null" : stdin_file,
                                     "/usr/bin/env",
                                     "-u",
                                     "PALMCTL_TOKEN",
                                     "-u",
                                     "PALMCTL_TOKEN_FILE",
                                     "-u",
                                     "PALMCTL_TZ",
                                     "HOME=" + dir_.File("home")};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(PalmctlBinary());
    argv.insert(argv.end(), global_.begin(), global_.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  // Run(), which must succeed; returns stdout.
  std::string Must(const std::vector<std::string>& args, const std::string& stdin_file = "",
                   const std::vector<std::string>& env = {}) const {
    CommandResult r = Run(args, stdin_file, env);
    INFO("palmctl " << absl::StrJoin(args, " ") << "\nexit " << r.exit_code << "\nstdout: " << r.out
                    << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }

  // A file holding `secret` on one line.
  std::string SecretFile(const std::string& secret) const {
    const std::string path = dir_.File(absl::StrCat("secret-", secret));
    if (!std::filesystem::exists(path)) REQUIRE(pki::WriteNewFile(path, secret + "\n", 0600).ok());
    return path;
  }

 private:
  TempDir dir_;
  std::vector<std::string> global_;
};

// A loopback palm-server with squad leader kLeader of kSquad.
struct LoopbackSquad {
  TempDir data;
  ServerProcess server;
  Palmctl ctl;

  explicit LoopbackSquad(std::vector<std::string> server_args = {"--insecure-loopback"})
      : server(data.File("data"), std::move(server_args)),
        ctl({"--insecure", "--server", server.address()}) {
    ctl.Must({"officer", "add", "--id", kLeader, "--name", "李队长", "--role", "squad-leader",
              "--town", "wutong", "--squad", kSquad, "--sworn", "--secret-file",
              ctl.SecretFile(kLeaderSecret)});
  }

  // Signs kLeader in through palmctl (the secret on stdin).
  std::string Login() { return ctl.Must(LoginArgs(), ctl.SecretFile(kLeaderSecret)); }
  static std::vector<std::string> LoginArgs() { return {"auth", "login", "--officer", kLeader}; }
};

// A port on 127.0.0.1 that refuses connections: bound, never listening.
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int fd_;
  int port_ = 0;
};

// Everything a child on a pseudo-terminal wrote, read from the pty master
// until `until` appears (or the child closed it, or 60 s passed — a
// safety net against a hang, not a timing of anything).
std::string ReadPty(int master, std::string* seen, const std::string& until) {
  while (until.empty() || !absl::StrContains(*seen, until)) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 60000) <= 0) break;
    char buf[512];
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO: the child closed its side
    seen->append(buf, static_cast<size_t>(n));
  }
  return *seen;
}

}  // namespace

TEST_CASE("palmctl says how to sign in, and why it cannot reach a server, in words") {
  Bureau bureau;
  const std::string secret = bureau.dir.File("admin.secret");
  REQUIRE(pki::WriteNewFile(secret, "s3cret-admin\n", 0600).ok());
  std::vector<std::string> args = bureau.ServerTlsArgs();
  args.insert(args.end(), {"--bootstrap-admin", "admin", "--bootstrap-secret-file", secret});
  ServerProcess server(bureau.data_dir(), args);
  const std::string op = bureau.dir.File("operator");
  REQUIRE(palm::pki::WriteOperatorDirectory(
              op, Must(pki::IssueOperatorCertificate(bureau.ca, {.name = "admin"})),
              bureau.ca.credentials.certificate_pem)
              .ok());
  Palmctl ctl({"--server", server.address(), "--cert-dir", op});

  CommandResult unsigned_in = ctl.Run({"device", "list"});
  CHECK(unsigned_in.exit_code == 1);
  CHECK(unsigned_in.err == "palmctl: not signed in: run palmctl auth login\n");

  ctl.Must({"auth", "login", "--officer", "admin"}, secret);
  const std::string token(absl::StripAsciiWhitespace(Must(pki::ReadFile(ctl.token_file()))));
  ctl.Must({"device", "list"});
  ctl.Must({"auth", "logout"});
  // The ended token, kept elsewhere, is refused with the same fix.
  CommandResult ended = ctl.Run({"device", "list"}, "", {"PALMCTL_TOKEN=" + token});
  CHECK(ended.exit_code == 1);
  CHECK(ended.err ==
        "palmctl: the session of officer admin has ended (signed out): run palmctl auth login\n");

  RefusingPort closed;
  Palmctl nowhere({"--insecure", "--server", closed.address()});
  CommandResult refused = nowhere.Run({"device", "list"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err ==
        "palmctl: cannot reach palm-server at " + closed.address() + ": connection refused\n");

  // A server of another bureau: the TLS handshake fails.
  Bureau other("Other Bureau");
  const std::string stranger = other.dir.File("operator");
  REQUIRE(palm::pki::WriteOperatorDirectory(
              stranger, Must(pki::IssueOperatorCertificate(other.ca, {.name = "admin"})),
              other.ca.credentials.certificate_pem)
              .ok());
  CommandResult handshake =
      Palmctl({"--server", server.address(), "--cert-dir", stranger}).Run({"device", "list"});
  CHECK(handshake.exit_code == 1);
  CHECK(handshake.err == "palmctl: cannot reach palm-server at " + server.address() +
                             ": the TLS handshake failed (does --cert-dir hold a certificate of "
                             "this server's bureau and its ca.crt?)\n");
}

TEST_CASE("palmctl auth login, status and logout keep and end the officer's session") {
  LoopbackSquad squad;
  Palmctl& ctl = squad.ctl;
  CommandResult none = ctl.Run({"auth", "status"});
  CHECK(none.exit_code == 1);
  CHECK(none.err == "palmctl: not signed in: run palmctl auth login\n");

  // stdin is not a terminal: one line, no prompt.
  CommandResult login = ctl.Run(LoopbackSquad::LoginArgs(), ctl.SecretFile(kLeaderSecret));
  INFO(login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(login.err.empty());
  CHECK(std::regex_match(
      login.out, std::regex("signed in as leader-1 \\(squad leader\\) until "
                            "20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} CST; token in " +
                            ctl.token_file() + "\n")));
  CHECK(FileMode(ctl.token_file()) == 0600);

  const nlohmann::json status = nlohmann::json::parse(ctl.Must({"auth", "status", "--json"}));
  CHECK(status.at("signed_in") == true);
  CHECK(status.at("officer_id") == kLeader);
  CHECK(status.at("role") == "ROLE_SQUAD_LEADER");
  CHECK(status.at("squad_id") == kSquad);
  CHECK(status.at("issued_to") == "operator:loopback");
  const std::string text = ctl.Must({"auth", "status"});
  CHECK(absl::StrContains(text, "officer:   leader-1\nrole:      squad leader\n"));
  const std::string token(absl::StripAsciiWhitespace(Must(pki::ReadFile(ctl.token_file()))));

  CHECK(ctl.Must({"auth", "logout"}) ==
        "signed out officer leader-1; removed " + ctl.token_file() + "\n");
  CHECK_FALSE(std::filesystem::exists(ctl.token_file()));
  CHECK(ctl.Run({"auth", "status"}).exit_code == 1);
  CHECK(ctl.Must({"auth", "logout"}) == "not signed in; nothing to do\n");
  // The server ended the session: the old token no longer works.
  CommandResult ended = ctl.Run({"squad", "status"}, "", {"PALMCTL_TOKEN=" + token});
  CHECK(ended.exit_code == 1);
  CHECK(ended.err ==
        "palmctl: the session of officer leader-1 has ended (signed out): run palmctl auth "
        "login\n");

  CommandResult empty = ctl.Run(LoopbackSquad::LoginArgs());
  CHECK(empty.exit_code == 1);
  CHECK(empty.err == "palmctl: no secret on stdin (give the PIN or password on one line)\n");
}

TEST_CASE("palmctl auth login on a terminal prompts and does not echo the secret") {
  LoopbackSquad squad;
  int master = -1;
  const std::string binary = PalmctlBinary();
  const std::string home = "HOME=" + squad.ctl.dir().File("home");
  const std::string server = squad.server.address();
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl("/usr/bin/env", "env", "-u", "PALMCTL_TOKEN", "-u", "PALMCTL_TOKEN_FILE", home.c_str(),
            binary.c_str(), "--insecure", "--server", server.c_str(), "auth", "login", "--officer",
            kLeader, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string seen;
  ReadPty(master, &seen, "of officer leader-1: ");
  CHECK(seen == "Secret (PIN or password) of officer leader-1: ");
  const std::string typed = absl::StrCat(kLeaderSecret, "\n");
  REQUIRE(::write(master, typed.data(), typed.size()) == static_cast<ssize_t>(typed.size()));
  ReadPty(master, &seen, "");
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  ::close(master);
  INFO(seen);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_FALSE(absl::StrContains(seen, kLeaderSecret));
  CHECK(absl::StrContains(seen, "signed in as leader-1 (squad leader) until "));
}

TEST_CASE("report shift and squad status default to the signed-in leader's squad and today") {
  LoopbackSquad squad;
  Palmctl& ctl = squad.ctl;
  CommandResult anonymous = ctl.Run({"squad", "status"});
  CHECK(anonymous.exit_code == 1);
  CHECK(anonymous.err ==
        "palmctl: no --squad given and not signed in: give --squad SQUAD, or run palmctl auth "
        "login as the squad's leader\n");

  squad.Login();
  const std::string before = Format(NowMs(), 8, "%Y-%m-%d");
  const nlohmann::json today = nlohmann::json::parse(ctl.Must({"report", "shift", "--json"}));
  const std::string after = Format(NowMs(), 8, "%Y-%m-%d");
  CHECK(today.at("squad_id") == kSquad);
  CHECK((today.at("date") == before || today.at("date") == after));
  const nlohmann::json yesterday =
      nlohmann::json::parse(ctl.Must({"report", "shift", "--date", "yesterday", "--json"}));
  CHECK((yesterday.at("date") == Format(NowMs() - 86400000, 8, "%Y-%m-%d") ||
         yesterday.at("date") == Format(NowMs() - 2 * 86400000, 8, "%Y-%m-%d")));
  const nlohmann::json dated = nlohmann::json::parse(
      ctl.Must({"report", "shift", "--date", "2026-12-01", "--format", "json"}));
  CHECK(dated.at("date") == "2026-12-01");
  CommandResult bad = ctl.Run({"report", "shift", "--date", "2026-02-30"});
  CHECK(bad.exit_code == 2);
  CHECK(absl::StrContains(bad.err,
                          "\"2026-02-30\" is not a date: give today, yesterday or YYYY-MM-DD"));

  CHECK(ctl.Must({"squad", "status"}) == "squad sq-a has no enrolled devices\n");
  CHECK(nlohmann::json::parse(ctl.Must({"squad", "status", "--json"})).is_object());
  // The leader's own squad is the only one the server lets them see.
  CommandResult other = ctl.Run({"squad", "status", "--squad", "sq-b"});
  CHECK(other.exit_code == 1);
  CHECK(other.err ==
        "palmctl: SquadStatus failed: PERMISSION_DENIED: officer leader-1 (ROLE_SQUAD_LEADER) of "
        "squad sq-a may not reach squad sq-b\n");
}

TEST_CASE("palmctl prints times in the bureau's time zone, always labelled") {
  LoopbackSquad squad;
  Palmctl& ctl = squad.ctl;
  squad.Login();
  const nlohmann::json status = nlohmann::json::parse(ctl.Must({"auth", "status", "--json"}));
  const int64_t expires = status.at("expires_at_ms");
  CHECK(status.at("expires_at") == Format(expires, 8, "%Y-%m-%d %H:%M CST"));
  // `auth status` with `flags` and `env` shows the expiry `hours` from UTC,
  // labelled `label`.
  auto shows = [&](const std::vector<std::string>& flags, const std::vector<std::string>& env,
                   int hours, const std::string& label) {
    std::vector<std::string> args = flags;
    args.insert(args.end(), {"auth", "status"});
    const std::string format = "%Y-%m-%d %H:%M " + label;
    return absl::StrContains(ctl.Must(args, "", env),
                             "expires:   " + Format(expires, hours, format.c_str()) + "\n");
  };
  CHECK(shows({}, {}, 8, "CST"));
  CHECK(shows({"--tz", "UTC"}, {}, 0, "UTC"));
  CHECK(shows({}, {"PALMCTL_TZ=Asia/Tokyo"}, 9, "JST"));
  // The config file sets it too; the flag wins over it.
  REQUIRE(pki::WriteNewFile(ctl.dir().File("home/.palmctl/config"), "tz = \"Asia/Tokyo\"\n", 0600)
              .ok());
  CHECK(shows({}, {}, 9, "JST"));
  CHECK(shows({"--tz", "UTC"}, {}, 0, "UTC"));
  // A zone without an abbreviation shows its offset.
  CHECK(shows({"--tz", "Asia/Dubai"}, {}, 4, "+04:00"));
  CommandResult unknown = ctl.Run({"--tz", "Mars/Olympus", "auth", "status"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err ==
        "palmctl: unknown time zone \"Mars/Olympus\" (--tz): give an IANA zone such as "
        "Asia/Shanghai or UTC\n");
}

TEST_CASE("every palmctl read command takes --json, and tables stay aligned") {
  LoopbackSquad squad;
  Palmctl& ctl = squad.ctl;
  const std::vector<std::vector<std::string>> reads = {
      {"audit", "verify"},  {"auth", "status"},   {"ca", "show"},          {"cases", "list"},
      {"cases", "show"},    {"catalog", "show"},  {"conflicts", "list"},   {"conflicts", "show"},
      {"device", "list"},   {"evidence", "list"}, {"evidence", "receipt"}, {"evidence", "verify"},
      {"log", "head"},      {"log", "key"},       {"log", "consistency"},  {"officer", "list"},
      {"rejected", "list"}, {"rejected", "show"}, {"report", "shift"},     {"review", "queue"},
      {"squad", "status"}};
  for (std::vector<std::string> args : reads) {
    args.push_back("--help");
    CommandResult help = ctl.Run(args);
    INFO(absl::StrJoin(args, " ") << "\n" << help.out);
    CHECK(help.exit_code == 0);
    CHECK(absl::StrContains(help.out, "--json"));
  }
  CHECK(absl::StrContains(ctl.Must({"report", "shift", "--help"}), "Examples:\n"));

  // Device ids of very different lengths still line up under their headers
  // (the width of CJK text is format_test's).
  ctl.Must({"ca", "init", "--dir", ctl.dir().File("ca"), "--bureau", "Test Bureau"});
  for (const std::string device : {"d1", "a-much-longer-device-identifier-than-usual"}) {
    ctl.Must({"device", "enroll", "--ca", ctl.dir().File("ca"), "--town", "wutong", "--squad",
              kSquad, "--device-id", device, "--out", ctl.dir().File(device)});
  }
  const std::string table = ctl.Must({"device", "list"});
  INFO(table);
  std::vector<std::string> lines = absl::StrSplit(table, '\n', absl::SkipEmpty());
  REQUIRE(lines.size() == 3);
  for (const char* header : {"TOWN", "SQUAD", "ENROLLED", "STATE"}) {
    const size_t column = lines[0].find(header);
    REQUIRE(column != std::string::npos);
    for (const std::string& line : lines) {
      REQUIRE(line.size() > column);
      CHECK(line[column - 1] == ' ');
      CHECK(line[column] != ' ');
    }
  }
  CHECK(lines[1].substr(lines[0].find("STATE")) == "active");
  const nlohmann::json devices = nlohmann::json::parse(ctl.Must({"device", "list", "--json"}));
  CHECK(devices.at("devices").size() == 2);
}

TEST_CASE("palmctl --version names the release") {
  CommandResult version = palm::security_test::Palmctl({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(std::regex_match(version.out, std::regex("palmctl [0-9]+\\.[0-9]+\\.[0-9]+\n")));
}

TEST_CASE("an admin unlocks an officer locked out by wrong secrets") {
  LoopbackSquad squad({"--insecure-loopback", "--max-sign-in-failures", "2"});
  Palmctl& ctl = squad.ctl;
  const std::string wrong = ctl.SecretFile("wrong-pin");
  for (int i = 0; i < 2; ++i) {
    CommandResult r = ctl.Run(LoopbackSquad::LoginArgs(), wrong);
    CHECK(r.err ==
          "palmctl: SignIn failed: UNAUTHENTICATED: sign-in of officer leader-1 refused: unknown "
          "officer or wrong secret\n");
  }
  CommandResult locked = ctl.Run(LoopbackSquad::LoginArgs(), ctl.SecretFile(kLeaderSecret));
  CHECK(locked.exit_code == 1);
  CHECK(absl::StartsWith(locked.err,
                         "palmctl: SignIn failed: UNAUTHENTICATED: officer leader-1 is locked "
                         "after 2 failed sign-ins until "));

  // The loopback harness (no session) stands in for the admin here; that
  // the server holds UnlockOfficer to admins is checked at the end.
  const std::string unlocked = ctl.Must({"officer", "unlock", kLeader});
  CHECK(
      std::regex_match(unlocked, std::regex("unlocked officer leader-1 \\(locked until 20[0-9-]{8} "
                                            "[0-9:]{5} CST\\); they may sign in again\n")));
  squad.Login();
  const nlohmann::json again = nlohmann::json::parse(
      ctl.Run({"officer", "unlock", kLeader, "--json"}, "", {"PALMCTL_TOKEN_FILE=/nonexistent"})
          .out);
  CHECK(again.at("was_locked") == false);
  CommandResult unknown = ctl.Run({"officer", "unlock", "nobody"}, "", {"PALMCTL_TOKEN_FILE=/x"});
  CHECK(unknown.err ==
        "palmctl: UnlockOfficer failed: NOT_FOUND: officer nobody has no secret set (or is not on "
        "record)\n");
  // A squad leader may not unlock anyone.
  CommandResult leader = ctl.Run({"officer", "unlock", kLeader});
  CHECK(leader.exit_code == 1);
  CHECK(leader.err ==
        "palmctl: UnlockOfficer failed: PERMISSION_DENIED: officer leader-1 (ROLE_SQUAD_LEADER) "
        "may not call AdminService.UnlockOfficer (allowed: ROLE_ADMIN)\n");
}

TEST_CASE("palmctl town and squad commands give the organisation its display names") {
  LoopbackSquad squad;
  CHECK(squad.ctl.Must({"town", "add", "--id", "wutong", "--name", "梧桐街道"}) ==
        "renamed town wutong (梧桐街道)\n");  // officer add had created it, named by its id
  CHECK(squad.ctl.Must({"town", "add", "--id", "puyuan", "--name", "濮院镇"}) ==
        "added town puyuan (濮院镇)\n");
  CHECK(squad.ctl.Must({"squad", "add", "--id", "puyuan-1", "--town", "puyuan", "--name",
                        "濮院中队"}) == "added squad puyuan-1 (濮院中队) of town puyuan\n");
  const std::string listed = squad.ctl.Must({"town", "list"});
  CHECK(absl::StrContains(listed, "puyuan  濮院镇     puyuan-1  濮院中队"));
  CHECK(absl::StrContains(listed, "wutong  梧桐街道   sq-a"));

  // Delegation (Art. 24): a rename keeps it; matters need the catalogue.
  CHECK(squad.ctl.Must({"town", "delegate", "--id", "puyuan", "--catalogue"}) ==
        "town puyuan (濮院镇) acts on the catalogue's delegated matters\n");
  CHECK(squad.ctl.Must({"town", "add", "--id", "puyuan", "--name", "濮院镇"}) ==
        "renamed town puyuan (濮院镇)\n");
  const nlohmann::json kept = nlohmann::json::parse(squad.ctl.Must({"town", "list", "--json"}));
  for (const nlohmann::json& t : kept.at("towns")) {
    CHECK(t.value("delegated", false) == (t.at("town_id") == "puyuan"));
  }
  CommandResult no_catalogue =
      squad.ctl.Run({"town", "delegate", "--id", "puyuan", "--matters", "SR-0101,SR-0102"});
  CHECK(no_catalogue.exit_code == 1);
  CHECK(no_catalogue.err ==
        "palmctl: PutTown failed: FAILED_PRECONDITION: no catalogue is loaded: load it before "
        "delegating matters to a town\n");
  CommandResult two =
      squad.ctl.Run({"town", "delegate", "--id", "puyuan", "--none", "--catalogue"});
  CHECK(two.exit_code == 2);
  CHECK(two.err == "palmctl: give exactly one of --matters, --catalogue and --none\n");
  CHECK(squad.ctl.Must({"town", "delegate", "--id", "puyuan", "--none"}) ==
        "town puyuan (濮院镇) is not delegated: it acts on every matter\n");

  CommandResult no_town =
      squad.ctl.Run({"squad", "add", "--id", "x-1", "--town", "nowhere", "--name", "某中队"});
  CHECK(no_town.exit_code == 1);
  CHECK(no_town.err ==
        "palmctl: PutSquad failed: FAILED_PRECONDITION: town nowhere is not on record; add it "
        "first (palmctl town add)\n");
  CommandResult moved =
      squad.ctl.Run({"squad", "add", "--id", "puyuan-1", "--town", "wutong", "--name", "濮院中队"});
  CHECK(moved.exit_code == 1);
  CHECK(moved.err ==
        "palmctl: PutSquad failed: FAILED_PRECONDITION: squad puyuan-1 belongs to town puyuan; a "
        "squad never moves to another town\n");
  CommandResult blank = squad.ctl.Run({"town", "add", "--id", "t", "--name", "  "});
  CHECK(blank.exit_code == 1);
  CHECK(blank.err ==
        "palmctl: PutTown failed: INVALID_ARGUMENT: town.name is missing (the display name, e.g. "
        "梧桐街道)\n");

  // Only admins name the organisation; everyone may read it.
  squad.Login();
  CommandResult leader = squad.ctl.Run({"town", "add", "--id", "wutong", "--name", "乌镇"});
  CHECK(leader.exit_code == 1);
  CHECK(leader.err ==
        "palmctl: PutTown failed: PERMISSION_DENIED: officer leader-1 (ROLE_SQUAD_LEADER) may "
        "not call AdminService.PutTown (allowed: ROLE_ADMIN)\n");
  const nlohmann::json org = nlohmann::json::parse(squad.ctl.Must({"town", "list", "--json"}));
  CHECK(org.at("towns").size() == 2);
  CHECK(org.at("squads").size() == 2);
}
