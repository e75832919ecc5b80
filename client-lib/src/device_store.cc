// DeviceStore: opening the database (schema migrations, the device's key
// check), transactions, and the local write path — a mutation filled in,
// checked against the rules the server applies, applied to the rows and
// appended to the outbox — with the row loaders and putters every part of
// the store uses. Applying what the server sends is device_store+server.cc;
// queries and evidence uploads are device_store+queries.cc.
#include "client-lib/src/device_store.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client-lib/src/device_store_sql.h"
#include "client-lib/src/macros.h"
#include "client-lib/src/schema.h"
#include "sync/delegation.h"
#include "sync/lifecycle.h"
#include "sync/limitation.h"
#include "sync/mutation.h"
#include "sync/no_penalty.h"
#include "sync/notice.h"
#include "sync/operations.h"
#include "sync/payment.h"
#include "sync/request_check.h"
#include "sync/rules.h"
#include "sync/service.h"
#include "sync/status.h"
#include "sync/uuid.h"

namespace palm::internal {
namespace {

constexpr char kKeyCheckPlaintext[] = "palm device store key check";

// Loads the record `id` with `select_sql` (which selects its proto), or
// nullopt when it is not on this device.
template <typename Message>
absl::StatusOr<std::optional<Message>> LoadRecord(Db& db, const char* select_sql,
                                                  const std::string& id) {
  PALM_ASSIGN_OR_RETURN(Statement select, db.Prepare(select_sql));
  select.Bind(1, id);
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::nullopt;
  PALM_ASSIGN_OR_RETURN(Message record, Parse<Message>(select.Blob(0), "record"));
  return record;
}

// The officers a write names, as far as the device's synced roster (its own
// town's officers) knows them.
struct Roster {
  std::vector<v1::Officer> officers;
  sync::OfficerLookup Lookup() const {
    return [this](const std::string& id) -> const v1::Officer* {
      for (const v1::Officer& o : officers) {
        if (o.officer_id() == id) return &o;
      }
      return nullptr;
    };
  }
};

// Loads the officers `ids` (any container of std::string) that are on the
// device's roster.
template <typename Ids>
absl::StatusOr<Roster> LoadRoster(Db& db, const Ids& ids) {
  Roster roster;
  PALM_ASSIGN_OR_RETURN(Statement select, db.Prepare(sql::kSelectOfficer));
  for (const std::string& id : ids) {
    select.Bind(1, id);
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) {
      PALM_ASSIGN_OR_RETURN(v1::Officer o, Parse<v1::Officer>(select.Blob(0), "officer"));
      roster.officers.push_back(std::move(o));
    }
    select.Reset();
  }
  return roster;
}

absl::Status UnknownCase(absl::string_view case_id) {
  return sync::Refuse(absl::StatusCode::kNotFound, v1::REASON_UNKNOWN_CASE,
                      absl::StrCat("case ", case_id, " is not on this device"));
}

// Returns the party of `c` called `party_id`, or the only party when
// `party_id` is empty and there is exactly one.
const v1::Party* FindParty(const v1::Case& c, absl::string_view party_id) {
  if (party_id.empty()) return c.parties_size() == 1 ? &c.parties(0) : nullptr;
  for (const v1::Party& p : c.parties()) {
    if (p.party_id() == party_id) return &p;
  }
  return nullptr;
}

std::string TicketNumberText(absl::string_view prefix, int64_t number) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%06" PRId64, number);
  return absl::StrCat(prefix, digits);
}

}  // namespace

DeviceStore::DeviceStore(std::unique_ptr<Db> db, std::unique_ptr<Checkpointer> checkpointer,
                         std::unique_ptr<WalDurability> wal, bool durable_writes,
                         std::string device_id, const std::array<uint8_t, 32>& key,
                         std::function<int64_t()> now_ms)
    : db_(std::move(db)),
      checkpointer_(std::move(checkpointer)),
      wal_(std::move(wal)),
      durable_writes_(durable_writes),
      device_id_(std::move(device_id)),
      aead_(key),
      now_ms_(std::move(now_ms)),
      clock_(now_ms_) {}

DeviceStore::~DeviceStore() {
  // Joins the checkpoint thread and removes its hook while db_ is open; db_,
  // the last connection to close, then checkpoints and removes the WAL.
  checkpointer_.reset();
}

