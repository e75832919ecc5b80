// The authorisation table (server/authz.cc) covers every RPC it names.
#include <catch2/catch.hpp>
#include <string>

#include "server/authz.h"

using palm::server::Rpc;
using palm::server::RpcName;

TEST_CASE("every RPC has an authorisation rule") {
  for (int i = static_cast<int>(Rpc::kPush); i <= static_cast<int>(Rpc::kGetConsistencyProof);
       ++i) {
    INFO("Rpc " << i);
    CHECK(std::string(RpcName(static_cast<Rpc>(i))) != "unknown RPC");
  }
  CHECK(std::string(RpcName(Rpc::kReviewDecision)) == "AdminService.ReviewDecision");
}
