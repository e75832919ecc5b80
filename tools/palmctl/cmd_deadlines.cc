// palmctl deadlines: the clocks the law runs on a town's or squad's cases —
// due within the next days, and every overdue one (AdminService
// ListDeadlines); and `palmctl cases extend-deadline`, the agency head's
// extension of the time to decide (Art. 60, ExtendDecisionDeadline).
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "palm/v1/admin.grpc.pb.h"
#include "sync/hlc.h"
#include "tools/palmctl/bureau_time.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"
#include "tools/palmctl/report_messages.h"
#include "tools/palmctl/validators.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

struct DeadlineOptions {
  std::string town;
  std::string squad;
  std::string officer;
  uint32_t days = 7;
  std::string as_of;
  std::vector<std::string> kinds;
  std::string lang = "zh-CN";
  bool json = false;
};

// "service" or "CLOCK_KIND_SERVICE" as the kind; nullopt otherwise.
std::optional<v1::ClockKind> ParseKind(const std::string& text) {
  std::optional<int> value = ParseEnum(v1::ClockKind_descriptor(), text);
  if (!value || *value == v1::CLOCK_KIND_UNSPECIFIED) return std::nullopt;
  return static_cast<v1::ClockKind>(*value);
}

int RunDeadlines(const DeadlineOptions& options, const GlobalOptions& global) {
  v1::ListDeadlinesRequest request;
  request.set_town_id(options.town);
  request.set_squad_id(options.squad);
  request.set_officer_id(options.officer);
  request.set_within_days(options.days);
  if (!options.as_of.empty()) {
    auto day = ResolveDate(options.as_of, sync::SystemNowMs());
    if (!day.ok()) return Fail(day.status());
    request.set_as_of(*day);
  }
  for (const std::string& name : options.kinds) {
    // The option's validator accepted each already.
    request.add_kinds(ParseKind(name).value_or(v1::CLOCK_KIND_UNSPECIFIED));
  }
  v1::ListDeadlinesResponse response;
  if (int code = CallUnary(global, "ListDeadlines", &v1::AdminService::Stub::ListDeadlines, request,
                           &response);
      code != kExitOk) {
    return code;
  }
  if (options.json) {
    PrintProtoJson(response);
    return kExitOk;
  }
  const ReportLang lang = ParseReportLang(options.lang).value_or(ReportLang::kZh);
  const bool zh = lang == ReportLang::kZh;
  if (response.clocks().empty()) {
    std::cout << (zh ? absl::StrCat(response.as_of(), "：", options.days, " 天内无到期时限\n")
                     : absl::StrCat(response.as_of(), ": no clock is due within ", options.days,
                                    " days\n"));
  } else {
    TextTable table(zh ? std::vector<std::string>{"案件编号", "时限", "起算日", "截止日", "状态",
                                                  "金额", "承办人员", "中队"}
                       : std::vector<std::string>{"CASE", "CLOCK", "FROM", "LAST DAY", "STATE",
                                                  "AMOUNT", "OFFICERS", "SQUAD"});
    for (const v1::CaseClock& k : response.clocks()) {
      std::string last = k.last_day();
      if (!k.opens_on().empty()) {
        last = zh ? absl::StrCat(k.opens_on(), " 起至 ", k.last_day())
                  : absl::StrCat(k.opens_on(), " to ", k.last_day());
      }
      table.AddRow({k.case_number().empty() ? k.case_id() : k.case_number(),
                    ClockKindText(lang, k.kind()), k.started_on(), last, ClockStateText(lang, k),
                    ClockAmountText(lang, k), absl::StrJoin(k.officer_ids(), ", "), k.squad_id()});
    }
    std::cout << table.Render();
    if (response.total() > static_cast<uint64_t>(response.clocks_size())) {
      std::cout << (zh ? absl::StrCat("（仅列出前 ", response.clocks_size(), " 项，共 ",
                                      response.total(), " 项）\n")
                       : absl::StrCat("(the first ", response.clocks_size(), " of ",
                                      response.total(), ")\n"));
    }
  }
  for (const std::string& why : response.unreadable()) {
    std::cout << (zh ? "无法计算：" : "cannot be read: ") << why << "\n";
  }
  return kExitOk;
}

