// DeviceStore: reading what the device holds — a case with everything
// attached, pages of cases, the catalogue, ticket numbers and leases,
// case-number claims, pending counts and the outbox — and the evidence
// upload bookkeeping the uploader keeps (uploader.h): which files still go
// up, and the receipts the server signs for them.
#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client-lib/src/device_store.h"
#include "client-lib/src/device_store_sql.h"
#include "client-lib/src/macros.h"
#include "sync/case_clocks.h"
#include "sync/status.h"

namespace palm::internal {
namespace {

constexpr int kMaxPageSize = 500;

// Page tokens: hex of "v1|<occurred_at_ms>|<case_id>" — opaque to callers.
std::string EncodePageToken(const v1::Case& last) {
  return absl::BytesToHexString(absl::StrCat("v1|", last.occurred_at_ms(), "|", last.case_id()));
}

absl::Status DecodePageToken(absl::string_view token, int64_t* occurred_at_ms,
                             std::string* case_id) {
  absl::Status bad = sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                                           "page token is not one this device issued");
  if (token.size() % 2 != 0 || token.find_first_not_of("0123456789abcdef") != token.npos) {
    return bad;
  }
  std::vector<std::string> parts = absl::StrSplit(absl::HexStringToBytes(token), '|');
  if (parts.size() != 3 || parts[0] != "v1" || !absl::SimpleAtoi(parts[1], occurred_at_ms) ||
      parts[2].empty()) {
    return bad;
  }
  *case_id = parts[2];
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------
// Queries.

absl::StatusOr<CaseBundle> DeviceStore::GetCase(const std::string& case_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return GetCaseLocked(case_id);
}

absl::StatusOr<CaseBundle> DeviceStore::GetCaseLocked(const std::string& case_id) {
  CaseBundle b;
  PALM_ASSIGN_OR_RETURN(b.kase, RequireCaseLocked(case_id));
  PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(case_id));
  for (v1::Party& p : parties) *b.kase.add_parties() = std::move(p);
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kEvidenceOfCase));
    select.Bind(1, case_id);
    for (;;) {
      PALM_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(0), "evidence"));
      b.evidence.push_back(std::move(e));
      b.evidence_paths.push_back(select.Text(1));
    }
  }
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kTicketsOfCase));
    select.Bind(1, case_id);
    for (;;) {
      PALM_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(v1::Ticket t, Parse<v1::Ticket>(select.Blob(0), "ticket"));
      b.tickets.push_back(std::move(t));
    }
  }
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kDecisionsOfCase));
    select.Bind(1, case_id);
    for (;;) {
      PALM_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(v1::NoPenaltyDecision d,
                            Parse<v1::NoPenaltyDecision>(select.Blob(0), "no-penalty decision"));
      b.no_penalty.push_back(std::move(d));
    }
  }
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kEventsOfCase));
    select.Bind(1, case_id);
    for (;;) {
      PALM_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(v1::CaseEvent e, Parse<v1::CaseEvent>(select.Blob(0), "event"));
      b.timeline.push_back(std::move(e));
    }
  }
  return b;
}

absl::StatusOr<CaseList> DeviceStore::ListCases(const CaseFilter& f) {
  if (f.page_size < 1 || f.page_size > kMaxPageSize) {
    return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                                 absl::StrCat("page size must be 1..", kMaxPageSize));
  }
  int64_t after_ms = 0;
  std::string after_id;
  if (!f.page_token.empty())
    PALM_RETURN_IF_ERROR(DecodePageToken(f.page_token, &after_ms, &after_id));
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kListCases));
  if (f.state) select.Bind(1, int64_t{*f.state});
  select.Bind(2, f.town_id);
  if (f.occurred_from_ms) select.Bind(3, *f.occurred_from_ms);
  if (f.occurred_until_ms) select.Bind(4, *f.occurred_until_ms);
  if (!f.page_token.empty()) select.Bind(5, after_ms).Bind(6, after_id);
  select.Bind(7, int64_t{f.page_size} + 1);
  CaseList out;
  for (;;) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(v1::Case c, Parse<v1::Case>(select.Blob(0), "case"));
    out.cases.push_back(std::move(c));
  }
  if (out.cases.size() > static_cast<size_t>(f.page_size)) {
    out.cases.pop_back();
    out.next_page_token = EncodePageToken(out.cases.back());
  }
  return out;
}

absl::StatusOr<std::vector<v1::CaseClock>> DeviceStore::Deadlines(bool all_officers,
                                                                  const std::string& as_of_text,
                                                                  int64_t within_days) {
  if (within_days < 1 || within_days > 366) {
    return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                                 absl::StrCat("within_days ", within_days, " is not 1..366"));
  }
  absl::CivilDay as_of = sync::ShanghaiDay(WallClockMs());
  if (!as_of_text.empty()) {
    absl::StatusOr<absl::CivilDay> day = sync::ParseCivilDay(as_of_text, "as_of");
    if (!day.ok())
      return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT, day.status().message());
    as_of = *day;
  }
  const std::string officer_id = all_officers ? "" : acting_officer();
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(sync::WorkingDayCalendar calendar, CalendarLocked());
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kCasesWithClocks));
  std::vector<v1::CaseClock> clocks;
  for (;;) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(v1::Case c, Parse<v1::Case>(select.Blob(0), "case"));
    const bool mine = officer_id.empty() || c.created_by_officer() == officer_id ||
                      std::find(c.officer_ids().begin(), c.officer_ids().end(), officer_id) !=
                          c.officer_ids().end();
    if (!mine) continue;
    PALM_ASSIGN_OR_RETURN(std::vector<v1::CaseClock> of_case,
                          sync::CaseClocks(c, &calendar, as_of, within_days));
    for (v1::CaseClock& k : of_case) {
      if (k.days_left() <= within_days) clocks.push_back(std::move(k));
    }
  }
  std::sort(clocks.begin(), clocks.end(), sync::ClockBefore);
  return clocks;
}

