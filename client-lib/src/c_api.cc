// The C API (palm/palm.h) over palm::Client and its device store. JSON in and
// out is protobuf's JSON mapping of the palm.v1 types.
#include "palm/palm.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "client-lib/src/client_internal.h"
#include "client-lib/src/status_internal.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "palm/client.h"

struct palm_client {
  std::unique_ptr<palm::Client> client;
  // The token of the sync running through palm_sync, so that
  // palm_sync_cancel can reach it from another thread.
  std::mutex cancel_mu;
  palm::CancelToken cancel;  // guarded by cancel_mu
};

namespace {

using nlohmann::json;
using palm::Status;
using palm::StatusCode;

struct LastError {
  std::string message;
  std::string reason;
};
thread_local LastError last_error;

palm_code Fail(const Status& status) {
  last_error.message = status.message();
  last_error.reason = status.reason();
  return static_cast<palm_code>(status.code());
}

palm_code Fail(const absl::Status& status) { return Fail(palm::internal::FromAbsl(status)); }

palm_code Invalid(const std::string& message) {
  return Fail(Status(StatusCode::kInvalidArgument, "invalid_argument", message));
}

palm_code Ok() {
  last_error.message.clear();
  last_error.reason.clear();
  return PALM_OK;
}

json ReportJson(const palm::SyncReport& r) {
  json out = {{"ever_synced", r.ever_synced}};
  if (r.ever_synced) out.update(palm::internal::SyncReportJson(r));
  return out;
}

char* Dup(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out != nullptr) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

// Returns PALM_OK after storing a copy of `s` in *out.
palm_code Return(const std::string& s, char** out) {
  *out = Dup(s);
  if (*out == nullptr) return Fail(Status(StatusCode::kResourceExhausted, "", "out of memory"));
  return Ok();
}

template <typename Message>
palm_code ParseJson(const char* text, const char* what, Message* out) {
  if (text == nullptr) return Invalid(std::string(what) + " JSON is required");
  auto status = google::protobuf::util::JsonStringToMessage(text, out);
  if (!status.ok()) {
    return Invalid(std::string(what) + " JSON is not valid: " + status.message().as_string());
  }
  return PALM_OK;
}

json ToJson(const google::protobuf::Message& m) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &text, options);
  return json::parse(text);
}

// Checks the handle and the out-parameter, clearing the latter.
template <typename Out>
palm_code Begin(palm_client* client, Out** out) {
  if (out != nullptr) *out = nullptr;
  if (client == nullptr || !client->client) return Invalid("the palm_client handle is NULL");
  return PALM_OK;
}

palm::internal::DeviceStore& Store(palm_client* client) {
  return palm::internal::ClientAccess::Store(*client->client);
}

// Writes `m` through the device store; on success *m is the recorded mutation.
palm_code WriteMutation(palm_client* client, palm::v1::Mutation* m) {
  absl::StatusOr<palm::v1::Mutation> done = Store(client).Write(std::move(*m));
  if (!done.ok()) return Fail(done.status());
  *m = std::move(*done);
  return Ok();
}

// Returns the key for palm_open from the integrator's callback.
class CallbackKeyProvider : public palm::KeyProvider {
 public:
  CallbackKeyProvider(palm_key_fn fn, void* ctx) : fn_(fn), ctx_(ctx) {}
  palm::Result<palm::Key256> GetKey(const std::string& name) override {
    palm::Key256 key{};
    if (fn_(ctx_, name.c_str(), key.data()) != 0) {
      return Status(StatusCode::kPermissionDenied, "permission_denied",
                    "the key provider callback could not supply key \"" + name + "\"");
    }
    return key;
  }

 private:
  palm_key_fn fn_;
  void* ctx_;
};

}  // namespace