absl::StatusOr<std::unique_ptr<DeviceStore>> DeviceStore::Open(StoreOptions options) {
  if (options.path.empty()) {
    return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT, "a database path is required");
  }
  if (!options.now_ms) options.now_ms = sync::SystemNowMs;
  PALM_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(options.path, /*read_only=*/false));

  // Look at the schema version before changing anything, so that a database
  // from a newer Palm is left exactly as it was.
  {
    PALM_ASSIGN_OR_RETURN(Statement has, db->Prepare(kHasMigrationsTable));
    PALM_ASSIGN_OR_RETURN(bool row, has.Step());
    if (row && has.Int(0) > 0) {
      PALM_ASSIGN_OR_RETURN(Statement max, db->Prepare(kMaxMigration));
      PALM_ASSIGN_OR_RETURN(bool got, max.Step());
      int64_t version = got ? max.Int(0) : 0;
      if (version > kLatestSchemaVersion) {
        return sync::FailedPrecondition(
            v1::REASON_SCHEMA_TOO_NEW,
            absl::StrCat("database ", options.path, " has schema version ", version,
                         ", newer than this Palm library understands (", kLatestSchemaVersion,
                         "); update the app — the database was not changed"));
      }
    }
  }

  PALM_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode = WAL"));
  // Never FULL: durable writes sync the WAL after their commit, sharing the
  // sync with concurrent writers (MakeDurable, wal_vfs.h). NORMAL still
  // syncs before and after every checkpoint.
  PALM_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = NORMAL"));
  PALM_RETURN_IF_ERROR(db->Exec("PRAGMA secure_delete = ON"));
  PALM_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = OFF"));
  PALM_RETURN_IF_ERROR(db->Exec(kCreateMigrationsTable));

  // Forward-only migrations, each in its own transaction.
  int64_t current = 0;
  {
    PALM_ASSIGN_OR_RETURN(Statement max, db->Prepare(kMaxMigration));
    PALM_ASSIGN_OR_RETURN(bool got, max.Step());
    current = got ? max.Int(0) : 0;
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= current) continue;
    Transaction tx(*db);
    PALM_RETURN_IF_ERROR(tx.status());
    PALM_RETURN_IF_ERROR(db->Exec(migration.sql));
    {
      PALM_ASSIGN_OR_RETURN(Statement record, db->Prepare(kRecordMigration));
      PALM_RETURN_IF_ERROR(record.Bind(1, migration.version).Bind(2, options.now_ms()).Run());
    }
    PALM_RETURN_IF_ERROR(
        db->Exec(absl::StrCat("PRAGMA user_version = ", migration.version).c_str()));
    PALM_RETURN_IF_ERROR(tx.Commit());
  }

  // The device this database belongs to, and proof that the key opens it.
  Aead aead(options.key);
  std::string device_id = options.device_id;
  sync::HlcStamp last_stamp;
  {
    PALM_ASSIGN_OR_RETURN(Statement load, db->Prepare(sql::kLoadDeviceState));
    PALM_ASSIGN_OR_RETURN(bool row, load.Step());
    if (row) {
      std::string stored = load.Text(0);
      if (!device_id.empty() && device_id != stored) {
        return sync::FailedPrecondition(
            v1::REASON_WRONG_DEVICE, absl::StrCat("database ", options.path, " belongs to device ",
                                                  stored, ", not ", device_id));
      }
      device_id = stored;
      last_stamp.wall_ms = load.Int(2);
      last_stamp.logical = static_cast<uint32_t>(load.Int(3));
      absl::StatusOr<std::string> check = aead.Open(load.Blob(4), KeyCheckAad(device_id));
      if (!check.ok() || *check != kKeyCheckPlaintext) {
        return sync::Refuse(
            absl::StatusCode::kPermissionDenied, v1::REASON_PERMISSION_DENIED,
            absl::StrCat("the key from the key provider does not open database ", options.path));
      }
    } else {
      if (device_id.empty()) {
        return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT,
                                     "a device id is required to create a new database");
      }
      PALM_ASSIGN_OR_RETURN(std::string check,
                            aead.Seal(kKeyCheckPlaintext, KeyCheckAad(device_id)));
      PALM_ASSIGN_OR_RETURN(Statement init, db->Prepare(sql::kInitDeviceState));
      PALM_RETURN_IF_ERROR(init.Bind(1, device_id).BindBlob(2, check).Run());
    }
  }

  // The migrations and device state above, on the disk before Open returns.
  PALM_ASSIGN_OR_RETURN(std::unique_ptr<WalDurability> wal, WalDurability::Of(db->raw()));
  if (options.synchronous_full) PALM_RETURN_IF_ERROR(wal->Sync());

  // From here on commits leave checkpoints to the checkpointer's thread.
  PALM_ASSIGN_OR_RETURN(std::unique_ptr<Checkpointer> checkpointer,
                        Checkpointer::Start(options.path, *db));
  std::unique_ptr<DeviceStore> store(new DeviceStore(std::move(db), std::move(checkpointer),
                                                     std::move(wal), options.synchronous_full,
                                                     device_id, options.key, options.now_ms));
  store->clock_.Restore(last_stamp);
  {
    std::lock_guard<std::mutex> lock(store->mutex_);
    PALM_RETURN_IF_ERROR(store->LoadPartyKeyLocked());
  }
  return store;
}

absl::Status DeviceStore::RunInTransaction(const std::function<absl::Status()>& body) {
  PALM_RETURN_IF_ERROR(CanWrite());
  Transaction tx(*db_);
  PALM_RETURN_IF_ERROR(tx.status());
  PALM_RETURN_IF_ERROR(body());
  PALM_RETURN_IF_ERROR(tx.Commit());
  return MakeDurable();
}

absl::Status DeviceStore::SetActingOfficer(const std::string& officer_id) {
  if (officer_id.empty()) {
    return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT, "an officer id is required");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement count, db_->Prepare(sql::kCountOfficers));
  PALM_ASSIGN_OR_RETURN(bool row, count.Step());
  if (row && count.Int(0) > 0) {
    PALM_ASSIGN_OR_RETURN(std::vector<v1::Officer> found, LoadOfficersLocked({officer_id}));
    if (found.empty()) {
      return sync::FailedPrecondition(
          v1::REASON_UNKNOWN_OFFICER,
          absl::StrCat("officer ", officer_id, " is not on this device's roster; sync first"));
    }
  }
  acting_officer_ = officer_id;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// The local write path.

absl::StatusOr<v1::Mutation> DeviceStore::Write(v1::Mutation m, const std::string& evidence_path) {
  PALM_ASSIGN_OR_RETURN(m, CommitWrite(std::move(m), evidence_path));
  // Outside mutex_: while this waits for the disk, other writers commit, and
  // one sync covers them all.
  PALM_RETURN_IF_ERROR(MakeDurable());
  return m;
}

