#include "tools/palmctl/report_model.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "sync/rules.h"
#include "tools/palmctl/bureau_time.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

// Evidence the leader must see to: no receipt yet, or not uploaded.
bool NeedsAttention(const v1::Evidence& e) { return !e.has_receipt() || !e.uploaded(); }

std::string WithId(const std::string& name, const std::string& id) {
  return name.empty() || name == id ? id : absl::StrCat(name, " (", id, ")");
}

class Builder {
 public:
  Builder(const v1::ShiftReportResponse& r, const ReportContext& ctx) : r_(r), ctx_(ctx) {
    for (const v1::Case& c : r.cases_opened()) {
      if (!c.case_number().empty()) numbers_[c.case_id()] = c.case_number();
    }
  }

  ReportModel Build() {
    model_.lang = ctx_.lang;
    model_.bureau = ctx_.bureau;
    model_.title = T(Msg::kTitle);
    model_.squad = WithId(ctx_.squad_name, r_.squad_id());
    model_.town = ctx_.town_id.empty() ? "" : WithId(ctx_.town_name, ctx_.town_id);
    model_.date = r_.date();
    model_.generated_at = FormatBureauTime(ctx_.generated_at_ms);
    if (!ctx_.unavailable.empty()) {
      model_.note =
          absl::StrCat(T(Msg::kNamesUnavailable), ": ", absl::StrJoin(ctx_.unavailable, "; "));
    }
    BuildTotals();
    BuildExceptions();
    BuildCases();
    BuildTickets();
    BuildNoPenalty();
    BuildOfficers();
    BuildDevices();
    BuildDeadlines();
    return std::move(model_);
  }

 private:
  const char* T(Msg id) const { return Text(ctx_.lang, id); }

  std::string CaseRef(const std::string& case_id) const {
    auto it = numbers_.find(case_id);
    return it != numbers_.end() ? it->second : case_id;
  }

  std::string MatterDisplay(const std::string& code) const {
    auto it = ctx_.matters.find(code);
    return it == ctx_.matters.end() || it->second.name().empty()
               ? code
               : absl::StrCat(code, " ", it->second.name());
  }

  static std::string Count(int64_t n) { return absl::StrCat(n); }

  // Records of `s`'s kind counted (`total`) beyond its rows, and the line
  // that says so.
  void NotListed(Section* s, int64_t total) const {
    s->not_listed = std::max<int64_t>(0, total - static_cast<int64_t>(s->rows.size()));
    if (s->not_listed > 0) s->remark = NotListedText(ctx_.lang, s->not_listed);
  }

  // Punctuation of the report's language.
  const char* Colon() const { return ctx_.lang == ReportLang::kZh ? "：" : ": "; }
  std::string Parenthesised(absl::string_view text) const {
    return ctx_.lang == ReportLang::kZh ? absl::StrCat("（", text, "）")
                                        : absl::StrCat(" (", text, ")");
  }

  void BuildTotals() {
    const DerivedTotals d = DeriveTotals(r_, ctx_);
    auto& f = model_.totals;
    f.push_back({"cases_opened", T(Msg::kCasesOpened), Count(d.cases_opened)});
    f.push_back({"tickets_issued", T(Msg::kTicketsIssued), Count(d.tickets)});
    f.push_back({"fines", T(Msg::kFines), Count(d.fines)});
    f.push_back({"warnings", T(Msg::kWarnings), Count(d.warnings)});
    f.push_back({"fines_total_yuan", T(Msg::kFinesTotal), FormatYuan(r_.tickets_total_fen()),
                 CellKind::kAmount});
    f.push_back({"no_penalty_decisions", T(Msg::kNoPenaltyDecisions), Count(d.no_penalty)});
    f.push_back({"evidence", T(Msg::kEvidence), Count(d.evidence)});
    f.push_back({"evidence_with_receipt", T(Msg::kEvidenceWithReceipt),
                 Count(static_cast<int64_t>(r_.evidence_with_receipt()))});
    f.push_back(
        {"evidence_not_uploaded", T(Msg::kEvidenceNotUploaded), Count(d.evidence_not_uploaded)});
    f.push_back({"open_conflicts", T(Msg::kOpenConflicts), Count(d.open_conflicts)});
    f.push_back({"open_rejections", T(Msg::kOpenRejections), Count(d.open_rejections)});
    if (ctx_.devices_known) {
      f.push_back({"devices", T(Msg::kDevices), Count(static_cast<int64_t>(ctx_.devices.size()))});
      f.push_back({"devices_not_in_sync", T(Msg::kDevicesBehind), Count(d.devices_not_in_sync)});
    }
  }

