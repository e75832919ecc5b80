// palmctl report shift: what a squad's shift produced, for the squad
// leader at shift end (AdminService ShiftReport). Rendering lives in
// report_render.h.
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "palm/v1/admin.grpc.pb.h"
#include "sync/hlc.h"
#include "tools/palmctl/bureau_time.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/report_render.h"
#include "tools/palmctl/session.h"
#include "tools/palmctl/validators.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

struct ShiftOptions {
  std::string squad;
  std::string date = "today";
  std::string format = "table";
  bool json = false;
  std::string out;
};

int RunShift(ShiftOptions options, const GlobalOptions& global) {
  auto squad = SquadOrMine(options.squad);
  if (!squad.ok()) return Fail(squad.status());
  auto date = ResolveDate(options.date, sync::SystemNowMs());
  if (!date.ok()) return Fail(date.status());
  options.squad = *squad;
  options.date = *date;
  if (options.json) options.format = "json";
  v1::ShiftReportRequest request;
  request.set_squad_id(options.squad);
  request.set_date(options.date);
  v1::ShiftReportResponse response;
  if (int code = CallUnary(global, "ShiftReport", &v1::AdminService::Stub::ShiftReport, request,
                           &response);
      code != kExitOk) {
    return code;  // nothing written to --out
  }
  // The option's check admitted only these names.
  static const std::map<std::string, ReportFormat> kFormats = {{"table", ReportFormat::kTable},
                                                               {"csv", ReportFormat::kCsv},
                                                               {"json", ReportFormat::kJson},
                                                               {"html", ReportFormat::kHtml}};
  const std::string text = RenderShiftReport(response, kFormats.at(options.format));
  if (options.out.empty()) {
    std::cout << text;
    return kExitOk;
  }
  std::ofstream out(options.out, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Fail(absl::StrCat("cannot write ", options.out));
  std::cerr << "wrote the shift report of squad " << options.squad << " for " << options.date
            << " to " << options.out << "\n";
  return kExitOk;
}

void RegisterReport(CommandLine& cli) {
  CLI::App* group = cli.Group("report", "Reports for squad leaders");
  const GlobalOptions& global = cli.global();

  auto shift = std::make_shared<ShiftOptions>();
  CLI::App* shift_cmd = cli.Command(
      group, "shift",
      "A squad's shift: cases opened, tickets and amounts, no-penalty decisions, evidence and "
      "receipts, conflicts and rejections still open",
      [shift, &global] { return RunShift(*shift, global); });
  shift_cmd->add_option("--squad", shift->squad,
                        "Squad id (default: the signed-in squad leader's squad)");
  shift_cmd
      ->add_option("--date", shift->date,
                   "The shift's day in the bureau's time zone: today, yesterday or YYYY-MM-DD")
      ->capture_default_str()
      ->check(DateValidator());
  shift_cmd
      ->add_option("--format", shift->format,
                   "table (for a terminal), csv, json, or html (one printable page)")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv", "json", "html"}));
  shift_cmd->add_flag("--json", shift->json, "Print JSON (the same as --format json)");
  shift_cmd->add_option("--out", shift->out, "Write to this file instead of stdout");
  SetExamples(shift_cmd, {"palmctl report shift", "palmctl report shift --date yesterday --json",
                          "palmctl report shift --squad sq-a --date 2026-12-01 --format html "
                          "--out shift.html"});
}

}  // namespace

PALMCTL_REGISTER_GROUP(report, RegisterReport);

}  // namespace palm::palmctl
