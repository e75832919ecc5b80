// palm-server as an operator and a standard gRPC client see it: health,
// reflection, bad invocations, clean stop on a signal.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <set>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "support/process.h"
#include "support/temp_dir.h"

using palm::testing::CommandResult;
using palm::testing::PalmServerBinary;
using palm::testing::RunCommand;
using palm::testing::ServerProcess;
using palm::testing::TempDir;

namespace {

std::shared_ptr<grpc::Channel> Connect(const ServerProcess& server) {
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  REQUIRE(channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)));
  return channel;
}

// Stderr of a failed start must be exactly one line naming the problem.
void RequireOneLine(const CommandResult& result, const std::string& expected) {
  INFO("stderr: " << result.err);
  REQUIRE(result.err == "palm-server: " + expected + "\n");
}

}  // namespace

TEST_CASE("a standard health check against a running server answers SERVING") {
  TempDir dir;
  ServerProcess server(dir.File("data"));
  auto stub = grpc::health::v1::Health::NewStub(Connect(server));
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  REQUIRE(status.ok());
  REQUIRE(response.status() == grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_CASE("server reflection lists every palm.v1 service") {
  TempDir dir;
  ServerProcess server(dir.File("data"));
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(Connect(server));
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("*");
  REQUIRE(stream->Write(request));
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  REQUIRE(stream->Read(&response));
  stream->WritesDone();
  std::set<std::string> names;
  for (const auto& s : response.list_services_response().service()) names.insert(s.name());
  for (const char* expected :
       {"palm.v1.SyncService", "palm.v1.EvidenceService", "palm.v1.AuthService",
        "palm.v1.AdminService", "grpc.health.v1.Health"}) {
    INFO(expected);
    REQUIRE(names.count(expected) == 1);
  }
  REQUIRE(stream->Finish().ok());
}

TEST_CASE("an unknown flag exits 2 with one line naming it") {
  auto result = RunCommand({PalmServerBinary(), "--frobnicate", "3"});
  REQUIRE(result.exit_code == 2);
  RequireOneLine(result, "unknown flag --frobnicate (see --help)");
}

TEST_CASE("a flag without its value exits 2 with one line naming it") {
  auto result = RunCommand({PalmServerBinary(), "--data-dir"});
  REQUIRE(result.exit_code == 2);
  RequireOneLine(result, "--data-dir needs a value");
}

TEST_CASE("palm-server --help prints usage and exits 0") {
  auto result = RunCommand({PalmServerBinary(), "--help"});
  REQUIRE(result.exit_code == 0);
  REQUIRE(result.out.find("\nUsage: palm-server [OPTIONS]\n") != std::string::npos);
  REQUIRE(result.out.find("--data-dir DIR=./var") != std::string::npos);
  REQUIRE(result.out.find("--config FILE") != std::string::npos);
}

TEST_CASE("palm-server --version prints the version and exits 0") {
  auto result = RunCommand({PalmServerBinary(), "--version"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.out == "palm-server " PALM_TEST_VERSION "\n");
}

TEST_CASE("a bad flag value exits 2 with one line naming flag and value") {
  auto negative = RunCommand({PalmServerBinary(), "--drain-timeout-ms", "-5"});
  REQUIRE(negative.exit_code == 2);
  RequireOneLine(negative, "--drain-timeout-ms: must be a whole number of at least 0, not '-5'");
  auto level = RunCommand({PalmServerBinary(), "--log-level=loud"});
  REQUIRE(level.exit_code == 2);
  RequireOneLine(level, "--log-level: loud not in {debug,info,warn,error}");
  auto stray = RunCommand({PalmServerBinary(), "stray"});
  REQUIRE(stray.exit_code == 2);
  RequireOneLine(stray, "unexpected argument 'stray' (see --help)");
}

TEST_CASE("an unwritable data dir exits 1 with one line naming it") {
  if (geteuid() == 0) {
    // root writes anywhere; a path under a regular file cannot be created by anyone.
    TempDir dir;
    std::ofstream(dir.File("file")) << "x";
    std::string data = dir.File("file") + "/data";
    auto result = RunCommand(
        {PalmServerBinary(), "--insecure-loopback", "--listen", "127.0.0.1:0", "--data-dir", data});
    REQUIRE(result.exit_code == 1);
    RequireOneLine(result, "data dir " + data + " cannot be created: Not a directory");
  } else {
    TempDir dir;
    std::filesystem::create_directory(dir.File("ro"));
    std::filesystem::permissions(
        dir.File("ro"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    auto result = RunCommand({PalmServerBinary(), "--insecure-loopback", "--listen", "127.0.0.1:0",
                              "--data-dir", dir.File("ro")});
    REQUIRE(result.exit_code == 1);
    RequireOneLine(result, "data dir " + dir.File("ro") + " is not writable: Permission denied");
  }
}

TEST_CASE("palm-server --new-epoch on a data dir without a store starts a new one") {
  // Nothing to part from: no fence is asked for and no log transition made.
  TempDir dir;
  ServerProcess server(dir.path().string(),
                       std::vector<std::string>{"--insecure-loopback", "--new-epoch"});
  CHECK(server.port() > 0);
  CHECK_FALSE(std::filesystem::exists(dir.File("evidence/log_lineage")));
  CHECK(std::filesystem::exists(dir.File("numbers.fence")));
}

TEST_CASE("a port already in use exits 1 with one line naming the address") {
  // Hold a port with a plain listening socket on loopback.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string listen_at = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  TempDir dir;
  auto result = RunCommand({PalmServerBinary(), "--insecure-loopback", "--listen", listen_at,
                            "--data-dir", dir.File("data")});
  close(fd);
  REQUIRE(result.exit_code == 1);
  // gRPC's own diagnostics go to the structured log only at --log-level debug.
  RequireOneLine(result,
                 "cannot listen on " + listen_at + ": the address is in use or not available");
}

TEST_CASE("a missing certificate exits 1 with one line naming the file") {
  TempDir dir;
  std::ofstream(dir.File("key.pem")) << "k";
  std::ofstream(dir.File("ca.pem")) << "c";
  auto result = RunCommand({PalmServerBinary(), "--listen", "127.0.0.1:0", "--data-dir",
                            dir.File("data"), "--tls-cert", dir.File("missing.pem"), "--tls-key",
                            dir.File("key.pem"), "--client-ca", dir.File("ca.pem")});
  REQUIRE(result.exit_code == 1);
  RequireOneLine(result, "--tls-cert " + dir.File("missing.pem") +
                             " cannot be read: No such file or directory");
}

TEST_CASE("without TLS material and without --insecure-loopback the server refuses to start") {
  TempDir dir;
  auto result =
      RunCommand({PalmServerBinary(), "--listen", "127.0.0.1:0", "--data-dir", dir.File("data")});
  REQUIRE(result.exit_code == 1);
  RequireOneLine(result,
                 "no TLS material: give --tls-cert, --tls-key and --client-ca, or "
                 "--insecure-loopback for plaintext on a loopback address");
}

TEST_CASE("plaintext is refused on a non-loopback address") {
  TempDir dir;
  auto result = RunCommand({PalmServerBinary(), "--insecure-loopback", "--listen", "0.0.0.0:0",
                            "--data-dir", dir.File("data")});
  REQUIRE(result.exit_code == 1);
  RequireOneLine(result, "--insecure-loopback listens only on a loopback address, not 0.0.0.0:0");
}

TEST_CASE("settings come from a config file and flags override them") {
  TempDir dir;
  std::ofstream(dir.File("palm.conf")) << "# test config\n"
                                       << "insecure-loopback = true\n"
                                       << "log-level = debug\n"
                                       << "data-dir = " << dir.File("from-file") << "\n";
  ServerProcess server(dir.File("from-flag"), {"--config", dir.File("palm.conf")});
  REQUIRE(std::filesystem::exists(dir.File("from-flag") + "/palm.db"));
  REQUIRE_FALSE(std::filesystem::exists(dir.File("from-file")));
}

TEST_CASE("a bad line in the config file exits 2 naming file and line") {
  TempDir dir;
  std::ofstream(dir.File("palm.conf")) << "insecure-loopback = true\nlisten 127.0.0.1:1\n";
  auto result = RunCommand({PalmServerBinary(), "--config", dir.File("palm.conf")});
  REQUIRE(result.exit_code == 2);
  RequireOneLine(result, dir.File("palm.conf") + ":2: expected `key = value`");

  std::ofstream(dir.File("unknown.conf")) << "# ok\nbogus = 1\n";
  auto unknown = RunCommand({PalmServerBinary(), "--config=" + dir.File("unknown.conf")});
  REQUIRE(unknown.exit_code == 2);
  RequireOneLine(unknown, dir.File("unknown.conf") + ":2: unknown setting bogus (see --help)");

  auto missing = RunCommand({PalmServerBinary(), "--config", dir.File("missing.conf")});
  REQUIRE(missing.exit_code == 2);
  RequireOneLine(missing, "config file " + dir.File("missing.conf") + " cannot be read");
}

TEST_CASE("SIGTERM drains, closes the store and exits 0, each RPC is logged") {
  TempDir dir;
  ServerProcess server(dir.File("data"));
  {
    auto stub = grpc::health::v1::Health::NewStub(Connect(server));
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse response;
    REQUIRE(stub->Check(&context, {}, &response).ok());
  }
  REQUIRE(server.Stop(SIGTERM) == 0);
  std::string log = server.Log();
  INFO(log);
  REQUIRE(log.find(R"("event":"draining")") != std::string::npos);
  REQUIRE(log.find(R"("event":"stopped")") != std::string::npos);
  REQUIRE(log.find(R"("store_closed":true)") != std::string::npos);
  REQUIRE(log.find(R"("method":"/grpc.health.v1.Health/Check")") != std::string::npos);
}

TEST_CASE("the store survives a restart with the same epoch") {
  TempDir dir;
  {
    ServerProcess server(dir.File("data"));
    REQUIRE(server.Stop(SIGINT) == 0);
  }
  ServerProcess again(dir.File("data"));
  REQUIRE(again.Stop(SIGTERM) == 0);
  std::string log = again.Log();  // both runs append to the same log
  static const std::regex kEpoch(R"re("epoch":"([0-9a-f-]{36})")re");
  std::vector<std::string> epochs;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), kEpoch); it != std::sregex_iterator();
       ++it) {
    epochs.push_back((*it)[1]);
  }
  REQUIRE(epochs.size() == 2);
  REQUIRE(epochs[0] == epochs[1]);
}