absl::StatusOr<v1::Mutation> DeviceStore::CommitWrite(v1::Mutation m,
                                                      const std::string& evidence_path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (acting_officer_.empty()) {
    return sync::FailedPrecondition(
        v1::REASON_UNKNOWN_OFFICER,
        "no officer is signed in on this device: call SetActingOfficer first");
  }
  if (m.operation_case() == v1::Mutation::OPERATION_NOT_SET) {
    return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT, "the mutation has no operation");
  }
  // What the server would refuse is never stored (sync/request_check.h).
  PALM_RETURN_IF_ERROR(sync::CheckMutation(m));
  PALM_RETURN_IF_ERROR(CanWrite());
  Transaction tx(*db_);
  PALM_RETURN_IF_ERROR(tx.status());
  {
    PALM_ASSIGN_OR_RETURN(Statement last, db_->Prepare(sql::kLastSeq));
    PALM_ASSIGN_OR_RETURN(bool row, last.Step());
    if (!row) return absl::InternalError("device_state row is missing");
    m.set_device_seq(static_cast<uint64_t>(last.Int(0)) + 1);
  }
  m.set_mutation_id(sync::NewUuidV7(NowMs()));
  m.set_device_id(device_id_);
  m.set_officer_id(acting_officer_);
  *m.mutable_hlc() = clock_.Now().ToProto();

  PALM_RETURN_IF_ERROR(PrepareLocked(&m));
  PALM_RETURN_IF_ERROR(sync::CheckMutationShape(m));
  PALM_RETURN_IF_ERROR(CheckRulesLocked(m));
  PALM_RETURN_IF_ERROR(ApplyMutationLocked(m, evidence_path));
  PALM_RETURN_IF_ERROR(AppendOutboxLocked(m));
  PALM_RETURN_IF_ERROR(tx.Commit());
  return m;
}