extern "C" {

palm_code palm_open(const char* options_json, palm_key_fn key_fn, void* key_ctx,
                    palm_client** out) {
  if (out == nullptr) return Invalid("out must not be NULL");
  *out = nullptr;
  if (options_json == nullptr) return Invalid("options JSON is required");
  json o = json::parse(options_json, nullptr, /*allow_exceptions=*/false);
  if (!o.is_object()) return Invalid("options JSON must be an object");
  palm::ClientOptions options;
  options.db_path = o.value("db_path", "");
  options.device_id = o.value("device_id", "");
  options.key_name = o.value("key_name", options.key_name);
  std::string durability = o.value("durability", "full");
  if (durability == "normal") {
    options.durability = palm::Durability::kNormal;
  } else if (durability != "full") {
    return Invalid("durability must be \"full\" or \"normal\"");
  }
  if (key_fn != nullptr) {
    options.key_provider = std::make_shared<CallbackKeyProvider>(key_fn, key_ctx);
  } else if (o.contains("key_dir") && o["key_dir"].is_string()) {
    options.key_provider = std::make_shared<palm::FileKeyProvider>(o["key_dir"].get<std::string>());
  } else {
    return Invalid("give a key callback or \"key_dir\"");
  }
  palm::Result<std::unique_ptr<palm::Client>> client = palm::Client::Open(options);
  if (!client.ok()) return Fail(client.status());
  *out = new palm_client;
  (*out)->client = std::move(*client);
  return Ok();
}

void palm_close(palm_client* client) { delete client; }

palm_code palm_set_officer(palm_client* client, const char* officer_id) {
  if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
  if (officer_id == nullptr) return Invalid("officer_id is required");
  Status s = client->client->SetActingOfficer(officer_id);
  return s.ok() ? Ok() : Fail(s);
}

palm_code palm_record_case(palm_client* client, const char* case_json, char** case_id_out) {
  if (palm_code c = Begin(client, case_id_out); c != PALM_OK) return c;
  palm::v1::Mutation m;
  if (palm_code c = ParseJson(case_json, "case", m.mutable_record_case()->mutable_case_());
      c != PALM_OK) {
    return c;
  }
  if (palm_code c = WriteMutation(client, &m); c != PALM_OK) return c;
  return Return(m.record_case().case_().case_id(), case_id_out);
}

palm_code palm_update_case_fields(palm_client* client, const char* case_id,
                                  const char* changes_json) {
  if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
  if (case_id == nullptr || changes_json == nullptr) return Invalid("case_id and changes required");
  // Wrap the array so the JSON mapping of UpdateCaseFields parses it.
  std::string wrapped = std::string("{\"changes\":") + changes_json + "}";
  palm::v1::Mutation m;
  if (palm_code c = ParseJson(wrapped.c_str(), "changes", m.mutable_update_case_fields());
      c != PALM_OK) {
    return c;
  }
  m.mutable_update_case_fields()->set_case_id(case_id);
  return WriteMutation(client, &m);
}

palm_code palm_add_evidence_file(palm_client* client, const char* evidence_json, const char* path,
                                 char** evidence_id_out) {
  if (palm_code c = Begin(client, evidence_id_out); c != PALM_OK) return c;
  if (path == nullptr) return Invalid("path is required");
  palm::v1::Evidence e;
  if (palm_code c = ParseJson(evidence_json, "evidence", &e); c != PALM_OK) return c;
  palm::EvidenceInput input;
  input.case_id = e.case_id();
  input.kind = static_cast<palm::EvidenceKind>(e.kind());
  input.mime_type = e.mime_type();
  input.captured_at_ms = e.captured_at_ms();
  input.location = {e.location().latitude(), e.location().longitude(), e.location().accuracy_m()};
  input.description = e.description();
  palm::Result<std::string> id = client->client->AttachEvidenceFile(input, path);
  if (!id.ok()) return Fail(id.status());
  return Return(*id, evidence_id_out);
}

palm_code palm_withdraw_evidence(palm_client* client, const char* case_id, const char* evidence_id,
                                 const char* reason) {
  if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
  if (case_id == nullptr || evidence_id == nullptr || reason == nullptr) {
    return Invalid("case_id, evidence_id and reason are required");
  }
  Status s = client->client->WithdrawEvidence(case_id, evidence_id, reason);
  return s.ok() ? Ok() : Fail(s);
}

palm_code palm_issue_ticket(palm_client* client, const char* ticket_json, char** ticket_json_out) {
  if (palm_code c = Begin(client, ticket_json_out); c != PALM_OK) return c;
  palm::v1::Mutation m;
  if (palm_code c = ParseJson(ticket_json, "ticket", m.mutable_issue_ticket()->mutable_ticket());
      c != PALM_OK) {
    return c;
  }
  if (palm_code c = WriteMutation(client, &m); c != PALM_OK) return c;
  return Return(ToJson(m.issue_ticket().ticket()).dump(), ticket_json_out);
}

palm_code palm_void_ticket(palm_client* client, const char* case_id, const char* ticket_id,
                           const char* reason) {
  if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
  if (case_id == nullptr || ticket_id == nullptr || reason == nullptr) {
    return Invalid("case_id, ticket_id and reason are required");
  }
  Status s = client->client->VoidTicket(case_id, ticket_id, reason);
  return s.ok() ? Ok() : Fail(s);
}

palm_code palm_record_no_penalty(palm_client* client, const char* decision_json,
                                 char** decision_id_out) {
  if (palm_code c = Begin(client, decision_id_out); c != PALM_OK) return c;
  palm::v1::Mutation m;
  if (palm_code c =
          ParseJson(decision_json, "decision", m.mutable_record_no_penalty()->mutable_decision());
      c != PALM_OK) {
    return c;
  }
  if (palm_code c = WriteMutation(client, &m); c != PALM_OK) return c;
  return Return(m.record_no_penalty().decision().decision_id(), decision_id_out);
}

palm_code palm_transition_case(palm_client* client, const char* case_id, const char* to_state,
                               const char* reason) {
  if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
  if (case_id == nullptr || to_state == nullptr) return Invalid("case_id and to_state required");
  std::string name = to_state;
  if (name.rfind("CASE_STATE_", 0) != 0) name = "CASE_STATE_" + name;
  palm::v1::CaseState state;
  if (!palm::v1::CaseState_Parse(name, &state) || state == palm::v1::CASE_STATE_UNSPECIFIED) {
    return Invalid(std::string("unknown case state ") + to_state);
  }
  Status s = client->client->TransitionCase(case_id, static_cast<palm::CaseState>(state),
                                            reason == nullptr ? "" : reason);
  return s.ok() ? Ok() : Fail(s);
}

palm_code palm_append_event(palm_client* client, const char* event_json, char** event_id_out) {
  if (palm_code c = Begin(client, event_id_out); c != PALM_OK) return c;
  palm::v1::Mutation m;
  if (palm_code c = ParseJson(event_json, "event", m.mutable_append_case_event()->mutable_event());
      c != PALM_OK) {
    return c;
  }
  if (palm_code c = WriteMutation(client, &m); c != PALM_OK) return c;
  return Return(m.append_case_event().event().event_id(), event_id_out);
}

palm_code palm_get_case(palm_client* client, const char* case_id, char** case_json_out) {
  if (palm_code c = Begin(client, case_json_out); c != PALM_OK) return c;
  if (case_id == nullptr) return Invalid("case_id is required");
  absl::StatusOr<palm::internal::CaseBundle> b = Store(client).GetCase(case_id);
  if (!b.ok()) return Fail(b.status());
  json out = {{"case", ToJson(b->kase)},
              {"evidence", json::array()},
              {"tickets", json::array()},
              {"no_penalty_decisions", json::array()},
              {"timeline", json::array()}};
  for (size_t i = 0; i < b->evidence.size(); ++i) {
    json e = ToJson(b->evidence[i]);
    e["content_path"] = b->evidence_paths[i];
    out["evidence"].push_back(std::move(e));
  }
  for (const auto& t : b->tickets) out["tickets"].push_back(ToJson(t));
  for (const auto& d : b->no_penalty) out["no_penalty_decisions"].push_back(ToJson(d));
  for (const auto& e : b->timeline) out["timeline"].push_back(ToJson(e));
  return Return(out.dump(), case_json_out);
}

palm_code palm_list_cases(palm_client* client, const char* query_json, char** page_json_out) {
  if (palm_code c = Begin(client, page_json_out); c != PALM_OK) return c;
  palm::internal::CaseFilter filter;
  if (query_json != nullptr) {
    json q = json::parse(query_json, nullptr, /*allow_exceptions=*/false);
    if (!q.is_object()) return Invalid("query JSON must be an object");
    if (q.contains("state")) {
      std::string name = q["state"].is_string() ? q["state"].get<std::string>() : "";
      if (name.rfind("CASE_STATE_", 0) != 0) name = "CASE_STATE_" + name;
      palm::v1::CaseState state;
      if (!palm::v1::CaseState_Parse(name, &state)) return Invalid("unknown case state " + name);
      filter.state = state;
    }
    filter.town_id = q.value("town_id", "");
    if (q.contains("occurred_from_ms")) filter.occurred_from_ms = q.value("occurred_from_ms", 0LL);
    if (q.contains("occurred_until_ms")) {
      filter.occurred_until_ms = q.value("occurred_until_ms", 0LL);
    }
    filter.page_size = q.value("page_size", 50);
    filter.page_token = q.value("page_token", "");
  }
  absl::StatusOr<palm::internal::CaseList> list = Store(client).ListCases(filter);
  if (!list.ok()) return Fail(list.status());
  json out = {{"cases", json::array()}, {"next_page_token", list->next_page_token}};
  for (const auto& c : list->cases) out["cases"].push_back(ToJson(c));
  return Return(out.dump(), page_json_out);
}

palm_code palm_pending_counts(palm_client* client, char** json_out) {
  if (palm_code c = Begin(client, json_out); c != PALM_OK) return c;
  palm::Result<palm::PendingSyncCounts> counts = client->client->PendingCounts();
  if (!counts.ok()) return Fail(counts.status());
  json out = {{"mutations", counts->mutations},
              {"uploads", counts->uploads},
              {"oldest_pending_at_ms", counts->oldest_pending_at_ms}};
  return Return(out.dump(), json_out);
}

palm_code palm_ticket_numbers_left(palm_client* client, int64_t* left_out) {
  if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
  if (left_out == nullptr) return Invalid("left_out must not be NULL");
  palm::Result<int64_t> left = client->client->TicketNumbersLeft();
  if (!left.ok()) return Fail(left.status());
  *left_out = *left;
  return Ok();
}

palm_code palm_last_sync_report(palm_client* client, char** json_out) {
  if (palm_code c = Begin(client, json_out); c != PALM_OK) return c;
  palm::Result<palm::SyncReport> r = client->client->LastSyncReport();
  if (!r.ok()) return Fail(r.status());
  return Return(ReportJson(*r).dump(), json_out);
}

palm_code palm_sync(palm_client* client, const char* options_json, char** report_json_out) {
  if (palm_code c = Begin(client, report_json_out); c != PALM_OK) return c;
  if (options_json == nullptr) return Invalid("options_json must not be NULL");
  json j = json::parse(options_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Invalid("options_json is not a JSON object");
  palm::SyncOptions options;
  options.server_address = j.value("server_address", std::string());
  options.ca_cert_path = j.value("ca_cert_path", std::string());
  options.client_cert_path = j.value("client_cert_path", std::string());
  options.client_key_path = j.value("client_key_path", std::string());
  options.tls_server_name = j.value("tls_server_name", std::string());
  options.insecure_loopback = j.value("insecure_loopback", false);
  options.timeout = std::chrono::milliseconds(j.value("timeout_ms", int64_t{0}));
  options.push_batch_size = j.value("push_batch_size", options.push_batch_size);
  options.pull_page_size = j.value("pull_page_size", options.pull_page_size);
  {
    std::lock_guard<std::mutex> lock(client->cancel_mu);
    client->cancel = palm::CancelToken();
    options.cancel = client->cancel;
  }
  palm::Result<palm::SyncReport> r = client->client->Sync(options);
  if (!r.ok()) return Fail(r.status());
  return Return(ReportJson(*r).dump(), report_json_out);
}

palm_code palm_sync_cancel(palm_client* client) {
  if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
  std::lock_guard<std::mutex> lock(client->cancel_mu);
  client->cancel.Cancel();
  return Ok();
}

const char* palm_last_error_message(void) { return last_error.message.c_str(); }

const char* palm_last_error_reason(void) { return last_error.reason.c_str(); }

void palm_free(void* p) { std::free(p); }

}  // extern "C"
