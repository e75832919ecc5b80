#include "client-lib/src/sessions.h"

#include <time.h>

#include <chrono>
#include <memory>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client-lib/src/channel.h"
#include "client-lib/src/status_internal.h"
#include "palm/device_security.h"
#include "palm/v1/auth.grpc.pb.h"

namespace palm::internal {
namespace {

namespace v1 = palm::v1;
using Clock = std::chrono::system_clock;

constexpr std::chrono::seconds kDefaultAuthTimeout{30};

Status Refusal(StatusCode code, const char* reason, std::string message) {
  return Status(code, reason, std::move(message));
}

Status SignInRequired(const std::string& why) {
  return Refusal(StatusCode::kUnauthenticated, "sign_in_required",
                 why + "; sign in online (Client::SignIn) to sync");
}

// "2026-03-01 08:00:00 UTC".
std::string FormatUtc(int64_t unix_ms) {
  time_t seconds = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return text;
}

std::string RoleName(v1::Role role) {
  const std::string name = absl::AsciiStrToLower(v1::Role_Name(role));
  return std::string(absl::StripPrefix(name, "role_"));
}

// One unary AuthService call with the connection settings of `connection`,
// carrying `token` (over TLS) when not empty. The server's refusal comes
// back with a reason (WithReason).
template <typename Request, typename Response, typename Method>
Status CallAuth(const SyncOptions& connection, const std::string& device_id,
                const std::string& token, Method method, const Request& request,
                Response* response) {
  SyncOptions options = connection;
  options.session_token = token;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeSyncChannel(options);
  if (!channel.ok()) return WithReason(FromAbsl(channel.status()));
  std::unique_ptr<v1::AuthService::Stub> stub = v1::AuthService::NewStub(*channel);
  grpc::ClientContext ctx;
  const auto timeout = connection.timeout.count() > 0
                           ? std::chrono::duration_cast<Clock::duration>(connection.timeout)
                           : std::chrono::duration_cast<Clock::duration>(kDefaultAuthTimeout);
  PrepareCall(&ctx, device_id, Clock::now() + timeout);
  grpc::Status s = ((*stub).*method)(&ctx, request, response);
  if (s.ok()) return Status();
  std::string message = s.error_message();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    message =
        absl::StrCat("cannot reach palm-server at ", connection.server_address, ": ", message);
  }
  // The server tags refusals of its rules with " [REASON_...]" (as a sync
  // reads them); device revocation is one.
  if (absl::StrContains(message, "[REASON_DEVICE_REVOKED]")) {
    return Refusal(static_cast<StatusCode>(s.error_code()), "device_revoked", message);
  }
  return WithReason(Status(static_cast<StatusCode>(s.error_code()), "", message));
}

}  // namespace

Status WithReason(Status s) {
  if (s.ok() || !s.reason().empty()) return s;
  const std::string& m = s.message();
  std::string reason;
  switch (s.code()) {
    case StatusCode::kUnauthenticated:
      if (absl::StrContains(m, " is locked ")) {
        reason = "officer_locked";
      } else if (absl::StrContains(m, "wrong secret")) {
        reason = "wrong_secret";
      } else if (absl::StrContains(m, "is not enrolled")) {
        reason = "device_not_enrolled";
      } else if (absl::StrContains(m, "certificate")) {
        reason = "device_certificate_refused";
      } else if (absl::StrContains(m, "session") || absl::StrContains(m, "sign in")) {
        reason = "sign_in_required";
      }
      break;
    case StatusCode::kPermissionDenied:
      if (absl::StrContains(m, "may not sign in on device") ||
          absl::StrContains(m, "may not use device")) {
        reason = "out_of_jurisdiction";
      }
      break;
    case StatusCode::kUnavailable:
      reason = "server_unreachable";
      break;
    default:
      break;
  }
  if (reason.empty()) reason = absl::AsciiStrToLower(StatusCodeName(s.code()));
  return Status(s.code(), std::move(reason), m);
}

Sessions::Sessions(DeviceStore& store, std::string db_path)
    : store_(store), db_path_(std::move(db_path)) {}

