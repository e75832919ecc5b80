// palmctl cases list|show: cases as the server holds them, with timeline,
// tickets and evidence receipts (AdminService ListCases, GetCase).
#include <algorithm>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "palm/v1/admin.grpc.pb.h"
#include "sync/hlc.h"
#include "sync/no_penalty.h"
#include "tools/palmctl/bureau_time.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"
#include "tools/palmctl/validators.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

// The server's largest page.
constexpr uint32_t kMaxPage = 1000;

std::string CaseStateText(const v1::Case& c) {
  return EnumLabel(v1::CaseState_descriptor(), c.state());
}

struct ListOptions {
  std::string town;
  std::string squad;
  std::string state;
  std::string from;
  std::string to;
  uint32_t limit = 100;
  uint32_t page_size = kMaxPage;
  bool json = false;
};

int RunList(const ListOptions& options, const GlobalOptions& global) {
  v1::ListCasesRequest request;
  request.set_town_id(options.town);
  request.set_squad_id(options.squad);
  // The validators of the options accepted these already.
  if (!options.state.empty()) {
    request.set_state(static_cast<v1::CaseState>(
        ParseEnum(v1::CaseState_descriptor(), options.state).value_or(0)));
  }
  const int64_t now = sync::SystemNowMs();
  if (!options.from.empty()) {
    auto from = BureauDayStartMs(options.from, now);
    if (!from.ok()) return Fail(from.status());
    request.set_from_ms(*from);
  }
  if (!options.to.empty()) {
    // --to is inclusive; the server's bound is exclusive.
    auto to = BureauDayStartMs(options.to, now);
    if (!to.ok()) return Fail(to.status());
    request.set_to_ms(*to + 86400000);
  }
  auto channel = MakeClientChannel(global);
  if (!channel.ok()) return Fail(channel.status());
  // All pages up to --limit, as one response: next_page_token is left set
  // when the limit cut the listing short.
  v1::ListCasesResponse all;
  do {
    request.set_page_size(std::min<uint32_t>(options.page_size, options.limit - all.cases_size()));
    request.set_page_token(all.next_page_token());
    v1::ListCasesResponse page;
    if (int code = CallUnary(*channel, global, "ListCases", &v1::AdminService::Stub::ListCases,
                             request, &page);
        code != kExitOk) {
      return code;
    }
    for (v1::Case& c : *page.mutable_cases()) {
      if (static_cast<uint32_t>(all.cases_size()) == options.limit) break;
      *all.add_cases() = std::move(c);
    }
    all.set_next_page_token(page.next_page_token());
  } while (!all.next_page_token().empty() &&
           static_cast<uint32_t>(all.cases_size()) < options.limit);
  if (options.json) {
    PrintProtoJson(all);
    return kExitOk;
  }
  if (all.cases().empty()) {
    std::cout << "no cases match\n";
    return kExitOk;
  }
  TextTable table({"CASE NUMBER", "CASE ID", "MATTER", "PROCEDURE", "STATE", "TOWN", "SQUAD",
                   "CREATED", "DESCRIPTION"});
  for (const v1::Case& c : all.cases()) {
    table.AddRow({c.case_number(), c.case_id(), c.matter_code(),
                  EnumLabel(v1::Procedure_descriptor(), c.procedure()), CaseStateText(c),
                  c.town_id(), c.squad_id(), FormatUnixMs(c.created_at_ms()), c.description()});
  }
  std::cout << table.Render();
  if (!all.next_page_token().empty()) {
    std::cout << "(the first " << all.cases_size() << " cases; more match — raise --limit)\n";
  }
  return kExitOk;
}

struct ShowOptions {
  std::string ref;
  bool json = false;
};

std::string ReceiptText(const v1::Evidence& e) {
  if (!e.has_receipt()) return "no receipt";
  return absl::StrCat("leaf ", e.receipt().leaf_index(), " of tree size ",
                      e.receipt().tree_head().tree_size());
}

