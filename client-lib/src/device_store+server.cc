// DeviceStore: applying what the server sends — the catalogue and calendar,
// the roster, prior violations, ticket leases, server versions of entities,
// push outcomes (sync issues, acknowledgements) and pull pages, after which
// still-pending outbox mutations are re-applied — and the sync bookkeeping
// around it: the cursor, outbox reads for a push and the last sync report.
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client-lib/src/device_store.h"
#include "client-lib/src/device_store_sql.h"
#include "client-lib/src/macros.h"
#include "nlohmann/json.hpp"
#include "sync/calendar.h"
#include "sync/no_penalty.h"
#include "sync/operations.h"
#include "sync/status.h"

namespace palm::internal {

// ---------------------------------------------------------------------------
// Reference data and server state.

absl::Status DeviceStore::ApplyCatalog(const v1::Catalog& catalog) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return ApplyCatalogLocked(catalog); });
}

absl::Status DeviceStore::ApplyCatalogLocked(const v1::Catalog& catalog) {
  {
    PALM_ASSIGN_OR_RETURN(Statement version, db_->Prepare(sql::kCatalogVersion));
    PALM_ASSIGN_OR_RETURN(bool row, version.Step());
    // Devices keep the newest catalogue they have seen.
    if (row && version.Int(0) > catalog.version()) return absl::OkStatus();
  }
  PALM_RETURN_IF_ERROR(db_->Exec(sql::kDeleteMatters));
  PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(sql::kInsertMatter));
  for (const v1::Matter& m : catalog.matters()) {
    PALM_RETURN_IF_ERROR(insert.Bind(1, m.code()).BindBlob(2, Serialize(m)).Run());
  }
  // The working-day calendar travels with the catalogue (the server checked
  // it on load; a malformed one is refused here rather than kept).
  PALM_RETURN_IF_ERROR(sync::CheckCalendar(catalog.calendar(), "catalog.calendar"));
  PALM_RETURN_IF_ERROR(db_->Exec(sql::kDeleteCalendar));
  PALM_ASSIGN_OR_RETURN(Statement insert_year, db_->Prepare(sql::kInsertCalendarYear));
  for (const v1::CalendarYear& y : catalog.calendar()) {
    PALM_RETURN_IF_ERROR(insert_year.Bind(1, int64_t{y.year()}).BindBlob(2, Serialize(y)).Run());
  }
  PALM_ASSIGN_OR_RETURN(Statement set, db_->Prepare(sql::kSetCatalogVersion));
  return set.Bind(1, catalog.version()).Bind(2, catalog.label()).Run();
}

namespace {

template <typename Message, typename IdFn>
absl::Status UpsertAll(Db& db, const char* sql, const std::vector<Message>& rows, IdFn id) {
  PALM_ASSIGN_OR_RETURN(Statement upsert, db.Prepare(sql));
  for (const Message& m : rows) {
    PALM_RETURN_IF_ERROR(upsert.Bind(1, id(m)).BindBlob(2, Serialize(m)).Run());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<sync::WorkingDayCalendar> DeviceStore::Calendar() {
  std::lock_guard<std::mutex> lock(mutex_);
  return CalendarLocked();
}

absl::StatusOr<sync::WorkingDayCalendar> DeviceStore::CalendarLocked() {
  google::protobuf::RepeatedPtrField<v1::CalendarYear> years;
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectCalendar));
  while (true) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(*years.Add(), Parse<v1::CalendarYear>(select.Blob(0), "calendar year"));
  }
  return sync::WorkingDayCalendar::From(years);
}

absl::Status DeviceStore::UpsertOfficers(const std::vector<v1::Officer>& officers) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] {
    return UpsertAll(*db_, sql::kUpsertOfficer, officers,
                     [](const v1::Officer& o) { return o.officer_id(); });
  });
}

absl::Status DeviceStore::UpsertTowns(const std::vector<v1::Town>& towns) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] {
    ForgetTownsLocked();
    return UpsertAll(*db_, sql::kUpsertTown, towns, [](const v1::Town& t) { return t.town_id(); });
  });
}