struct ExtendOptions {
  std::string ref;
  std::string to;
  std::string approved_by;
  std::string approval_ref;
  std::string reason;
  bool json = false;
};

int RunExtend(const ExtendOptions& options, const GlobalOptions& global) {
  v1::GetCaseRequest find;
  find.set_case_ref(options.ref);
  v1::CaseDetail detail;
  if (int code = CallUnary(global, "GetCase", &v1::AdminService::Stub::GetCase, find, &detail);
      code != kExitOk) {
    return code;
  }
  v1::ExtendDecisionDeadlineRequest request;
  request.set_case_id(detail.case_().case_id());
  auto to = ResolveDate(options.to, sync::SystemNowMs());
  if (!to.ok()) return Fail(to.status());
  request.set_extended_to(*to);
  request.set_approved_by(options.approved_by);
  request.set_approval_ref(options.approval_ref);
  request.set_reason(options.reason);
  v1::ExtendDecisionDeadlineResponse response;
  if (int code = CallUnary(global, "ExtendDecisionDeadline",
                           &v1::AdminService::Stub::ExtendDecisionDeadline, request, &response);
      code != kExitOk) {
    return code;
  }
  if (options.json) {
    PrintProtoJson(response);
    return kExitOk;
  }
  const v1::Case& c = response.case_();
  std::cout << "case " << (c.case_number().empty() ? c.case_id() : c.case_number())
            << ": time to decide extended to " << c.decision_extension().extended_to() << "\n";
  return kExitOk;
}

void RegisterDeadlines(CommandLine& cli) {
  const GlobalOptions& global = cli.global();
  auto options = std::make_shared<DeadlineOptions>();
  CLI::App* cmd = cli.TopCommand(
      "deadlines", "The law's clocks on cases: due within --days, and every overdue one",
      [options, &global] { return RunDeadlines(*options, global); });
  cmd->add_option("--town", options->town, "Only this town's cases (default: yours)");
  cmd->add_option("--squad", options->squad, "Only this squad's cases");
  cmd->add_option("--officer", options->officer, "Only cases this officer is on");
  cmd->add_option("--days", options->days, "Clocks due within this many days")
      ->capture_default_str()
      ->check(CLI::Range(1u, 366u));
  cmd->add_option("--as-of", options->as_of, "Read the clocks on this day: today or YYYY-MM-DD")
      ->check(DateValidator());
  cmd->add_option("--kind", options->kinds,
                  "Only these clocks: decision, service, payment, court_enforcement, hand_over")
      ->delimiter(',')
      ->check(EnumValidator(v1::ClockKind_descriptor(), "clock kind"));
  cmd->add_option("--lang", options->lang, "Language of the table: zh-CN or en")
      ->capture_default_str()
      ->envname("PALMCTL_LANG")
      ->check(CLI::IsMember({"zh-CN", "zh", "en"}, CLI::ignore_case));
  AddJsonFlag(cmd, &options->json);
  SetExamples(cmd, {"palmctl deadlines", "palmctl deadlines --squad sq-a --days 3",
                    "palmctl deadlines --kind service,payment --json"});

  auto extend = std::make_shared<ExtendOptions>();
  CLI::App* group = cli.Group("cases", "Cases as the server holds them");
  CLI::App* extend_cmd =
      cli.Command(group, "extend-deadline",
                  "Record the agency head's approval to decide a case after the 90 days (Art. 60)",
                  [extend, &global] { return RunExtend(*extend, global); });
  extend_cmd->add_option("ref", extend->ref, "Case number or case id")->required();
  extend_cmd->add_option("--to", extend->to, "The new last day to decide, YYYY-MM-DD")
      ->required()
      ->check(DateValidator());
  extend_cmd->add_option("--approved-by", extend->approved_by, "The agency head who approved")
      ->required();
  extend_cmd->add_option("--approval-ref", extend->approval_ref, "The approval's document number")
      ->required();
  extend_cmd->add_option("--reason", extend->reason, "Why more time is needed")->required();
  AddJsonFlag(extend_cmd, &extend->json);
}

}  // namespace

PALMCTL_REGISTER_GROUP(deadlines, RegisterDeadlines);

}  // namespace palm::palmctl
