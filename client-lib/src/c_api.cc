// The C API (palm/palm.h) over palm::Client and its device store. JSON in and
// out is protobuf's JSON mapping of the palm.v1 types.
#include "palm/palm.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>

#include "client-lib/src/c_json.h"
#include "client-lib/src/client_internal.h"
#include "client-lib/src/sessions.h"
#include "client-lib/src/status_internal.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "palm/client.h"
#include "palm/enrolment.h"

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

palm_code Fail(const Status& refusal) {
  const Status status = palm::internal::WithReason(refusal);
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

// JSON text of `j`; invalid UTF-8 in a value is replaced, never thrown.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

char* Dup(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out != nullptr) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

// Returns PALM_OK after storing a copy of `s` in *out.
palm_code Return(const std::string& s, char** out) {
  *out = Dup(s);
  if (*out == nullptr) {
    return Fail(Status(StatusCode::kResourceExhausted, "out_of_memory", "out of memory"));
  }
  return Ok();
}

// Runs the body of an entry point: no exception crosses the C boundary.
template <typename Body>
palm_code Guard(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(Status(StatusCode::kResourceExhausted, "out_of_memory", "out of memory"));
  } catch (const std::exception& e) {
    return Fail(Status(StatusCode::kInternal, "internal",
                       std::string("unexpected error in the Palm library: ") + e.what()));
  } catch (...) {
    return Fail(Status(StatusCode::kInternal, "internal", "unexpected error in the Palm library"));
  }
}

palm_code Fail(const palm::internal::JsonArgs& args) { return Fail(args.status()); }

// The keys of palm_open and palm_wipe_store. A key provider only when asked
// (`key_fn` or "key_dir").
palm_code ReadClientOptions(const char* options_json, palm_key_fn key_fn, void* key_ctx,
                            palm::ClientOptions* options);

// The keys of palm_sync (and the connection keys of palm_sign_in).
palm_code ReadSyncOptions(palm::internal::JsonArgs& j, palm::SyncOptions* options) {
  j.String("server_address", &options->server_address, palm::internal::JsonArgs::kRequired);
  j.String("ca_cert_path", &options->ca_cert_path);
  j.String("client_cert_path", &options->client_cert_path);
  j.String("client_key_path", &options->client_key_path);
  j.String("tls_server_name", &options->tls_server_name);
  j.Bool("insecure_loopback", &options->insecure_loopback);
  int64_t timeout_ms = options->timeout.count();
  j.Int("timeout_ms", &timeout_ms, 0, INT64_MAX / 1000);
  options->timeout = std::chrono::milliseconds(timeout_ms);
  j.UInt32("push_batch_size", &options->push_batch_size);
  j.UInt32("pull_page_size", &options->pull_page_size);
  j.Int("ticket_numbers_low_water", &options->ticket_numbers_low_water, 0, INT64_MAX);
  j.UInt32("ticket_numbers_per_lease", &options->ticket_numbers_per_lease);
  int64_t margin_ms = options->session_refresh_margin.count();
  j.Int("session_refresh_margin_ms", &margin_ms, 0, INT64_MAX / 1000);
  options->session_refresh_margin = std::chrono::milliseconds(margin_ms);
  return j.ok() ? PALM_OK : Fail(j);
}

json SessionJson(const palm::SessionState& s) {
  return {{"signed_in", s.signed_in},
          {"officer_id", s.officer_id},
          {"officer_name", s.officer_name},
          {"role", s.role},
          {"expires_at_ms", s.expires_at_ms},
          {"expired", s.expired},
          {"acting_officer_id", s.acting_officer_id},
          {"offline_only", s.offline_only},
          {"device_revoked", s.device_revoked},
          {"revoke_message", s.revoke_message}};
}

json IssueJson(const palm::SyncIssue& i) {
  json out = {{"issue_id", i.issue_id},
              {"kind", i.kind == palm::SyncIssueKind::kConflict ? "conflict" : "rejected"},
              {"mutation_id", i.mutation_id},
              {"device_seq", i.device_seq},
              {"case_id", i.case_id},
              {"recorded_at_ms", i.recorded_at_ms},
              {"dismissed", i.dismissed}};
  if (i.kind == palm::SyncIssueKind::kConflict) {
    out["field"] = palm::v1::CaseField_Name(static_cast<palm::v1::CaseField>(i.field));
    out["party_id"] = i.party_id;
    out["losing_value"] = i.losing_value;
    out["losing_device_id"] = i.losing_device_id;
    out["winning_value"] = i.winning_value;
    out["winning_device_id"] = i.winning_device_id;
  } else {
    out["reason"] = i.reason;
    out["message"] = i.message;
  }
  return out;
}

