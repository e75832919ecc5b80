// The SQLite store's transaction: every typed accessor of ReadTxn and
// WriteTxn (server/store.h) over one connection, with the writer's caches.
// Internal to the SQLite store (server/sqlite_store.cc runs it on its
// threads).
#ifndef PALM_SERVER_SQLITE_TXN_H_
#define PALM_SERVER_SQLITE_TXN_H_

#include <sqlite3.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/backup.h"
#include "server/sqlite_connection.h"
#include "server/sqlite_sql.h"
#include "server/store.h"
#include "server/store_status.h"
#include "sync/hlc.h"
#include "sync/no_penalty.h"
#include "sync/status_macros.h"
#include "sync/uuid.h"

namespace palm::server::sqlite_internal {

namespace v1 = palm::v1;

class SqliteTxn : public WriteTxn {
 public:
  // `on_device_put`, when set, is called after commit with each device the
  // transaction stored (the store's in-memory device table follows it).
  explicit SqliteTxn(Connection* conn,
                     std::function<void(const v1::Device&)> on_device_put = nullptr)
      : conn_(conn), on_device_put_(std::move(on_device_put)) {}

  // Hooks queued by OnCommit since the last TakeHooks().
  std::vector<std::function<void()>> TakeHooks() { return std::move(hooks_); }

  // The writer's transaction keeps in memory what the push path reads again
  // and again: the audit log's head (AppendAudit needs it for every
  // mutation), the change log's head (AppendChange, one or two per
  // mutation), the cases it read or wrote (a case's evidence, events and
  // edits follow it in the same batch; GetCase hands a cached case over,
  // PutCase rewrites a row whose indexed columns it knows unchanged without
  // touching their indexes, and AppendChange leaves a case it logged where
  // it is), the case-number counters, the officers it read (every
  // mutation checks its officer; a new case, those present), and the
  // evidence log's size and right edge (each evidence appends a leaf, which
  // reads the log's size and the left sibling of every subtree it
  // completes). The caller must call ForgetCached whenever a transaction or
  // savepoint ends other than by a successful RELEASE, and before each
  // transaction begins.
  void EnableWriterCaches() { writer_caches_ = true; }
  void ForgetCached() {
    audit_head_known_ = false;
    cases_.clear();
    officers_.clear();
    case_counters_.clear();
    change_head_.reset();
    log_size_.reset();
    for (LogEdgeNode& node : log_edge_) node.known = false;
  }