absl::Status DeviceStore::UpsertSquads(const std::vector<v1::Squad>& squads) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] {
    return UpsertAll(*db_, sql::kUpsertSquad, squads,
                     [](const v1::Squad& s) { return s.squad_id(); });
  });
}

absl::Status DeviceStore::AddPriorViolations(const std::vector<v1::PriorViolation>& rows) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    for (const v1::PriorViolation& p : rows) PALM_RETURN_IF_ERROR(AddPriorViolationLocked(p));
    return absl::OkStatus();
  });
}

absl::Status DeviceStore::RecordPriorViolationsLocked(const std::string& case_id,
                                                      const std::string& party_id,
                                                      const std::string& matter_code,
                                                      int64_t at_ms) {
  PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(case_id));
  PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(case_id));
  for (const v1::Party& party : parties) {
    if (!party_id.empty() && party.party_id() != party_id) continue;
    if (std::optional<v1::PriorViolation> v =
            sync::PriorViolationOf(PartyKeyLocked(), c, party, matter_code, at_ms)) {
      PALM_RETURN_IF_ERROR(AddPriorViolationLocked(*v));
    }
  }
  return absl::OkStatus();
}

absl::Status DeviceStore::AddPriorViolationLocked(const v1::PriorViolation& p) {
  // Records of an older server carry no id: keyed as before schema 8.
  const std::string id = p.violation_id().empty()
                             ? absl::StrCat(sql::kLegacyViolationPrefix, p.party_key(), "/",
                                            p.matter_code(), "/", p.case_number())
                             : p.violation_id();
  PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(sql::kInsertPrior));
  return insert.Bind(1, id)
      .Bind(2, p.party_key())
      .Bind(3, p.matter_code())
      .Bind(4, p.case_number())
      .Bind(5, p.decided_at_ms())
      .Bind(6, p.key_id())
      .Bind(7, p.voided() ? 1 : 0)
      .Run();
}

absl::Status DeviceStore::LapseViolationLocked(const std::string& case_id,
                                               const std::string& party_id,
                                               const std::string& matter_code) {
  PALM_ASSIGN_OR_RETURN(CaseBundle b, GetCaseLocked(case_id));
  if (sync::ViolationStands(b.kase, b.tickets, b.no_penalty, party_id, matter_code)) {
    return absl::OkStatus();
  }
  PALM_ASSIGN_OR_RETURN(Statement lapse, db_->Prepare(sql::kVoidPrior));
  return lapse.Bind(1, sync::PriorViolationId(case_id, party_id, matter_code)).Run();
}

std::string DeviceStore::PartyKeyId() {
  std::lock_guard<std::mutex> lock(mutex_);
  return party_key_ ? party_key_->key_id() : std::string();
}

absl::Status DeviceStore::LoadPartyKeyLocked() {
  PALM_ASSIGN_OR_RETURN(Statement load, db_->Prepare(sql::kLoadPartyKey));
  PALM_ASSIGN_OR_RETURN(bool row, load.Step());
  if (!row) return absl::OkStatus();
  const std::string key_id = load.Text(0);
  // The store's key opened the key check already: a row that does not open
  // was damaged or tampered with. The store still opens (nothing else
  // depends on it); without a secret the device reports none, and the next
  // sync brings it again.
  absl::StatusOr<std::string> bytes = aead_.Open(load.Blob(1), PartyKeyAad(device_id_));
  if (!bytes.ok()) return absl::OkStatus();
  absl::StatusOr<sync::PartyKeySecret> secret = sync::PartyKeySecret::FromBytes(*bytes);
  if (secret.ok() && secret->key_id() == key_id) party_key_ = std::move(*secret);
  return absl::OkStatus();
}