absl::StatusOr<v1::Matter> DeviceStore::GetMatter(const std::string& code) {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> m, LoadMatterLocked(code));
  if (!m) {
    return sync::Refuse(absl::StatusCode::kNotFound, v1::REASON_UNKNOWN_MATTER,
                        absl::StrCat("matter code ", code, " is not in the catalogue"));
  }
  return std::move(*m);
}

absl::StatusOr<int64_t> DeviceStore::CatalogVersion() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kCatalogVersion));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? select.Int(0) : 0;
}

absl::StatusOr<int64_t> DeviceStore::TicketNumbersLeft() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kNumbersLeft));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? select.Int(0) : 0;
}

absl::StatusOr<std::vector<v1::TicketLease>> DeviceStore::SignedTicketLeases() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSignedLeases));
  std::vector<v1::TicketLease> leases;
  for (;;) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(v1::TicketLease lease,
                          Parse<v1::TicketLease>(select.Blob(0), "ticket lease"));
    if (!lease.server_signature().empty()) leases.push_back(std::move(lease));
  }
  return leases;
}

absl::StatusOr<std::optional<v1::CaseNumberClaim>> DeviceStore::CaseNumberClaim(
    const std::string& case_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Case> c, LoadCaseLocked(case_id));
  if (!c || c->case_number().empty() || !c->has_case_number_seal()) return std::nullopt;
  v1::CaseNumberClaim claim;
  claim.set_case_id(c->case_id());
  claim.set_case_number(c->case_number());
  *claim.mutable_seal() = c->case_number_seal();
  return claim;
}

absl::StatusOr<PendingSyncCounts> DeviceStore::PendingCounts() {
  std::lock_guard<std::mutex> lock(mutex_);
  PendingSyncCounts counts;
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kPendingOutbox));
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) {
      counts.mutations = static_cast<uint64_t>(select.Int(0));
      counts.oldest_pending_at_ms = select.Int(1);
    }
  }
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kPendingUploads));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (row) counts.uploads = static_cast<uint64_t>(select.Int(0));
  return counts;
}

absl::StatusOr<std::vector<OutboxEntry>> DeviceStore::Outbox() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectOutbox));
  return ReadOutboxLocked(select);
}

// --- Evidence uploads and receipts (uploader.h). ---
absl::StatusOr<std::vector<DeviceStore::PendingUpload>> DeviceStore::PendingUploads() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kPendingUploadRows));
  std::vector<PendingUpload> out;
  while (true) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(1), "evidence"));
    out.push_back({select.Text(0), e.sha256(), e.size_bytes(), select.Text(2)});
  }
  return out;
}

absl::Status DeviceStore::MarkEvidenceUploaded(const std::string& evidence_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectEvidenceReceipt));
    select.Bind(1, evidence_id);
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return absl::NotFoundError(absl::StrCat("evidence ", evidence_id, " is not here"));
    PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(0), "evidence"));
    e.set_uploaded(true);
    PALM_ASSIGN_OR_RETURN(Statement update, db_->Prepare(sql::kSetEvidenceUploaded));
    return update.Bind(1, evidence_id).BindBlob(2, Serialize(e)).Run();
  });
}

absl::StatusOr<std::vector<std::string>> DeviceStore::EvidenceWithoutReceipt() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kEvidenceWithoutReceipt));
  std::vector<std::string> out;
  while (true) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(1), "evidence"));
    if (e.device_id() == device_id_ && !e.has_receipt()) out.push_back(select.Text(0));
  }
  return out;
}

absl::Status DeviceStore::StoreEvidenceReceipt(const v1::EvidenceReceipt& receipt) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectEvidenceReceipt));
    select.Bind(1, receipt.evidence_id());
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) {
      return absl::NotFoundError(absl::StrCat("evidence ", receipt.evidence_id(), " is not here"));
    }
    PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(0), "evidence"));
    *e.mutable_receipt() = receipt;
    PALM_ASSIGN_OR_RETURN(Statement update, db_->Prepare(sql::kSetEvidenceReceipt));
    return update.Bind(1, receipt.evidence_id())
        .BindBlob(2, Serialize(receipt))
        .BindBlob(3, Serialize(e))
        .Run();
  });
}

absl::StatusOr<v1::EvidenceReceipt> DeviceStore::EvidenceReceipt(const std::string& evidence_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectEvidenceReceipt));
  select.Bind(1, evidence_id);
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("evidence ", evidence_id, " is not here"));
  if (!select.IsNull(1)) return Parse<v1::EvidenceReceipt>(select.Blob(1), "evidence receipt");
  // A receipt that came with a pulled server version of the record.
  PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(0), "evidence"));
  if (!e.has_receipt()) {
    return absl::FailedPreconditionError(
        absl::StrCat("evidence ", evidence_id, " has no receipt yet; it comes with a sync"));
  }
  return e.receipt();
}

}  // namespace palm::internal
