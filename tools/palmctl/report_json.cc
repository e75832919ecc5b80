// RenderShiftReportJson (report_render.h): the shift report as a JSON
// object for people and scripts, numbers as numbers. Its keys are listed in
// docs/shift-report.md.
#include <algorithm>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "tools/palmctl/bureau_time.h"
#include "tools/palmctl/format.h"
#include "tools/palmctl/report_render.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;
using nlohmann::json;

double Yuan(int64_t fen) { return static_cast<double>(fen) / 100.0; }

class JsonBuilder {
 public:
  JsonBuilder(const v1::ShiftReportResponse& r, const ReportContext& ctx) : r_(r), ctx_(ctx) {
    for (const v1::Case& c : r.cases_opened()) numbers_[c.case_id()] = c.case_number();
  }

  json Build() const {
    json out = json::object();
    out["bureau"] = ctx_.bureau;
    out["squad_id"] = r_.squad_id();
    out["squad_name"] = ctx_.squad_name;
    out["town_id"] = ctx_.town_id;
    out["town_name"] = ctx_.town_name;
    out["date"] = r_.date();
    out["generated_at_ms"] = ctx_.generated_at_ms;
    out["generated_at"] = FormatBureauTime(ctx_.generated_at_ms);
    out["totals"] = Totals();
    out["not_listed"] = NotListed();
    json officers = json::array();
    for (const OfficerFigures& f : OfficerTable(r_)) {
      officers.push_back({{"officer_id", f.officer_id},
                          {"name", Name(f.officer_id)},
                          {"cases", f.cases},
                          {"tickets", f.tickets},
                          {"fines_total_fen", f.fines_fen},
                          {"fines_total_yuan", Yuan(f.fines_fen)},
                          {"no_penalty", f.no_penalty}});
    }
    out["officers"] = std::move(officers);
    json cases = json::array();
    for (const v1::Case* c : CasesByNumber(r_)) cases.push_back(Case(*c));
    out["cases_opened"] = std::move(cases);
    json tickets = json::array();
    for (const v1::Ticket& t : r_.tickets()) tickets.push_back(Ticket(t));
    out["tickets"] = std::move(tickets);
    json no_penalty = json::array();
    for (const v1::NoPenaltyDecision& d : r_.no_penalty()) {
      const std::string officer = d.officer_ids().empty() ? "" : d.officer_ids(0);
      no_penalty.push_back({{"decision_id", d.decision_id()},
                            {"case_id", d.case_id()},
                            {"case_number", Number(d.case_id())},
                            {"matter_code", d.matter_code()},
                            {"matter_name", MatterName(d.matter_code())},
                            {"decided_at_ms", d.decided_at_ms()},
                            {"decided_at", FormatBureauTime(d.decided_at_ms())},
                            {"officer_id", officer},
                            {"officer_name", Name(officer)},
                            {"education_record", d.education_record()}});
    }
    out["no_penalty"] = std::move(no_penalty);
    json deadlines = json::array();
    for (const v1::CaseClock& k : r_.deadlines()) {
      json officers_of = json::array();
      for (const std::string& id : k.officer_ids()) officers_of.push_back(id);
      deadlines.push_back({{"case_id", k.case_id()},
                           {"case_number", k.case_number()},
                           {"kind", EnumToken(v1::ClockKind_descriptor(), k.kind())},
                           {"started_on", k.started_on()},
                           {"last_day", k.last_day()},
                           {"opens_on", k.opens_on()},
                           {"state", EnumToken(v1::ClockState_descriptor(), k.state())},
                           {"days_left", k.days_left()},
                           {"outstanding_fen", k.outstanding_fen()},
                           {"surcharge_fen", k.surcharge_fen()},
                           {"officer_ids", std::move(officers_of)}});
    }
    out["deadlines"] = std::move(deadlines);
    out["deadlines_total"] = r_.deadlines_total();
    json evidence = json::array();
    for (const v1::Evidence& e : r_.evidence()) evidence.push_back(Evidence(e));
    out["evidence"] = std::move(evidence);
    json conflicts = json::array();
    for (const v1::ConflictRecord& c : r_.open_conflicts()) {
      const v1::ConflictLoss& loss = c.loss();
      conflicts.push_back(
          {{"conflict_id", loss.conflict_id()},
           {"case_id", loss.case_id()},
           {"case_number", c.case_number().empty() ? Number(loss.case_id()) : c.case_number()},
           {"field", EnumToken(v1::CaseField_descriptor(), loss.field())},
           {"losing_value", loss.losing_value()},
           {"losing_device_id", loss.losing_device_id()},
           {"winning_value", loss.winning_value()},
           {"winning_device_id", loss.winning_device_id()},
           {"mutation_id", c.mutation_id()},
           {"recorded_at_ms", c.recorded_at_ms()},
           {"recorded_at", FormatBureauTime(c.recorded_at_ms())}});
    }
    out["open_conflicts"] = std::move(conflicts);
    json rejections = json::array();
    for (const v1::RejectedMutation& rm : r_.open_rejections()) {
      const std::string case_id = MutationCaseId(rm.mutation());
      rejections.push_back(
          {{"mutation_id", rm.mutation().mutation_id()},
           {"case_id", case_id},
           {"case_number", Number(case_id)},
           {"operation", MutationOperation(rm.mutation())},
           {"device_id", rm.mutation().device_id()},
           {"device_seq", rm.mutation().device_seq()},
           {"reason", EnumToken(v1::ReasonCode_descriptor(), rm.result().reason())},
           {"message", rm.result().message()},
           {"recorded_at_ms", rm.recorded_at_ms()},
           {"recorded_at", FormatBureauTime(rm.recorded_at_ms())}});
    }
    out["open_rejections"] = std::move(rejections);
    if (ctx_.devices_known) {
      json devices = json::array();
      for (const v1::DeviceStatus& d : ctx_.devices) {
        devices.push_back({{"device_id", d.device().device_id()},
                           {"state", EnumToken(v1::DeviceSyncState_descriptor(), d.state())},
                           {"last_sync_ms", d.last_sync_ms()},
                           {"last_sync", FormatBureauTime(d.last_sync_ms())},
                           {"pending_mutations", d.pending_mutations()},
                           {"pending_uploads", d.pending_uploads()},
                           {"ticket_numbers_left", d.ticket_numbers_left()}});
      }
      out["devices"] = std::move(devices);
    } else {
      out["devices"] = nullptr;
    }
    out["unavailable"] = ctx_.unavailable;
    return out;
  }