  void BuildExceptions() {
    Section conflicts{
        "conflicts",
        T(Msg::kConflictsSection),
        {{T(Msg::kColCase)}, {T(Msg::kColField)}, {T(Msg::kColRecorded)}, {T(Msg::kColLostKept)}},
        {},
        0,
        ""};
    for (const v1::ConflictRecord& c : r_.open_conflicts()) {
      const v1::ConflictLoss& loss = c.loss();
      conflicts.rows.push_back(
          {c.case_number().empty() ? CaseRef(loss.case_id()) : c.case_number(),
           CaseFieldText(ctx_.lang, loss.field()), FormatBureauTime(c.recorded_at_ms()),
           absl::StrCat("\"", loss.losing_value(), "\" (", loss.losing_device_id(), ") → \"",
                        loss.winning_value(), "\" (", loss.winning_device_id(), ")")});
    }
    Section rejections{
        "rejections",
        T(Msg::kRejectionsSection),
        {{T(Msg::kColCase)}, {T(Msg::kColOperation)}, {T(Msg::kColRecorded)}, {T(Msg::kColReason)}},
        {},
        0,
        ""};
    for (const v1::RejectedMutation& rm : r_.open_rejections()) {
      rejections.rows.push_back(
          {CaseRef(MutationCaseId(rm.mutation())),
           absl::StrCat(MutationOperation(rm.mutation()), " #", rm.mutation().device_seq(), " (",
                        rm.mutation().device_id(), ")"),
           FormatBureauTime(rm.recorded_at_ms()),
           absl::StrCat(EnumLabel(v1::ReasonCode_descriptor(), rm.result().reason()), ": ",
                        rm.result().message())});
    }
    Section evidence{"evidence",
                     T(Msg::kEvidenceSection),
                     {{T(Msg::kColCase)},
                      {T(Msg::kColEvidence)},
                      {T(Msg::kColCaptured)},
                      {T(Msg::kColOfficer)},
                      {T(Msg::kColProblem)}},
                     {},
                     0,
                     ""};
    for (const v1::Evidence& e : r_.evidence()) {
      if (!NeedsAttention(e)) continue;
      std::vector<std::string> problems;
      if (!e.has_receipt()) problems.push_back(T(Msg::kNoReceipt));
      if (!e.uploaded()) problems.push_back(T(Msg::kNotUploaded));
      if (e.withdrawn()) {
        problems.push_back(absl::StrCat(T(Msg::kWithdrawn), ": ", e.withdraw_reason()));
      }
      evidence.rows.push_back(
          {CaseRef(e.case_id()),
           absl::StrCat(EvidenceKindText(ctx_.lang, e.kind()), " ", e.evidence_id().substr(0, 8)),
           FormatBureauTime(e.captured_at_ms()),
           e.officer_id().empty() ? "" : OfficerDisplay(ctx_, e.officer_id()),
           absl::StrJoin(problems, ctx_.lang == ReportLang::kZh ? "；" : "; ")});
    }
    const DerivedTotals d = DeriveTotals(r_, ctx_);
    NotListed(&conflicts, d.open_conflicts);
    NotListed(&rejections, d.open_rejections);
    NotListed(&evidence, d.evidence_needing_attention);
    for (Section* s : {&conflicts, &rejections, &evidence}) {
      if (!s->rows.empty() || s->not_listed > 0) model_.exceptions.push_back(std::move(*s));
    }
  }

