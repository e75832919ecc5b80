#include "palm/client.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <stdlib.h>

#include <filesystem>
#include <istream>

#include <google/protobuf/util/json_util.h>

#include "client-lib/src/channel.h"
#include "client-lib/src/client_internal.h"
#include "client-lib/src/sessions.h"
#include "client-lib/src/status_internal.h"
#include "client-lib/src/sync_client.h"
#include "sync/sha256.h"

namespace palm {

using internal::FromAbsl;
using internal::FromProto;
using internal::ToProto;

namespace {

// The canonical form of `path`'s directory, or "" when it cannot be resolved.
std::string CanonicalDir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(dir.empty() ? "." : dir, ec);
  return ec ? std::string() : p.string();
}

template <typename T>
Result<T> Convert(absl::StatusOr<T> s) {
  if (!s.ok()) return FromAbsl(s.status());
  return std::move(*s);
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Open(const ClientOptions& options) {
  if (options.db_path.empty()) {
    return Status(StatusCode::kInvalidArgument, "invalid_argument", "a database path is required");
  }
  if (!options.key_provider) {
    return Status(StatusCode::kInvalidArgument, "invalid_argument",
                  "a key provider is required: party data is encrypted at rest");
  }
  if (auto* file_keys = dynamic_cast<FileKeyProvider*>(options.key_provider.get())) {
    std::string db_dir = CanonicalDir(std::filesystem::path(options.db_path).parent_path());
    std::string key_dir = CanonicalDir(file_keys->directory());
    if (!db_dir.empty() && db_dir == key_dir) {
      return Status(StatusCode::kInvalidArgument, "invalid_argument",
                    "the key directory " + file_keys->directory() +
                        " is the database's directory; keep keys apart from the data");
    }
  }
  Result<Key256> key = options.key_provider->GetKey(options.key_name);
  if (!key.ok()) return key.status();

  internal::StoreOptions store_options;
  store_options.path = options.db_path;
  store_options.device_id = options.device_id;
  store_options.key = *key;
  OPENSSL_cleanse(key->data(), key->size());
  store_options.synchronous_full = options.durability == Durability::kFull;
  store_options.now_ms = options.TEST_now_ms;
  absl::StatusOr<std::unique_ptr<internal::DeviceStore>> store =
      internal::DeviceStore::Open(std::move(store_options));
  OPENSSL_cleanse(store_options.key.data(), store_options.key.size());
  if (!store.ok()) return FromAbsl(store.status());
  return std::unique_ptr<Client>(new Client(std::move(*store), options.db_path));
}

Client::Client(std::unique_ptr<internal::DeviceStore> store, std::string db_path)
    : store_(std::move(store)),
      sessions_(std::make_unique<internal::Sessions>(*store_, std::move(db_path))) {}

Client::~Client() = default;

std::string Client::device_id() const { return store_->device_id(); }

Status Client::SetActingOfficer(const std::string& officer_id) {
  return FromAbsl(store_->SetActingOfficer(officer_id));
}

Result<SessionState> Client::SignIn(const SyncOptions& connection, const std::string& officer_id,
                                    const std::string& secret) {
  return sessions_->SignIn(connection, officer_id, secret);
}

Status Client::SignOut(const SyncOptions& connection) { return sessions_->SignOut(connection); }

Result<SessionState> Client::GetSessionState() { return sessions_->State(); }

Status Client::UnlockOffline(const std::string& officer_id, const std::string& secret) {
  return sessions_->UnlockOffline(officer_id, secret);
}

Result<std::string> Client::RecordCase(const CaseInput& input) {
  v1::Mutation m;
  *m.mutable_record_case()->mutable_case_() = ToProto(input);
  absl::StatusOr<v1::Mutation> done = store_->Write(std::move(m));
  if (!done.ok()) return FromAbsl(done.status());
  return done->record_case().case_().case_id();
}

Status Client::UpdateCaseFields(const std::string& case_id,
                                const std::vector<CaseFieldChange>& changes) {
  v1::Mutation m;
  v1::UpdateCaseFields* u = m.mutable_update_case_fields();
  u->set_case_id(case_id);
  for (const CaseFieldChange& c : changes) {
    v1::CaseFieldChange* p = u->add_changes();
    p->set_field(static_cast<v1::CaseField>(c.field));
    p->set_value(c.value);
    p->set_party_id(c.party_id);
  }
  return FromAbsl(store_->Write(std::move(m)).status());
}

Result<std::string> Client::AddEvidenceRecord(const EvidenceInput& input) {
  v1::Mutation m;
  *m.mutable_add_evidence()->mutable_evidence() = ToProto(input);
  absl::StatusOr<v1::Mutation> done = store_->Write(std::move(m), input.content_path);
  if (!done.ok()) return FromAbsl(done.status());
  return done->add_evidence().evidence().evidence_id();
}

Result<std::string> Client::AttachEvidenceFile(const EvidenceInput& input,
                                               const std::string& path) {
  absl::StatusOr<sync::FileDigest> digest = sync::Sha256File(path);
  if (!digest.ok()) return FromAbsl(digest.status());
  EvidenceInput hashed = input;
  hashed.sha256_hex = digest->sha256_hex;
  hashed.size_bytes = digest->size;
  hashed.content_path = path;
  return AddEvidenceRecord(hashed);
}

Result<std::string> Client::AttachEvidenceStream(const EvidenceInput& input,
                                                 std::istream& content) {
  absl::StatusOr<sync::FileDigest> digest = sync::Sha256Stream(content);
  if (!digest.ok()) return FromAbsl(digest.status());
  EvidenceInput hashed = input;
  hashed.sha256_hex = digest->sha256_hex;
  hashed.size_bytes = digest->size;
  return AddEvidenceRecord(hashed);
}

Status Client::WithdrawEvidence(const std::string& case_id, const std::string& evidence_id,
                                const std::string& reason) {
  v1::Mutation m;
  v1::WithdrawEvidence* w = m.mutable_withdraw_evidence();
  w->set_case_id(case_id);
  w->set_evidence_id(evidence_id);
  w->set_reason(reason);
  return FromAbsl(store_->Write(std::move(m)).status());
}

Result<Ticket> Client::IssueTicket(const TicketInput& input) {
  v1::Mutation m;
  *m.mutable_issue_ticket()->mutable_ticket() = ToProto(input);
  absl::StatusOr<v1::Mutation> done = store_->Write(std::move(m));
  if (!done.ok()) return FromAbsl(done.status());
  return FromProto(done->issue_ticket().ticket());
}

Status Client::VoidTicket(const std::string& case_id, const std::string& ticket_id,
                          const std::string& reason) {
  v1::Mutation m;
  v1::VoidTicket* v = m.mutable_void_ticket();
  v->set_case_id(case_id);
  v->set_ticket_id(ticket_id);
  v->set_reason(reason);
  return FromAbsl(store_->Write(std::move(m)).status());
}

Result<std::string> Client::RecordNoPenalty(const NoPenaltyInput& input) {
  v1::Mutation m;
  *m.mutable_record_no_penalty()->mutable_decision() = ToProto(input);
  absl::StatusOr<v1::Mutation> done = store_->Write(std::move(m));
  if (!done.ok()) return FromAbsl(done.status());
  return done->record_no_penalty().decision().decision_id();
}

Status Client::TransitionCase(const std::string& case_id, CaseState to, const std::string& reason) {
  v1::Mutation m;
  v1::TransitionCase* t = m.mutable_transition_case();
  t->set_case_id(case_id);
  t->set_to_state(static_cast<v1::CaseState>(to));
  t->set_reason(reason);
  return FromAbsl(store_->Write(std::move(m)).status());
}

Result<std::string> Client::AppendCaseEvent(const CaseEventInput& input) {
  v1::Mutation m;
  *m.mutable_append_case_event()->mutable_event() = ToProto(input);
  absl::StatusOr<v1::Mutation> done = store_->Write(std::move(m));
  if (!done.ok()) return FromAbsl(done.status());
  return done->append_case_event().event().event_id();
}

Result<CaseView> Client::GetCase(const std::string& case_id) {
  absl::StatusOr<internal::CaseBundle> b = store_->GetCase(case_id);
  if (!b.ok()) return FromAbsl(b.status());
  CaseView view;
  view.record = FromProto(b->kase);
  for (size_t i = 0; i < b->evidence.size(); ++i) {
    view.evidence.push_back(FromProto(b->evidence[i], b->evidence_paths[i]));
  }
  for (const v1::Ticket& t : b->tickets) view.tickets.push_back(FromProto(t));
  for (const v1::NoPenaltyDecision& d : b->no_penalty) {
    view.no_penalty_decisions.push_back(FromProto(d));
  }
  for (const v1::CaseEvent& e : b->timeline) view.timeline.push_back(FromProto(e));
  return view;
}

Result<std::vector<CaseClock>> Client::ListDeadlines(const DeadlineQuery& query) {
  absl::StatusOr<std::vector<v1::CaseClock>> clocks =
      store_->Deadlines(query.all_officers, query.as_of, query.within_days);
  if (!clocks.ok()) return FromAbsl(clocks.status());
  std::vector<CaseClock> out;
  for (const v1::CaseClock& k : *clocks) out.push_back(FromProto(k));
  return out;
}

Result<CasePage> Client::ListCases(const CaseQuery& query) {
  internal::CaseFilter filter;
  if (query.state) filter.state = static_cast<v1::CaseState>(*query.state);
  filter.town_id = query.town_id;
  filter.occurred_from_ms = query.occurred_from_ms;
  filter.occurred_until_ms = query.occurred_until_ms;
  filter.page_size = query.page_size;
  filter.page_token = query.page_token;
  absl::StatusOr<internal::CaseList> list = store_->ListCases(filter);
  if (!list.ok()) return FromAbsl(list.status());
  CasePage page;
  for (const v1::Case& c : list->cases) page.cases.push_back(FromProto(c));
  page.next_page_token = list->next_page_token;
  return page;
}

Result<Matter> Client::GetMatter(const std::string& code) {
  absl::StatusOr<v1::Matter> m = store_->GetMatter(code);
  if (!m.ok()) return FromAbsl(m.status());
  return FromProto(*m);
}

Result<int64_t> Client::CatalogVersion() { return Convert(store_->CatalogVersion()); }

Result<int64_t> Client::TicketNumbersLeft() { return Convert(store_->TicketNumbersLeft()); }

Result<PendingSyncCounts> Client::PendingCounts() { return Convert(store_->PendingCounts()); }

Result<SyncReport> Client::LastSyncReport() { return Convert(store_->LastSyncReport()); }

Result<SyncReport> Client::Sync(const SyncOptions& options) {
  std::unique_lock<std::mutex> gate(store_->sync_mutex(), std::try_to_lock);
  if (!gate.owns_lock()) {
    return Status(StatusCode::kAborted, "sync_in_progress",
                  "another sync of this device is running; wait for it to finish");
  }
  // Plaintext (loopback tests) carries no session; over TLS the kept one
  // goes unless the caller brought a token.
  SyncOptions with_session = options;
  std::string kept_token;
  if (!options.insecure_loopback && options.session_token.empty()) {
    // Unusable options are said as such before a missing session is.
    absl::StatusOr<std::shared_ptr<grpc::Channel>> usable = internal::MakeSyncChannel(options);
    if (!usable.ok()) return internal::WithReason(FromAbsl(usable.status()));
    Result<std::string> token = sessions_->TokenForSync(options);
    if (!token.ok()) {
      sessions_->SyncFailed(token.status(), "");
      return token.status();
    }
    kept_token = *token;
    with_session.session_token = kept_token;
  }
  Result<SyncReport> report = internal::RunSync(*store_, with_session);
  if (!report.ok()) sessions_->SyncFailed(report.status(), kept_token);
  return report;
}

Result<std::vector<SyncIssue>> Client::ListSyncIssues(bool include_dismissed) {
  return Convert(store_->ListSyncIssues(include_dismissed));
}

Status Client::DismissSyncIssue(const std::string& issue_id) {
  return FromAbsl(store_->DismissSyncIssue(issue_id));
}

Result<std::string> Client::ExportEvidenceReceipt(const std::string& evidence_id, bool json) {
  absl::StatusOr<palm::v1::EvidenceReceipt> receipt = store_->EvidenceReceipt(evidence_id);
  if (!receipt.ok()) return FromAbsl(receipt.status());
  if (!json) return receipt->SerializeAsString();
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(*receipt, &out, options).ok()) {
    return Status(StatusCode::kInternal, "internal", "the receipt cannot be written as JSON");
  }
  return out;
}

}  // namespace palm
