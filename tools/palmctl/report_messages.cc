#include "tools/palmctl/report_messages.h"

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "sync/case_clocks.h"
#include "sync/rules.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

struct Entry {
  Msg id;
  const char* zh;
  const char* en;
};

// In the order of Msg; the static_assert below keeps it so.
constexpr Entry kMessages[] = {
    {Msg::kTitle, "执法日报", "Shift report"},
    {Msg::kSquad, "中队", "Squad"},
    {Msg::kTown, "镇街", "Town"},
    {Msg::kDate, "日期", "Date"},
    {Msg::kGeneratedAt, "生成时间", "Generated"},
    {Msg::kAmountsInYuan, "金额单位：元", "amounts in yuan"},
    {Msg::kNamesUnavailable, "以下名称未能取得，显示编号", "Shown by id, names not available"},
    {Msg::kTotals, "汇总", "Totals"},
    {Msg::kFigure, "项目", "Figure"},
    {Msg::kValue, "数值", "Value"},
    {Msg::kCasesOpened, "新立案件", "Cases opened"},
    {Msg::kTicketsIssued, "当场处罚决定", "Tickets issued"},
    {Msg::kFines, "其中罚款", "of which fines"},
    {Msg::kWarnings, "其中警告", "of which warnings"},
    {Msg::kFinesTotal, "罚款合计（元）", "Fines total (yuan)"},
    {Msg::kNoPenaltyDecisions, "不予处罚决定", "No-penalty decisions"},
    {Msg::kEvidence, "证据", "Evidence items"},
    {Msg::kEvidenceWithReceipt, "已取得存证回执", "Evidence with receipt"},
    {Msg::kEvidenceNotUploaded, "证据未上传", "Evidence not uploaded"},
    {Msg::kOpenConflicts, "未处理冲突", "Conflicts open"},
    {Msg::kOpenRejections, "未处理被拒写入", "Rejected writes open"},
    {Msg::kDevices, "执法终端", "Devices"},
    {Msg::kDevicesBehind, "终端未同步", "Devices not in sync"},
    {Msg::kExceptions, "需处理事项", "Needs attention"},
    {Msg::kNoExceptions, "无需处理事项。", "Nothing needs attention."},
    {Msg::kConflictsSection, "未处理的数据冲突", "Conflicts still open"},
    {Msg::kRejectionsSection, "未处理的被拒写入", "Rejected writes still open"},
    {Msg::kEvidenceSection, "缺少回执或未上传的证据", "Evidence without receipt or upload"},
    {Msg::kOfficersSection, "执法人员统计", "By officer"},
    {Msg::kCasesSection, "新立案件（按案号排序）", "Cases opened (by number)"},
    {Msg::kTicketsSection, "当场处罚决定", "Tickets issued"},
    {Msg::kNoPenaltySection, "不予处罚决定", "No-penalty decisions"},
    {Msg::kDevicesSection, "终端同步状态", "Device sync state"},
    {Msg::kDeadlinesSection, "办案时限（3日内到期及已逾期）",
     "Deadlines (due within 3 days, and overdue)"},
    {Msg::kNone, "无", "none"},
    {Msg::kUnavailable, "未能取得", "not available"},
    {Msg::kColCase, "案号", "CASE"},
    {Msg::kColMatter, "执法事项", "MATTER"},
    {Msg::kColOpened, "立案时间", "OPENED"},
    {Msg::kColDescription, "案情及地点", "DESCRIPTION"},
    {Msg::kColProposedFine, "拟罚款（元）", "PROPOSED (YUAN)"},
    {Msg::kColState, "状态", "STATE"},
    {Msg::kColTicket, "决定书编号", "TICKET"},
    {Msg::kColIssued, "作出时间", "ISSUED"},
    {Msg::kColViolation, "违法事实", "VIOLATION"},
    {Msg::kColAmount, "罚款（元）", "AMOUNT (YUAN)"},
    {Msg::kColStatus, "签收", "SIGNATURE"},
    {Msg::kColDecided, "决定时间", "DECIDED"},
    {Msg::kColEducation, "批评教育记录", "EDUCATION RECORD"},
    {Msg::kColEvidence, "证据", "EVIDENCE"},
    {Msg::kColCaptured, "采集时间", "CAPTURED"},
    {Msg::kColProblem, "问题", "PROBLEM"},
    {Msg::kColField, "字段", "FIELD"},
    {Msg::kColRecorded, "记录时间", "RECORDED"},
    {Msg::kColLostKept, "被覆盖值 → 保留值", "LOST → KEPT"},
    {Msg::kColOperation, "操作", "OPERATION"},
    {Msg::kColReason, "拒绝原因", "REASON"},
    {Msg::kColOfficer, "执法人员", "OFFICER"},
    {Msg::kColCases, "立案", "CASES"},
    {Msg::kColTickets, "处罚决定", "TICKETS"},
    {Msg::kColNoPenalty, "不予处罚", "NO PENALTY"},
    {Msg::kColDevice, "终端", "DEVICE"},
    {Msg::kColSyncState, "同步状态", "SYNC STATE"},
    {Msg::kColLastSync, "最近同步", "LAST SYNC"},
    {Msg::kColPendingWrites, "待同步写入", "PENDING WRITES"},
    {Msg::kColPendingUploads, "待上传文件", "PENDING UPLOADS"},
    {Msg::kColClock, "时限", "CLOCK"},
    {Msg::kColFrom, "起算日", "FROM"},
    {Msg::kColLastDay, "截止日", "LAST DAY"},
    {Msg::kColMoney, "金额", "MONEY"},
    {Msg::kWarning, "警告", "warning"},
    {Msg::kVoided, "已作废", "voided"},
    {Msg::kNoReceipt, "无存证回执", "no receipt"},
    {Msg::kNotUploaded, "未上传", "not uploaded"},
    {Msg::kWithdrawn, "已撤回", "withdrawn"},
    {Msg::kUnknownOfficer, "未记录", "not recorded"},
    {Msg::kUncategorised, "未分类", "uncategorised"},
    {Msg::kCountsListedOnly, "按已列出的记录统计", "counted from the records listed"},
    {Msg::kChartCasesByCategory, "按类别统计案件", "Cases by category"},
    {Msg::kChartFinesByOfficer, "按执法人员统计罚款（元）", "Fines by officer (yuan)"},
    {Msg::kChartDeviceSync, "终端同步状态", "Device sync state"},
    {Msg::kSquadLeaderSignature, "中队长签字", "Squad leader"},
    {Msg::kSignatureDate, "日期", "Date"},
    {Msg::kCsvSection, "分区", "section"},
    {Msg::kCsvCase, "案号", "case"},
    {Msg::kCsvItem, "项目", "item"},
    {Msg::kCsvTime, "时间", "time"},
    {Msg::kCsvDetail, "说明", "detail"},
    {Msg::kCsvCount, "数量", "count"},
    {Msg::kCsvAmount, "金额（元）", "amount_yuan"},
    {Msg::kCsvStatus, "状态", "status"},
};

