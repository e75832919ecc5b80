// The decision document (行政处罚决定书, Art. 59) of a case decided on the
// ordinary procedure: every element the article lists, taken from what the
// server holds (the case and its decision, service and evidence, the
// matter's legal basis, the catalogue's agency), as a structured record and
// a printable page in Chinese (AdminService.GetDecisionDocument, `palmctl
// cases document`). docs/law.md, "Art. 59".
#ifndef PALM_SERVER_DECISION_DOCUMENT_H_
#define PALM_SERVER_DECISION_DOCUMENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "palm/v1/admin.pb.h"
#include "server/store.h"
#include "sync/calendar.h"

namespace palm::server {

// What the document is built from.
struct DecisionFacts {
  const palm::v1::Case* c = nullptr;
  // The case's evidence; withdrawn items are left out.
  const std::vector<palm::v1::Evidence>* evidence = nullptr;
  // The catalogue entry of the decided matter, or null.
  const palm::v1::Matter* matter = nullptr;
  const palm::v1::Agency* agency = nullptr;
  // Null when none is on record: the payment's last day is then not
  // printed (the 15 days are).
  const sync::WorkingDayCalendar* calendar = nullptr;
};

// The document, with `html` rendered. FAILED_PRECONDITION naming what is
// missing: a case not on the ordinary procedure (a ticket is its own
// decision document, Art. 52), not decided, without a number, a party or
// the decided matter in the catalogue; an agency without its name, the
// reconsideration body or the court, or, for a fine, nowhere to pay.
absl::StatusOr<palm::v1::DecisionDocument> BuildDecisionDocument(const DecisionFacts& facts);

// The page of `d`: self-contained HTML (no script, no outside resource),
// A4 when printed; every text escaped.
std::string RenderDecisionHtml(const palm::v1::DecisionDocument& d);

// An amount in the capital numerals of Chinese financial writing, e.g.
// 50000 fen: "伍佰元整", 12345: "壹佰贰拾叁元肆角伍分"; 0: "零元整".
std::string ChineseAmount(int64_t fen);

// Reads case `case_id` (found and in the caller's scope) with its evidence,
// the current catalogue and its calendar, and builds its document.
absl::Status FillDecisionDocument(ReadTxn& txn, const std::string& case_id,
                                  palm::v1::DecisionDocument* out);

}  // namespace palm::server

#endif  // PALM_SERVER_DECISION_DOCUMENT_H_