// Parses `text`, the argument `what` (e.g. "case_json"), as the protobuf
// JSON of `out`'s type; the parser's message names the offending field.
template <typename Message>
palm_code ParseJson(const char* text, const char* what, Message* out) {
  if (text == nullptr) return Invalid(std::string(what) + " is required");
  // The shape first, in the words every JSON argument gets.
  json shape = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (shape.is_discarded()) return Invalid(std::string(what) + " is not valid JSON");
  if (!shape.is_object()) return Invalid(std::string(what) + " must be a JSON object");
  auto status = google::protobuf::util::JsonStringToMessage(text, out);
  if (!status.ok()) {
    return Invalid(std::string(what) + " is not a valid " + out->GetTypeName() + ": " +
                   status.message().as_string());
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

palm_code ReadClientOptions(const char* options_json, palm_key_fn key_fn, void* key_ctx,
                            palm::ClientOptions* options) {
  palm::internal::JsonArgs j(options_json, "options_json");
  j.String("db_path", &options->db_path, palm::internal::JsonArgs::kRequired);
  j.String("device_id", &options->device_id);
  j.String("key_name", &options->key_name);
  std::string key_dir;
  j.String("key_dir", &key_dir);
  std::string durability = "full";
  j.String("durability", &durability);
  if (!j.ok()) return Fail(j);
  if (durability == "normal") {
    options->durability = palm::Durability::kNormal;
  } else if (durability != "full") {
    return Invalid("durability must be \"full\" or \"normal\"");
  }
  if (key_fn != nullptr) {
    options->key_provider = std::make_shared<CallbackKeyProvider>(key_fn, key_ctx);
  } else if (!key_dir.empty()) {
    options->key_provider = std::make_shared<palm::FileKeyProvider>(key_dir);
  }
  return PALM_OK;
}

// The C strings an entry point needs, each named in the refusal.
palm_code Require(std::initializer_list<std::pair<const char*, const char*>> args) {
  for (const auto& [name, value] : args) {
    if (value == nullptr) return Invalid(std::string(name) + " is required");
  }
  return PALM_OK;
}

palm_code SyncWith(palm_client* client, const char* options_json, palm_progress_fn progress,
                   void* ctx, char** report_json_out) {
  if (palm_code c = Begin(client, report_json_out); c != PALM_OK) return c;
  if (report_json_out == nullptr) return Invalid("report_json_out must not be NULL");
  palm::internal::JsonArgs j(options_json, "options_json");
  palm::SyncOptions options;
  if (palm_code c = ReadSyncOptions(j, &options); c != PALM_OK) return c;
  if (progress != nullptr) {
    options.on_progress = [progress, ctx](const palm::SyncProgress& p) {
      progress(ctx, palm::SyncPhaseName(p.phase), p.done, p.total);
    };
  }
  {
    std::lock_guard<std::mutex> lock(client->cancel_mu);
    client->cancel = palm::CancelToken();
    options.cancel = client->cancel;
  }
  palm::Result<palm::SyncReport> r = client->client->Sync(options);
  if (!r.ok()) return Fail(r.status());
  return Return(Dump(ReportJson(*r)), report_json_out);
}

}  // namespace

extern "C" {

palm_code palm_open(const char* options_json, palm_key_fn key_fn, void* key_ctx,
                    palm_client** out) {
  return Guard([&] {
    if (out == nullptr) return Invalid("out must not be NULL");
    *out = nullptr;
    palm::ClientOptions options;
    if (palm_code c = ReadClientOptions(options_json, key_fn, key_ctx, &options); c != PALM_OK) {
      return c;
    }
    if (!options.key_provider) return Invalid("give a key callback or \"key_dir\"");
    palm::Result<std::unique_ptr<palm::Client>> client = palm::Client::Open(options);
    if (!client.ok()) return Fail(client.status());
    *out = new palm_client;
    (*out)->client = std::move(*client);
    return Ok();
  });
}

void palm_close(palm_client* client) {
  (void)Guard([&] {
    delete client;
    return PALM_OK;
  });
}

const char* palm_version(void) { return PALM_VERSION_STRING; }

palm_code palm_wipe_store(const char* options_json) {
  return Guard([&] {
    palm::ClientOptions options;
    if (palm_code c = ReadClientOptions(options_json, nullptr, nullptr, &options); c != PALM_OK) {
      return c;
    }
    Status s = palm::Client::WipeStore(options);
    return s.ok() ? Ok() : Fail(s);
  });
}

palm_code palm_set_officer(palm_client* client, const char* officer_id) {
  return Guard([&] {
    if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
    if (palm_code c = Require({{"officer_id", officer_id}}); c != PALM_OK) return c;
    Status s = client->client->SetActingOfficer(officer_id);
    return s.ok() ? Ok() : Fail(s);
  });
}

palm_code palm_sign_in(palm_client* client, const char* connection_json, const char* officer_id,
                       const char* secret, char** session_json_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, session_json_out); c != PALM_OK) return c;
    if (session_json_out == nullptr) return Invalid("session_json_out must not be NULL");
    palm::internal::JsonArgs j(connection_json, "connection_json");
    palm::SyncOptions connection;
    if (palm_code c = ReadSyncOptions(j, &connection); c != PALM_OK) return c;
    if (palm_code c = Require({{"officer_id", officer_id}, {"secret", secret}}); c != PALM_OK) {
      return c;
    }
    palm::Result<palm::SessionState> state = client->client->SignIn(connection, officer_id, secret);
    if (!state.ok()) return Fail(state.status());
    return Return(Dump(SessionJson(*state)), session_json_out);
  });
}