constexpr bool InOrder() {
  for (size_t i = 0; i < std::size(kMessages); ++i) {
    if (static_cast<size_t>(kMessages[i].id) != i) return false;
  }
  return std::size(kMessages) == static_cast<size_t>(Msg::kCount_);
}
static_assert(InOrder(), "kMessages must list every Msg once, in the order of the enum");

// zh-CN words of an enum, by value number; English falls back to EnumLabel.
template <size_t N>
std::string EnumText(ReportLang lang, const google::protobuf::EnumDescriptor* type, int value,
                     const std::array<std::pair<int, const char*>, N>& zh) {
  if (lang == ReportLang::kZh) {
    for (const auto& [number, text] : zh) {
      if (number == value) return text;
    }
  }
  return EnumLabel(type, value);
}

}  // namespace

std::optional<ReportLang> ParseReportLang(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "zh-cn" || lower == "zh") return ReportLang::kZh;
  if (lower == "en") return ReportLang::kEn;
  return std::nullopt;
}

const char* ReportLangTag(ReportLang lang) { return lang == ReportLang::kZh ? "zh-CN" : "en"; }

const char* Text(ReportLang lang, Msg id) {
  const Entry& entry = kMessages[static_cast<size_t>(id)];
  return lang == ReportLang::kZh ? entry.zh : entry.en;
}

std::string CaseStateText(ReportLang lang, v1::CaseState state) {
  static constexpr std::array<std::pair<int, const char*>, 15> kZh = {{
      {v1::CASE_STATE_REGISTERED, "登记"},
      {v1::CASE_STATE_ISSUED, "当场处罚"},
      {v1::CASE_STATE_FILED, "立案"},
      {v1::CASE_STATE_INVESTIGATING, "调查取证"},
      {v1::CASE_STATE_LEGAL_REVIEW, "法制审核"},
      {v1::CASE_STATE_NOTIFIED, "告知"},
      {v1::CASE_STATE_HEARING, "听证"},
      {v1::CASE_STATE_DECIDED, "决定"},
      {v1::CASE_STATE_SERVED, "送达"},
      {v1::CASE_STATE_EXECUTING, "执行"},
      {v1::CASE_STATE_CLOSED, "结案"},
      {v1::CASE_STATE_ARCHIVED, "归档"},
      {v1::CASE_STATE_NOT_FILED, "不予立案"},
      {v1::CASE_STATE_TRANSFERRED, "移送"},
      {v1::CASE_STATE_NO_PENALTY, "不予处罚"},
  }};
  return EnumText(lang, v1::CaseState_descriptor(), state, kZh);
}

std::string ProcedureText(ReportLang lang, v1::Procedure procedure) {
  static constexpr std::array<std::pair<int, const char*>, 2> kZh = {{
      {v1::PROCEDURE_SUMMARY, "简易程序"},
      {v1::PROCEDURE_ORDINARY, "普通程序"},
  }};
  return EnumText(lang, v1::Procedure_descriptor(), procedure, kZh);
}