absl::StatusOr<sync::PartyKeySecret> DeviceStore::InstallPartyKeyLocked(
    const v1::PartyKeySecret& key) {
  absl::StatusOr<sync::PartyKeySecret> secret = sync::PartyKeySecret::FromBytes(key.secret());
  if (!secret.ok()) {
    return absl::DataLossError(absl::StrCat("the server sent a party-key secret that is not one: ",
                                            secret.status().message()));
  }
  if (secret->key_id() != key.key_id()) {
    return absl::DataLossError(absl::StrCat("the server sent party-key secret ", key.key_id(),
                                            " whose bytes are secret ", secret->key_id()));
  }
  PALM_ASSIGN_OR_RETURN(std::string sealed, aead_.Seal(secret->bytes(), PartyKeyAad(device_id_)));
  {
    PALM_ASSIGN_OR_RETURN(Statement store, db_->Prepare(sql::kStorePartyKey));
    PALM_RETURN_IF_ERROR(store.Bind(1, secret->key_id()).BindBlob(2, sealed).Run());
  }
  // Records of an older server, rekeyed without their ID numbers.
  std::vector<v1::PriorViolation> legacy;
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kLegacyPriors));
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      absl::StatusOr<std::string> rekeyed = secret->Rekey(select.Text(0));
      if (!rekeyed.ok()) continue;  // not a key at all: matches nothing, dropped below
      v1::PriorViolation& v = legacy.emplace_back();
      v.set_party_key(*rekeyed);
      v.set_key_id(secret->key_id());
      v.set_matter_code(select.Text(1));
      v.set_decided_at_ms(select.Int(3));
      if (!absl::StartsWith(select.Text(4), sql::kLegacyViolationPrefix)) {
        v.set_violation_id(select.Text(4));
      }
      v.set_voided(select.Int(5) != 0);
    }
  }
  {
    PALM_ASSIGN_OR_RETURN(Statement drop, db_->Prepare(sql::kDeletePriorsNotUnder));
    PALM_RETURN_IF_ERROR(drop.Bind(1, secret->key_id()).Run());
  }
  for (const v1::PriorViolation& v : legacy) PALM_RETURN_IF_ERROR(AddPriorViolationLocked(v));
  return *std::move(secret);
}

absl::Status DeviceStore::AddTicketLease(const v1::TicketLease& lease) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return AddTicketLeaseLocked(lease); });
}

absl::Status DeviceStore::AddTicketLeaseLocked(const v1::TicketLease& lease) {
  if (lease.lease_id().empty() || lease.first_number() <= 0 ||
      lease.last_number() < lease.first_number()) {
    return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                                 "a ticket lease needs an id and a range first <= last");
  }
  int64_t next = lease.returned() ? lease.last_number() + 1 : lease.first_number();
  PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(sql::kInsertLease));
  return insert.Bind(1, lease.lease_id())
      .Bind(2, lease.first_number())
      .Bind(3, lease.last_number())
      .Bind(4, next)
      .Bind(5, lease.prefix())
      .BindBlob(6, Serialize(lease))
      .Run();
}

absl::Status DeviceStore::UpsertServerCase(const v1::Case& c) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return PutCaseLocked(c, /*with_parties=*/true); });
}

absl::Status DeviceStore::UpsertServerEvidence(const v1::Evidence& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return UpsertServerEvidenceLocked(e); });
}

absl::Status DeviceStore::UpsertServerEvidenceLocked(const v1::Evidence& e) {
  // Keeps the local content path: the file may still need uploading.
  PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(sql::kUpsertServerEvidence));
  return upsert.Bind(1, e.evidence_id())
      .Bind(2, e.case_id())
      .Bind(3, int64_t{e.uploaded() ? 1 : 0})
      .BindBlob(4, Serialize(e))
      .Run();
}

absl::Status DeviceStore::UpsertServerTicket(const v1::Ticket& t) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return UpsertServerTicketLocked(t); });
}

absl::Status DeviceStore::UpsertServerTicketLocked(const v1::Ticket& t) {
  {
    PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(sql::kUpsertTicket));
    PALM_RETURN_IF_ERROR(upsert.Bind(1, t.ticket_id())
                             .Bind(2, t.case_id())
                             .Bind(3, t.ticket_number())
                             .BindBlob(4, Serialize(t))
                             .Run());
  }
  PALM_ASSIGN_OR_RETURN(Statement consume, db_->Prepare(sql::kConsumeTicketNumber));
  return consume.Bind(1, t.ticket_number()).Run();
}

