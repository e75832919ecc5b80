#include "server/prior_violations.h"

#include <vector>

#include "sync/no_penalty.h"
#include "sync/status_macros.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

// The party of `c` whose violation `row` is, or null.
const v1::Party* PartyOf(const v1::Case& c, const v1::PriorViolation& row,
                         const sync::PartyKeySecret* secret) {
  for (const v1::Party& party : c.parties()) {
    if (!row.violation_id().empty()) {
      if (row.violation_id() ==
          sync::PriorViolationId(c.case_id(), party.party_id(), row.matter_code())) {
        return &party;
      }
      continue;
    }
    if (party.id_number().empty()) continue;
    const std::string key = row.key_id().empty() ? sync::LegacyPartyKey(party.id_number())
                                                 : sync::PartyKey(secret, party.id_number());
    if (key == row.party_key()) return &party;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<int64_t> LapseViolationsOfCase(WriteTxn& txn, const sync::PartyKeySecret* secret,
                                              const std::string& case_id,
                                              const PriorViolationChanged& changed) {
  PALM_ASSIGN_OR_RETURN(std::vector<StoredPriorViolation> rows, txn.PriorViolationsOfCase(case_id));
  if (rows.empty()) return 0;
  PALM_ASSIGN_OR_RETURN(v1::CaseDetail detail, txn.GetCaseDetail(case_id));
  const std::vector<v1::Ticket> tickets(detail.tickets().begin(), detail.tickets().end());
  const std::vector<v1::NoPenaltyDecision> decisions(detail.no_penalty().begin(),
                                                     detail.no_penalty().end());
  int64_t lapsed = 0;
  for (StoredPriorViolation& row : rows) {
    if (row.value.voided()) continue;
    const v1::Party* party = PartyOf(detail.case_(), row.value, secret);
    if (party == nullptr) continue;
    if (sync::ViolationStands(detail.case_(), tickets, decisions, party->party_id(),
                              row.value.matter_code())) {
      continue;
    }
    row.value.set_voided(true);
    PALM_RETURN_IF_ERROR(txn.ReplacePriorViolation(row.entity_id, row.value));
    PALM_RETURN_IF_ERROR(changed(row.entity_id));
    ++lapsed;
  }
  return lapsed;
}

absl::StatusOr<int64_t> RecheckPendingViolations(WriteTxn& txn,
                                                 const sync::PartyKeySecret* secret) {
  PALM_ASSIGN_OR_RETURN(std::vector<std::string> pending, txn.PendingPriorRechecks());
  int64_t lapsed = 0;
  const PriorViolationChanged changed = [&txn](const std::string& entity_id) {
    return txn.AppendChange(EntityKind::kPriorViolation, entity_id, GlobalScope()).status();
  };
  for (const std::string& case_id : pending) {
    absl::StatusOr<int64_t> n = LapseViolationsOfCase(txn, secret, case_id, changed);
    // A ticket row whose case is gone has nothing to lapse.
    if (!n.ok() && !absl::IsNotFound(n.status())) return n.status();
    if (n.ok()) lapsed += *n;
    PALM_RETURN_IF_ERROR(txn.ClearPriorRecheck(case_id));
  }
  return lapsed;
}

}  // namespace palm::server
