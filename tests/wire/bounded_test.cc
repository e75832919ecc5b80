// A hostile value over the wire of a real palm-server process: refused
// INVALID_ARGUMENT quoting only a prefix, in the answer and in the log.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "palm/v1/auth.grpc.pb.h"
#include "support/process.h"
#include "support/temp_dir.h"

using palm::testing::ServerProcess;
using palm::testing::TempDir;

TEST_CASE("SignIn with a 1 MiB officer_id is refused and the log quotes only a prefix") {
  TempDir dir;
  ServerProcess server(dir.File("data"));
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  REQUIRE(channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)));
  auto stub = palm::v1::AuthService::NewStub(channel);
  grpc::ClientContext ctx;
  palm::v1::SignInRequest request;
  request.set_officer_id(std::string(1024 * 1024, 'o'));
  request.set_secret("1234");
  palm::v1::SignInResponse response;
  grpc::Status s = stub->SignIn(&ctx, request, &response);
  REQUIRE(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(s.error_message() ==
          "AuthService.SignIn: officer_id: at most 128 bytes, this one has 1048576 "
          "(\"oooooooooooooooo…\")");
  server.Stop(SIGTERM);
  const std::string log = server.Log();
  REQUIRE(log.find("AuthService.SignIn: officer_id: at most 128 bytes") != std::string::npos);
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    INFO(line.substr(0, 200));
    REQUIRE(line.size() < 2000);
  }
}
