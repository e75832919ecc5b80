// Shift reports for the report tests (palmctl_report_test.cc,
// palmctl_report_print_test.cc): built as palm-server would answer
// ShiftReport, with the lookups palmctl makes besides it.
#ifndef PALM_TESTS_TOOLS_SHIFT_REPORT_SAMPLE_H_
#define PALM_TESTS_TOOLS_SHIFT_REPORT_SAMPLE_H_

#include <string>

#include "palm/v1/admin.pb.h"
#include "tools/palmctl/report_model.h"

namespace palm::palmctl::sample {

namespace v1 = palm::v1;

// 2026-03-14 00:00 Asia/Shanghai, in Unix ms.
inline constexpr int64_t kDayStartMs = 1773417600000;
inline constexpr int64_t kMinuteMs = 60 * 1000;

inline v1::Matter MakeMatter(const std::string& code, const std::string& category,
                             const std::string& name) {
  v1::Matter m;
  m.set_code(code);
  m.set_category(category);
  m.set_name(name);
  return m;
}

inline v1::DeviceStatus MakeDevice(const std::string& id, v1::DeviceSyncState state,
                                   int64_t last_sync_ms, uint64_t pending, uint64_t uploads) {
  v1::DeviceStatus d;
  d.mutable_device()->set_device_id(id);
  d.set_state(state);
  d.set_last_sync_ms(last_sync_ms);
  d.set_pending_mutations(pending);
  d.set_pending_uploads(uploads);
  return d;
}

// A realistic day of squad sq-wt: six cases in three categories by three
// officers (one case still without a number), fines and a warning, a
// no-penalty decision, evidence of which one item lacks its receipt and
// upload, an open conflict and an open rejection.
inline v1::ShiftReportResponse RealisticShift() {
  v1::ShiftReportResponse r;
  r.set_squad_id("sq-wt");
  r.set_date("2026-03-14");
  struct CaseSpec {
    const char* number;
    const char* matter;
    const char* officer;
    const char* description;
    const char* address;
    int minute;
    v1::CaseState state;
  };
  const CaseSpec specs[] = {
      {"桐综执罚〔2026〕0131号", "SR-0101", "off-li", "占道经营 水果摊", "梧桐街道 庆丰路 12 号",
       545, v1::CASE_STATE_ISSUED},
      {"桐综执罚〔2026〕0128号", "SR-0203", "off-wang", "乱张贴小广告", "梧桐街道 振兴西路 3 号",
       512, v1::CASE_STATE_ISSUED},
      {"桐综执罚〔2026〕0129号", "SR-0101", "off-zhang", "店外经营", "梧桐街道 复兴路 88 号", 600,
       v1::CASE_STATE_NO_PENALTY},
      {"桐综执罚〔2026〕0130号", "SZ-0102", "off-li", "擅自占用道路堆放建材",
       "梧桐街道 环城北路 201 号", 640, v1::CASE_STATE_INVESTIGATING},
      {"桐综执罚〔2026〕0132号", "SR-0203", "off-wang", "乱涂写", "梧桐街道 文化路 7 号", 700,
       v1::CASE_STATE_ISSUED},
      {"", "YL-0301", "off-zhang", "损坏绿地", "梧桐街道 凤鸣公园", 820, v1::CASE_STATE_REGISTERED},
  };
  int n = 0;
  for (const CaseSpec& s : specs) {
    ++n;
    v1::Case* c = r.add_cases_opened();
    c->set_case_id("0190a000-0000-7000-8000-00000000000" + std::to_string(n));
    c->set_case_number(s.number);
    c->set_matter_code(s.matter);
    c->set_procedure(s.state == v1::CASE_STATE_INVESTIGATING ? v1::PROCEDURE_ORDINARY
                                                             : v1::PROCEDURE_SUMMARY);
    c->set_state(s.state);
    c->set_squad_id("sq-wt");
    c->set_description(s.description);
    c->mutable_place()->set_address(s.address);
    c->set_created_by_officer(s.officer);
    c->add_officer_ids(s.officer);
    c->set_created_at_ms(kDayStartMs + s.minute * kMinuteMs);
    if (s.state == v1::CASE_STATE_INVESTIGATING) c->set_proposed_fine_fen(200000);
  }
  struct TicketSpec {
    int case_index;
    int number;
    const char* officer;
    v1::PenaltyKind penalty;
    int64_t fen;
    v1::PartySignature signature;
  };
  const TicketSpec tickets[] = {
      {0, 131, "off-li", v1::PENALTY_KIND_FINE, 20000, v1::PARTY_SIGNATURE_SIGNED},
      {1, 128, "off-wang", v1::PENALTY_KIND_FINE, 5000, v1::PARTY_SIGNATURE_SIGNED},
      {4, 132, "off-wang", v1::PENALTY_KIND_WARNING, 0, v1::PARTY_SIGNATURE_REFUSED},
  };
  int64_t total = 0;
  for (const TicketSpec& t : tickets) {
    const v1::Case& c = r.cases_opened(t.case_index);
    v1::Ticket* ticket = r.add_tickets();
    ticket->set_ticket_id("t-" + std::to_string(t.number));
    ticket->set_case_id(c.case_id());
    ticket->set_ticket_number(t.number);
    ticket->set_ticket_number_text("桐综执简〔2026〕D0001-000" + std::to_string(t.number));
    ticket->set_matter_code(c.matter_code());
    ticket->set_violation(c.description());
    ticket->set_penalty(t.penalty);
    ticket->set_fine_fen(t.fen);
    ticket->set_party_signature(t.signature);
    ticket->add_officer_ids(t.officer);
    ticket->set_issued_at_ms(c.created_at_ms() + 10 * kMinuteMs);
    total += t.fen;
  }
  r.set_tickets_total_fen(total);
  v1::NoPenaltyDecision* d = r.add_no_penalty();
  d->set_decision_id("np-1");
  d->set_case_id(r.cases_opened(2).case_id());
  d->set_matter_code("SR-0101");
  d->set_education_record("首次违法，当场改正，批评教育");
  d->add_officer_ids("off-zhang");
  d->set_decided_at_ms(kDayStartMs + 615 * kMinuteMs);
  for (int i = 0; i < 5; ++i) {
    v1::Evidence* e = r.add_evidence();
    e->set_evidence_id("0190a000-0000-7000-8000-0000000000e" + std::to_string(i));
    e->set_case_id(r.cases_opened(i).case_id());
    e->set_kind(v1::EVIDENCE_KIND_PHOTO);
    e->set_officer_id(r.cases_opened(i).created_by_officer());
    e->set_sha256(std::string(64, static_cast<char>('a' + i)));
    e->set_captured_at_ms(r.cases_opened(i).created_at_ms() + kMinuteMs);
    if (i == 3) {
      e->set_kind(v1::EVIDENCE_KIND_VIDEO);
      continue;  // neither uploaded nor in the log
    }
    e->set_uploaded(true);
    e->mutable_receipt()->set_leaf_index(40 + i);
    e->mutable_receipt()->mutable_tree_head()->set_tree_size(57);
  }
  r.set_evidence_with_receipt(4);
  v1::ConflictRecord* conflict = r.add_open_conflicts();
  conflict->mutable_loss()->set_conflict_id("0190a000-0000-7000-8000-0000000000c1");
  conflict->mutable_loss()->set_case_id(r.cases_opened(3).case_id());
  conflict->mutable_loss()->set_field(v1::CASE_FIELD_ADDRESS);
  conflict->mutable_loss()->set_losing_value("环城北路 200 号");
  conflict->mutable_loss()->set_losing_device_id("dev-wt-02");
  conflict->mutable_loss()->set_winning_value("环城北路 201 号");
  conflict->mutable_loss()->set_winning_device_id("dev-wt-01");
  conflict->set_case_number(r.cases_opened(3).case_number());
  conflict->set_recorded_at_ms(kDayStartMs + 1020 * kMinuteMs);
  v1::RejectedMutation* rejected = r.add_open_rejections();
  rejected->mutable_mutation()->set_mutation_id("0190a000-0000-7000-8000-0000000000f1");
  rejected->mutable_mutation()->set_device_id("dev-wt-03");
  rejected->mutable_mutation()->set_device_seq(17);
  rejected->mutable_mutation()->mutable_transition_case()->set_case_id(r.cases_opened(3).case_id());
  rejected->mutable_result()->set_outcome(v1::OUTCOME_REJECTED);
  rejected->mutable_result()->set_reason(v1::REASON_STALE_TRANSITION);
  rejected->mutable_result()->set_message("the case moved on");
  rejected->set_recorded_at_ms(kDayStartMs + 1021 * kMinuteMs);
  return r;
}

// What palmctl looks up besides the report, all answered.
inline ReportContext RealisticContext() {
  ReportContext ctx;
  ctx.bureau = "桐乡市综合行政执法局";
  ctx.squad_name = "梧桐中队";
  ctx.town_id = "town-wt";
  ctx.town_name = "梧桐街道";
  ctx.officer_names = {{"off-li", "李明"}, {"off-wang", "王芳"}, {"off-zhang", "张伟"}};
  for (const v1::Matter& m :
       {MakeMatter("SR-0101", "市容环境", "占道经营"), MakeMatter("SR-0203", "市容环境", "乱张贴"),
        MakeMatter("SZ-0102", "市政公用", "擅自占用道路"),
        MakeMatter("YL-0301", "园林绿化", "损坏绿地")}) {
    ctx.matters[m.code()] = m;
  }
  ctx.devices_known = true;
  const int64_t evening = kDayStartMs + 1080 * kMinuteMs;
  ctx.devices = {
      MakeDevice("dev-wt-01", v1::DEVICE_SYNC_STATE_OK, evening, 0, 0),
      MakeDevice("dev-wt-02", v1::DEVICE_SYNC_STATE_OK, evening + kMinuteMs, 0, 0),
      MakeDevice("dev-wt-03", v1::DEVICE_SYNC_STATE_BEHIND, kDayStartMs + 700 * kMinuteMs, 4, 1),
      MakeDevice("dev-wt-04", v1::DEVICE_SYNC_STATE_NEVER_SYNCED, 0, 0, 0)};
  ctx.generated_at_ms = kDayStartMs + 1095 * kMinuteMs;  // 18:15
  return ctx;
}

}  // namespace palm::palmctl::sample

#endif  // PALM_TESTS_TOOLS_SHIFT_REPORT_SAMPLE_H_
