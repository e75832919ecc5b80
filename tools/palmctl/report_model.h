// What the shift report says, worked out once for every human form (table,
// CSV, HTML) so that the figures agree between them: the heading, the
// totals, the exceptions, the per-officer table, the records and the chart
// data, with every label already in the report's language
// (report_messages.h). Pure functions; no I/O; safe from any thread.
#ifndef PALM_TOOLS_PALMCTL_REPORT_MODEL_H_
#define PALM_TOOLS_PALMCTL_REPORT_MODEL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "palm/v1/admin.pb.h"
#include "palm/v1/catalog.pb.h"
#include "tools/palmctl/report_messages.h"

namespace palm::palmctl {

// What palmctl looked up besides the ShiftReport itself. Every part may be
// missing (a lookup the caller's role may not make, an older server): the
// report then shows ids where it would show names, and says which lookups
// it went without.
struct ReportContext {
  ReportLang lang = ReportLang::kZh;
  // The bureau's name for the heading (the O of the bureau CA, or
  // --bureau); no heading line when empty.
  std::string bureau;
  std::string squad_name;  // AdminService.ListOrganisation
  std::string town_id;
  std::string town_name;
  std::map<std::string, std::string> officer_names;  // ListOfficers: id -> name
  std::map<std::string, palm::v1::Matter> matters;   // GetCatalog: code -> matter
  bool devices_known = false;                        // SquadStatus answered
  std::vector<palm::v1::DeviceStatus> devices;
  // When the report was made (Unix ms), shown in the bureau's time zone;
  // 0 shows "-".
  int64_t generated_at_ms = 0;
  // The lookups that failed, for the note ("ListOfficers: PERMISSION_DENIED").
  std::vector<std::string> unavailable;
};

enum class CellKind { kText, kCount, kAmount };

struct Column {
  std::string heading;
  CellKind kind = CellKind::kText;
};

// One table of the report. Cells of kCount columns are integers ("3"), of
// kAmount columns yuan with two decimals ("50.50") or empty.
struct Section {
  std::string key;  // stable: "conflicts", "officers", ...
  std::string title;
  std::vector<Column> columns;
  std::vector<std::vector<std::string>> rows;
  // Records of this kind the server counted but did not list (its lists
  // are capped; docs/protocol.md): shown as "另有 N 条未列出" / "N more not
  // listed", and in the count beside the title.
  int64_t not_listed = 0;
  // A line under the table, or empty: the "not listed" line, or (officers)
  // that the figures count only the records listed.
  std::string remark;
};

struct Figure {
  std::string key;  // stable: "cases_opened", "fines_total_yuan", ...
  std::string label;
  std::string value;
  CellKind kind = CellKind::kCount;
};

struct Bar {
  std::string label;
  double value = 0;
  std::string value_text;
  std::string color;  // CSS colour; empty for the default
};

struct ReportModel {
  ReportLang lang = ReportLang::kZh;
  std::string bureau;
  std::string title;  // "执法日报"
  std::string squad;  // "梧桐一中队 (sq-a)", or the id alone
  std::string town;   // likewise; empty when not known
  std::string date;
  std::string generated_at;
  std::string note;  // which names are missing, or empty
  std::vector<Figure> totals;
  // Only the kinds that have records: open conflicts, rejected writes,
  // evidence without receipt or upload. Empty: nothing needs attention.
  std::vector<Section> exceptions;
  Section officers;
  Section cases;
  Section tickets;
  Section no_penalty;
  Section devices;  // no rows and devices_known false: not available
  // The squad's clocks due within 3 days and overdue (ShiftReport
  // deadlines); shown only when there are some.
  Section deadlines;
  bool devices_known = false;
  std::vector<Bar> cases_by_category;
  std::vector<Bar> fines_by_officer;
  std::vector<Bar> device_states;
};

// The per-officer figures, one entry per officer with a record in the
// report, by officer id; records without an officer ("" id) last. A case
// counts for CaseOfficer, a ticket or no-penalty decision for its first
// officer; fines_fen sums the fines of tickets not voided.
struct OfficerFigures {
  std::string officer_id;
  int64_t cases = 0;
  int64_t tickets = 0;
  int64_t fines_fen = 0;
  int64_t no_penalty = 0;
};
std::vector<OfficerFigures> OfficerTable(const palm::v1::ShiftReportResponse& report);

// The report's figures: the server's exact totals (ShiftReportTotals) when
// it sends them, else counted from the lists (a server from before the caps
// lists every record).
struct DerivedTotals {
  int64_t cases_opened = 0;
  int64_t tickets = 0;
  int64_t fines = 0;     // tickets not voided with a fine
  int64_t warnings = 0;  // tickets not voided with a warning
  int64_t no_penalty = 0;
  int64_t evidence = 0;
  int64_t evidence_not_uploaded = 0;
  int64_t evidence_needing_attention = 0;  // without receipt, or not uploaded
  int64_t open_conflicts = 0;
  int64_t open_rejections = 0;
  int64_t devices_not_in_sync = 0;  // neither in sync nor revoked
};
DerivedTotals DeriveTotals(const palm::v1::ShiftReportResponse& report,
                           const ReportContext& context);

// The cases of the report by official number; cases still without one
// last, by id.
std::vector<const palm::v1::Case*> CasesByNumber(const palm::v1::ShiftReportResponse& report);

// An officer as the report names them: "张三 (off-1)", or the id alone.
std::string OfficerDisplay(const ReportContext& context, const std::string& officer_id);

// The officer a record counts for in the per-officer table: a case its
// creator (else its first officer), a ticket or decision its first officer.
std::string CaseOfficer(const palm::v1::Case& c);

ReportModel BuildReportModel(const palm::v1::ShiftReportResponse& report,
                             const ReportContext& context);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_REPORT_MODEL_H_