absl::Status DeviceStore::PrepareLocked(v1::Mutation* m) {
  const int64_t now = NowMs();
  switch (m->operation_case()) {
    case v1::Mutation::kRecordCase: {
      v1::Case* c = m->mutable_record_case()->mutable_case_();
      if (c->case_id().empty()) c->set_case_id(sync::NewUuidV7(now));
      c->set_case_number("");
      c->set_state(sync::InitialState(c->procedure()));
      c->set_created_by_device(device_id_);
      c->set_created_by_officer(m->officer_id());
      c->set_created_at_ms(now);
      if (c->occurred_at_ms() == 0) c->set_occurred_at_ms(now);
      if (c->officer_ids().empty()) c->add_officer_ids(m->officer_id());
      if (c->town_id().empty()) c->set_town_id(c->place().town_id());
      if (c->place().town_id().empty()) c->mutable_place()->set_town_id(c->town_id());
      *c->mutable_state_hlc() = m->hlc();
      for (v1::Party& p : *c->mutable_parties()) {
        if (p.party_id().empty()) p.set_party_id(sync::NewUuidV7(now));
      }
      return absl::OkStatus();
    }
    case v1::Mutation::kAddEvidence: {
      v1::Evidence* e = m->mutable_add_evidence()->mutable_evidence();
      if (e->evidence_id().empty()) e->set_evidence_id(sync::NewUuidV7(now));
      e->set_device_id(device_id_);
      e->set_officer_id(m->officer_id());
      if (e->captured_at_ms() == 0) e->set_captured_at_ms(now);
      return absl::OkStatus();
    }
    case v1::Mutation::kIssueTicket: {
      v1::Ticket* t = m->mutable_issue_ticket()->mutable_ticket();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(t->case_id()));
      PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
      for (v1::Party& p : parties) *c.add_parties() = std::move(p);
      if (t->ticket_id().empty()) t->set_ticket_id(sync::NewUuidV7(now));
      if (const v1::Party* p = FindParty(c, t->party_id())) t->set_party_id(p->party_id());
      // The matter, the party's kind and the procedure follow from the case,
      // through the same function the server re-derives them with.
      PALM_RETURN_IF_ERROR(sync::DeriveTicket(c, c.case_id(), t));
      t->set_device_id(device_id_);
      t->set_voided(false);
      t->clear_void_reason();
      if (t->issued_at_ms() == 0) t->set_issued_at_ms(now);
      // The number comes last so that it is taken only from a ticket that is
      // otherwise complete; the whole transaction rolls back on refusal.
      PALM_ASSIGN_OR_RETURN(Statement next, db_->Prepare(sql::kNextLease));
      PALM_ASSIGN_OR_RETURN(bool row, next.Step());
      if (!row) {
        return sync::FailedPrecondition(
            v1::REASON_TICKET_NUMBER_EXHAUSTED,
            "no ticket numbers left on this device: sync to lease a new block");
      }
      t->set_ticket_number(next.Int(0));
      t->set_ticket_number_text(TicketNumberText(next.Text(1), next.Int(0)));
      return absl::OkStatus();
    }
    case v1::Mutation::kRecordNoPenalty: {
      v1::NoPenaltyDecision* d = m->mutable_record_no_penalty()->mutable_decision();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(d->case_id()));
      if (d->decision_id().empty()) d->set_decision_id(sync::NewUuidV7(now));
      d->set_matter_code(c.matter_code());
      if (d->party_id().empty()) {
        PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
        if (parties.size() == 1) d->set_party_id(parties[0].party_id());
      }
      if (d->decided_at_ms() == 0) d->set_decided_at_ms(now);
      // No officers named: the case's own officers decide (Art. 42 needs two
      // with credentials; the acting officer alone never suffices).
      if (d->officer_ids().empty()) {
        if (c.officer_ids().empty()) {
          d->add_officer_ids(m->officer_id());
        } else {
          *d->mutable_officer_ids() = c.officer_ids();
        }
      }
      return absl::OkStatus();
    }
    case v1::Mutation::kTransitionCase: {
      v1::TransitionCase* t = m->mutable_transition_case();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(t->case_id()));
      t->set_from_state(c.state());
      return absl::OkStatus();
    }
    case v1::Mutation::kAppendCaseEvent: {
      v1::CaseEvent* e = m->mutable_append_case_event()->mutable_event();
      if (e->event_id().empty()) e->set_event_id(sync::NewUuidV7(now));
      e->set_officer_id(m->officer_id());
      if (e->at_ms() == 0) e->set_at_ms(now);
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status DeviceStore::CheckRulesLocked(const v1::Mutation& m) {
  switch (m.operation_case()) {
    case v1::Mutation::kRecordCase: {
      const v1::Case& c = m.record_case().case_();
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(c.matter_code()));
      PALM_RETURN_IF_ERROR(sync::CheckRecordCase(c, matter ? &*matter : nullptr));
      PALM_RETURN_IF_ERROR(sync::CheckCaseParties(c));
      PALM_RETURN_IF_ERROR(sync::CheckCaseLimitation(c, m.hlc().wall_ms()));
      PALM_RETURN_IF_ERROR(CheckDelegatedLocked(c.town_id(), matter ? &*matter : nullptr));
      PALM_ASSIGN_OR_RETURN(Roster roster, LoadRoster(*db_, c.officer_ids()));
      PALM_RETURN_IF_ERROR(sync::CheckOfficersOnRoster(
          c.officer_ids(), "record_case.case.officer_ids", roster.Lookup()));
      return sync::CheckCredentialedOfficers(
          c.officer_ids(), sync::CredentialedAct::kInspectionRecord, roster.Lookup());
    }
    case v1::Mutation::kUpdateCaseFields: {
      const v1::UpdateCaseFields& u = m.update_case_fields();
      std::vector<std::string> values;
      for (int i = 0; i < u.changes_size(); ++i) {
        PALM_ASSIGN_OR_RETURN(
            values.emplace_back(),
            sync::CanonicalFieldValue(u.changes(i),
                                      absl::StrCat("update_case_fields.changes[", i, "]")));
      }
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(u.case_id()));
      PALM_RETURN_IF_ERROR(sync::CheckCaseEditable(c, c.case_id()));
      for (const v1::CaseFieldChange& change : u.changes()) {
        if (change.field() != v1::CASE_FIELD_MATTER_CODE) continue;
        PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(change.value()));
        PALM_RETURN_IF_ERROR(sync::CheckMatterKnown(change.value(), matter ? &*matter : nullptr));
        PALM_RETURN_IF_ERROR(CheckDelegatedLocked(c.town_id(), &*matter));
      }
      // The case as the changes leave it, against the case's limits: the
      // server checks the case it merges the same way.
      PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
      for (v1::Party& p : parties) *c.add_parties() = std::move(p);
      for (int i = 0; i < u.changes_size(); ++i) {
        const v1::CaseFieldChange& change = u.changes(i);
        sync::SetFieldValue(&c, change.field(),
                            sync::IsPartyField(change.field()) ? change.party_id() : "", values[i]);
      }
      return sync::CheckChangedEntity(
          c, absl::StrCat("update_case_fields would leave case ", c.case_id(), " over a limit"));
    }
    case v1::Mutation::kAddEvidence:
      PALM_RETURN_IF_ERROR(sync::CheckAddEvidence(m.add_evidence().evidence()));
      return RequireCaseLocked(m.add_evidence().evidence().case_id()).status();
    case v1::Mutation::kWithdrawEvidence: {
      const v1::WithdrawEvidence& w = m.withdraw_evidence();
      PALM_RETURN_IF_ERROR(RequireCaseLocked(w.case_id()).status());
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Evidence> e,
                            LoadRecord<v1::Evidence>(*db_, sql::kSelectEvidence, w.evidence_id()));
      return sync::CheckWithdrawEvidence(w, e ? &*e : nullptr, w.case_id());
    }
    case v1::Mutation::kIssueTicket: {
      // The case and what follows from it were checked by PrepareLocked
      // (sync::DeriveTicket).
      const v1::Ticket& t = m.issue_ticket().ticket();
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(t.matter_code()));
      PALM_ASSIGN_OR_RETURN(Roster roster, LoadRoster(*db_, t.officer_ids()));
      return sync::CheckTicket(t, matter ? &*matter : nullptr, roster.officers);
    }
    case v1::Mutation::kVoidTicket: {
      const v1::VoidTicket& v = m.void_ticket();
      PALM_RETURN_IF_ERROR(RequireCaseLocked(v.case_id()).status());
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Ticket> t,
                            LoadRecord<v1::Ticket>(*db_, sql::kSelectTicket, v.ticket_id()));
      return sync::CheckVoidTicket(v, t ? &*t : nullptr, v.case_id());
    }
    case v1::Mutation::kRecordNoPenalty: {
      v1::NoPenaltyDecision d = m.record_no_penalty().decision();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(d.case_id()));
      PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
      for (v1::Party& p : parties) *c.add_parties() = std::move(p);
      const v1::Party* party = nullptr;
      PALM_RETURN_IF_ERROR(sync::DeriveNoPenalty(c, c.case_id(), &d, &party));
      PALM_ASSIGN_OR_RETURN(Roster roster, LoadRoster(*db_, sync::NamedOfficers(d)));
      const sync::OfficerLookup lookup = roster.Lookup();
      PALM_RETURN_IF_ERROR(sync::CheckOfficersOnRoster(
          d.officer_ids(), "record_no_penalty.decision.officer_ids", lookup));
      PALM_RETURN_IF_ERROR(sync::CheckCredentialedOfficers(
          d.officer_ids(), sync::CredentialedAct::kNoPenalty, lookup));
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(d.matter_code()));
      const v1::Matter* mp = matter ? &*matter : nullptr;
      std::vector<v1::PriorViolation> priors;
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectPriors));
        select.Bind(1, sync::PartyKey(PartyKeyLocked(), party->id_number()))
            .Bind(2, d.matter_code());
        for (;;) {
          PALM_ASSIGN_OR_RETURN(bool row, select.Step());
          if (!row) break;
          v1::PriorViolation& v = priors.emplace_back();
          v.set_matter_code(d.matter_code());
          v.set_case_number(select.Text(0));
          v.set_decided_at_ms(select.Int(1));
          v.set_voided(select.Int(2) != 0);
        }
      }
      std::vector<v1::Evidence> cited;
      for (const std::string& id : d.no_fault_evidence_ids()) {
        PALM_ASSIGN_OR_RETURN(std::optional<v1::Evidence> e,
                              LoadRecord<v1::Evidence>(*db_, sql::kSelectEvidence, id));
        if (e) cited.push_back(*std::move(e));
      }
      PALM_RETURN_IF_ERROR(sync::CheckNoPenalty(d, {.c = &c,
                                                    .matter = mp,
                                                    .roster = &lookup,
                                                    .cited_evidence = &cited,
                                                    .priors = &priors,
                                                    .written_at_ms = m.hlc().wall_ms()}));
      if (!sync::NoPenaltyMovesCase(c)) return absl::OkStatus();
      return sync::CheckCaseTransition(c, mp, v1::CASE_STATE_NO_PENALTY, /*actor=*/nullptr);
    }
    case v1::Mutation::kTransitionCase: {
      const v1::TransitionCase& t = m.transition_case();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(t.case_id()));
      // The decision's checks read the parties (the reviewed facts) and the
      // acting officer (decision authority), as the server's do.
      PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
      for (v1::Party& p : parties) *c.add_parties() = std::move(p);
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(c.matter_code()));
      PALM_ASSIGN_OR_RETURN(Roster roster,
                            LoadRoster(*db_, std::vector<std::string>{m.officer_id()}));
      PALM_ASSIGN_OR_RETURN(sync::WorkingDayCalendar calendar, CalendarLocked());
      return sync::CheckTransitionCase(c, matter ? &*matter : nullptr, t, c.case_id(),
                                       roster.Lookup()(m.officer_id()), &calendar,
                                       m.hlc().wall_ms());
    }
    case v1::Mutation::kAppendCaseEvent: {
      const v1::CaseEvent& e = m.append_case_event().event();
      PALM_RETURN_IF_ERROR(sync::CheckAppendCaseEvent(e));
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(e.case_id()));
      if (sync::IsStatementKind(e.kind())) return sync::CheckStatementEvent(c, e);
      if (e.kind() == v1::CASE_EVENT_KIND_PAYMENT || e.kind() == v1::CASE_EVENT_KIND_HAND_OVER) {
        // The collector is the acting officer, as the server reads it.
        PALM_ASSIGN_OR_RETURN(Roster roster,
                              LoadRoster(*db_, std::vector<std::string>{m.officer_id()}));
        PALM_ASSIGN_OR_RETURN(sync::WorkingDayCalendar calendar, CalendarLocked());
        const sync::PaymentFacts facts{.c = &c,
                                       .actor = roster.Lookup()(m.officer_id()),
                                       .calendar = &calendar,
                                       .written_at_ms = m.hlc().wall_ms()};
        PALM_RETURN_IF_ERROR(sync::CheckPaymentEvent(facts, e));
        return sync::CheckHandOverEvent(facts, e);
      }
      if (!e.has_service()) return absl::OkStatus();
      std::vector<v1::Evidence> proof;
      for (const std::string& id : e.service().proof_evidence_ids()) {
        PALM_ASSIGN_OR_RETURN(std::optional<v1::Evidence> found,
                              LoadRecord<v1::Evidence>(*db_, sql::kSelectEvidence, id));
        if (found) proof.push_back(*std::move(found));
      }
      PALM_ASSIGN_OR_RETURN(sync::WorkingDayCalendar calendar, CalendarLocked());
      return sync::CheckServiceEvent(
          {.c = &c, .proof = &proof, .calendar = &calendar, .written_at_ms = m.hlc().wall_ms()}, e);
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status DeviceStore::ApplyMutationLocked(const v1::Mutation& m,
                                              const std::string& evidence_path) {
  const std::string& mid = m.mutation_id();
  auto derived_event = [&](const std::string& case_id, v1::CaseEventKind kind, std::string text) {
    v1::CaseEvent e;
    e.set_event_id(mid);  // one derived event per mutation, named after it
    e.set_case_id(case_id);
    e.set_kind(kind);
    e.set_text(std::move(text));
    e.set_at_ms(m.hlc().wall_ms());
    e.set_officer_id(m.officer_id());
    return e;
  };
  switch (m.operation_case()) {
    case v1::Mutation::kRecordCase: {
      const v1::Case& c = m.record_case().case_();
      PALM_ASSIGN_OR_RETURN(std::optional<v1::Case> existing, LoadCaseLocked(c.case_id()));
      if (existing) return sync::CaseAlreadyRecorded(c.case_id());
      PALM_RETURN_IF_ERROR(PutCaseLocked(c, /*with_parties=*/true));
      v1::CaseEvent e = derived_event(c.case_id(), v1::CASE_EVENT_KIND_CREATED, "case recorded");
      e.set_to_state(c.state());
      return PutEventLocked(e);
    }
    case v1::Mutation::kUpdateCaseFields: {
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(m.update_case_fields().case_id()));
      for (const v1::CaseFieldChange& change : m.update_case_fields().changes()) {
        PALM_RETURN_IF_ERROR(ApplyFieldChangeLocked(&c, change));
      }
      if (c.has_review_approval()) {
        // A changed fine, basis or fact spends the approval (Art. 58), as on
        // the server; the digest reads the parties as the changes left them.
        v1::Case whole = c;
        PALM_ASSIGN_OR_RETURN(std::vector<v1::Party> parties, LoadPartiesLocked(c.case_id()));
        for (v1::Party& p : parties) *whole.add_parties() = std::move(p);
        PALM_ASSIGN_OR_RETURN(std::optional<v1::Matter> matter, LoadMatterLocked(c.matter_code()));
        if (sync::LapseStaleReview(&whole, matter ? &*matter : nullptr)) {
          c.clear_review_approval();
          c.set_review_approved(false);
        }
      }
      return PutCaseLocked(c, /*with_parties=*/false);
    }
    case v1::Mutation::kAddEvidence: {
      const v1::Evidence& e = m.add_evidence().evidence();
      PALM_RETURN_IF_ERROR(RequireCaseLocked(e.case_id()).status());
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectEvidence));
        select.Bind(1, e.evidence_id());
        PALM_ASSIGN_OR_RETURN(bool exists, select.Step());
        if (exists) return sync::EvidenceAlreadyRecorded(e.evidence_id());
      }
      PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(sql::kInsertEvidence));
      return insert.Bind(1, e.evidence_id())
          .Bind(2, e.case_id())
          .Bind(3, evidence_path)
          .Bind(4, int64_t{e.uploaded() ? 1 : 0})
          .BindBlob(5, Serialize(e))
          .Run();
    }
    case v1::Mutation::kWithdrawEvidence: {
      const v1::WithdrawEvidence& w = m.withdraw_evidence();
      PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectEvidence));
      select.Bind(1, w.evidence_id());
      PALM_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) {
        return sync::Refuse(absl::StatusCode::kNotFound, v1::REASON_UNKNOWN_EVIDENCE,
                            absl::StrCat("evidence ", w.evidence_id(), " is not on this device"));
      }
      PALM_ASSIGN_OR_RETURN(v1::Evidence e, Parse<v1::Evidence>(select.Blob(0), "evidence"));
      e.set_withdrawn(true);
      e.set_withdraw_reason(w.reason());
      {
        PALM_ASSIGN_OR_RETURN(Statement update, db_->Prepare(sql::kUpdateEvidence));
        PALM_RETURN_IF_ERROR(update.Bind(1, e.evidence_id()).BindBlob(2, Serialize(e)).Run());
      }
      return PutEventLocked(
          derived_event(w.case_id(), v1::CASE_EVENT_KIND_EVIDENCE_WITHDRAWN,
                        absl::StrCat("evidence ", w.evidence_id(), " withdrawn: ", w.reason())));
    }
    case v1::Mutation::kIssueTicket: {
      const v1::Ticket& t = m.issue_ticket().ticket();
      PALM_RETURN_IF_ERROR(RequireCaseLocked(t.case_id()).status());
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectTicket));
        select.Bind(1, t.ticket_id());
        PALM_ASSIGN_OR_RETURN(bool exists, select.Step());
        if (exists) return sync::TicketAlreadyIssued(t.ticket_id());
      }
      {
        PALM_ASSIGN_OR_RETURN(Statement used, db_->Prepare(sql::kTicketNumberUsed));
        used.Bind(1, t.ticket_number());
        PALM_ASSIGN_OR_RETURN(bool taken, used.Step());
        if (taken) {
          return sync::FailedPrecondition(
              v1::REASON_TICKET_NUMBER_USED,
              absl::StrCat("ticket number ", t.ticket_number(), " is already used"));
        }
      }
      {
        PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(sql::kInsertTicket));
        PALM_RETURN_IF_ERROR(insert.Bind(1, t.ticket_id())
                                 .Bind(2, t.case_id())
                                 .Bind(3, t.ticket_number())
                                 .BindBlob(4, Serialize(t))
                                 .Run());
      }
      {
        PALM_ASSIGN_OR_RETURN(Statement consume, db_->Prepare(sql::kConsumeTicketNumber));
        PALM_RETURN_IF_ERROR(consume.Bind(1, t.ticket_number()).Run());
      }
      {
        // The ticket is the case's decision, served on the spot (Art. 52).
        PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(t.case_id()));
        sync::StampTicket(&c, t);
        PALM_RETURN_IF_ERROR(PutCaseLocked(c, /*with_parties=*/false));
      }
      return RecordPriorViolationsLocked(t.case_id(), t.party_id(), t.matter_code(),
                                         t.issued_at_ms());
    }
    case v1::Mutation::kVoidTicket: {
      const v1::VoidTicket& v = m.void_ticket();
      v1::Ticket t;
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectTicket));
        select.Bind(1, v.ticket_id());
        PALM_ASSIGN_OR_RETURN(bool row, select.Step());
        if (!row) {
          return sync::Refuse(absl::StatusCode::kNotFound, v1::REASON_UNKNOWN_TICKET,
                              absl::StrCat("ticket ", v.ticket_id(), " is not on this device"));
        }
        PALM_ASSIGN_OR_RETURN(t, Parse<v1::Ticket>(select.Blob(0), "ticket"));
      }
      t.set_voided(true);
      t.set_void_reason(v.reason());
      {
        PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(sql::kUpsertTicket));
        PALM_RETURN_IF_ERROR(upsert.Bind(1, t.ticket_id())
                                 .Bind(2, t.case_id())
                                 .Bind(3, t.ticket_number())
                                 .BindBlob(4, Serialize(t))
                                 .Run());
      }
      // A voided ticket is no violation on record (Art. 33), as on the server.
      PALM_RETURN_IF_ERROR(LapseViolationLocked(t.case_id(), t.party_id(), t.matter_code()));
      {
        PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(t.case_id()));
        if (c.service().event_id() == t.ticket_id()) {
          sync::ClearTicketStamp(&c, t.ticket_id());
          PALM_RETURN_IF_ERROR(PutCaseLocked(c, /*with_parties=*/false));
        }
      }
      return PutEventLocked(
          derived_event(v.case_id(), v1::CASE_EVENT_KIND_TICKET_VOIDED,
                        absl::StrCat("ticket ", t.ticket_number_text(), " voided: ", v.reason())));
    }
    case v1::Mutation::kRecordNoPenalty: {
      const v1::NoPenaltyDecision& d = m.record_no_penalty().decision();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(d.case_id()));
      {
        PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectDecision));
        select.Bind(1, d.decision_id());
        PALM_ASSIGN_OR_RETURN(bool exists, select.Step());
        if (exists) return sync::DecisionAlreadyRecorded(d.decision_id());
        PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(sql::kInsertDecision));
        PALM_RETURN_IF_ERROR(
            insert.Bind(1, d.decision_id()).Bind(2, d.case_id()).BindBlob(3, Serialize(d)).Run());
      }
      if (sync::RecordsViolation(d)) {
        PALM_RETURN_IF_ERROR(RecordPriorViolationsLocked(c.case_id(), d.party_id(), d.matter_code(),
                                                         d.decided_at_ms()));
      }
      if (!sync::NoPenaltyMovesCase(c)) return absl::OkStatus();
      v1::CaseEvent e = derived_event(c.case_id(), v1::CASE_EVENT_KIND_TRANSITION,
                                      "no-penalty decision (Art. 33)");
      e.set_from_state(c.state());
      e.set_to_state(v1::CASE_STATE_NO_PENALTY);
      c.set_state(v1::CASE_STATE_NO_PENALTY);
      *c.mutable_state_hlc() = m.hlc();
      PALM_RETURN_IF_ERROR(PutCaseLocked(c, /*with_parties=*/false));
      return PutEventLocked(e);
    }
    case v1::Mutation::kTransitionCase: {
      const v1::TransitionCase& t = m.transition_case();
      PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(t.case_id()));
      v1::CaseEvent e = derived_event(c.case_id(), v1::CASE_EVENT_KIND_TRANSITION, t.reason());
      e.set_from_state(c.state());
      e.set_to_state(t.to_state());
      sync::EnterState(&c, t.to_state());
      if (t.to_state() == v1::CASE_STATE_NOTIFIED) sync::RecordNotice(&c, t, m.hlc().wall_ms());
      sync::StampMove(&c, t.to_state(), m.hlc().wall_ms());
      *c.mutable_state_hlc() = m.hlc();
      PALM_RETURN_IF_ERROR(PutCaseLocked(c, /*with_parties=*/false));
      if (t.to_state() == v1::CASE_STATE_DECIDED) {
        PALM_RETURN_IF_ERROR(
            RecordPriorViolationsLocked(c.case_id(), "", c.matter_code(), m.hlc().wall_ms()));
      }
      return PutEventLocked(e);
    }
    case v1::Mutation::kAppendCaseEvent: {
      const v1::CaseEvent& e = m.append_case_event().event();
      PALM_ASSIGN_OR_RETURN(std::optional<v1::CaseEvent> existing,
                            LoadRecord<v1::CaseEvent>(*db_, sql::kSelectEvent, e.event_id()));
      if (existing) return sync::EventAlreadyRecorded(e.event_id());
      if (sync::IsStatementKind(e.kind()) || e.has_service() ||
          e.kind() == v1::CASE_EVENT_KIND_PAYMENT || e.kind() == v1::CASE_EVENT_KIND_HAND_OVER) {
        // The party's answer belongs to the case's notice record (Art. 45),
        // the service to its service record (Art. 61), a payment or
        // hand-over to its payments (Art. 66-71).
        PALM_ASSIGN_OR_RETURN(v1::Case c, RequireCaseLocked(e.case_id()));
        sync::RecordStatement(&c, e);
        sync::RecordService(&c, e);
        sync::RecordPayment(&c, e, m.officer_id());
        sync::RecordHandOver(&c, e);
        PALM_RETURN_IF_ERROR(PutCaseLocked(c, /*with_parties=*/false));
      }
      return PutEventLocked(e);
    }
    default:
      return sync::InvalidArgument(v1::REASON_INVALID_ARGUMENT, "the mutation has no operation");
  }
}