palm_code palm_sign_out(palm_client* client, const char* connection_json) {
  return Guard([&] {
    if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
    palm::SyncOptions connection;
    if (connection_json != nullptr) {
      palm::internal::JsonArgs j(connection_json, "connection_json");
      if (palm_code c = ReadSyncOptions(j, &connection); c != PALM_OK) return c;
    }
    Status s = client->client->SignOut(connection);
    return s.ok() ? Ok() : Fail(s);
  });
}

palm_code palm_session_state(palm_client* client, char** state_json_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, state_json_out); c != PALM_OK) return c;
    if (state_json_out == nullptr) return Invalid("state_json_out must not be NULL");
    palm::Result<palm::SessionState> state = client->client->GetSessionState();
    if (!state.ok()) return Fail(state.status());
    return Return(Dump(SessionJson(*state)), state_json_out);
  });
}

palm_code palm_unlock_offline(palm_client* client, const char* officer_id, const char* secret) {
  return Guard([&] {
    if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
    if (palm_code c = Require({{"officer_id", officer_id}, {"secret", secret}}); c != PALM_OK) {
      return c;
    }
    Status s = client->client->UnlockOffline(officer_id, secret);
    return s.ok() ? Ok() : Fail(s);
  });
}

palm_code palm_record_case(palm_client* client, const char* case_json, char** case_id_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, case_id_out); c != PALM_OK) return c;
    if (case_id_out == nullptr) return Invalid("case_id_out must not be NULL");
    palm::v1::Mutation m;
    if (palm_code c = ParseJson(case_json, "case_json", m.mutable_record_case()->mutable_case_());
        c != PALM_OK) {
      return c;
    }
    if (palm_code c = WriteMutation(client, &m); c != PALM_OK) return c;
    return Return(m.record_case().case_().case_id(), case_id_out);
  });
}

palm_code palm_update_case_fields(palm_client* client, const char* case_id,
                                  const char* changes_json) {
  return Guard([&] {
    if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
    if (palm_code c = Require({{"case_id", case_id}, {"changes_json", changes_json}});
        c != PALM_OK) {
      return c;
    }
    json changes = json::parse(changes_json, nullptr, /*allow_exceptions=*/false);
    if (changes.is_discarded()) return Invalid("changes_json is not valid JSON");
    if (!changes.is_array()) return Invalid("changes_json must be a JSON array");
    // Wrapped so that the JSON mapping of UpdateCaseFields parses it.
    const std::string wrapped = json{{"changes", std::move(changes)}}.dump();
    palm::v1::Mutation m;
    if (palm_code c = ParseJson(wrapped.c_str(), "changes_json", m.mutable_update_case_fields());
        c != PALM_OK) {
      return c;
    }
    m.mutable_update_case_fields()->set_case_id(case_id);
    return WriteMutation(client, &m);
  });
}

