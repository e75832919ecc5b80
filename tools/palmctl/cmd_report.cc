// palmctl report shift: what a squad's shift produced, for the squad
// leader at shift end (AdminService ShiftReport), with the names the report
// shows beside ids looked up besides it (ListOrganisation, ListOfficers,
// GetCatalog, SquadStatus). Rendering lives in report_render.h.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "palm/v1/admin.grpc.pb.h"
#include "server/pki/pki.h"
#include "sync/hlc.h"
#include "tools/palmctl/bureau_time.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/cmd_util.h"
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
  std::string lang = "zh-CN";
  std::string bureau;
};

// Calls a lookup the report can do without: on failure notes it in
// `context` (the report then shows ids) and returns false. Never fails the
// command.
template <typename Request, typename Response>
bool Lookup(const std::shared_ptr<grpc::Channel>& channel, const GlobalOptions& global,
            const char* name,
            grpc::Status (v1::AdminService::Stub::*rpc)(grpc::ClientContext*, const Request&,
                                                        Response*),
            const Request& request, Response* response, ReportContext* context) {
  v1::AdminService::Stub stub(channel);
  grpc::ClientContext call;
  PrepareCall(global, &call);
  const grpc::Status status = (stub.*rpc)(&call, request, response);
  if (status.ok()) return true;
  context->unavailable.push_back(absl::StrCat(
      name, ": ", absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()))));
  return false;
}

// Lookup of a paged list, page after page to the last: the rows of every
// page (`rows(Response*)`) gathered into *all. False, as Lookup, when a page
// could not be read.
template <typename Request, typename Response, typename Rows>
bool LookupAll(const std::shared_ptr<grpc::Channel>& channel, const GlobalOptions& global,
               const char* name,
               grpc::Status (v1::AdminService::Stub::*rpc)(grpc::ClientContext*, const Request&,
                                                           Response*),
               Request request, Rows&& rows, Response* all, ReportContext* context) {
  all->Clear();
  request.set_page_size(kListPageSize);
  while (true) {
    Response page;
    if (!Lookup(channel, global, name, rpc, request, &page, context)) return false;
    for (auto& row : *rows(&page)) *rows(all)->Add() = std::move(row);
    if (page.next_page_token().empty() || page.next_page_token() == request.page_token()) {
      return true;
    }
    request.set_page_token(page.next_page_token());
  }
}

// The bureau's name: --bureau, else the O of ca.crt in --cert-dir, else
// empty (no heading line).
std::string BureauName(const ShiftOptions& options, const GlobalOptions& global) {
  if (!options.bureau.empty()) return options.bureau;
  if (global.cert_dir.empty()) return "";
  auto pem = pki::ReadFile((std::filesystem::path(global.cert_dir) / pki::kCaCertFile).string());
  if (!pem.ok()) return "";
  auto info = pki::InspectCertificatePem(*pem);
  return info.ok() ? info->organization : "";
}

// Everything the report shows besides the ShiftReport response itself.
ReportContext LookUpContext(const std::shared_ptr<grpc::Channel>& channel,
                            const GlobalOptions& global, const ShiftOptions& options,
                            const v1::ShiftReportResponse& report) {
  ReportContext context;
  context.lang = ParseReportLang(options.lang).value_or(ReportLang::kZh);
  context.bureau = BureauName(options, global);
  context.generated_at_ms = sync::SystemNowMs();

  v1::ListOrganisationResponse org;
  if (Lookup(channel, global, "ListOrganisation", &v1::AdminService::Stub::ListOrganisation,
             v1::ListOrganisationRequest(), &org, &context)) {
    for (const v1::Squad& squad : org.squads()) {
      if (squad.squad_id() != report.squad_id()) continue;
      context.squad_name = squad.name();
      context.town_id = squad.town_id();
    }
    for (const v1::Town& town : org.towns()) {
      if (town.town_id() == context.town_id) context.town_name = town.name();
    }
  }
  v1::ListOfficersRequest officers_request;
  officers_request.set_squad_id(report.squad_id());
  v1::ListOfficersResponse officers;
  if (LookupAll(
          channel, global, "ListOfficers", &v1::AdminService::Stub::ListOfficers, officers_request,
          [](v1::ListOfficersResponse* r) { return r->mutable_officers(); }, &officers, &context)) {
    for (const v1::Officer& o : officers.officers())
      context.officer_names[o.officer_id()] = o.name();
  }
  v1::Catalog catalog;
  if (Lookup(channel, global, "GetCatalog", &v1::AdminService::Stub::GetCatalog,
             v1::GetCatalogRequest(), &catalog, &context)) {
    for (const v1::Matter& m : catalog.matters()) context.matters[m.code()] = m;
  }
  v1::SquadStatusRequest status_request;
  status_request.set_squad_id(report.squad_id());
  v1::SquadStatusResponse status;
  if (LookupAll(
          channel, global, "SquadStatus", &v1::AdminService::Stub::SquadStatus, status_request,
          [](v1::SquadStatusResponse* r) { return r->mutable_devices(); }, &status, &context)) {
    context.devices_known = true;
    context.devices.assign(status.devices().begin(), status.devices().end());
  }
  return context;
}