  // --- ReadTxn ---
  absl::StatusOr<std::optional<CaseRecord>> GetCase(const std::string& case_id) override {
    if (writer_caches_) {
      // Handed over, not copied (a case and its field stamps are some fifty
      // allocations): the caller changes it and puts it back, which caches
      // it again; a caller that only reads it leaves the next reader to
      // read the row, as a case not yet cached would be.
      auto it = cases_.find(case_id);
      if (it != cases_.end() && it->second.record) {
        std::optional<CaseRecord> record(std::move(it->second.record));
        it->second.record.reset();
        return record;
      }
    }
    PALM_ASSIGN_OR_RETURN(std::optional<CaseRecord> record, ReadCase(kGetCase, case_id));
    if (writer_caches_ && record) RememberCaseRow(record->value, nullptr);
    return record;
  }
  absl::StatusOr<std::optional<CaseBrief>> GetCaseBrief(const std::string& case_id) override {
    if (writer_caches_) {
      auto it = cases_.find(case_id);
      if (it != cases_.end()) {
        const CachedCase& row = it->second;
        return std::optional<CaseBrief>(CaseBrief{case_id, row.case_number, row.town_id});
      }
    }
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetCaseBrief));
    stmt->Text(1, case_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<CaseBrief>();
    CaseBrief brief{case_id, stmt->ColumnText(0), stmt->ColumnText(1)};
    if (auto s = stmt->Run(); !s.ok()) return s;
    return std::optional<CaseBrief>(std::move(brief));
  }
  absl::StatusOr<std::optional<CaseRecord>> GetCaseByNumber(const std::string& number) override {
    return ReadCase(kGetCaseByNumber, number);
  }
  absl::StatusOr<std::vector<v1::Case>> ListCases(const CaseFilter& f) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListCases));
    stmt->Text(1, f.town_id)
        .Text(2, f.squad_id)
        .Int(3, f.state)
        .Int(4, f.from_ms)
        .Int(5, f.to_ms)
        .Int(6, f.after_created_ms)
        .Text(7, f.after_case_id)
        .Int(8, f.limit);
    return ReadAll<v1::Case>(*stmt, "case");
  }
  absl::StatusOr<std::vector<v1::Case>> ListCasesInStates(const std::string& town_id,
                                                          const std::string& squad_id,
                                                          const std::vector<v1::CaseState>& states,
                                                          const std::string& after_case_id,
                                                          uint32_t limit) override {
    std::string list = "[";
    for (v1::CaseState state : states) {
      absl::StrAppend(&list, list.size() > 1 ? "," : "", static_cast<int>(state));
    }
    list += "]";
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListCasesInStates));
    stmt->Text(1, town_id).Text(2, squad_id).Text(3, list).Text(4, after_case_id).Int(5, limit);
    return ReadAll<v1::Case>(*stmt, "case");
  }
  absl::StatusOr<std::optional<v1::Evidence>> GetEvidence(const std::string& id) override {
    return ReadOne<v1::Evidence>(kGetEvidence, id, "evidence");
  }
  absl::StatusOr<std::optional<v1::Ticket>> GetTicket(const std::string& id) override {
    return ReadOne<v1::Ticket>(kGetTicket, id, "ticket");
  }
  absl::StatusOr<std::optional<v1::Ticket>> GetTicketByNumber(int64_t number) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetTicketByNumber));
    stmt->Int(1, number);
    return ReadFirst<v1::Ticket>(*stmt, "ticket");
  }
  absl::StatusOr<std::optional<v1::NoPenaltyDecision>> GetNoPenalty(
      const std::string& id) override {
    return ReadOne<v1::NoPenaltyDecision>(kGetNoPenalty, id, "no-penalty decision");
  }
  absl::StatusOr<std::optional<v1::CaseEvent>> GetEvent(const std::string& id) override {
    return ReadOne<v1::CaseEvent>(kGetEvent, id, "case event");
  }
  absl::StatusOr<v1::CaseDetail> GetCaseDetail(const std::string& case_id) override {
    v1::CaseDetail detail;
    PALM_ASSIGN_OR_RETURN(auto record, GetCase(case_id));
    if (!record) return absl::NotFoundError(absl::StrCat("case ", case_id, " is not on record"));
    *detail.mutable_case_() = record->value;
    PALM_ASSIGN_OR_RETURN(auto evidence,
                          ReadByKey<v1::Evidence>(kEvidenceOfCase, case_id, "evidence"));
    for (auto& e : evidence) *detail.add_evidence() = std::move(e);
    PALM_ASSIGN_OR_RETURN(auto tickets, ReadByKey<v1::Ticket>(kTicketsOfCase, case_id, "ticket"));
    for (auto& t : tickets) *detail.add_tickets() = std::move(t);
    PALM_ASSIGN_OR_RETURN(auto decisions,
                          ReadByKey<v1::NoPenaltyDecision>(kNoPenaltyOfCase, case_id, "decision"));
    for (auto& d : decisions) *detail.add_no_penalty() = std::move(d);
    PALM_ASSIGN_OR_RETURN(auto events, ReadByKey<v1::CaseEvent>(kEventsOfCase, case_id, "event"));
    for (auto& e : events) *detail.add_timeline() = std::move(e);
    return detail;
  }
  absl::StatusOr<std::vector<v1::PriorViolation>> PriorViolationsOf(
      const std::string& party_key, const std::string& matter_code) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kFindPriors));
    stmt->Text(1, party_key).Text(2, matter_code);
    return ReadAll<v1::PriorViolation>(*stmt, "prior violation");
  }
  absl::StatusOr<std::vector<StoredPriorViolation>> PriorViolationsOfCase(
      const std::string& case_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPriorsOfCase));
    stmt->Text(1, case_id);
    return ReadStoredPriors(*stmt);
  }
  absl::StatusOr<std::vector<std::string>> PendingPriorRechecks() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPendingPriorRechecks));
    return ReadTexts(*stmt);
  }
  absl::StatusOr<std::optional<v1::Catalog>> CurrentCatalog() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kCurrentCatalog));
    return ReadFirst<v1::Catalog>(*stmt, "catalogue");
  }
  absl::StatusOr<std::optional<v1::Town>> GetTown(const std::string& id) override {
    return ReadOne<v1::Town>(kGetTown, id, "town");
  }
  absl::StatusOr<std::optional<v1::Squad>> GetSquad(const std::string& id) override {
    return ReadOne<v1::Squad>(kGetSquad, id, "squad");
  }
  absl::StatusOr<std::vector<v1::Town>> ListTowns() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListTowns));
    return ReadAll<v1::Town>(*stmt, "town");
  }
  absl::StatusOr<std::vector<v1::Squad>> ListSquads(const std::string& town_id) override {
    return ReadByKey<v1::Squad>(kListSquads, town_id, "squad");
  }
  absl::StatusOr<std::optional<v1::Officer>> GetOfficer(const std::string& id) override {
    if (writer_caches_) {
      auto it = officers_.find(id);
      if (it != officers_.end()) return it->second;
    }
    PALM_ASSIGN_OR_RETURN(std::optional<v1::Officer> officer,
                          ReadOne<v1::Officer>(kGetOfficer, id, "officer"));
    if (writer_caches_) officers_.emplace(id, officer);
    return officer;
  }
  using ReadTxn::ListDevices;
  using ReadTxn::ListOfficers;
  absl::StatusOr<std::vector<v1::Officer>> ListOfficers(const OfficerFilter& f) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListOfficers));
    stmt->Text(1, f.town_id).Text(2, f.squad_id).Text(3, f.after_officer_id).Int(4, Limit(f.limit));
    return ReadAll<v1::Officer>(*stmt, "officer");
  }
  absl::StatusOr<std::optional<v1::Device>> GetDevice(const std::string& id) override {
    return ReadOne<v1::Device>(kGetDevice, id, "device");
  }
  absl::StatusOr<std::vector<v1::Device>> ListDevices(const DeviceFilter& f) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListDevices));
    stmt->Text(1, f.town_id).Text(2, f.squad_id).Text(3, f.after_device_id).Int(4, Limit(f.limit));
    return ReadAll<v1::Device>(*stmt, "device");
  }
  absl::StatusOr<std::vector<v1::Device>> AllDevices() {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kAllDevices));
    return ReadAll<v1::Device>(*stmt, "device");
  }
  absl::StatusOr<uint64_t> AcknowledgedSeq(const std::string& device_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetDeviceSync));
    stmt->Text(1, device_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? static_cast<uint64_t>(stmt->ColumnInt(0)) : 0;
  }
  absl::StatusOr<int64_t> LastPushMs(const std::string& device_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetDeviceSync));
    stmt->Text(1, device_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? stmt->ColumnInt(1) : 0;
  }
  absl::StatusOr<std::optional<DeviceReport>> GetDeviceReport(
      const std::string& device_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetDeviceSync));
    stmt->Text(1, device_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row || stmt->ColumnInt(5) == 0) return std::optional<DeviceReport>();
    DeviceReport report;
    report.pending_mutations = static_cast<uint64_t>(stmt->ColumnInt(2));
    report.pending_uploads = static_cast<uint64_t>(stmt->ColumnInt(3));
    report.ticket_numbers_left = stmt->ColumnInt(4);
    report.reported_at_ms = stmt->ColumnInt(5);
    return std::optional<DeviceReport>(report);
  }
  absl::StatusOr<std::optional<DeviceLogEntry>> GetDeviceLog(const std::string& device_id,
                                                             uint64_t seq) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetDeviceLog));
    stmt->Text(1, device_id).Int(2, static_cast<int64_t>(seq));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<DeviceLogEntry>();
    PALM_ASSIGN_OR_RETURN(auto entry, ReadDeviceLog(*stmt));
    return std::optional<DeviceLogEntry>(std::move(entry));
  }
  absl::StatusOr<bool> MutationIdKnown(const std::string& mutation_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kMutationIdKnown));
    stmt->Text(1, mutation_id);
    return stmt->Step();
  }
  absl::StatusOr<std::vector<DeviceLogEntry>> ListRejected(const RejectedFilter& f) override {
    // Bound by reference: declared before the statement, which it outlives.
    const RejectedFilter::Position after = f.after.value_or(RejectedFilter::Position());
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListRejected));
    stmt->Text(1, f.squad_id)
        .Int(2, f.include_dismissed ? 1 : 0)
        .Int(3, f.after ? 1 : 0)
        .Int(4, after.recorded_at_ms)
        .Text(5, after.device_id)
        .Int(6, static_cast<int64_t>(after.device_seq))
        .Int(7, Limit(f.limit));
    std::vector<DeviceLogEntry> entries;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(auto entry, ReadDeviceLog(*stmt));
      entries.push_back(std::move(entry));
    }
    return entries;
  }
  absl::StatusOr<std::optional<DeviceLogEntry>> GetRejected(
      const std::string& mutation_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetRejected));
    stmt->Text(1, mutation_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<DeviceLogEntry>();
    PALM_ASSIGN_OR_RETURN(auto entry, ReadDeviceLog(*stmt));
    return std::optional<DeviceLogEntry>(std::move(entry));
  }
  absl::StatusOr<std::vector<v1::ConflictRecord>> ListConflicts(const ConflictFilter& f) override {
    // Bound by reference: declared before the statement, which it outlives.
    const std::pair<int64_t, std::string> after =
        f.after.value_or(std::pair<int64_t, std::string>(0, ""));
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListConflicts));
    stmt->Text(1, f.squad_id)
        .Text(2, f.case_id)
        .Int(3, f.include_resolved ? 1 : 0)
        .Int(4, f.after ? 1 : 0)
        .Int(5, after.first)
        .Text(6, after.second)
        .Int(7, Limit(f.limit));
    return ReadAll<v1::ConflictRecord>(*stmt, "conflict");
  }
  absl::StatusOr<std::optional<v1::ConflictRecord>> GetConflict(
      const std::string& conflict_id) override {
    return ReadOne<v1::ConflictRecord>(kGetConflict, conflict_id, "conflict");
  }
  absl::StatusOr<std::optional<v1::TicketLease>> GetLease(const std::string& lease_id) override {
    return ReadOne<v1::TicketLease>(kGetLease, lease_id, "ticket lease");
  }
  absl::StatusOr<std::vector<v1::TicketLease>> ListLeases(const std::string& device_id) override {
    return ReadByKey<v1::TicketLease>(kListLeases, device_id, "ticket lease");
  }
  absl::StatusOr<int64_t> HighestLeasedNumber() override { return QueryInt(kHighestLeased); }
  absl::StatusOr<std::map<int32_t, int64_t>> CaseNumberCounters() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kCaseNumberCounters));
    std::map<int32_t, int64_t> counters;
    for (;;) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      counters[static_cast<int32_t>(stmt->ColumnInt(0))] = stmt->ColumnInt(1);
    }
    return counters;
  }
  absl::StatusOr<std::optional<v1::TicketLease>> LeaseOverlapping(int64_t first,
                                                                  int64_t last) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLeaseOverlapping));
    stmt->Int(1, first).Int(2, last);
    return ReadFirst<v1::TicketLease>(*stmt, "ticket lease");
  }
  absl::StatusOr<int64_t> HighestUsedTicketNumber(int64_t first, int64_t last) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kHighestUsedTicket));
    stmt->Int(1, first).Int(2, last);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? stmt->ColumnInt(0) : 0;
  }
  absl::StatusOr<uint64_t> HighestServerSeq() override {
    PALM_ASSIGN_OR_RETURN(int64_t seq, QueryInt(kHighestSeq));
    return static_cast<uint64_t>(seq);
  }
  absl::StatusOr<uint64_t> CountChanges(uint64_t after, uint64_t up_to,
                                        const std::vector<std::string>& scopes) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kCountChanges));
    BindRange(*stmt, after, up_to, scopes);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? static_cast<uint64_t>(stmt->ColumnInt(0)) : 0;
  }
  absl::StatusOr<std::vector<v1::Change>> ReadChanges(uint64_t after, uint64_t up_to,
                                                      const std::vector<std::string>& scopes,
                                                      uint32_t limit) override {
    struct Row {
      uint64_t seq;
      EntityKind kind;
      std::string id;
    };
    std::vector<Row> rows;
    {
      PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kReadChanges));
      BindRange(*stmt, after, up_to, scopes);
      stmt->Int(6, limit);
      while (true) {
        PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
        if (!row) break;
        rows.push_back({static_cast<uint64_t>(stmt->ColumnInt(0)),
                        static_cast<EntityKind>(stmt->ColumnInt(1)), stmt->ColumnText(2)});
      }
    }
    std::vector<v1::Change> changes;
    changes.reserve(rows.size());
    for (const Row& row : rows) {
      v1::Change change;
      change.set_server_seq(row.seq);
      if (auto s = FillEntity(row.kind, row.id, &change); !s.ok()) return s;
      changes.push_back(std::move(change));
    }
    return changes;
  }

  // --- WriteTxn ---
  absl::Status PutCase(CaseRecord record) override {
    const v1::Case& c = record.value;
    // Into buffers kept across calls: a case row is a kilobyte or two, and a
    // fresh allocation that size made malloc sweep its free lists each time.
    if (!c.SerializeToString(&case_body_)) return absl::InternalError("a case cannot be encoded");
    EncodeStamps(record.stamps, &case_stamps_);
    absl::Status stored;
    if (StoredWithSameKeys(c)) {
      PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kUpdateCaseBody));
      stmt->Text(1, c.case_id()).Int(2, c.state()).Blob(3, case_body_).Blob(4, case_stamps_);
      stored = stmt->Run();
      if (stored.ok() && sqlite3_changes(conn_->db()) != 1) {
        stored = absl::InternalError(
            absl::StrCat("case ", c.case_id(), " was cached as stored but its row is missing"));
      }
    } else {
      PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutCase));
      stmt->Text(1, c.case_id())
          .Text(2, c.case_number())
          .Text(3, c.town_id())
          .Text(4, c.squad_id())
          .Int(5, c.state())
          .Int(6, c.created_at_ms())
          .Blob(7, case_body_)
          .Blob(8, case_stamps_);
      stored = stmt->Run();
    }
    if (!stored.ok()) {
      ForgetCached();
      return stored;
    }
    if (writer_caches_) RememberCaseRow(c, &record);
    return absl::OkStatus();
  }
  absl::Status PutEvidence(const v1::Evidence& e) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutEvidence));
    stmt->Text(1, e.evidence_id()).Text(2, e.case_id()).Blob(3, e.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutTicket(const v1::Ticket& t) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutTicket));
    stmt->Text(1, t.ticket_id())
        .Text(2, t.case_id())
        .Int(3, t.ticket_number())
        .Blob(4, t.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutNoPenalty(const v1::NoPenaltyDecision& d) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutNoPenalty));
    stmt->Text(1, d.decision_id()).Text(2, d.case_id()).Blob(3, d.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutEvent(const v1::CaseEvent& e) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutEvent));
    stmt->Text(1, e.event_id())
        .Text(2, e.case_id())
        .Int(3, e.at_ms())
        .Blob(4, e.SerializeAsString());
    return stmt->Run();
  }
  absl::StatusOr<std::string> AddPriorViolation(const v1::PriorViolation& v,
                                                const std::string& case_id) override {
    std::string entity_id = absl::StrCat(v.party_key(), "/", v.matter_code(), "/", case_id);
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutPrior));
    stmt->Text(1, entity_id)
        .Text(2, v.party_key())
        .Text(3, v.matter_code())
        .Text(4, case_id)
        .Blob(5, v.SerializeAsString())
        .Text(6, v.key_id());
    if (auto s = stmt->Run(); !s.ok()) return s;
    return entity_id;
  }
  absl::Status ClearPriorRecheck(const std::string& case_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kClearPriorRecheck));
    stmt->Text(1, case_id);
    return stmt->Run();
  }
  absl::Status ReplacePriorViolation(const std::string& entity_id,
                                     const v1::PriorViolation& v) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kReplacePrior));
    stmt->Text(1, entity_id)
        .Text(2, v.party_key())
        .Blob(3, v.SerializeAsString())
        .Text(4, v.key_id());
    if (auto s = stmt->Run(); !s.ok()) return s;
    if (sqlite3_changes(conn_->db()) == 0) {
      return absl::NotFoundError(absl::StrCat("no prior violation ", entity_id, " is stored"));
    }
    return absl::OkStatus();
  }
  absl::Status PutCatalog(const v1::Catalog& catalog) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutCatalog));
    stmt->Int(1, catalog.version()).Blob(2, catalog.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutTown(const v1::Town& town) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutTown));
    stmt->Text(1, town.town_id()).Blob(2, town.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutSquad(const v1::Squad& squad) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutSquad));
    stmt->Text(1, squad.squad_id()).Text(2, squad.town_id()).Blob(3, squad.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutOfficer(const v1::Officer& o) override {
    officers_.erase(o.officer_id());
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutOfficer));
    stmt->Text(1, o.officer_id())
        .Text(2, o.town_id())
        .Text(3, o.squad_id())
        .Blob(4, o.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutDevice(const v1::Device& d) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutDevice));
    stmt->Text(1, d.device_id())
        .Text(2, d.town_id())
        .Text(3, d.squad_id())
        .Blob(4, d.SerializeAsString());
    if (auto s = stmt->Run(); !s.ok()) return s;
    if (on_device_put_) OnCommit([this, d] { on_device_put_(d); });
    return absl::OkStatus();
  }
  absl::Status PutLease(const v1::TicketLease& lease) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutLease));
    stmt->Text(1, lease.lease_id())
        .Text(2, lease.device_id())
        .Int(3, lease.first_number())
        .Int(4, lease.last_number())
        .Blob(5, lease.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutConflict(const v1::ConflictRecord& c) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutConflict));
    stmt->Text(1, c.loss().conflict_id())
        .Text(2, c.loss().case_id())
        .Int(3, c.recorded_at_ms())
        .Int(4, c.resolved() ? 1 : 0)
        .Blob(5, c.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutDeviceReport(const std::string& device_id, const DeviceReport& r) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutDeviceReport));
    stmt->Text(1, device_id)
        .Int(2, static_cast<int64_t>(r.pending_mutations))
        .Int(3, static_cast<int64_t>(r.pending_uploads))
        .Int(4, r.ticket_numbers_left)
        .Int(5, r.reported_at_ms);
    return stmt->Run();
  }
  absl::StatusOr<int64_t> NextCaseNumber(int year) override {
    if (writer_caches_) {
      if (auto it = case_counters_.find(year); it != case_counters_.end()) {
        PALM_ASSIGN_OR_RETURN(auto set, conn_->Prepare(kSetCaseNumber));
        if (auto s = set->Int(1, year).Int(2, it->second + 1).Run(); !s.ok()) {
          ForgetCached();
          return s;
        }
        return ++it->second;
      }
    }
    {
      PALM_ASSIGN_OR_RETURN(auto bump, conn_->Prepare(kBumpCaseNumber));
      if (auto s = bump->Int(1, year).Run(); !s.ok()) return s;
    }
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetCaseNumber));
    stmt->Int(1, year);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return absl::InternalError("the case number counter returned nothing");
    int64_t next = stmt->ColumnInt(0);
    if (auto s = stmt->Run(); !s.ok()) return s;
    if (writer_caches_) case_counters_[year] = next;
    return next;
  }
  absl::Status RaiseCaseNumberCounter(int year, int64_t last) override {
    PALM_ASSIGN_OR_RETURN(auto raise, conn_->Prepare(kRaiseCaseNumber));
    if (auto s = raise->Int(1, year).Int(2, last).Run(); !s.ok()) {
      ForgetCached();
      return s;
    }
    if (auto it = case_counters_.find(year); it != case_counters_.end()) {
      it->second = std::max(it->second, last);
    }
    return absl::OkStatus();
  }
  absl::Status PutDeviceLog(const DeviceLogEntry& e) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutDeviceLog));
    stmt->Text(1, e.device_id)
        .Int(2, static_cast<int64_t>(e.device_seq))
        .Text(3, e.mutation_id)
        .Text(4, e.digest)
        .Int(5, e.result.outcome())
        .Blob(6, e.result.SerializeAsString());
    if (e.mutation) {
      stmt->Blob(7, e.mutation->SerializeAsString());
    } else {
      stmt->Null(7);
    }
    stmt->Int(8, e.recorded_at_ms)
        .Int(9, e.dismissed ? 1 : 0)
        .Text(10, e.dismissed_by)
        .Text(11, e.note);
    return stmt->Run();
  }
  absl::Status AdvanceDeviceSync(const std::string& device_id, uint64_t acked_seq,
                                 int64_t at_ms) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kAdvanceDeviceSync));
    stmt->Text(1, device_id).Int(2, static_cast<int64_t>(acked_seq)).Int(3, at_ms);
    return stmt->Run();
  }
  absl::Status PutRejectedReview(const DeviceLogEntry& e) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutRejectedReview));
    stmt->Text(1, e.device_id)
        .Int(2, static_cast<int64_t>(e.device_seq))
        .Int(3, e.dismissed ? 1 : 0)
        .Text(4, e.dismissed_by)
        .Text(5, e.note);
    return stmt->Run();
  }
  absl::StatusOr<uint64_t> AppendChange(EntityKind kind, const std::string& entity_id,
                                        const std::string& scope) override {
    // A case logged already by this transaction, in the same scope, stays
    // where it is: every cursor any reader holds lies below the
    // transaction's first position, and readers see the transaction whole,
    // so moving the entry again would change nothing a pull can observe
    // (store.h). Cases are what one batch changes again and again (edits,
    // moves, tickets); the case cache holds the position.
    CachedCase* cached = nullptr;
    if (writer_caches_ && kind == EntityKind::kCase) {
      auto it = cases_.find(entity_id);
      if (it != cases_.end()) {
        cached = &it->second;
        if (cached->logged_seq != 0 && cached->logged_scope == scope) return cached->logged_seq;
      }
    }
    uint64_t seq = 0;
    if (writer_caches_ && change_head_) {
      seq = *change_head_ + 1;
    } else {
      PALM_ASSIGN_OR_RETURN(auto highest, conn_->Prepare(kHighestSeq));
      PALM_ASSIGN_OR_RETURN(bool row, highest->Step());
      if (!row) return absl::InternalError("reading the change log's head returned nothing");
      seq = static_cast<uint64_t>(highest->ColumnInt(0)) + 1;
      if (auto s = highest->Run(); !s.ok()) return s;
    }
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kAppendChange));
    stmt->Int(1, static_cast<int64_t>(seq))
        .Int(2, static_cast<int>(kind))
        .Text(3, entity_id)
        .Text(4, scope);
    if (auto s = stmt->Run(); !s.ok()) {
      ForgetCached();
      return s;
    }
    if (writer_caches_) {
      change_head_ = seq;
      if (cached != nullptr) {
        cached->logged_seq = seq;
        cached->logged_scope = scope;
      }
    }
    return seq;
  }
  void OnCommit(std::function<void()> fn) override { hooks_.push_back(std::move(fn)); }

  // --- Security (issue 5). ---
  absl::StatusOr<const AuditHead*> LastAuditHead() override {
    if (writer_caches_ && audit_head_known_) return audit_head_ ? &*audit_head_ : nullptr;
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLastAuditHead));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    audit_head_.reset();
    if (row) {
      AuditHead head;
      head.seq = static_cast<uint64_t>(stmt->ColumnInt(0));
      head.hash = stmt->ColumnText(1);
      // A stored hash that is not a digest is chained to as text.
      if (auto digest = sync::HexDecodeDigest(head.hash); digest.ok()) head.digest = *digest;
      audit_head_ = std::move(head);
    }
    if (auto s = stmt->Run(); !s.ok()) return s;
    audit_head_known_ = writer_caches_;
    return audit_head_ ? &*audit_head_ : nullptr;
  }
  absl::StatusOr<std::vector<AuditEntry>> ReadAudit(uint64_t after_seq, uint32_t limit) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kReadAudit));
    stmt->Int(1, static_cast<int64_t>(after_seq)).Int(2, limit);
    std::vector<AuditEntry> entries;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      entries.push_back(ReadAuditRow(*stmt));
    }
    return entries;
  }
  absl::StatusOr<std::optional<OfficerCredential>> GetCredential(
      const std::string& officer_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetCredential));
    stmt->Text(1, officer_id);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<OfficerCredential>();
    OfficerCredential c;
    c.officer_id = stmt->ColumnText(0);
    c.salt = stmt->ColumnBlob(1);
    c.hash = stmt->ColumnBlob(2);
    c.log2_n = static_cast<uint32_t>(stmt->ColumnInt(3));
    c.r = static_cast<uint32_t>(stmt->ColumnInt(4));
    c.p = static_cast<uint32_t>(stmt->ColumnInt(5));
    c.offline_salt = stmt->ColumnBlob(6);
    c.failed_attempts = static_cast<int>(stmt->ColumnInt(7));
    c.locked_until_ms = stmt->ColumnInt(8);
    return std::optional<OfficerCredential>(std::move(c));
  }
  absl::Status InsertAudit(const AuditEntry& e, const sync::Sha256Digest& digest) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kInsertAudit));
    stmt->Int(1, static_cast<int64_t>(e.seq))
        .Int(2, e.at_ms)
        .Text(3, e.actor)
        .Text(4, e.action)
        .Text(5, e.subject)
        .Text(6, e.details)
        .Text(7, e.prev_hash)
        .Text(8, e.hash);
    if (auto s = stmt->Run(); !s.ok()) {
      audit_head_known_ = false;
      return s;
    }
    if (writer_caches_) {
      if (!audit_head_) audit_head_.emplace();
      audit_head_->seq = e.seq;
      audit_head_->hash = e.hash;
      audit_head_->digest = digest;
      audit_head_known_ = true;
    }
    return absl::OkStatus();
  }
  absl::Status PutCredential(const OfficerCredential& c) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutCredential));
    stmt->Text(1, c.officer_id)
        .Blob(2, c.salt)
        .Blob(3, c.hash)
        .Int(4, c.log2_n)
        .Int(5, c.r)
        .Int(6, c.p)
        .Blob(7, c.offline_salt)
        .Int(8, c.failed_attempts)
        .Int(9, c.locked_until_ms);
    return stmt->Run();
  }
  absl::StatusOr<std::vector<EndedSession>> ListEndedSessions(int64_t now_ms) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListEndedSessions));
    stmt->Int(1, now_ms);
    std::vector<EndedSession> sessions;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      sessions.push_back({.token_id = stmt->ColumnText(0),
                          .officer_id = stmt->ColumnText(1),
                          .reason = stmt->ColumnText(2),
                          .ended_at_ms = stmt->ColumnInt(3),
                          .expires_at_ms = stmt->ColumnInt(4)});
    }
    return sessions;
  }
  absl::StatusOr<bool> EndSession(const EndedSession& e) override {
    PALM_ASSIGN_OR_RETURN(auto forget, conn_->Prepare(kForgetEndedSessions));
    forget->Int(1, e.ended_at_ms);
    if (auto s = forget->Run(); !s.ok()) return s;
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kInsertEndedSession));
    stmt->Text(1, e.token_id)
        .Text(2, e.officer_id)
        .Text(3, e.reason)
        .Int(4, e.ended_at_ms)
        .Int(5, e.expires_at_ms);
    if (auto s = stmt->Run(); !s.ok()) return s;
    return sqlite3_changes(conn_->db()) == 1;
  }
  // --- Evidence log (issue 6). ---
  absl::StatusOr<std::optional<std::string>> GetLogNode(uint32_t level, uint64_t index) override {
    if (writer_caches_ && level < log_edge_.size() && log_edge_[level].known &&
        log_edge_[level].index == index) {
      return std::optional<std::string>(log_edge_[level].hash);
    }
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetLogNode));
    stmt->Int(1, level).Int(2, static_cast<int64_t>(index));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(stmt->ColumnBlob(0));
  }
  absl::StatusOr<uint64_t> LogSize() override {
    if (writer_caches_ && log_size_) return *log_size_;
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLogSize));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    const uint64_t size = row ? static_cast<uint64_t>(stmt->ColumnInt(0)) : 0;
    if (writer_caches_) log_size_ = size;
    return size;
  }
  absl::StatusOr<std::optional<LogLeaf>> GetLogLeaf(uint64_t leaf_index) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetLogLeaf));
    stmt->Int(1, static_cast<int64_t>(leaf_index));
    PALM_ASSIGN_OR_RETURN(auto leaves, ReadLeaves(*stmt));
    if (leaves.empty()) return std::optional<LogLeaf>();
    return std::optional<LogLeaf>(std::move(leaves.front()));
  }
  absl::StatusOr<std::optional<LogLeaf>> GetLogLeafOfEvidence(
      const std::string& evidence_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetLogLeafOfEvidence));
    stmt->Text(1, evidence_id);
    PALM_ASSIGN_OR_RETURN(auto leaves, ReadLeaves(*stmt));
    if (leaves.empty()) return std::optional<LogLeaf>();
    return std::optional<LogLeaf>(std::move(leaves.front()));
  }
  absl::StatusOr<std::vector<LogLeaf>> ListLogLeaves(uint64_t from, uint64_t to) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kListLogLeaves));
    stmt->Int(1, static_cast<int64_t>(from)).Int(2, static_cast<int64_t>(to));
    return ReadLeaves(*stmt);
  }
  absl::StatusOr<std::vector<LogLeaf>> LogLeavesWithContent(const std::string& sha256) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLogLeavesWithContent));
    stmt->Text(1, sha256);
    return ReadLeaves(*stmt);
  }
  absl::StatusOr<std::optional<v1::SignedTreeHead>> LatestTreeHead() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLatestTreeHead));
    return ReadFirst<v1::SignedTreeHead>(*stmt, "tree head");
  }
  absl::StatusOr<std::optional<v1::AuditCheckpoint>> LatestAuditCheckpoint() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLatestAuditCheckpoint));
    return ReadFirst<v1::AuditCheckpoint>(*stmt, "audit checkpoint");
  }
  absl::StatusOr<std::vector<v1::LogTransition>> LogTransitions() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kLogTransitions));
    return ReadAll<v1::LogTransition>(*stmt, "log transition");
  }
  absl::StatusOr<std::vector<std::string>> PriorViolationKeyIds() override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPriorKeyIds));
    return ReadTexts(*stmt);
  }
  absl::StatusOr<std::vector<StoredPriorViolation>> PriorViolationsUnder(
      const std::string& key_id) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPriorsUnder));
    stmt->Text(1, key_id);
    return ReadStoredPriors(*stmt);
  }
  absl::StatusOr<std::optional<BlobRecord>> GetBlob(const std::string& sha256) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kGetBlob));
    stmt->Text(1, sha256);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<BlobRecord>();
    return std::optional<BlobRecord>(BlobRecord{.sha256 = stmt->ColumnText(0),
                                                .size = static_cast<uint64_t>(stmt->ColumnInt(1)),
                                                .stored_at_ms = stmt->ColumnInt(2)});
  }
  absl::Status PutLogNode(uint32_t level, uint64_t index, const std::string& hash) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutLogNode));
    stmt->Int(1, level).Int(2, static_cast<int64_t>(index)).Blob(3, hash);
    if (auto s = stmt->Run(); !s.ok()) return s;
    // A left child (even index) is the sibling the append that completes
    // its parent will read.
    if (writer_caches_ && level < log_edge_.size() && (index & 1) == 0) {
      LogEdgeNode& node = log_edge_[level];
      node.known = true;
      node.index = index;
      node.hash.assign(hash);
    }
    return absl::OkStatus();
  }
  absl::Status PutLogLeaf(const LogLeaf& leaf) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutLogLeaf));
    stmt->Int(1, static_cast<int64_t>(leaf.leaf_index))
        .Text(2, leaf.evidence_id)
        .Text(3, leaf.sha256)
        .Blob(4, leaf.entry);
    if (auto s = stmt->Run(); !s.ok()) return s;
    // The log grows by one at its end; any other index leaves its size to
    // be read again.
    if (log_size_ && leaf.leaf_index == *log_size_) {
      ++*log_size_;
    } else {
      log_size_.reset();
    }
    return absl::OkStatus();
  }
  absl::Status PutTreeHead(const v1::SignedTreeHead& head) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutTreeHead));
    stmt->Int(1, static_cast<int64_t>(head.tree_size())).Blob(2, head.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutAuditCheckpoint(const v1::AuditCheckpoint& checkpoint) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutAuditCheckpoint));
    stmt->Int(1, static_cast<int64_t>(checkpoint.entries()))
        .Blob(2, checkpoint.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutLogTransition(const v1::LogTransition& transition) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutLogTransition));
    stmt->Text(1, transition.to_origin()).Blob(2, transition.SerializeAsString());
    return stmt->Run();
  }
  absl::Status PutBlob(const BlobRecord& blob) override {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(kPutBlob));
    stmt->Text(1, blob.sha256).Int(2, static_cast<int64_t>(blob.size)).Int(3, blob.stored_at_ms);
    return stmt->Run();
  }
  static absl::StatusOr<std::vector<LogLeaf>> ReadLeaves(Statement& stmt) {
    std::vector<LogLeaf> leaves;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return leaves;
      leaves.push_back(LogLeaf{.leaf_index = static_cast<uint64_t>(stmt.ColumnInt(0)),
                               .evidence_id = stmt.ColumnText(1),
                               .sha256 = stmt.ColumnText(2),
                               .entry = stmt.ColumnBlob(3)});
    }
  }

  static AuditEntry ReadAuditRow(const Statement& stmt) {
    AuditEntry e;
    e.seq = static_cast<uint64_t>(stmt.ColumnInt(0));
    e.at_ms = stmt.ColumnInt(1);
    e.actor = stmt.ColumnText(2);
    e.action = stmt.ColumnText(3);
    e.subject = stmt.ColumnText(4);
    e.details = stmt.ColumnText(5);
    e.prev_hash = stmt.ColumnText(6);
    e.hash = stmt.ColumnText(7);
    return e;
  }

 private:
  // A filter's row limit as SQLite's LIMIT takes it (0: none, which is -1).
  static int64_t Limit(uint32_t limit) { return limit == 0 ? -1 : int64_t{limit}; }

  absl::StatusOr<int64_t> QueryInt(const char* sql) {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(sql));
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? stmt->ColumnInt(0) : 0;
  }

  static void BindRange(Statement& stmt, uint64_t after, uint64_t up_to,
                        const std::vector<std::string>& scopes) {
    stmt.Int(1, static_cast<int64_t>(after)).Int(2, static_cast<int64_t>(up_to));
    for (int i = 0; i < 3; ++i) {
      // Fewer than three scopes: repeat the last (IN ignores duplicates).
      static const std::string kNone;
      stmt.Text(3 + i, scopes.empty() ? kNone : scopes[std::min<size_t>(i, scopes.size() - 1)]);
    }
  }

  absl::StatusOr<std::optional<CaseRecord>> ReadCase(const char* sql, const std::string& key) {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(sql));
    stmt->Text(1, key);
    PALM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<CaseRecord>();
    CaseRecord record;
    PALM_ASSIGN_OR_RETURN(record.value, ParseBody<v1::Case>(stmt->ColumnBlob(0), "case"));
    const std::string binary = stmt->ColumnBlob(2);
    if (!binary.empty()) {
      PALM_ASSIGN_OR_RETURN(record.stamps, DecodeStamps(binary));
    } else {
      const std::string json = stmt->ColumnText(1);
      if (!json.empty()) {
        PALM_ASSIGN_OR_RETURN(record.stamps, DecodeJsonStamps(json));
      }
    }
    return std::optional<CaseRecord>(std::move(record));
  }

  template <typename Message>
  absl::StatusOr<std::optional<Message>> ReadFirst(Statement& stmt, absl::string_view what) {
    PALM_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<Message>();
    PALM_ASSIGN_OR_RETURN(Message message, ParseBody<Message>(stmt.ColumnBlob(0), what));
    return std::optional<Message>(std::move(message));
  }

  template <typename Message>
  absl::StatusOr<std::optional<Message>> ReadOne(const char* sql, const std::string& key,
                                                 absl::string_view what) {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(sql));
    stmt->Text(1, key);
    return ReadFirst<Message>(*stmt, what);
  }

  template <typename Message>
  absl::StatusOr<std::vector<Message>> ReadAll(Statement& stmt, absl::string_view what) {
    std::vector<Message> out;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      PALM_ASSIGN_OR_RETURN(Message message, ParseBody<Message>(stmt.ColumnBlob(0), what));
      out.push_back(std::move(message));
    }
    return out;
  }

  static absl::StatusOr<std::vector<std::string>> ReadTexts(Statement& stmt) {
    std::vector<std::string> out;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return out;
      out.push_back(stmt.ColumnText(0));
    }
  }

  // Rows of (entity_id, case_id, body).
  static absl::StatusOr<std::vector<StoredPriorViolation>> ReadStoredPriors(Statement& stmt) {
    std::vector<StoredPriorViolation> rows;
    while (true) {
      PALM_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return rows;
      StoredPriorViolation& r = rows.emplace_back();
      r.entity_id = stmt.ColumnText(0);
      r.case_id = stmt.ColumnText(1);
      PALM_ASSIGN_OR_RETURN(r.value,
                            ParseBody<v1::PriorViolation>(stmt.ColumnBlob(2), "prior violation"));
    }
  }

  template <typename Message>
  absl::StatusOr<std::vector<Message>> ReadByKey(const char* sql, const std::string& key,
                                                 absl::string_view what) {
    PALM_ASSIGN_OR_RETURN(auto stmt, conn_->Prepare(sql));
    stmt->Text(1, key);
    return ReadAll<Message>(*stmt, what);
  }

  absl::StatusOr<DeviceLogEntry> ReadDeviceLog(Statement& stmt) {
    DeviceLogEntry entry;
    entry.device_id = stmt.ColumnText(0);
    entry.device_seq = static_cast<uint64_t>(stmt.ColumnInt(1));
    entry.mutation_id = stmt.ColumnText(2);
    entry.digest = stmt.ColumnText(3);
    PALM_ASSIGN_OR_RETURN(entry.result,
                          ParseBody<v1::MutationResult>(stmt.ColumnBlob(4), "mutation result"));
    if (!stmt.ColumnNull(5)) {
      PALM_ASSIGN_OR_RETURN(entry.mutation,
                            ParseBody<v1::Mutation>(stmt.ColumnBlob(5), "mutation"));
    }
    entry.recorded_at_ms = stmt.ColumnInt(6);
    entry.dismissed = stmt.ColumnInt(7) != 0;
    entry.dismissed_by = stmt.ColumnText(8);
    entry.note = stmt.ColumnText(9);
    return entry;
  }

  // Sets the entity of `change` to the current value of (`kind`, `id`).
  absl::Status FillEntity(EntityKind kind, const std::string& id, v1::Change* change) {
    switch (kind) {
      case EntityKind::kCase: {
        PALM_ASSIGN_OR_RETURN(auto record, GetCase(id));
        if (record) *change->mutable_case_() = std::move(record->value);
        return Found(record.has_value(), kind, id);
      }
      case EntityKind::kEvidence:
        return Fill<v1::Evidence>(kGetEvidence, id, kind, change->mutable_evidence());
      case EntityKind::kTicket:
        return Fill<v1::Ticket>(kGetTicket, id, kind, change->mutable_ticket());
      case EntityKind::kNoPenalty:
        return Fill<v1::NoPenaltyDecision>(kGetNoPenalty, id, kind, change->mutable_no_penalty());
      case EntityKind::kEvent:
        return Fill<v1::CaseEvent>(kGetEvent, id, kind, change->mutable_event());
      case EntityKind::kCatalog: {
        PALM_ASSIGN_OR_RETURN(auto catalog, CurrentCatalog());
        if (catalog) *change->mutable_catalog() = std::move(*catalog);
        return Found(catalog.has_value(), kind, id);
      }
      case EntityKind::kOfficer:
        return Fill<v1::Officer>(kGetOfficer, id, kind, change->mutable_officer());
      case EntityKind::kTown:
        return Fill<v1::Town>(kGetTown, id, kind, change->mutable_town());
      case EntityKind::kSquad:
        return Fill<v1::Squad>(kGetSquad, id, kind, change->mutable_squad());
      case EntityKind::kPriorViolation: {
        v1::PriorViolation* v = change->mutable_prior_violation();
        PALM_RETURN_IF_ERROR(Fill<v1::PriorViolation>(kGetPrior, id, kind, v));
        // Records from before violation ids get one from their entity id, so
        // that devices keep them apart and a later change replaces each.
        if (v->violation_id().empty()) v->set_violation_id(sync::StoredViolationId(id));
        return absl::OkStatus();
      }
      case EntityKind::kTicketLease:
        return Fill<v1::TicketLease>(kGetLease, id, kind, change->mutable_ticket_lease());
    }
    return absl::DataLossError(
        absl::StrCat("the change log names an unknown entity kind ", static_cast<int>(kind)));
  }

  template <typename Message>
  absl::Status Fill(const char* sql, const std::string& id, EntityKind kind, Message* out) {
    PALM_ASSIGN_OR_RETURN(auto value, ReadOne<Message>(sql, id, "entity"));
    if (value) *out = std::move(*value);
    return Found(value.has_value(), kind, id);
  }

  static absl::Status Found(bool found, EntityKind kind, const std::string& id) {
    if (found) return absl::OkStatus();
    return absl::DataLossError(absl::StrCat("the change log names entity ", static_cast<int>(kind),
                                            "/", id, " which is not stored"));
  }

  Connection* conn_;
  std::function<void(const v1::Device&)> on_device_put_;
  std::vector<std::function<void()>> hooks_;
  // Notes that the cases row of `c` holds what `c` holds, and keeps
  // `*record` (moved from, when given; `c` may be its value) for the next
  // GetCase.
  void RememberCaseRow(const v1::Case& c, CaseRecord* record) {
    if (cases_.size() >= kCachedCases) cases_.clear();
    CachedCase& row = cases_[c.case_id()];
    row.case_number = c.case_number();
    row.town_id = c.town_id();
    row.squad_id = c.squad_id();
    if (record != nullptr) {
      row.record = std::move(*record);
    } else {
      row.record.reset();
    }
  }
  // True when this transaction knows the row of `c` exists with the same
  // number, town and squad (so PutCase may rewrite just the rest).
  bool StoredWithSameKeys(const v1::Case& c) const {
    if (!writer_caches_) return false;
    auto it = cases_.find(c.case_id());
    return it != cases_.end() && it->second.case_number == c.case_number() &&
           it->second.town_id == c.town_id() && it->second.squad_id == c.squad_id();
  }

  static constexpr size_t kCachedCases = 4096;
  bool writer_caches_ = false;
  // The audit log's head, while audit_head_known_ (writer caches only).
  std::optional<AuditHead> audit_head_;
  bool audit_head_known_ = false;
  std::optional<uint64_t> change_head_;
  // A case row this transaction read or wrote: the indexed columns the row
  // holds, the record itself unless GetCase has handed it out, and where
  // this transaction logged the case (AppendChange), if it did.
  struct CachedCase {
    std::string case_number;
    std::string town_id;
    std::string squad_id;
    std::optional<CaseRecord> record;
    uint64_t logged_seq = 0;
    std::string logged_scope;
  };
  std::unordered_map<std::string, CachedCase> cases_;
  // The last case number of each year, once read (NextCaseNumber).
  std::map<int, int64_t> case_counters_;
  // PutCase's encoding buffers, reused.
  std::string case_body_;
  std::string case_stamps_;
  // The evidence log's size and, per level, the last left child (even
  // index) put: the right edge of the tree, which is all a Merkle append
  // reads (the left sibling of each subtree it completes).
  struct LogEdgeNode {
    bool known = false;
    uint64_t index = 0;
    std::string hash;
  };
  std::optional<uint64_t> log_size_;
  std::array<LogEdgeNode, 64> log_edge_;
  // Read through GetOfficer (absent ones too); PutOfficer drops its entry.
  std::unordered_map<std::string, std::optional<v1::Officer>> officers_;
};

}  // namespace palm::server::sqlite_internal

#endif  // PALM_SERVER_SQLITE_TXN_H_