  void BuildCases() {
    const std::vector<const v1::Case*> cases = CasesByNumber(r_);
    model_.cases = {"cases",
                    T(Msg::kCasesSection),
                    {{T(Msg::kColCase)},
                     {T(Msg::kColMatter)},
                     {T(Msg::kColOpened)},
                     {T(Msg::kColOfficer)},
                     {T(Msg::kColDescription)},
                     {T(Msg::kColProposedFine), CellKind::kAmount},
                     {T(Msg::kColState)}},
                    {},
                    0,
                    ""};
    std::map<std::string, int64_t> by_category;
    for (const v1::Case* c : cases) {
      const std::string officer = CaseOfficer(*c);
      auto matter = ctx_.matters.find(c->matter_code());
      const std::string category =
          matter != ctx_.matters.end() && !matter->second.category().empty()
              ? matter->second.category()
              : T(Msg::kUncategorised);
      by_category[category]++;
      model_.cases.rows.push_back(
          {CaseRef(c->case_id()), MatterDisplay(c->matter_code()),
           FormatBureauTime(c->created_at_ms()),
           officer.empty() ? T(Msg::kUnknownOfficer) : OfficerDisplay(ctx_, officer),
           c->place().address().empty()
               ? c->description()
               : absl::StrCat(c->description(), " @ ", c->place().address()),
           c->proposed_fine_fen() > 0 ? FormatYuan(c->proposed_fine_fen()) : "",
           absl::StrCat(CaseStateText(ctx_.lang, c->state()), " (",
                        ProcedureText(ctx_.lang, c->procedure()), ")")});
    }
    for (const auto& [category, n] : by_category) {
      model_.cases_by_category.push_back({category, static_cast<double>(n), Count(n), ""});
    }
    std::stable_sort(model_.cases_by_category.begin(), model_.cases_by_category.end(),
                     [](const Bar& a, const Bar& b) { return a.value > b.value; });
    NotListed(&model_.cases, DeriveTotals(r_, ctx_).cases_opened);
  }

  void BuildTickets() {
    std::vector<const v1::Ticket*> tickets;
    for (const v1::Ticket& t : r_.tickets()) tickets.push_back(&t);
    std::stable_sort(tickets.begin(), tickets.end(), [](const v1::Ticket* a, const v1::Ticket* b) {
      return a->ticket_number() < b->ticket_number();
    });
    model_.tickets = {"tickets",
                      T(Msg::kTicketsSection),
                      {{T(Msg::kColTicket)},
                       {T(Msg::kColCase)},
                       {T(Msg::kColIssued)},
                       {T(Msg::kColOfficer)},
                       {T(Msg::kColViolation)},
                       {T(Msg::kColAmount), CellKind::kAmount},
                       {T(Msg::kColStatus)}},
                      {},
                      0,
                      ""};
    for (const v1::Ticket* t : tickets) {
      const std::string officer = t->officer_ids().empty() ? "" : t->officer_ids(0);
      std::string number = t->ticket_number_text().empty() ? absl::StrCat(t->ticket_number())
                                                           : t->ticket_number_text();
      std::string status = t->voided() ? absl::StrCat(T(Msg::kVoided), ": ", t->void_reason())
                                       : SignatureText(ctx_.lang, t->party_signature());
      const bool warning = t->penalty() == v1::PENALTY_KIND_WARNING;
      model_.tickets.rows.push_back(
          {number, CaseRef(t->case_id()), FormatBureauTime(t->issued_at_ms()),
           officer.empty() ? T(Msg::kUnknownOfficer) : OfficerDisplay(ctx_, officer),
           absl::StrCat(MatterDisplay(t->matter_code()), t->violation().empty() ? "" : Colon(),
                        t->violation(), warning ? Parenthesised(T(Msg::kWarning)) : ""),
           warning ? "" : FormatYuan(t->fine_fen()), status});
    }
    NotListed(&model_.tickets, DeriveTotals(r_, ctx_).tickets);
  }

  void BuildNoPenalty() {
    model_.no_penalty = {"no_penalty",
                         T(Msg::kNoPenaltySection),
                         {{T(Msg::kColCase)},
                          {T(Msg::kColMatter)},
                          {T(Msg::kColDecided)},
                          {T(Msg::kColOfficer)},
                          {T(Msg::kColEducation)}},
                         {},
                         0,
                         ""};
    for (const v1::NoPenaltyDecision& d : r_.no_penalty()) {
      const std::string officer = d.officer_ids().empty() ? "" : d.officer_ids(0);
      model_.no_penalty.rows.push_back(
          {CaseRef(d.case_id()), MatterDisplay(d.matter_code()),
           FormatBureauTime(d.decided_at_ms()),
           officer.empty() ? T(Msg::kUnknownOfficer) : OfficerDisplay(ctx_, officer),
           d.education_record()});
    }
    NotListed(&model_.no_penalty, DeriveTotals(r_, ctx_).no_penalty);
  }