int RunShift(ShiftOptions options, const GlobalOptions& global) {
  auto squad = SquadOrMine(options.squad);
  if (!squad.ok()) return Fail(squad.status());
  auto date = ResolveDate(options.date, sync::SystemNowMs());
  if (!date.ok()) return Fail(date.status());
  options.squad = *squad;
  options.date = *date;
  if (options.json) options.format = "json";
  auto channel = MakeClientChannel(global);
  if (!channel.ok()) return Fail(channel.status());
  v1::ShiftReportRequest request;
  request.set_squad_id(options.squad);
  request.set_date(options.date);
  v1::ShiftReportResponse response;
  if (int code = CallUnary(*channel, global, "ShiftReport", &v1::AdminService::Stub::ShiftReport,
                           request, &response);
      code != kExitOk) {
    return code;  // nothing written to --out
  }
  const ReportContext context = LookUpContext(*channel, global, options, response);
  // The option's check admitted only these names.
  static const std::map<std::string, ReportFormat> kFormats = {{"table", ReportFormat::kTable},
                                                               {"csv", ReportFormat::kCsv},
                                                               {"json", ReportFormat::kJson},
                                                               {"html", ReportFormat::kHtml}};
  const std::string text = RenderShiftReport(response, kFormats.at(options.format), context);
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
      "A squad's shift as its leader prints it: totals, what needs attention (open conflicts, "
      "rejected writes, evidence without receipt or upload), a table per officer, cases by "
      "number, tickets, no-penalty decisions and device sync state, with names beside ids",
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
                   "table (for a terminal), csv (for a spreadsheet: UTF-8 with BOM, plain numbers "
                   "in numeric columns), json (for scripts: English keys, numbers as numbers), "
                   "or html (one printable page with charts and page numbers)")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv", "json", "html"}));
  shift_cmd
      ->add_option("--lang", shift->lang,
                   "Language of the table, csv and html forms: zh-CN or en (json keys are "
                   "English in both)")
      ->capture_default_str()
      ->envname("PALMCTL_LANG")
      ->check(CLI::IsMember({"zh-CN", "zh", "en"}, CLI::ignore_case));
  shift_cmd
      ->add_option("--bureau", shift->bureau,
                   "The bureau's name for the heading (default: the O of ca.crt in --cert-dir)")
      ->envname("PALMCTL_BUREAU");
  shift_cmd->add_flag("--json", shift->json, "Print JSON (the same as --format json)");
  shift_cmd->add_option("--out", shift->out, "Write to this file instead of stdout");
  SetExamples(shift_cmd,
              {"palmctl report shift", "palmctl report shift --date yesterday --json",
               "palmctl report shift --lang en",
               "palmctl report shift --squad sq-a --date 2026-12-01 --format html --out shift.html",
               "palmctl report shift --format csv --out shift.csv --bureau 桐乡市综合行政执法局"});
}

}  // namespace

PALMCTL_REGISTER_GROUP(report, RegisterReport);

}  // namespace palm::palmctl