absl::Status DeviceStore::ApplyFieldChangeLocked(v1::Case* c, const v1::CaseFieldChange& change) {
  // Checked by CheckRulesLocked; put in canonical form by the same function
  // the server applies the change with.
  PALM_ASSIGN_OR_RETURN(std::string value,
                        sync::CanonicalFieldValue(change, "update_case_fields.changes"));
  if (!sync::IsPartyField(change.field())) {
    sync::SetFieldValue(c, change.field(), "", value);
    return absl::OkStatus();
  }
  // Parties live in their own encrypted rows: the change is applied to that
  // one party and the row written back.
  v1::Case holder;
  int64_t ordinal = 0;
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectParty));
    select.Bind(1, c->case_id()).Bind(2, change.party_id());
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) {
      ordinal = select.Int(0);
      PALM_ASSIGN_OR_RETURN(std::string plain,
                            aead_.Open(select.Blob(1), PartyAad(c->case_id(), change.party_id())));
      PALM_ASSIGN_OR_RETURN(*holder.add_parties(), Parse<v1::Party>(plain, "party"));
    } else {
      PALM_ASSIGN_OR_RETURN(Statement count, db_->Prepare(sql::kCountParties));
      count.Bind(1, c->case_id());
      PALM_ASSIGN_OR_RETURN(bool got, count.Step());
      ordinal = got ? count.Int(0) : 0;
    }
  }
  sync::SetFieldValue(&holder, change.field(), change.party_id(), value);
  return PutPartyLocked(c->case_id(), holder.parties(0), ordinal);
}

