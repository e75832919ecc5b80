// palm-sim end to end: a small squad against its own palm-server, against a
// separately started server under mutual TLS (its summary checked against
// direct counts from AdminService), and its argument handling.
#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "palm/v1/admin.grpc.pb.h"
#include "palm/v1/auth.grpc.pb.h"
#include "security/bureau.h"
#include "support/process.h"

namespace palm::testing {
namespace {

namespace v1 = palm::v1;
namespace pki = palm::pki;
using palm::security_test::Bureau;
using palm::security_test::Must;
using palm::security_test::TlsChannel;

// <build>/tools/sim/palm-sim, next to <build>/server/palm-server.
std::string PalmSimBinary() {
  std::filesystem::path build =
      std::filesystem::path(PalmServerBinary()).parent_path().parent_path();
  return (build / "tools" / "sim" / "palm-sim").string();
}

CommandResult PalmSim(std::vector<std::string> args, int timeout_ms = 300000) {
  args.insert(args.begin(), PalmSimBinary());
  return RunCommand(args, timeout_ms);
}

nlohmann::json Summary(const CommandResult& run) {
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  REQUIRE(run.exit_code == 0);
  return nlohmann::json::parse(run.out);  // throws (fails) on bad JSON
}

std::unique_ptr<grpc::ClientContext> WithToken(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

TEST_CASE("palm-sim runs a small squad shift against its own server and converges") {
  const CommandResult run = PalmSim({"--devices", "6", "--seed", "7", "--json"});
  nlohmann::json s = Summary(run);
  CHECK(s.at("converged").get<bool>());
  CHECK(s.at("devices").get<int>() == 6);
  CHECK(s.at("devices_converged").get<int>() == 6);
  CHECK(s.at("devices_failed").get<int>() == 0);
  CHECK(s.at("write_errors").get<int>() == 0);
  // A realistic shift: every kind of record, and real conflicts on the
  // shared cases.
  CHECK(s.at("cases").get<int>() > 6);
  CHECK(s.at("tickets").get<int>() > 0);
  CHECK(s.at("no_penalty").get<int>() > 0);
  CHECK(s.at("evidence_files").get<int>() > 0);
  CHECK(s.at("evidence_bytes_uploaded").get<int>() ==
        s.at("evidence_files").get<int>() * 16 * 1024);
  CHECK(s.at("conflicts").get<int>() > 0);
  // Every write reached the server with an outcome.
  CHECK(s.at("pushed").get<int>() == s.at("mutations").get<int>());
  CHECK(s.at("applied").get<int>() + s.at("applied_with_conflict").get<int>() +
            s.at("rejected").get<int>() ==
        s.at("mutations").get<int>());
  // What the devices did is what the server holds.
  const nlohmann::json& server = s.at("on_server");
  CHECK(server.at("cases") == s.at("cases"));
  CHECK(server.at("tickets") == s.at("tickets"));
  CHECK(server.at("tickets_fen") == s.at("tickets_fen"));
  CHECK(server.at("no_penalty") == s.at("no_penalty"));
  CHECK(server.at("evidence") == s.at("evidence_files"));
  CHECK(server.at("evidence_uploaded") == s.at("evidence_files"));
  CHECK(server.at("rejected") == s.at("rejected"));
  CHECK(server.at("conflicts") == s.at("conflicts"));

  SECTION("the same seed makes the same shift") {
    nlohmann::json again = Summary(PalmSim({"--devices", "6", "--seed", "7", "--json"}));
    for (const char* key : {"mutations", "cases", "tickets", "tickets_fen", "no_penalty",
                            "evidence_files", "shared_case_edits"}) {
      INFO(key);
      CHECK(again.at(key) == s.at(key));
    }
  }
}

TEST_CASE("palm-sim prints a readable summary and plain progress lines off a terminal") {
  const CommandResult run = PalmSim({"--devices", "2", "--seed", "3", "--cases-per-device", "2"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("palm-sim summary"));
  CHECK_THAT(run.out, Catch::Contains("every device converged with the server"));
  CHECK_THAT(run.err, Catch::Contains("shift-end sync done"));
  CHECK(run.err.find('\r') == std::string::npos);  // no bar off a terminal
}

TEST_CASE(
    "palm-sim --server works a shift on a running TLS server and reports the server's counts") {
  Bureau bureau;
  const std::string secret_file = bureau.dir.File("admin.secret");
  std::ofstream(secret_file) << "admin-pass-sim\n";
  std::vector<std::string> args = bureau.ServerTlsArgs();
  args.insert(args.end(), {"--bootstrap-admin", "admin", "--bootstrap-secret-file", secret_file});
  ServerProcess server(bureau.data_dir(), args);

  const CommandResult run = PalmSim({"--server", server.address(), "--cert-dir", bureau.ca_dir(),
                                     "--admin", "admin", "--admin-secret-file", secret_file,
                                     "--devices", "4", "--seed", "11", "--json", "--report"});
  nlohmann::json s = Summary(run);
  CHECK(s.at("converged").get<bool>());
  CHECK(s.at("devices_converged").get<int>() == 4);

  // Direct counts from the server, as an admin with an operator certificate.
  auto op = Must(pki::IssueOperatorCertificate(bureau.ca, {.name = "checker"}));
  auto channel = TlsChannel(server.address(), bureau.ca.credentials.certificate_pem, &op);
  std::string token;
  {
    auto auth = v1::AuthService::NewStub(channel);
    v1::SignInRequest request;
    request.set_officer_id("admin");
    request.set_secret("admin-pass-sim");
    v1::SignInResponse response;
    grpc::Status st = auth->SignIn(WithToken("").get(), request, &response);
    INFO(st.error_message());
    REQUIRE(st.ok());
    token = response.session().token();
  }
  auto admin = v1::AdminService::NewStub(channel);
  v1::ListCasesRequest list;
  list.set_page_size(1000);
  v1::ListCasesResponse cases;
  REQUIRE(admin->ListCases(WithToken(token).get(), list, &cases).ok());
  REQUIRE(cases.next_page_token().empty());
  int64_t tickets = 0, tickets_fen = 0, no_penalty = 0, evidence = 0, uploaded = 0;
  for (const v1::Case& c : cases.cases()) {
    v1::GetCaseRequest get;
    get.set_case_ref(c.case_id());
    v1::CaseDetail detail;
    REQUIRE(admin->GetCase(WithToken(token).get(), get, &detail).ok());
    tickets += detail.tickets_size();
    for (const auto& t : detail.tickets()) tickets_fen += t.fine_fen();
    no_penalty += detail.no_penalty_size();
    evidence += detail.evidence_size();
    for (const auto& e : detail.evidence()) uploaded += e.uploaded() ? 1 : 0;
  }
  CHECK(cases.cases_size() == s.at("cases").get<int>());
  CHECK(tickets == s.at("tickets").get<int64_t>());
  CHECK(tickets_fen == s.at("tickets_fen").get<int64_t>());
  CHECK(no_penalty == s.at("no_penalty").get<int64_t>());
  CHECK(evidence == s.at("evidence_files").get<int64_t>());
  CHECK(uploaded == s.at("evidence_files").get<int64_t>());

  v1::ListConflictsRequest conflicts_request;
  conflicts_request.set_include_resolved(true);
  v1::ListConflictsResponse conflicts;
  REQUIRE(admin->ListConflicts(WithToken(token).get(), conflicts_request, &conflicts).ok());
  CHECK(conflicts.conflicts_size() == s.at("conflicts").get<int>());
  CHECK(conflicts.conflicts_size() > 0);

  v1::ListRejectedRequest rejected_request;
  rejected_request.set_include_dismissed(true);
  v1::ListRejectedResponse rejected;
  REQUIRE(admin->ListRejected(WithToken(token).get(), rejected_request, &rejected).ok());
  CHECK(rejected.rejected_size() == s.at("rejected").get<int>());

  // --report: the shift report, or a plain note while the server lacks it.
  const bool reported = run.err.find("Shift report of squad") != std::string::npos ||
                        run.err.find("does not support ShiftReport") != std::string::npos;
  CHECK(reported);
}

TEST_CASE("palm-sim rejects wrong arguments with usage and exit status 2") {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--devices", "0"},
                                             {"--devices", "many"},
                                             {"--devices"},
                                             {"--frobnicate"},
                                             {"--server", "127.0.0.1:1"},
                                             {"--cert-dir", "/tmp"},
                                             {"--devices", "2", "--towns", "3"},
                                             {"--no-penalty-percent", "60"}}) {
    const CommandResult run = PalmSim(args, 30000);
    INFO(args.front() << " → " << run.err);
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains("Usage: palm-sim [OPTIONS]"));
    CHECK(run.out.empty());
  }
  // The first line names the problem.
  const CommandResult many = PalmSim({"--devices", "many"}, 30000);
  CHECK(many.err.substr(0, many.err.find('\n')) ==
        "palm-sim: --devices: must be a whole number from 1 to 5000, not 'many'");
  const CommandResult unknown = PalmSim({"--frobnicate"}, 30000);
  CHECK(unknown.err.substr(0, unknown.err.find('\n')) ==
        "palm-sim: unknown flag --frobnicate (see --help)");
  const CommandResult help = PalmSim({"--help"}, 30000);
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("--devices N"));
  const CommandResult version = PalmSim({"--version"}, 30000);
  CHECK(version.exit_code == 0);
  CHECK(version.out == "palm-sim " PALM_TEST_VERSION "\n");
}

}  // namespace
}  // namespace palm::testing