absl::Status DeviceStore::UpsertServerNoPenalty(const v1::NoPenaltyDecision& d) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return UpsertServerNoPenaltyLocked(d); });
}

absl::Status DeviceStore::UpsertServerNoPenaltyLocked(const v1::NoPenaltyDecision& d) {
  PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(sql::kUpsertDecision));
  return upsert.Bind(1, d.decision_id()).Bind(2, d.case_id()).BindBlob(3, Serialize(d)).Run();
}

absl::Status DeviceStore::UpsertServerCaseEvent(const v1::CaseEvent& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return PutEventLocked(e); });
}

absl::Status DeviceStore::AckOutboxThrough(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement ack, db_->Prepare(sql::kAckOutbox));
    return ack.Bind(1, static_cast<int64_t>(seq)).Run();
  });
}

absl::Status DeviceStore::SetSyncCursor(const std::string& cursor, const std::string& epoch) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&] { return SetSyncCursorLocked(cursor, epoch); });
}

absl::Status DeviceStore::SetSyncCursorLocked(const std::string& cursor, const std::string& epoch) {
  PALM_ASSIGN_OR_RETURN(Statement set, db_->Prepare(sql::kSetCursor));
  return set.BindBlob(1, cursor).Bind(2, epoch).Run();
}

// ---------------------------------------------------------------------------
// Sync.

absl::Status DeviceStore::ApplyReferenceData(const v1::GetReferenceDataResponse& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Takes the new secret into use once it is committed.
  std::optional<sync::PartyKeySecret> installed;
  absl::Status applied = RunInTransaction([&]() -> absl::Status {
    if (r.has_catalog()) PALM_RETURN_IF_ERROR(ApplyCatalogLocked(r.catalog()));
    std::vector<v1::Town> towns(r.towns().begin(), r.towns().end());
    ForgetTownsLocked();
    PALM_RETURN_IF_ERROR(
        UpsertAll(*db_, sql::kUpsertTown, towns, [](const v1::Town& t) { return t.town_id(); }));
    std::vector<v1::Squad> squads(r.squads().begin(), r.squads().end());
    PALM_RETURN_IF_ERROR(UpsertAll(*db_, sql::kUpsertSquad, squads,
                                   [](const v1::Squad& q) { return q.squad_id(); }));
    std::vector<v1::Officer> officers(r.officers().begin(), r.officers().end());
    PALM_RETURN_IF_ERROR(UpsertAll(*db_, sql::kUpsertOfficer, officers,
                                   [](const v1::Officer& o) { return o.officer_id(); }));
    if (r.has_party_key()) {
      PALM_ASSIGN_OR_RETURN(installed, InstallPartyKeyLocked(r.party_key()));
    }
    return absl::OkStatus();
  });
  if (applied.ok() && installed) party_key_ = std::move(*installed);
  return applied;
}

absl::Status DeviceStore::PutSyncIssueLocked(const std::string& issue_id, SyncIssueKind kind,
                                             const v1::MutationResult& result,
                                             const std::string& case_id,
                                             const google::protobuf::MessageLite& detail) {
  PALM_ASSIGN_OR_RETURN(std::string sealed, aead_.Seal(Serialize(detail), IssueAad(issue_id)));
  PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(sql::kInsertIssue));
  return insert.Bind(1, issue_id)
      .Bind(2, int64_t{static_cast<int>(kind)})
      .Bind(3, result.mutation_id())
      .Bind(4, static_cast<int64_t>(result.device_seq()))
      .Bind(5, case_id)
      .Bind(6, NowMs())
      .BindBlob(7, sealed)
      .Run();
}