absl::Status DeviceStore::AppendOutboxLocked(const v1::Mutation& m) {
  PALM_ASSIGN_OR_RETURN(std::string sealed, aead_.Seal(Serialize(m), OutboxAad(m.mutation_id())));
  {
    PALM_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(sql::kInsertOutbox));
    PALM_RETURN_IF_ERROR(insert.Bind(1, static_cast<int64_t>(m.device_seq()))
                             .Bind(2, m.mutation_id())
                             .Bind(3, sync::CaseIdOf(m))
                             .Bind(4, NowMs())
                             .BindBlob(5, sealed)
                             .Run());
  }
  PALM_ASSIGN_OR_RETURN(Statement advance, db_->Prepare(sql::kAdvanceDeviceState));
  return advance.Bind(1, static_cast<int64_t>(m.device_seq()))
      .Bind(2, m.hlc().wall_ms())
      .Bind(3, int64_t{m.hlc().logical()})
      .Run();
}

absl::StatusOr<int> DeviceStore::ReapplyPendingOutbox() {
  std::lock_guard<std::mutex> lock(mutex_);
  int applied = 0;
  PALM_RETURN_IF_ERROR(RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(applied, ReapplyPendingLocked());
    return absl::OkStatus();
  }));
  return applied;
}

absl::StatusOr<int> DeviceStore::ReapplyPendingLocked() {
  int applied = 0;
  std::vector<OutboxEntry> pending;
  {
    PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kPendingOutboxRows));
    PALM_ASSIGN_OR_RETURN(pending, ReadOutboxLocked(select));
  }
  for (const OutboxEntry& entry : pending) {
    const v1::Mutation& m = entry.mutation;
    // Each mutation in its own savepoint: one that no longer applies on the
    // pulled state is skipped whole, and the server's outcome will say why.
    PALM_RETURN_IF_ERROR(db_->Exec("SAVEPOINT reapply"));
    if (ApplyMutationLocked(m, /*evidence_path=*/"").ok()) {
      ++applied;
    } else {
      PALM_RETURN_IF_ERROR(db_->Exec("ROLLBACK TO reapply"));
    }
    PALM_RETURN_IF_ERROR(db_->Exec("RELEASE reapply"));
  }
  return applied;
}