Result<SessionState> Sessions::SignIn(const SyncOptions& connection, const std::string& officer_id,
                                      const std::string& secret) {
  if (officer_id.empty() || secret.empty()) {
    return Refusal(StatusCode::kInvalidArgument, "invalid_argument",
                   "signing in needs the officer id and their secret");
  }
  Result<std::unique_ptr<DeviceSecurity>> security = DeviceSecurity::Open(db_path_);
  if (!security.ok()) return WithReason(security.status());
  if ((*security)->IsRevoked()) {
    return Refusal(StatusCode::kUnauthenticated, "device_revoked",
                   "this device was revoked: " + (*security)->revoke_message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  v1::SignInRequest request;
  request.set_officer_id(officer_id);
  request.set_secret(secret);
  v1::SignInResponse response;
  const int64_t asked_at = store_.WallClockMs();
  Status s = CallAuth(connection, store_.device_id(), "", &v1::AuthService::Stub::SignIn, request,
                      &response);
  if (!s.ok()) {
    if (s.reason() == "device_revoked") (void)(*security)->RecordSyncStatus(s);
    return s;
  }
  const v1::SessionToken& session = response.session();
  if (!session.offline_salt().empty()) {
    Status cached = (*security)->CacheOfflineVerifier(officer_id, secret, session.offline_salt());
    if (!cached.ok()) return WithReason(cached);
  }
  if (session.officer().officer_id() == officer_id) {
    if (absl::Status s2 = store_.UpsertOfficers({session.officer()}); !s2.ok()) {
      return WithReason(FromAbsl(s2));
    }
  }
  if (absl::Status s2 = store_.PutSession(session, asked_at); !s2.ok()) {
    return WithReason(FromAbsl(s2));
  }
  if (absl::Status s2 = store_.SetActingOfficer(officer_id); !s2.ok()) {
    return WithReason(FromAbsl(s2));
  }
  return State();
}

Status Sessions::SignOut(const SyncOptions& connection) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<std::optional<StoredSession>> kept = store_.LoadSession();
  // A session that cannot be read is dropped all the same.
  std::string token = kept.ok() && kept->has_value() ? (*kept)->session.token() : "";
  if (absl::Status s = store_.ClearSession(); !s.ok()) return WithReason(FromAbsl(s));
  store_.ClearActingOfficer();
  if (!token.empty() && !connection.server_address.empty()) {
    // Best-effort: the device has forgotten the token either way, and the
    // server lets it expire when it cannot be told.
    v1::SignOutResponse response;
    (void)CallAuth(connection, store_.device_id(), token, &v1::AuthService::Stub::SignOut,
                   v1::SignOutRequest(), &response);
  }
  return Status();
}

// Reads only what the store and the security file hold, each consistent on
// its own: never waits for a sign-in or renewal on the network.
Result<SessionState> Sessions::State() {
  absl::StatusOr<std::optional<StoredSession>> kept = store_.LoadSession();
  if (!kept.ok()) return WithReason(FromAbsl(kept.status()));
  SessionState state;
  state.acting_officer_id = store_.acting_officer();
  if (kept->has_value()) {
    const v1::SessionToken& session = (*kept)->session;
    state.signed_in = true;
    state.officer_id = session.officer().officer_id();
    state.officer_name = session.officer().name();
    state.role = RoleName(session.role());
    state.expires_at_ms = session.expires_at_ms();
    state.expired = store_.WallClockMs() >= session.expires_at_ms();
  }
  Result<std::unique_ptr<DeviceSecurity>> security = DeviceSecurity::Open(db_path_);
  if (security.ok()) {
    state.device_revoked = (*security)->IsRevoked();
    state.revoke_message = (*security)->revoke_message();
  }
  state.offline_only = !state.acting_officer_id.empty() &&
                       (!state.signed_in || state.officer_id != state.acting_officer_id);
  return state;
}

Status Sessions::UnlockOffline(const std::string& officer_id, const std::string& secret) {
  if (officer_id.empty() || secret.empty()) {
    return Refusal(StatusCode::kInvalidArgument, "invalid_argument",
                   "an offline unlock needs the officer id and their secret");
  }
  Result<std::unique_ptr<DeviceSecurity>> security = DeviceSecurity::Open(db_path_);
  if (!security.ok()) return WithReason(security.status());
  if (Status s = (*security)->UnlockOffline(officer_id, secret); !s.ok()) return WithReason(s);
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<std::optional<StoredSession>> kept = store_.LoadSession();
  if (!kept.ok() || (kept->has_value() && (*kept)->session.officer().officer_id() != officer_id)) {
    if (absl::Status s = store_.ClearSession(); !s.ok()) return WithReason(FromAbsl(s));
  }
  return WithReason(FromAbsl(store_.SetActingOfficer(officer_id)));
}

Result<std::string> Sessions::TokenForSync(const SyncOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<std::optional<StoredSession>> kept = store_.LoadSession();
  if (!kept.ok()) return WithReason(FromAbsl(kept.status()));
  if (!kept->has_value()) {
    const std::string acting = store_.acting_officer();
    return SignInRequired(acting.empty() ? "no officer is signed in online on this device"
                                         : "officer " + acting +
                                               " is unlocked offline only: syncing needs "
                                               "an online session");
  }
  StoredSession& session = **kept;
  const std::string& officer = session.session.officer().officer_id();
  const int64_t now = store_.WallClockMs();
  const int64_t expires = session.session.expires_at_ms();
  if (now >= expires) {
    return SignInRequired("the session of officer " + officer + " expired at " +
                          FormatUtc(expires));
  }
  const int64_t margin = std::max(options.session_refresh_margin, options.timeout).count();
  if (expires - now > margin) return session.session.token();

  v1::RefreshSessionResponse response;
  Status s =
      CallAuth(options, store_.device_id(), session.session.token(),
               &v1::AuthService::Stub::RefreshSession, v1::RefreshSessionRequest(), &response);
  if (s.ok()) {
    if (absl::Status put = store_.PutSession(response.session(), now); !put.ok()) {
      return WithReason(FromAbsl(put));
    }
    return response.session().token();
  }
  // A server older than RefreshSession: the session is still good for now.
  if (s.code() == StatusCode::kUnimplemented) return session.session.token();
  if (s.code() == StatusCode::kUnauthenticated) {
    (void)store_.ClearSession();
    return SignInRequired("the session of officer " + officer + " could not be renewed (" +
                          s.message() + ")");
  }
  // Unreachable, or refused for the device: the sync could not go on either.
  return s;
}

void Sessions::SyncFailed(const Status& status, const std::string& token) {
  if (status.reason() == "device_revoked") {
    Result<std::unique_ptr<DeviceSecurity>> security = DeviceSecurity::Open(db_path_);
    if (security.ok()) (void)(*security)->RecordSyncStatus(status);
    return;
  }
  if (status.reason() != "sign_in_required" || token.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<std::optional<StoredSession>> kept = store_.LoadSession();
  if (kept.ok() && kept->has_value() && (*kept)->session.token() == token) {
    (void)store_.ClearSession();
  }
}

}  // namespace palm::internal