 private:
  std::string Number(const std::string& case_id) const {
    auto it = numbers_.find(case_id);
    return it != numbers_.end() ? it->second : "";
  }

  std::string Name(const std::string& officer_id) const {
    auto it = ctx_.officer_names.find(officer_id);
    return it != ctx_.officer_names.end() ? it->second : "";
  }

  std::string MatterName(const std::string& code) const {
    auto it = ctx_.matters.find(code);
    return it != ctx_.matters.end() ? it->second.name() : "";
  }

  // Records counted in the totals but left out of each list (the server caps
  // its lists): 0 everywhere when every record is listed.
  json NotListed() const {
    const DerivedTotals d = DeriveTotals(r_, ctx_);
    int64_t attention_listed = 0;
    for (const v1::Evidence& e : r_.evidence()) {
      attention_listed += e.has_receipt() && e.uploaded() ? 0 : 1;
    }
    const auto left = [](int64_t total, int64_t listed) {
      return std::max<int64_t>(0, total - listed);
    };
    return {{"cases_opened", left(d.cases_opened, r_.cases_opened_size())},
            {"tickets", left(d.tickets, r_.tickets_size())},
            {"no_penalty", left(d.no_penalty, r_.no_penalty_size())},
            {"evidence", left(d.evidence, r_.evidence_size())},
            {"evidence_needing_attention", left(d.evidence_needing_attention, attention_listed)},
            {"open_conflicts", left(d.open_conflicts, r_.open_conflicts_size())},
            {"open_rejections", left(d.open_rejections, r_.open_rejections_size())}};
  }