int RunShow(const ShowOptions& options, const GlobalOptions& global) {
  v1::GetCaseRequest request;
  request.set_case_ref(options.ref);
  v1::CaseDetail detail;
  if (int code = CallUnary(global, "GetCase", &v1::AdminService::Stub::GetCase, request, &detail);
      code != kExitOk) {
    return code;
  }
  if (options.json) {
    PrintProtoJson(detail);
    return kExitOk;
  }
  const v1::Case& c = detail.case_();
  std::vector<std::string> parties;
  for (const v1::Party& p : c.parties()) {
    parties.push_back(
        absl::StrCat(p.name(), " (", EnumLabel(v1::PartyKind_descriptor(), p.kind()), ")"));
  }
  std::string review = "not required";
  if (c.review_required()) review = c.review_approved() ? "approved" : "required, not approved";
  std::cout << KeyValueLines({
      {"case number", c.case_number().empty() ? "(not assigned yet)" : c.case_number()},
      {"case id", c.case_id()},
      {"matter", c.matter_code()},
      {"procedure", EnumLabel(v1::Procedure_descriptor(), c.procedure())},
      {"state", CaseStateText(c)},
      {"town / squad", absl::StrCat(c.town_id(), " / ", c.squad_id().empty() ? "-" : c.squad_id())},
      {"description", c.description()},
      {"place", c.place().address()},
      {"occurred", FormatUnixMs(c.occurred_at_ms())},
      {"created", absl::StrCat(FormatUnixMs(c.created_at_ms()), " by ", c.created_by_officer(),
                               " on ", c.created_by_device())},
      {"officers", absl::StrJoin(c.officer_ids(), ", ")},
      {"parties", absl::StrJoin(parties, "; ")},
      {"proposed fine",
       c.proposed_fine_fen() > 0 ? absl::StrCat(FormatYuan(c.proposed_fine_fen()), " yuan") : ""},
      {"legal review", review},
      {"deadline", FormatUnixMs(c.deadline_ms())},
  });

  std::cout << "\nTIMELINE (" << detail.timeline_size() << ")\n";
  if (!detail.timeline().empty()) {
    TextTable table({"AT", "KIND", "OFFICER", "TEXT"});
    for (const v1::CaseEvent& e : detail.timeline()) {
      std::string text = e.text();
      if (e.kind() == v1::CASE_EVENT_KIND_TRANSITION) {
        text = absl::StrCat(EnumLabel(v1::CaseState_descriptor(), e.from_state()), " → ",
                            EnumLabel(v1::CaseState_descriptor(), e.to_state()),
                            text.empty() ? "" : absl::StrCat(": ", text));
      }
      if (e.amount_fen() != 0) absl::StrAppend(&text, " (", FormatYuan(e.amount_fen()), " yuan)");
      table.AddRow({FormatUnixMs(e.at_ms()), EnumLabel(v1::CaseEventKind_descriptor(), e.kind()),
                    e.officer_id(), text});
    }
    std::cout << table.Render();
  }

  std::cout << "\nEVIDENCE (" << detail.evidence_size() << ")\n";
  if (!detail.evidence().empty()) {
    TextTable table({"EVIDENCE", "KIND", "SHA-256", "BYTES", "CAPTURED", "UPLOADED", "RECEIPT"});
    for (const v1::Evidence& e : detail.evidence()) {
      table.AddRow({e.evidence_id(), EnumLabel(v1::EvidenceKind_descriptor(), e.kind()), e.sha256(),
                    absl::StrCat(e.size_bytes()), FormatUnixMs(e.captured_at_ms()),
                    e.uploaded() ? "yes" : "no",
                    e.withdrawn()
                        ? absl::StrCat(ReceiptText(e), "; withdrawn: ", e.withdraw_reason())
                        : ReceiptText(e)});
    }
    std::cout << table.Render();
  }

  std::cout << "\nTICKETS (" << detail.tickets_size() << ")\n";
  if (!detail.tickets().empty()) {
    TextTable table({"TICKET", "ISSUED", "MATTER", "PENALTY", "AMOUNT (YUAN)", "STATE"});
    for (const v1::Ticket& t : detail.tickets()) {
      table.AddRow({t.ticket_number_text().empty() ? absl::StrCat(t.ticket_number())
                                                   : t.ticket_number_text(),
                    FormatUnixMs(t.issued_at_ms()), t.matter_code(),
                    EnumLabel(v1::PenaltyKind_descriptor(), t.penalty()), FormatYuan(t.fine_fen()),
                    t.voided() ? absl::StrCat("voided: ", t.void_reason()) : "issued"});
    }
    std::cout << table.Render();
  }

  std::cout << "\nNO-PENALTY DECISIONS (" << detail.no_penalty_size() << ")\n";
  if (!detail.no_penalty().empty()) {
    TextTable table({"DECISION", "DECIDED", "MATTER", "GROUND", "EDUCATION RECORD"});
    for (const v1::NoPenaltyDecision& d : detail.no_penalty()) {
      table.AddRow({d.decision_id(), FormatUnixMs(d.decided_at_ms()), d.matter_code(),
                    sync::GroundLabel(d.ground()), d.education_record()});
    }
    std::cout << table.Render();
  }
  return kExitOk;
}

void RegisterCases(CommandLine& cli) {
  CLI::App* group = cli.Group("cases", "Cases as the server holds them");
  const GlobalOptions& global = cli.global();

  auto list = std::make_shared<ListOptions>();
  CLI::App* list_cmd =
      cli.Command(group, "list", "List cases, oldest first, following the server's pages",
                  [list, &global] { return RunList(*list, global); });
  list_cmd->add_option("--town", list->town, "Only this town's cases");
  list_cmd->add_option("--squad", list->squad, "Only this squad's cases");
  list_cmd->add_option("--state", list->state, "Only cases in this state (e.g. legal_review)")
      ->check(EnumValidator(v1::CaseState_descriptor(), "case state"));
  list_cmd
      ->add_option("--from", list->from,
                   "Created on or after this day: today, yesterday or YYYY-MM-DD")
      ->check(DateValidator());
  list_cmd->add_option("--to", list->to, "Created on or before this day (inclusive)")
      ->check(DateValidator());
  list_cmd->add_option("--limit", list->limit, "At most this many cases")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000000u));
  list_cmd->add_option("--page-size", list->page_size, "Cases asked of the server per call")
      ->capture_default_str()
      ->check(CLI::Range(1u, kMaxPage));
  AddJsonFlag(list_cmd, &list->json);

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_cmd = cli.Command(
      group, "show", "One case with its timeline, evidence receipts, tickets and decisions",
      [show, &global] { return RunShow(*show, global); });
  show_cmd->add_option("ref", show->ref, "Case number (e.g. 桐综执罚〔2026〕0123号) or case id")
      ->required();
  AddJsonFlag(show_cmd, &show->json);
}

}  // namespace

PALMCTL_REGISTER_GROUP(cases, RegisterCases);

}  // namespace palm::palmctl
