// The words of the shift report (`palmctl report shift`) in its two
// languages, zh-CN (the default: what a squad leader reads) and English
// (`--lang en`). One table holds both, so that a label is added, changed or
// translated in one place. Pure lookups; safe from any thread.
#ifndef PALM_TOOLS_PALMCTL_REPORT_MESSAGES_H_
#define PALM_TOOLS_PALMCTL_REPORT_MESSAGES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "palm/v1/admin.pb.h"
#include "palm/v1/case.pb.h"

namespace palm::palmctl {

enum class ReportLang { kZh, kEn };

// "zh-CN", "zh" or "en" (any case); nullopt otherwise.
std::optional<ReportLang> ParseReportLang(absl::string_view text);

// The HTML lang attribute: "zh-CN" or "en".
const char* ReportLangTag(ReportLang lang);

// Every label of the report. The table in report_messages.cc gives each
// its zh-CN and English text.
enum class Msg {
  kTitle,
  kSquad,
  kTown,
  kDate,
  kGeneratedAt,
  kAmountsInYuan,
  kNamesUnavailable,
  // Totals.
  kTotals,
  kFigure,
  kValue,
  kCasesOpened,
  kTicketsIssued,
  kFines,
  kWarnings,
  kFinesTotal,
  kNoPenaltyDecisions,
  kEvidence,
  kEvidenceWithReceipt,
  kEvidenceNotUploaded,
  kOpenConflicts,
  kOpenRejections,
  kDevices,
  kDevicesBehind,
  // Sections.
  kExceptions,
  kNoExceptions,
  kConflictsSection,
  kRejectionsSection,
  kEvidenceSection,
  kOfficersSection,
  kCasesSection,
  kTicketsSection,
  kNoPenaltySection,
  kDevicesSection,
  kDeadlinesSection,
  kNone,
  kUnavailable,
  // Column headings.
  kColCase,
  kColMatter,
  kColOpened,
  kColDescription,
  kColProposedFine,
  kColState,
  kColTicket,
  kColIssued,
  kColViolation,
  kColAmount,
  kColStatus,
  kColDecided,
  kColEducation,
  kColEvidence,
  kColCaptured,
  kColProblem,
  kColField,
  kColRecorded,
  kColLostKept,
  kColOperation,
  kColReason,
  kColOfficer,
  kColCases,
  kColTickets,
  kColNoPenalty,
  kColDevice,
  kColSyncState,
  kColLastSync,
  kColPendingWrites,
  kColPendingUploads,
  kColClock,
  kColFrom,
  kColLastDay,
  kColMoney,
  // Cell words.
  kWarning,
  kVoided,
  kNoReceipt,
  kNotUploaded,
  kWithdrawn,
  kUnknownOfficer,
  kUncategorised,
  kCountsListedOnly,
  // Charts.
  kChartCasesByCategory,
  kChartFinesByOfficer,
  kChartDeviceSync,
  // Signature line.
  kSquadLeaderSignature,
  kSignatureDate,
  // CSV header.
  kCsvSection,
  kCsvCase,
  kCsvItem,
  kCsvTime,
  kCsvDetail,
  kCsvCount,
  kCsvAmount,
  kCsvStatus,
  kCount_,  // not a message: the number of messages
};

// The text of `id` in `lang`.
const char* Text(ReportLang lang, Msg id);

// The line under a list the server cut short: "另有 N 条未列出" /
// "N more not listed".
std::string NotListedText(ReportLang lang, int64_t n);

// Enum values as the report names them: zh-CN words for case states,
// procedures, evidence kinds, signatures, case fields and device sync
// states; in English the value's label (EnumLabel, "legal review").
std::string CaseStateText(ReportLang lang, palm::v1::CaseState state);
std::string ProcedureText(ReportLang lang, palm::v1::Procedure procedure);
std::string EvidenceKindText(ReportLang lang, palm::v1::EvidenceKind kind);
std::string SignatureText(ReportLang lang, palm::v1::PartySignature signature);
std::string CaseFieldText(ReportLang lang, palm::v1::CaseField field);
std::string SyncStateText(ReportLang lang, palm::v1::DeviceSyncState state);

// A clock as squad leaders read it (`palmctl deadlines`, the shift
// report): its kind ("送达期限 (第61条)" / "serve (Art. 61)"), its state
// ("已逾期 2 天" / "overdue by 2 days", "今日到期", "剩余 3 天") and what
// it is about in money ("欠缴 40 元，加处罚款 2.40 元"; a hand-over: the
// amount; empty for the other clocks).
std::string ClockKindText(ReportLang lang, palm::v1::ClockKind kind);
std::string ClockStateText(ReportLang lang, const palm::v1::CaseClock& clock);
std::string ClockAmountText(ReportLang lang, const palm::v1::CaseClock& clock);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_REPORT_MESSAGES_H_