palm_code palm_add_evidence_file(palm_client* client, const char* evidence_json, const char* path,
                                 char** evidence_id_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, evidence_id_out); c != PALM_OK) return c;
    if (evidence_id_out == nullptr) return Invalid("evidence_id_out must not be NULL");
    palm::v1::Evidence e;
    if (palm_code c = ParseJson(evidence_json, "evidence_json", &e); c != PALM_OK) return c;
    if (palm_code c = Require({{"path", path}}); c != PALM_OK) return c;
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
  });
}

palm_code palm_withdraw_evidence(palm_client* client, const char* case_id, const char* evidence_id,
                                 const char* reason) {
  return Guard([&] {
    if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
    if (palm_code c =
            Require({{"case_id", case_id}, {"evidence_id", evidence_id}, {"reason", reason}});
        c != PALM_OK) {
      return c;
    }
    Status s = client->client->WithdrawEvidence(case_id, evidence_id, reason);
    return s.ok() ? Ok() : Fail(s);
  });
}

palm_code palm_issue_ticket(palm_client* client, const char* ticket_json, char** ticket_json_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, ticket_json_out); c != PALM_OK) return c;
    if (ticket_json_out == nullptr) return Invalid("ticket_json_out must not be NULL");
    palm::v1::Mutation m;
    if (palm_code c =
            ParseJson(ticket_json, "ticket_json", m.mutable_issue_ticket()->mutable_ticket());
        c != PALM_OK) {
      return c;
    }
    if (palm_code c = WriteMutation(client, &m); c != PALM_OK) return c;
    return Return(Dump(ToJson(m.issue_ticket().ticket())), ticket_json_out);
  });
}

palm_code palm_void_ticket(palm_client* client, const char* case_id, const char* ticket_id,
                           const char* reason) {
  return Guard([&] {
    if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
    if (palm_code c = Require({{"case_id", case_id}, {"ticket_id", ticket_id}, {"reason", reason}});
        c != PALM_OK) {
      return c;
    }
    Status s = client->client->VoidTicket(case_id, ticket_id, reason);
    return s.ok() ? Ok() : Fail(s);
  });
}

palm_code palm_record_no_penalty(palm_client* client, const char* decision_json,
                                 char** decision_id_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, decision_id_out); c != PALM_OK) return c;
    if (decision_id_out == nullptr) return Invalid("decision_id_out must not be NULL");
    palm::v1::Mutation m;
    if (palm_code c = ParseJson(decision_json, "decision_json",
                                m.mutable_record_no_penalty()->mutable_decision());
        c != PALM_OK) {
      return c;
    }
    if (palm_code c = WriteMutation(client, &m); c != PALM_OK) return c;
    return Return(m.record_no_penalty().decision().decision_id(), decision_id_out);
  });
}

palm_code palm_transition_case(palm_client* client, const char* case_id, const char* to_state,
                               const char* reason) {
  return Guard([&] {
    if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
    if (palm_code c = Require({{"case_id", case_id}, {"to_state", to_state}}); c != PALM_OK) {
      return c;
    }
    std::string name = to_state;
    if (name.rfind("CASE_STATE_", 0) != 0) name = "CASE_STATE_" + name;
    palm::v1::CaseState state;
    if (!palm::v1::CaseState_Parse(name, &state) || state == palm::v1::CASE_STATE_UNSPECIFIED) {
      return Invalid(std::string("unknown case state ") + to_state);
    }
    Status s = client->client->TransitionCase(case_id, static_cast<palm::CaseState>(state),
                                              reason == nullptr ? "" : reason);
    return s.ok() ? Ok() : Fail(s);
  });
}

palm_code palm_append_event(palm_client* client, const char* event_json, char** event_id_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, event_id_out); c != PALM_OK) return c;
    if (event_id_out == nullptr) return Invalid("event_id_out must not be NULL");
    palm::v1::Mutation m;
    if (palm_code c =
            ParseJson(event_json, "event_json", m.mutable_append_case_event()->mutable_event());
        c != PALM_OK) {
      return c;
    }
    if (palm_code c = WriteMutation(client, &m); c != PALM_OK) return c;
    return Return(m.append_case_event().event().event_id(), event_id_out);
  });
}