std::string EvidenceKindText(ReportLang lang, v1::EvidenceKind kind) {
  static constexpr std::array<std::pair<int, const char*>, 5> kZh = {{
      {v1::EVIDENCE_KIND_PHOTO, "照片"},
      {v1::EVIDENCE_KIND_VIDEO, "视频"},
      {v1::EVIDENCE_KIND_AUDIO, "录音"},
      {v1::EVIDENCE_KIND_DOCUMENT, "书证"},
      {v1::EVIDENCE_KIND_RECORD, "笔录"},
  }};
  return EnumText(lang, v1::EvidenceKind_descriptor(), kind, kZh);
}

std::string SignatureText(ReportLang lang, v1::PartySignature signature) {
  static constexpr std::array<std::pair<int, const char*>, 2> kZh = {{
      {v1::PARTY_SIGNATURE_SIGNED, "已签收"},
      {v1::PARTY_SIGNATURE_REFUSED, "拒绝签收"},
  }};
  return EnumText(lang, v1::PartySignature_descriptor(), signature, kZh);
}

std::string CaseFieldText(ReportLang lang, v1::CaseField field) {
  static constexpr std::array<std::pair<int, const char*>, 6> kZh = {{
      {v1::CASE_FIELD_DESCRIPTION, "案情"},
      {v1::CASE_FIELD_ADDRESS, "地址"},
      {v1::CASE_FIELD_LOCATION, "位置"},
      {v1::CASE_FIELD_OCCURRED_AT, "发生时间"},
      {v1::CASE_FIELD_MATTER_CODE, "执法事项"},
      {v1::CASE_FIELD_PROPOSED_FINE, "拟罚款"},
  }};
  return EnumText(lang, v1::CaseField_descriptor(), field, kZh);
}

std::string NotListedText(ReportLang lang, int64_t n) {
  return lang == ReportLang::kZh ? absl::StrCat("另有 ", n, " 条未列出")
                                 : absl::StrCat(n, " more not listed");
}

std::string SyncStateText(ReportLang lang, v1::DeviceSyncState state) {
  static constexpr std::array<std::pair<int, const char*>, 4> kZh = {{
      {v1::DEVICE_SYNC_STATE_OK, "已同步"},
      {v1::DEVICE_SYNC_STATE_BEHIND, "落后"},
      {v1::DEVICE_SYNC_STATE_NEVER_SYNCED, "从未同步"},
      {v1::DEVICE_SYNC_STATE_REVOKED, "已吊销"},
  }};
  return EnumText(lang, v1::DeviceSyncState_descriptor(), state, kZh);
}

std::string ClockKindText(ReportLang lang, v1::ClockKind kind) {
  if (lang == ReportLang::kZh) return sync::ClockKindLabel(kind);
  switch (kind) {
    case v1::CLOCK_KIND_DECISION:
      return "decide (Art. 60)";
    case v1::CLOCK_KIND_SERVICE:
      return "serve (Art. 61)";
    case v1::CLOCK_KIND_PAYMENT:
      return "payment (Art. 67)";
    case v1::CLOCK_KIND_COURT_ENFORCEMENT:
      return "apply to court (Art. 72)";
    case v1::CLOCK_KIND_HAND_OVER:
      return "hand over (Art. 71)";
    default:
      return "unknown";
  }
}

std::string ClockStateText(ReportLang lang, const v1::CaseClock& k) {
  const bool zh = lang == ReportLang::kZh;
  switch (k.state()) {
    case v1::CLOCK_STATE_OVERDUE:
      return zh ? absl::StrCat("已逾期 ", -k.days_left(), " 天")
                : absl::StrCat("overdue by ", -k.days_left(), " days");
    case v1::CLOCK_STATE_DUE_TODAY:
      return zh ? "今日到期" : "due today";
    default:
      return zh ? absl::StrCat("剩余 ", k.days_left(), " 天")
                : absl::StrCat(k.days_left(), " days left");
  }
}

std::string ClockAmountText(ReportLang lang, const v1::CaseClock& k) {
  const bool zh = lang == ReportLang::kZh;
  if (k.kind() == v1::CLOCK_KIND_HAND_OVER) {
    return absl::StrCat(sync::FormatYuan(k.outstanding_fen()), zh ? " 元" : " yuan");
  }
  if (k.outstanding_fen() == 0 && k.surcharge_fen() == 0) return "";
  std::string text = zh ? absl::StrCat("欠缴 ", sync::FormatYuan(k.outstanding_fen()), " 元")
                        : absl::StrCat(sync::FormatYuan(k.outstanding_fen()), " yuan unpaid");
  if (k.surcharge_fen() > 0) {
    absl::StrAppend(&text,
                    zh ? absl::StrCat("，加处罚款 ", sync::FormatYuan(k.surcharge_fen()), " 元")
                       : absl::StrCat(", surcharge ", sync::FormatYuan(k.surcharge_fen())));
  }
  return text;
}

}  // namespace palm::palmctl
