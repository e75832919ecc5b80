// The clocks of the cases on the server (AdminService.ListDeadlines, the
// shift report's deadlines) and the agency head's extension of the time to
// decide (AdminService.ExtendDecisionDeadline, Art. 60). Each clock is read
// by sync::CaseClocks, the device's function. docs/law.md, "Clocks".
#ifndef PALM_SERVER_DEADLINES_H_
#define PALM_SERVER_DEADLINES_H_

#include <cstdint>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "palm/v1/admin.pb.h"
#include "server/store.h"

namespace palm::server {

// The most clocks one answer lists; the rest are counted (total).
inline constexpr size_t kDeadlineRows = 500;
// ListDeadlinesRequest.within_days: the default and the most.
inline constexpr int64_t kDefaultDeadlineWindowDays = 7;
inline constexpr int64_t kMaxDeadlineWindowDays = 366;

struct DeadlineQuery {
  // Empty: every town.
  std::string town_id;
  std::string squad_id;
  // Only cases this officer is on, when set.
  std::string officer_id;
  absl::CivilDay as_of;
  int64_t within_days = kDefaultDeadlineWindowDays;
  // Empty: every kind.
  std::set<palm::v1::ClockKind> kinds;
};

// The query `request` asks for on server day `today` (town already scoped
// to the caller); INVALID_ARGUMENT naming the field otherwise.
absl::StatusOr<DeadlineQuery> DeadlineQueryOf(const palm::v1::ListDeadlinesRequest& request,
                                              const std::string& town, absl::CivilDay today);

// Fills the clocks `q` matches — due within `within_days` of as_of, or
// overdue — in sync::ClockBefore order, the first kDeadlineRows of them, with
// the total and the cases whose clocks cannot be read. Reads every case in
// a state where a clock may run, in its scope.
absl::Status FillDeadlines(ReadTxn& txn, const DeadlineQuery& q,
                           palm::v1::ListDeadlinesResponse* response);

// Records the extension `request` on case `record` (found and in the
// caller's scope), at `now_ms` by `actor`: the case is ordinary, filed and
// not yet decided; extended_to a date after the 90 days; approved_by and
// approval_ref given (FAILED_PRECONDITION or INVALID_ARGUMENT naming what is
// wrong). Writes the case, a NOTE event, the change feed and the audit
// entry; `out` gets the case.
absl::Status ExtendDecisionDeadline(WriteTxn& txn, CaseRecord record,
                                    const palm::v1::ExtendDecisionDeadlineRequest& request,
                                    const std::string& actor, int64_t now_ms, palm::v1::Case* out);

}  // namespace palm::server

#endif  // PALM_SERVER_DEADLINES_H_