absl::StatusOr<PushRecorded> DeviceStore::RecordPushResults(const v1::PushResponse& response) {
  std::lock_guard<std::mutex> lock(mutex_);
  PushRecorded out;
  PALM_RETURN_IF_ERROR(RunInTransaction([&]() -> absl::Status {
    for (const v1::MutationResult& r : response.results()) {
      v1::Outcome outcome = r.outcome();
      if (outcome == v1::OUTCOME_DUPLICATE) {
        ++out.duplicates;
        outcome = r.original();
      }
      std::string case_id;
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kOutboxCaseOf));
        select.Bind(1, static_cast<int64_t>(r.device_seq())).Bind(2, r.mutation_id());
        PALM_ASSIGN_OR_RETURN(bool row, select.Step());
        if (row) case_id = select.Text(0);
      }
      switch (outcome) {
        case v1::OUTCOME_APPLIED:
          ++out.applied;
          break;
        case v1::OUTCOME_APPLIED_WITH_CONFLICT:
          ++out.applied_with_conflict;
          break;
        case v1::OUTCOME_REJECTED: {
          ++out.rejected;
          // A rejection seen again (the first answer was lost) is not a new
          // issue, but its local effect may still stand: snapshot anyway.
          out.needs_snapshot = true;
          PALM_RETURN_IF_ERROR(
              PutSyncIssueLocked(r.mutation_id(), SyncIssueKind::kRejected, r, case_id, r));
          break;
        }
        default:
          return absl::DataLossError(absl::StrCat("the server answered mutation ", r.mutation_id(),
                                                  " with outcome ", static_cast<int>(outcome)));
      }
      for (const v1::ConflictLoss& loss : r.conflicts()) {
        ++out.conflicts;
        PALM_RETURN_IF_ERROR(PutSyncIssueLocked(loss.conflict_id(), SyncIssueKind::kConflict, r,
                                                loss.case_id(), loss));
      }
    }
    if (response.acknowledged_seq() > 0) {
      PALM_ASSIGN_OR_RETURN(Statement ack, db_->Prepare(sql::kAckOutbox));
      PALM_RETURN_IF_ERROR(ack.Bind(1, static_cast<int64_t>(response.acknowledged_seq())).Run());
    }
    if (out.needs_snapshot) PALM_RETURN_IF_ERROR(db_->Exec(sql::kClearCursor));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status DeviceStore::ApplyChangeLocked(const v1::Change& change) {
  switch (change.entity_case()) {
    case v1::Change::kCase:
      return PutCaseLocked(change.case_(), /*with_parties=*/true);
    case v1::Change::kEvidence:
      return UpsertServerEvidenceLocked(change.evidence());
    case v1::Change::kTicket:
      return UpsertServerTicketLocked(change.ticket());
    case v1::Change::kNoPenalty:
      return UpsertServerNoPenaltyLocked(change.no_penalty());
    case v1::Change::kEvent:
      return PutEventLocked(change.event());
    case v1::Change::kCatalog:
      return ApplyCatalogLocked(change.catalog());
    case v1::Change::kOfficer:
      return UpsertAll(*db_, sql::kUpsertOfficer, std::vector<v1::Officer>{change.officer()},
                       [](const v1::Officer& o) { return o.officer_id(); });
    case v1::Change::kTown:
      ForgetTownsLocked();
      return UpsertAll(*db_, sql::kUpsertTown, std::vector<v1::Town>{change.town()},
                       [](const v1::Town& t) { return t.town_id(); });
    case v1::Change::kSquad:
      return UpsertAll(*db_, sql::kUpsertSquad, std::vector<v1::Squad>{change.squad()},
                       [](const v1::Squad& q) { return q.squad_id(); });
    case v1::Change::kPriorViolation:
      return AddPriorViolationLocked(change.prior_violation());
    case v1::Change::kTicketLease:
      // Only this device's blocks are its to use.
      if (change.ticket_lease().device_id() != device_id_) return absl::OkStatus();
      return AddTicketLeaseLocked(change.ticket_lease());
    default:
      // An entity kind newer than this library: nothing to keep it in.
      return absl::OkStatus();
  }
}

absl::StatusOr<int> DeviceStore::ApplyPullPage(const v1::PullPage& page, bool replace_scope,
                                               const std::string& server_epoch) {
  std::lock_guard<std::mutex> lock(mutex_);
  int reapplied = 0;
  PALM_RETURN_IF_ERROR(RunInTransaction([&]() -> absl::Status {
    if (replace_scope) PALM_RETURN_IF_ERROR(db_->Exec(sql::kDropScope));
    for (const v1::Change& change : page.changes()) {
      absl::Status s = ApplyChangeLocked(change);
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat("change at server position ",
                                                   change.server_seq(), ": ", s.message()));
      }
    }
    PALM_RETURN_IF_ERROR(SetSyncCursorLocked(page.cursor(), server_epoch));
    PALM_ASSIGN_OR_RETURN(reapplied, ReapplyPendingLocked());
    return absl::OkStatus();
  }));
  return reapplied;
}