palm_code palm_get_case(palm_client* client, const char* case_id, char** case_json_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, case_json_out); c != PALM_OK) return c;
    if (case_json_out == nullptr) return Invalid("case_json_out must not be NULL");
    if (palm_code c = Require({{"case_id", case_id}}); c != PALM_OK) return c;
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
    return Return(Dump(out), case_json_out);
  });
}

palm_code palm_list_cases(palm_client* client, const char* query_json, char** page_json_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, page_json_out); c != PALM_OK) return c;
    if (page_json_out == nullptr) return Invalid("page_json_out must not be NULL");
    palm::internal::JsonArgs j(query_json, "query_json", palm::internal::JsonArgs::kOptional);
    palm::internal::CaseFilter filter;
    std::string state;
    j.String("state", &state);
    j.String("town_id", &filter.town_id);
    int64_t from = -1, until = -1, page_size = filter.page_size;
    j.Int("occurred_from_ms", &from, 0, INT64_MAX);
    j.Int("occurred_until_ms", &until, 0, INT64_MAX);
    j.Int("page_size", &page_size, 1, 500);
    j.String("page_token", &filter.page_token);
    if (!j.ok()) return Fail(j);
    if (!state.empty()) {
      std::string name = state.rfind("CASE_STATE_", 0) == 0 ? state : "CASE_STATE_" + state;
      palm::v1::CaseState parsed;
      if (!palm::v1::CaseState_Parse(name, &parsed)) return Invalid("unknown case state " + state);
      filter.state = parsed;
    }
    if (from >= 0) filter.occurred_from_ms = from;
    if (until >= 0) filter.occurred_until_ms = until;
    filter.page_size = static_cast<int>(page_size);
    absl::StatusOr<palm::internal::CaseList> list = Store(client).ListCases(filter);
    if (!list.ok()) return Fail(list.status());
    json out = {{"cases", json::array()}, {"next_page_token", list->next_page_token}};
    for (const auto& c : list->cases) out["cases"].push_back(ToJson(c));
    return Return(Dump(out), page_json_out);
  });
}

palm_code palm_list_deadlines(palm_client* client, const char* query_json, char** json_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, json_out); c != PALM_OK) return c;
    if (json_out == nullptr) return Invalid("json_out must not be NULL");
    palm::internal::JsonArgs j(query_json, "query_json", palm::internal::JsonArgs::kOptional);
    int64_t within_days = 7;
    bool all_officers = false;
    std::string as_of;
    j.Int("within_days", &within_days, 1, 366);
    j.Bool("all_officers", &all_officers);
    j.String("as_of", &as_of);
    if (!j.ok()) return Fail(j);
    absl::StatusOr<std::vector<palm::v1::CaseClock>> clocks =
        Store(client).Deadlines(all_officers, as_of, within_days);
    if (!clocks.ok()) return Fail(clocks.status());
    json out = {{"clocks", json::array()}};
    for (const auto& k : *clocks) out["clocks"].push_back(ToJson(k));
    return Return(Dump(out), json_out);
  });
}

palm_code palm_pending_counts(palm_client* client, char** json_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, json_out); c != PALM_OK) return c;
    if (json_out == nullptr) return Invalid("json_out must not be NULL");
    palm::Result<palm::PendingSyncCounts> counts = client->client->PendingCounts();
    if (!counts.ok()) return Fail(counts.status());
    json out = {{"mutations", counts->mutations},
                {"uploads", counts->uploads},
                {"oldest_pending_at_ms", counts->oldest_pending_at_ms}};
    return Return(Dump(out), json_out);
  });
}

palm_code palm_ticket_numbers_left(palm_client* client, int64_t* left_out) {
  return Guard([&] {
    if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
    if (left_out == nullptr) return Invalid("left_out must not be NULL");
    palm::Result<int64_t> left = client->client->TicketNumbersLeft();
    if (!left.ok()) return Fail(left.status());
    *left_out = *left;
    return Ok();
  });
}

