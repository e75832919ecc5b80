// palmctl review queue|approve|reject: legal review (法制审核, Art. 58) of
// major decisions before they can be made (AdminService ReviewQueue,
// ReviewDecision).
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "palm/v1/admin.grpc.pb.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/cmd_util.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

struct QueueOptions {
  bool json = false;
};

int RunQueue(const QueueOptions& options, const GlobalOptions& global) {
  v1::ReviewQueueRequest request;
  return CallAllAndPrint(
      global, options.json, "ReviewQueue", &v1::AdminService::Stub::ReviewQueue, request,
      [](v1::ReviewQueueResponse* r) { return r->mutable_cases(); },
      [](const v1::ReviewQueueResponse& response) {
        PrintTableOrEmpty(response.cases(), "no cases await legal review\n",
                          {"CASE NUMBER", "CASE ID", "MATTER", "TOWN", "SQUAD",
                           "PROPOSED FINE (YUAN)", "ESCALATED", "DESCRIPTION"},
                          [](const v1::Case& c) -> std::vector<std::string> {
                            return {
                                c.case_number(),
                                c.case_id(),
                                c.matter_code(),
                                c.town_id(),
                                c.squad_id(),
                                c.proposed_fine_fen() > 0 ? FormatYuan(c.proposed_fine_fen()) : "",
                                c.escalated() ? "yes" : "no",
                                c.description()};
                          });
      });
}

struct DecisionOptions {
  std::string case_ref;
  std::string reason;
};

int RunDecision(const DecisionOptions& options, bool approve, const GlobalOptions& global) {
  auto channel = MakeClientChannel(global);
  if (!channel.ok()) return Fail(channel.status());
  // ReviewDecision takes a case id; reviewers work from case numbers.
  v1::GetCaseRequest lookup;
  lookup.set_case_ref(options.case_ref);
  v1::CaseDetail detail;
  if (int code =
          CallUnary(*channel, global, "GetCase", &v1::AdminService::Stub::GetCase, lookup, &detail);
      code != kExitOk) {
    return code;
  }
  v1::ReviewDecisionRequest request;
  request.set_case_id(detail.case_().case_id());
  request.set_approve(approve);
  request.set_reason(options.reason);
  v1::ReviewDecisionResponse response;
  if (int code = CallUnary(*channel, global, "ReviewDecision",
                           &v1::AdminService::Stub::ReviewDecision, request, &response);
      code != kExitOk) {
    return code;
  }
  const v1::Case& c = response.case_();
  std::cout << (approve ? "approved" : "rejected") << " case "
            << (c.case_number().empty() ? c.case_id() : c.case_number()) << " (now "
            << EnumLabel(v1::CaseState_descriptor(), c.state()) << "): " << options.reason << "\n";
  return kExitOk;
}

void AddDecisionCommand(CommandLine& cli, CLI::App* group, bool approve) {
  auto options = std::make_shared<DecisionOptions>();
  const GlobalOptions& global = cli.global();
  CLI::App* cmd = cli.Command(
      group, approve ? "approve" : "reject",
      approve ? "Approve a case in legal review" : "Send a case in legal review back, with why",
      [options, approve, &global] { return RunDecision(*options, approve, global); });
  cmd->add_option("case", options->case_ref, "Case number or case id")->required();
  cmd->add_option("--reason", options->reason, "Why (kept on the case's timeline)")->required();
}

void RegisterReview(CommandLine& cli) {
  CLI::App* group = cli.Group("review", "Legal review of major decisions (Art. 58)");
  const GlobalOptions& global = cli.global();

  auto queue = std::make_shared<QueueOptions>();
  CLI::App* queue_cmd = cli.Command(group, "queue", "Cases waiting for legal review",
                                    [queue, &global] { return RunQueue(*queue, global); });
  AddJsonFlag(queue_cmd, &queue->json);

  AddDecisionCommand(cli, group, /*approve=*/true);
  AddDecisionCommand(cli, group, /*approve=*/false);
}

}  // namespace

PALMCTL_REGISTER_GROUP(review, RegisterReview);

}  // namespace palm::palmctl