absl::StatusOr<uint64_t> DeviceStore::FirstPendingSeq() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kFirstPending));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? static_cast<uint64_t>(select.Int(0)) : 0;
}

absl::StatusOr<uint64_t> DeviceStore::LastDeviceSeq() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kLastSeq));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? static_cast<uint64_t>(select.Int(0)) : 0;
}

absl::StatusOr<std::vector<OutboxEntry>> DeviceStore::OutboxFrom(uint64_t from_seq, size_t limit) {
  absl::StatusOr<std::vector<OutboxEntry>> entries;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kOutboxFrom));
    select.Bind(1, static_cast<int64_t>(from_seq)).Bind(2, static_cast<int64_t>(limit));
    entries = ReadOutboxLocked(select);
  }
  // What is pushed must be on the disk first, in either durability mode: a
  // write the server holds but this device lost to a power cut would give
  // its sequence number to a different write.
  if (entries.ok()) PALM_RETURN_IF_ERROR(wal_->Sync());
  return entries;
}

absl::StatusOr<std::vector<OutboxEntry>> DeviceStore::ReadOutboxLocked(Statement& select) {
  std::vector<OutboxEntry> out;
  for (;;) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(std::string plain, aead_.Open(select.Blob(4), OutboxAad(select.Text(1))));
    OutboxEntry e;
    PALM_ASSIGN_OR_RETURN(e.mutation, Parse<v1::Mutation>(plain, "outbox mutation"));
    if (static_cast<int64_t>(e.mutation.device_seq()) != select.Int(0)) {
      return absl::DataLossError("outbox entry does not match its sequence number");
    }
    e.acked = select.Int(2) != 0;
    e.created_at_ms = select.Int(3);
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::vector<SyncIssue>> DeviceStore::ListSyncIssues(bool include_dismissed) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<SyncIssue> out;
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kListIssues));
  select.Bind(1, int64_t{include_dismissed ? 1 : 0});
  for (;;) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    SyncIssue issue;
    issue.issue_id = select.Text(0);
    issue.kind = static_cast<SyncIssueKind>(select.Int(1));
    issue.mutation_id = select.Text(2);
    issue.device_seq = static_cast<uint64_t>(select.Int(3));
    issue.case_id = select.Text(4);
    issue.recorded_at_ms = select.Int(5);
    issue.dismissed = select.Int(6) != 0;
    PALM_ASSIGN_OR_RETURN(std::string plain, aead_.Open(select.Blob(7), IssueAad(issue.issue_id)));
    if (issue.kind == SyncIssueKind::kRejected) {
      PALM_ASSIGN_OR_RETURN(v1::MutationResult r, Parse<v1::MutationResult>(plain, "sync issue"));
      issue.reason = sync::ReasonName(r.reason());
      issue.message = r.message();
    } else {
      PALM_ASSIGN_OR_RETURN(v1::ConflictLoss c, Parse<v1::ConflictLoss>(plain, "sync issue"));
      issue.field = static_cast<CaseField>(c.field());
      issue.party_id = c.party_id();
      issue.losing_value = c.losing_value();
      issue.losing_device_id = c.losing_device_id();
      issue.winning_value = c.winning_value();
      issue.winning_device_id = c.winning_device_id();
    }
    out.push_back(std::move(issue));
  }
  return out;
}

absl::Status DeviceStore::DismissSyncIssue(const std::string& issue_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement exists, db_->Prepare(sql::kIssueExists));
    exists.Bind(1, issue_id);
    PALM_ASSIGN_OR_RETURN(bool row, exists.Step());
    if (!row || exists.Int(0) == 0) {
      return absl::NotFoundError(absl::StrCat("sync issue ", issue_id, " is not on this device"));
    }
    PALM_ASSIGN_OR_RETURN(Statement dismiss, db_->Prepare(sql::kDismissIssue));
    return dismiss.Bind(1, issue_id).Run();
  });
}

