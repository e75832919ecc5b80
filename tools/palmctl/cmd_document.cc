// palmctl cases document: the decision document (行政处罚决定书, Art. 59) of
// a decided case, as the server renders it (AdminService
// GetDecisionDocument): the printable page, or its structured form.
#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "palm/v1/admin.grpc.pb.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

struct DocumentOptions {
  std::string ref;
  std::string out;
  bool json = false;
};

int RunDocument(const DocumentOptions& options, const GlobalOptions& global) {
  v1::GetDecisionDocumentRequest request;
  request.set_case_ref(options.ref);
  v1::DecisionDocument document;
  if (int code = CallUnary(global, "GetDecisionDocument",
                           &v1::AdminService::Stub::GetDecisionDocument, request, &document);
      code != kExitOk) {
    return code;  // nothing written to --out
  }
  if (options.json) {
    // The structured form: every element, without the page.
    document.clear_html();
    PrintProtoJson(document);
    return kExitOk;
  }
  if (options.out.empty()) {
    std::cout << document.html();
    return kExitOk;
  }
  std::ofstream out(options.out, std::ios::binary | std::ios::trunc);
  out << document.html();
  out.close();
  if (!out) return Fail(absl::StrCat("cannot write ", options.out));
  std::cerr << "wrote the decision document " << document.case_number() << " to " << options.out
            << "\n";
  return kExitOk;
}

void RegisterDocument(CommandLine& cli) {
  const GlobalOptions& global = cli.global();
  auto options = std::make_shared<DocumentOptions>();
  CLI::App* group = cli.Group("cases", "Cases as the server holds them");
  CLI::App* cmd = cli.Command(
      group, "document",
      "The decision document (行政处罚决定书, Art. 59) of a decided ordinary-procedure case: a "
      "printable HTML page, or with --json its elements",
      [options, &global] { return RunDocument(*options, global); });
  cmd->add_option("ref", options->ref, "Case number or case id")->required();
  cmd->add_option("--out", options->out, "Write the page to this file instead of stdout");
  AddJsonFlag(cmd, &options->json);
  SetExamples(cmd, {"palmctl cases document 桐综执罚〔2026〕0123号 --out decision.html",
                    "palmctl cases document 桐综执罚〔2026〕0123号 --json"});
}

}  // namespace

PALMCTL_REGISTER_GROUP(document, RegisterDocument);

}  // namespace palm::palmctl