  void BuildDeadlines() {
    model_.deadlines = {"deadlines",
                        T(Msg::kDeadlinesSection),
                        {{T(Msg::kColCase)},
                         {T(Msg::kColClock)},
                         {T(Msg::kColFrom)},
                         {T(Msg::kColLastDay)},
                         {T(Msg::kColState)},
                         {T(Msg::kColMoney)},
                         {T(Msg::kColOfficer)}},
                        {},
                        0,
                        ""};
    for (const v1::CaseClock& k : r_.deadlines()) {
      std::vector<std::string> officers;
      for (const std::string& id : k.officer_ids()) officers.push_back(OfficerDisplay(ctx_, id));
      model_.deadlines.rows.push_back({k.case_number().empty() ? k.case_id() : k.case_number(),
                                       ClockKindText(ctx_.lang, k.kind()), k.started_on(),
                                       k.last_day(), ClockStateText(ctx_.lang, k),
                                       ClockAmountText(ctx_.lang, k),
                                       absl::StrJoin(officers, ", ")});
    }
    NotListed(&model_.deadlines, static_cast<int64_t>(r_.deadlines_total()));
  }

  // Runs after the record sections: the per-officer figures count the
  // records listed, which the table then says when some were not.
  void BuildOfficers() {
    model_.officers = {"officers",
                       T(Msg::kOfficersSection),
                       {{T(Msg::kColOfficer)},
                        {T(Msg::kColCases), CellKind::kCount},
                        {T(Msg::kColTickets), CellKind::kCount},
                        {T(Msg::kColAmount), CellKind::kAmount},
                        {T(Msg::kColNoPenalty), CellKind::kCount}},
                       {},
                       0,
                       ""};
    for (const OfficerFigures& t : OfficerTable(r_)) {
      const std::string& id = t.officer_id;
      const std::string who = id.empty() ? T(Msg::kUnknownOfficer) : OfficerDisplay(ctx_, id);
      model_.officers.rows.push_back(
          {who, Count(t.cases), Count(t.tickets), FormatYuan(t.fines_fen), Count(t.no_penalty)});
      if (t.fines_fen > 0) {
        auto it = ctx_.officer_names.find(id);
        model_.fines_by_officer.push_back(
            {it != ctx_.officer_names.end() && !it->second.empty() ? it->second : who,
             static_cast<double>(t.fines_fen) / 100.0, FormatYuan(t.fines_fen), ""});
      }
    }
    if (model_.cases.not_listed + model_.tickets.not_listed + model_.no_penalty.not_listed > 0) {
      model_.officers.remark = T(Msg::kCountsListedOnly);
    }
  }

  void BuildDevices() {
    model_.devices_known = ctx_.devices_known;
    model_.devices = {"devices",
                      T(Msg::kDevicesSection),
                      {{T(Msg::kColDevice)},
                       {T(Msg::kColSyncState)},
                       {T(Msg::kColLastSync)},
                       {T(Msg::kColPendingWrites), CellKind::kCount},
                       {T(Msg::kColPendingUploads), CellKind::kCount}},
                      {},
                      0,
                      ""};
    std::map<int, int64_t> by_state;
    std::vector<const v1::DeviceStatus*> devices;
    for (const v1::DeviceStatus& d : ctx_.devices) devices.push_back(&d);
    std::sort(devices.begin(), devices.end(),
              [](const v1::DeviceStatus* a, const v1::DeviceStatus* b) {
                return a->device().device_id() < b->device().device_id();
              });
    for (const v1::DeviceStatus* d : devices) {
      by_state[d->state()]++;
      model_.devices.rows.push_back({d->device().device_id(), SyncStateText(ctx_.lang, d->state()),
                                     FormatBureauTime(d->last_sync_ms()),
                                     Count(static_cast<int64_t>(d->pending_mutations())),
                                     Count(static_cast<int64_t>(d->pending_uploads()))});
    }
    static const std::map<int, const char*> kColours = {
        {v1::DEVICE_SYNC_STATE_OK, "#3a8d4f"},
        {v1::DEVICE_SYNC_STATE_BEHIND, "#d08a1c"},
        {v1::DEVICE_SYNC_STATE_NEVER_SYNCED, "#c0392b"},
        {v1::DEVICE_SYNC_STATE_REVOKED, "#777777"}};
    for (const auto& [state, n] : by_state) {
      auto colour = kColours.find(state);
      model_.device_states.push_back(
          {SyncStateText(ctx_.lang, static_cast<v1::DeviceSyncState>(state)),
           static_cast<double>(n), Count(n), colour != kColours.end() ? colour->second : ""});
    }
  }

  const v1::ShiftReportResponse& r_;
  const ReportContext& ctx_;
  std::map<std::string, std::string> numbers_;
  ReportModel model_;
};

}  // namespace