palm_code palm_last_sync_report(palm_client* client, char** json_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, json_out); c != PALM_OK) return c;
    if (json_out == nullptr) return Invalid("json_out must not be NULL");
    palm::Result<palm::SyncReport> r = client->client->LastSyncReport();
    if (!r.ok()) return Fail(r.status());
    return Return(Dump(ReportJson(*r)), json_out);
  });
}

palm_code palm_sync(palm_client* client, const char* options_json, char** report_json_out) {
  return Guard([&] { return SyncWith(client, options_json, nullptr, nullptr, report_json_out); });
}

palm_code palm_sync_with_progress(palm_client* client, const char* options_json,
                                  palm_progress_fn progress, void* ctx, char** report_json_out) {
  return Guard([&] { return SyncWith(client, options_json, progress, ctx, report_json_out); });
}

palm_code palm_sync_cancel(palm_client* client) {
  return Guard([&] {
    if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
    std::lock_guard<std::mutex> lock(client->cancel_mu);
    client->cancel.Cancel();
    return Ok();
  });
}

palm_code palm_list_sync_issues(palm_client* client, int include_dismissed,
                                char** issues_json_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, issues_json_out); c != PALM_OK) return c;
    if (issues_json_out == nullptr) return Invalid("issues_json_out must not be NULL");
    palm::Result<std::vector<palm::SyncIssue>> issues =
        client->client->ListSyncIssues(include_dismissed != 0);
    if (!issues.ok()) return Fail(issues.status());
    json out = json::array();
    for (const palm::SyncIssue& i : *issues) out.push_back(IssueJson(i));
    return Return(Dump(out), issues_json_out);
  });
}

palm_code palm_dismiss_sync_issue(palm_client* client, const char* issue_id) {
  return Guard([&] {
    if (palm_code c = Begin<char>(client, nullptr); c != PALM_OK) return c;
    if (palm_code c = Require({{"issue_id", issue_id}}); c != PALM_OK) return c;
    Status s = client->client->DismissSyncIssue(issue_id);
    return s.ok() ? Ok() : Fail(s);
  });
}

palm_code palm_export_evidence_receipt(palm_client* client, const char* evidence_id,
                                       char** receipt_json_out) {
  return Guard([&] {
    if (palm_code c = Begin(client, receipt_json_out); c != PALM_OK) return c;
    if (receipt_json_out == nullptr) return Invalid("receipt_json_out must not be NULL");
    if (palm_code c = Require({{"evidence_id", evidence_id}}); c != PALM_OK) return c;
    palm::Result<std::string> receipt =
        client->client->ExportEvidenceReceipt(evidence_id, /*json=*/true);
    if (!receipt.ok()) return Fail(receipt.status());
    return Return(*receipt, receipt_json_out);
  });
}

palm_code palm_verify_evidence_receipt(const char* receipt_json, const char* log_key_pem,
                                       const char* file_path) {
  return Guard([&] {
    if (palm_code c = Require({{"receipt_json", receipt_json}, {"log_key_pem", log_key_pem}});
        c != PALM_OK) {
      return c;
    }
    json parsed = json::parse(receipt_json, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return Invalid("receipt_json is not valid JSON");
    if (!parsed.is_object()) return Invalid("receipt_json must be a JSON object");
    Status s = palm::VerifyEvidenceReceipt(receipt_json, log_key_pem,
                                           file_path == nullptr ? "" : file_path);
    return s.ok() ? Ok() : Fail(s);
  });
}

palm_code palm_create_enrolment_request(const char* key_path, const char* device_id,
                                        char** request_json_out) {
  return Guard([&] {
    if (request_json_out == nullptr) return Invalid("request_json_out must not be NULL");
    *request_json_out = nullptr;
    if (palm_code c = Require({{"key_path", key_path}}); c != PALM_OK) return c;
    palm::Result<palm::EnrolmentRequest> made =
        palm::CreateEnrolmentRequest(key_path, device_id == nullptr ? "" : device_id);
    if (!made.ok()) return Fail(made.status());
    return Return(json{{"device_id", made->device_id}, {"csr_pem", made->csr_pem}}.dump(),
                  request_json_out);
  });
}

const char* palm_last_error_message(void) { return last_error.message.c_str(); }

const char* palm_last_error_reason(void) { return last_error.reason.c_str(); }

void palm_free(void* p) { std::free(p); }

}  // extern "C"