// ---------------------------------------------------------------------------
// Row helpers.

absl::StatusOr<std::optional<v1::Case>> DeviceStore::LoadCaseLocked(const std::string& case_id) {
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectCase));
  select.Bind(1, case_id);
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<v1::Case>();
  PALM_ASSIGN_OR_RETURN(v1::Case c, Parse<v1::Case>(select.Blob(0), "case"));
  return std::optional<v1::Case>(std::move(c));
}

absl::StatusOr<v1::Case> DeviceStore::RequireCaseLocked(const std::string& case_id) {
  PALM_ASSIGN_OR_RETURN(std::optional<v1::Case> c, LoadCaseLocked(case_id));
  if (!c) return UnknownCase(case_id);
  return std::move(*c);
}

absl::StatusOr<std::vector<v1::Party>> DeviceStore::LoadPartiesLocked(const std::string& case_id) {
  std::vector<v1::Party> parties;
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectParties));
  select.Bind(1, case_id);
  for (;;) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(std::string plain,
                          aead_.Open(select.Blob(1), PartyAad(case_id, select.Text(0))));
    PALM_ASSIGN_OR_RETURN(v1::Party p, Parse<v1::Party>(plain, "party"));
    parties.push_back(std::move(p));
  }
  return parties;
}

absl::StatusOr<std::optional<v1::Matter>> DeviceStore::LoadMatterLocked(const std::string& code) {
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectMatter));
  select.Bind(1, code);
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<v1::Matter>();
  PALM_ASSIGN_OR_RETURN(v1::Matter m, Parse<v1::Matter>(select.Blob(0), "matter"));
  return std::optional<v1::Matter>(std::move(m));
}