std::string OfficerDisplay(const ReportContext& context, const std::string& officer_id) {
  auto it = context.officer_names.find(officer_id);
  return WithId(it != context.officer_names.end() ? it->second : "", officer_id);
}

std::string CaseOfficer(const v1::Case& c) {
  if (!c.created_by_officer().empty()) return c.created_by_officer();
  return c.officer_ids().empty() ? "" : c.officer_ids(0);
}

std::vector<OfficerFigures> OfficerTable(const v1::ShiftReportResponse& report) {
  std::map<std::string, OfficerFigures> by_id;
  const auto at = [&by_id](const std::string& id) -> OfficerFigures& {
    OfficerFigures& f = by_id[id];
    f.officer_id = id;
    return f;
  };
  for (const v1::Case& c : report.cases_opened()) at(CaseOfficer(c)).cases++;
  for (const v1::Ticket& t : report.tickets()) {
    OfficerFigures& f = at(t.officer_ids().empty() ? "" : t.officer_ids(0));
    f.tickets++;
    if (!t.voided() && t.penalty() != v1::PENALTY_KIND_WARNING) f.fines_fen += t.fine_fen();
  }
  for (const v1::NoPenaltyDecision& d : report.no_penalty()) {
    at(d.officer_ids().empty() ? "" : d.officer_ids(0)).no_penalty++;
  }
  std::vector<OfficerFigures> rows;
  for (auto& [id, f] : by_id) {
    if (!id.empty()) rows.push_back(f);
  }
  if (auto none = by_id.find(""); none != by_id.end()) rows.push_back(none->second);
  return rows;
}

DerivedTotals DeriveTotals(const v1::ShiftReportResponse& report, const ReportContext& context) {
  DerivedTotals d;
  if (report.has_totals()) {
    const v1::ShiftReportTotals& t = report.totals();
    d.cases_opened = static_cast<int64_t>(t.cases_opened());
    d.tickets = static_cast<int64_t>(t.tickets());
    d.fines = static_cast<int64_t>(t.fines());
    d.warnings = static_cast<int64_t>(t.warnings());
    d.no_penalty = static_cast<int64_t>(t.no_penalty());
    d.evidence = static_cast<int64_t>(t.evidence());
    d.evidence_not_uploaded = static_cast<int64_t>(t.evidence_not_uploaded());
    d.evidence_needing_attention = static_cast<int64_t>(t.evidence_needing_attention());
    d.open_conflicts = static_cast<int64_t>(t.open_conflicts());
    d.open_rejections = static_cast<int64_t>(t.open_rejections());
  } else {
    d.cases_opened = report.cases_opened_size();
    d.tickets = report.tickets_size();
    for (const v1::Ticket& t : report.tickets()) {
      switch (sync::CountTicket(t)) {
        case sync::TicketCount::kFine:
          ++d.fines;
          break;
        case sync::TicketCount::kWarning:
          ++d.warnings;
          break;
        case sync::TicketCount::kVoided:
          break;
      }
    }
    d.no_penalty = report.no_penalty_size();
    d.evidence = report.evidence_size();
    for (const v1::Evidence& e : report.evidence()) {
      d.evidence_not_uploaded += e.uploaded() ? 0 : 1;
      d.evidence_needing_attention += NeedsAttention(e) ? 1 : 0;
    }
    d.open_conflicts = report.open_conflicts_size();
    d.open_rejections = report.open_rejections_size();
  }
  for (const v1::DeviceStatus& s : context.devices) {
    d.devices_not_in_sync +=
        s.state() == v1::DEVICE_SYNC_STATE_OK || s.state() == v1::DEVICE_SYNC_STATE_REVOKED ? 0 : 1;
  }
  return d;
}

std::vector<const v1::Case*> CasesByNumber(const v1::ShiftReportResponse& report) {
  std::vector<const v1::Case*> cases;
  for (const v1::Case& c : report.cases_opened()) cases.push_back(&c);
  std::sort(cases.begin(), cases.end(), [](const v1::Case* a, const v1::Case* b) {
    const bool a_none = a->case_number().empty();
    const bool b_none = b->case_number().empty();
    if (a_none != b_none) return b_none;
    if (a->case_number() != b->case_number()) return a->case_number() < b->case_number();
    return a->case_id() < b->case_id();
  });
  return cases;
}

ReportModel BuildReportModel(const v1::ShiftReportResponse& report, const ReportContext& context) {
  return Builder(report, context).Build();
}

}  // namespace palm::palmctl
