// The legal rules Palm enforces on a device (offline, before a write is
// recorded) and again on the server (before it is applied), driven by the
// palm.v1.Matter catalogue entry. Both ends call the same functions, so a
// write the device accepted is refused by the server only when the server
// knows more (newer catalogue, prior violations, current case state).
//
// Amounts are in fen (1 yuan = 100 fen); messages speak yuan. Every refusal
// carries a palm.v1.ReasonCode (sync/status.h) and a sentence an officer can
// act on. A rule broken by the input itself is INVALID_ARGUMENT; one that
// depends on recorded state (a prior violation) is FAILED_PRECONDITION.
#ifndef PALM_SYNC_RULES_H_
#define PALM_SYNC_RULES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "palm/v1/case.pb.h"
#include "palm/v1/catalog.pb.h"
#include "palm/v1/org.pb.h"

namespace palm::sync {

// Art. 51 on-the-spot fine limits, in fen.
inline constexpr int64_t kCitizenOnTheSpotLimitFen = int64_t{200} * 100;
inline constexpr int64_t kOrganisationOnTheSpotLimitFen = int64_t{3000} * 100;

// The remedies' time limits a ticket states (Art. 52): reconsideration
// within 60 days, litigation within 6 months.
inline constexpr int kReconsiderationDays = 60;
inline constexpr int kLitigationMonths = 6;

// Checks a case about to be recorded. `matter` is the catalogue entry for
// c.matter_code(), or null when the catalogue has none. Returns OK, or
// INVALID_ARGUMENT with:
//   REASON_INVALID_ARGUMENT  case_id is not a UUID, no matter code, no
//                            procedure, no officer, a party without a kind,
//                            or a state other than InitialState(procedure);
//   REASON_UNKNOWN_MATTER    "matter code X is not in the catalogue".
absl::Status CheckRecordCase(const palm::v1::Case& c, const palm::v1::Matter* matter);

// Checks an on-the-spot ticket against Art. 51 (when the summary procedure
// may be used), Art. 42 (who may decide) and Art. 52 (what the ticket must
// state). `matter` is the
// catalogue entry for t.matter_code() or null; `known_officers` the officers
// the checker knows (the device's synced roster, or the server's). Returns
// OK or INVALID_ARGUMENT with the first broken rule, checked in this order:
//   REASON_UNKNOWN_MATTER        matter not in the catalogue;
//   REASON_NOT_FAST_TRACK        matter not eligible for the summary procedure;
//   REASON_MITIGATED_PENALTY     mitigated penalties need the ordinary procedure;
//   REASON_MISSING_TICKET_FIELD  no penalty kind, no party kind, or a fine of 0;
//   REASON_INVALID_ARGUMENT      a warning that names a fine;
//   REASON_FINE_OVER_LIMIT       fine above 200 yuan (citizen) / 3000 yuan
//                                (organisation), or outside the matter's range;
//   REASON_TOO_FEW_OFFICERS      fewer than two distinct officers named;
//   REASON_UNKNOWN_OFFICER       an officer not in `known_officers`, or not
//                                active;
//   REASON_TOO_FEW_OFFICERS      fewer than two of them hold enforcement
//                                credentials (Art. 42, CheckCredentialedOfficers
//                                in sync/operations.h): auxiliaries assist and
//                                never count;
//   REASON_MISSING_TICKET_FIELD  another Art. 52 element is absent (the
//                                remedies must include reconsideration and
//                                litigation, each with its time limit);
//   REASON_INVALID_ARGUMENT      a remedy of no known kind, or one that states
//                                a limit other than 60 days (reconsideration)
//                                or 6 months (litigation).
//   REASON_LEGAL_BASIS_MISMATCH  then CheckTicketBasis.
absl::Status CheckTicket(const palm::v1::Ticket& t, const palm::v1::Matter* matter,
                         const std::vector<palm::v1::Officer>& known_officers);

// Art. 38: a ticket cites its matter's legal and penalty basis as the
// catalogue states them (surrounding whitespace aside), so that the form the
// party holds and the record agree with the provision the bureau applies.
// A basis the catalogue leaves empty is not compared. OK, or
// INVALID_ARGUMENT REASON_LEGAL_BASIS_MISMATCH naming both texts.
absl::Status CheckTicketBasis(const palm::v1::Ticket& t, const palm::v1::Matter& matter);

// Art. 33's no-penalty decision: CheckNoPenalty in sync/no_penalty.h.

// "SR-0101 (擅自占用…)", or the code alone for a matter without a name: how
// messages name a matter.
std::string MatterLabel(const palm::v1::Matter& matter);

// Returns `fen` as yuan for messages: "250" when whole, "250.50" otherwise,
// with a leading "-" for negative amounts.
std::string FormatYuan(int64_t fen);

// How a ticket counts in a shift's figures: not at all when voided, else as
// a fine or as a warning (PENALTY_KIND_WARNING). The server's ShiftReport
// totals and palmctl's report both count by it.
enum class TicketCount { kVoided, kFine, kWarning };
TicketCount CountTicket(const palm::v1::Ticket& t);

}  // namespace palm::sync

#endif  // PALM_SYNC_RULES_H_