absl::StatusOr<const std::vector<v1::Town>*> DeviceStore::LoadTownsLocked() {
  if (towns_) return &*towns_;
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql::kSelectTowns));
  std::vector<v1::Town> towns;
  while (true) {
    PALM_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    PALM_ASSIGN_OR_RETURN(towns.emplace_back(), Parse<v1::Town>(select.Blob(0), "town"));
  }
  towns_ = std::move(towns);
  return &*towns_;
}

absl::Status DeviceStore::CheckDelegatedLocked(const std::string& town_id,
                                               const v1::Matter* matter) {
  if (matter == nullptr || town_id.empty()) return absl::OkStatus();
  PALM_ASSIGN_OR_RETURN(const std::vector<v1::Town>* towns, LoadTownsLocked());
  return sync::CheckDelegated(sync::FindTown(*towns, town_id), *matter, *towns);
}

absl::StatusOr<std::vector<v1::Officer>> DeviceStore::LoadOfficersLocked(
    const std::vector<std::string>& ids) {
  PALM_ASSIGN_OR_RETURN(Roster roster, LoadRoster(*db_, ids));
  return std::move(roster.officers);
}

absl::Status DeviceStore::PutCaseLocked(const v1::Case& c, bool with_parties) {
  v1::Case row = c;
  row.clear_parties();
  {
    PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(sql::kUpsertCase));
    PALM_RETURN_IF_ERROR(upsert.Bind(1, row.case_id())
                             .Bind(2, int64_t{row.state()})
                             .Bind(3, row.town_id())
                             .Bind(4, row.occurred_at_ms())
                             .BindBlob(5, Serialize(row))
                             .Run());
  }
  if (!with_parties) return absl::OkStatus();
  {
    PALM_ASSIGN_OR_RETURN(Statement del, db_->Prepare(sql::kDeleteParties));
    PALM_RETURN_IF_ERROR(del.Bind(1, c.case_id()).Run());
  }
  for (int i = 0; i < c.parties_size(); ++i) {
    PALM_RETURN_IF_ERROR(PutPartyLocked(c.case_id(), c.parties(i), i));
  }
  return absl::OkStatus();
}

absl::Status DeviceStore::PutPartyLocked(const std::string& case_id, const v1::Party& p,
                                         int64_t ordinal) {
  PALM_ASSIGN_OR_RETURN(std::string sealed,
                        aead_.Seal(Serialize(p), PartyAad(case_id, p.party_id())));
  PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(sql::kUpsertParty));
  return upsert.Bind(1, case_id).Bind(2, p.party_id()).Bind(3, ordinal).BindBlob(4, sealed).Run();
}

absl::Status DeviceStore::PutEventLocked(const v1::CaseEvent& e) {
  PALM_ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(sql::kUpsertEvent));
  return upsert.Bind(1, e.event_id())
      .Bind(2, e.case_id())
      .Bind(3, e.at_ms())
      .BindBlob(4, Serialize(e))
      .Run();
}

}  // namespace palm::internal