  json Totals() const {
    const DerivedTotals d = DeriveTotals(r_, ctx_);
    json t = {{"cases_opened", d.cases_opened},
              {"tickets_issued", d.tickets},
              {"fines", d.fines},
              {"warnings", d.warnings},
              {"fines_total_fen", r_.tickets_total_fen()},
              {"fines_total_yuan", Yuan(r_.tickets_total_fen())},
              {"no_penalty_decisions", d.no_penalty},
              {"evidence", d.evidence},
              {"evidence_with_receipt", r_.evidence_with_receipt()},
              {"evidence_not_uploaded", d.evidence_not_uploaded},
              {"open_conflicts", d.open_conflicts},
              {"open_rejections", d.open_rejections}};
    if (ctx_.devices_known) {
      t["devices"] = ctx_.devices.size();
      t["devices_not_in_sync"] = d.devices_not_in_sync;
    }
    return t;
  }

  json Case(const v1::Case& c) const {
    const std::string officer = CaseOfficer(c);
    auto matter = ctx_.matters.find(c.matter_code());
    return {{"case_id", c.case_id()},
            {"case_number", c.case_number()},
            {"matter_code", c.matter_code()},
            {"matter_name", MatterName(c.matter_code())},
            {"category", matter != ctx_.matters.end() ? matter->second.category() : ""},
            {"procedure", EnumToken(v1::Procedure_descriptor(), c.procedure())},
            {"state", EnumToken(v1::CaseState_descriptor(), c.state())},
            {"created_at_ms", c.created_at_ms()},
            {"created_at", FormatBureauTime(c.created_at_ms())},
            {"officer_id", officer},
            {"officer_name", Name(officer)},
            {"description", c.description()},
            {"address", c.place().address()},
            {"proposed_fine_fen", c.proposed_fine_fen()},
            {"proposed_fine_yuan", Yuan(c.proposed_fine_fen())}};
  }

  json Ticket(const v1::Ticket& t) const {
    const std::string officer = t.officer_ids().empty() ? "" : t.officer_ids(0);
    return {{"ticket_id", t.ticket_id()},
            {"ticket_number", t.ticket_number()},
            {"ticket_number_text", t.ticket_number_text()},
            {"case_id", t.case_id()},
            {"case_number", Number(t.case_id())},
            {"matter_code", t.matter_code()},
            {"matter_name", MatterName(t.matter_code())},
            {"violation", t.violation()},
            {"penalty", EnumToken(v1::PenaltyKind_descriptor(), t.penalty())},
            {"fine_fen", t.fine_fen()},
            {"fine_yuan", Yuan(t.fine_fen())},
            {"issued_at_ms", t.issued_at_ms()},
            {"issued_at", FormatBureauTime(t.issued_at_ms())},
            {"officer_id", officer},
            {"officer_name", Name(officer)},
            {"party_signature", EnumToken(v1::PartySignature_descriptor(), t.party_signature())},
            {"voided", t.voided()},
            {"void_reason", t.void_reason()}};
  }

  json Evidence(const v1::Evidence& e) const {
    return {
        {"evidence_id", e.evidence_id()},
        {"case_id", e.case_id()},
        {"case_number", Number(e.case_id())},
        {"kind", EnumToken(v1::EvidenceKind_descriptor(), e.kind())},
        {"captured_at_ms", e.captured_at_ms()},
        {"captured_at", FormatBureauTime(e.captured_at_ms())},
        {"officer_id", e.officer_id()},
        {"officer_name", Name(e.officer_id())},
        {"sha256", e.sha256()},
        {"size_bytes", e.size_bytes()},
        {"uploaded", e.uploaded()},
        {"receipt", e.has_receipt()},
        {"receipt_leaf_index", e.has_receipt() ? json(e.receipt().leaf_index()) : json(nullptr)},
        {"withdrawn", e.withdrawn()}};
  }

  const v1::ShiftReportResponse& r_;
  const ReportContext& ctx_;
  std::map<std::string, std::string> numbers_;
};

}  // namespace

std::string RenderShiftReportJson(const v1::ShiftReportResponse& report,
                                  const ReportContext& context) {
  return JsonBuilder(report, context).Build().dump(2) + "\n";
}

}  // namespace palm::palmctl