absl::StatusOr<std::pair<std::string, std::string>> DeviceStore::SyncCursor() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectCursor));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::InternalError("device_state row is missing");
  return std::make_pair(select.Blob(0), select.Text(1));
}

nlohmann::json SyncReportJson(const SyncReport& r) {
  return {{"started_at_ms", r.started_at_ms},
          {"finished_at_ms", r.finished_at_ms},
          {"ok", r.ok},
          {"error_reason", r.error_reason},
          {"message", r.message},
          {"pushed", r.pushed},
          {"applied", r.applied},
          {"applied_with_conflict", r.applied_with_conflict},
          {"rejected", r.rejected},
          {"pulled", r.pulled},
          {"duplicates", r.duplicates},
          {"conflicts", r.conflicts},
          {"resync", r.resync},
          {"snapshot", r.snapshot},
          {"duration_ms", r.duration_ms},
          {"ticket_numbers_leased", r.ticket_numbers_leased},
          {"ticket_leases_restored", r.ticket_leases_restored},
          {"ticket_leases_refused", r.ticket_leases_refused},
          {"uploads_done", r.uploads_done},
          {"uploads_failed", r.uploads_failed},
          {"uploads_pending", r.uploads_pending},
          {"upload_error_code", r.upload_error_code},
          {"upload_error", r.upload_error},
          {"pulls", r.pulls},
          {"retries", r.retries},
          {"link_budget_bytes", r.link_budget_bytes}};
}

absl::Status DeviceStore::SetLastSyncReport(const SyncReport& r) {
  nlohmann::json j = SyncReportJson(r);
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement set, db_->Prepare(sql::kSetReport));
    return set.Bind(1, j.dump()).Run();
  });
}

absl::StatusOr<SyncReport> DeviceStore::LastSyncReport() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectReport));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  SyncReport r;
  if (!row || select.IsNull(0)) return r;
  nlohmann::json j = nlohmann::json::parse(select.Text(0), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return absl::DataLossError("stored sync report is corrupt");
  r.ever_synced = true;
  r.started_at_ms = j.value("started_at_ms", int64_t{0});
  r.finished_at_ms = j.value("finished_at_ms", int64_t{0});
  r.ok = j.value("ok", false);
  r.error_reason = j.value("error_reason", std::string());
  r.message = j.value("message", std::string());
  r.pushed = j.value("pushed", uint64_t{0});
  r.applied = j.value("applied", uint64_t{0});
  r.applied_with_conflict = j.value("applied_with_conflict", uint64_t{0});
  r.rejected = j.value("rejected", uint64_t{0});
  r.pulled = j.value("pulled", uint64_t{0});
  r.duplicates = j.value("duplicates", uint64_t{0});
  r.conflicts = j.value("conflicts", uint64_t{0});
  r.resync = j.value("resync", false);
  r.snapshot = j.value("snapshot", false);
  r.duration_ms = j.value("duration_ms", int64_t{0});
  r.ticket_numbers_leased = j.value("ticket_numbers_leased", int64_t{0});
  r.ticket_leases_restored = j.value("ticket_leases_restored", uint64_t{0});
  r.ticket_leases_refused = j.value("ticket_leases_refused", uint64_t{0});
  r.uploads_done = j.value("uploads_done", uint64_t{0});
  r.uploads_failed = j.value("uploads_failed", uint64_t{0});
  r.uploads_pending = j.value("uploads_pending", uint64_t{0});
  r.upload_error_code = j.value("upload_error_code", std::string());
  r.upload_error = j.value("upload_error", std::string());
  r.pulls = j.value("pulls", uint64_t{0});
  r.retries = j.value("retries", uint64_t{0});
  r.link_budget_bytes = j.value("link_budget_bytes", uint64_t{0});
  return r;
}

}  // namespace palm::internal
