// palm.v1.AuthService: officer sign-in (DESIGN.md §4). Secrets are checked
// against a salted scrypt hash (sync/scrypt.h) on a store reader thread, never
// in a reaction; the outcome — success or failure — is recorded, audited and
// counted on the writer thread. Consecutive failures lock the officer for
// --sign-in-lockout-ms after --max-sign-in-failures.
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "palm/v1/auth.grpc.pb.h"
#include "server/audit.h"
#include "server/auth_credentials.h"
#include "server/authz.h"
#include "server/rpc_util.h"
#include "server/services.h"
#include "sync/hlc.h"
#include "sync/quote.h"
#include "sync/uuid.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

// What the reader thread found.
struct SecretCheck {
  std::optional<v1::Officer> officer;
  bool has_credential = false;
  bool matches = false;
};

// `officer_id` as quoted (sync::QuotePrefix).
absl::Status WrongSecret(const std::string& officer_id) {
  return absl::UnauthenticatedError(
      absl::StrCat("sign-in of officer ", officer_id, " refused: unknown officer or wrong secret"));
}

class AuthServiceImpl final : public v1::AuthService::CallbackService {
 public:
  explicit AuthServiceImpl(ServiceContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* SignIn(grpc::CallbackServerContext* ctx,
                                   const v1::SignInRequest* request,
                                   v1::SignInResponse* response) override {
    auto principal = IdentifyPrincipal(ctx, *context_->store, context_->config->tls_enabled());
    if (!principal.ok()) return FinishNow(ctx, principal.status());
    if (request->officer_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("officer_id is missing"));
    }
    if (request->secret().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("secret is missing"));
    }
    auto* reactor = ctx->DefaultReactor();
    auto check = std::make_shared<SecretCheck>();
    ServiceContext* context = context_;
    context_->store->SubmitRead(
        [check, officer_id = request->officer_id(),
         secret = request->secret()](ReadTxn& txn) -> absl::Status {
          auto officer = txn.GetOfficer(officer_id);
          if (!officer.ok()) return officer.status();
          check->officer = std::move(*officer);
          auto credential = txn.GetCredential(officer_id);
          if (!credential.ok()) return credential.status();
          if (*credential) {
            check->has_credential = true;
            auto matches = SecretMatches(**credential, secret);
            if (!matches.ok()) return matches.status();
            check->matches = *matches;
          }
          return absl::OkStatus();
        },
        [reactor, context, check, request, response,
         principal = std::move(*principal)](absl::Status read) {
          if (!read.ok()) {
            reactor->Finish(ToGrpc(read));
            return;
          }
          auto verdict = std::make_shared<absl::Status>();
          context->store->SubmitWrite(
              [context, check, request, response, principal,
               verdict](WriteTxn& txn) -> absl::Status {
                return RecordSignIn(txn, *context, *check, principal, *request, response,
                                    verdict.get());
              },
              [reactor, verdict](absl::Status s) {
                reactor->Finish(ToGrpc(s.ok() ? *verdict : s));
              });
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* RefreshSession(grpc::CallbackServerContext* ctx,
                                           const v1::RefreshSessionRequest*,
                                           v1::RefreshSessionResponse* response) override {
    auto authority = Authorize(ctx, *context_, Rpc::kRefreshSession);
    if (!authority.ok()) return FinishNow(ctx, authority.status());
    if (authority->harness()) {
      return FinishNow(
          ctx, absl::UnauthenticatedError("RefreshSession needs a session token; sign in first"));
    }
    // On the writer, so that of two refreshes racing with one token only
    // the first gets a new one.
    ServiceContext* context = context_;
    return FinishAfterWrite(
        ctx, context_->store,
        [context, claims = *authority->session, response](WriteTxn& txn) -> absl::Status {
          const int64_t now = sync::SystemNowMs();
          auto officer = txn.GetOfficer(claims.officer_id);
          if (!officer.ok()) return officer.status();
          if (!*officer || !(*officer)->active()) {
            return absl::UnauthenticatedError(
                absl::StrCat("officer ", claims.officer_id, " is no longer active"));
          }
          auto ended = context->sessions->End(txn, claims, kSessionRefreshed, now);
          if (!ended.ok()) return ended.status();
          if (!*ended) return EndedSessions::Refusal(claims, kSessionRefreshed);
          auto credential = txn.GetCredential(claims.officer_id);
          if (!credential.ok()) return credential.status();
          if (auto s = IssueSession(*context, **officer,
                                    *credential ? (*credential)->offline_salt : std::string(),
                                    claims.principal, response->mutable_session());
              !s.ok()) {
            return s;
          }
          return AppendAudit(
              txn, now, absl::StrCat("officer:", claims.officer_id), "auth.session_refreshed",
              claims.officer_id,
              nlohmann::json{{"principal", claims.principal}, {"token_id", claims.token_id}});
        });
  }

  grpc::ServerUnaryReactor* SignOut(grpc::CallbackServerContext* ctx, const v1::SignOutRequest*,
                                    v1::SignOutResponse*) override {
    bool live = false;
    auto authority = AuthorizeSignOut(ctx, *context_, &live);
    if (!authority.ok()) return FinishNow(ctx, authority.status());
    if (authority->harness()) {
      return FinishNow(ctx,
                       absl::UnauthenticatedError("SignOut needs a session token; sign in first"));
    }
    if (!live) return FinishNow(ctx, absl::OkStatus());  // already ended or expired
    ServiceContext* context = context_;
    return FinishAfterWrite(
        ctx, context_->store,
        [context, claims = *authority->session](WriteTxn& txn) -> absl::Status {
          const int64_t now = sync::SystemNowMs();
          auto ended = context->sessions->End(txn, claims, kSessionSignedOut, now);
          if (!ended.ok()) return ended.status();
          if (!*ended) return absl::OkStatus();  // a racing SignOut or refresh ended it
          return AppendAudit(
              txn, now, absl::StrCat("officer:", claims.officer_id), "auth.signed_out",
              claims.officer_id,
              nlohmann::json{{"principal", claims.principal}, {"token_id", claims.token_id}});
        });
  }

 private:
  static absl::Status IssueSession(const ServiceContext& context, const v1::Officer& officer,
                                   const std::string& offline_salt, const std::string& principal,
                                   v1::SessionToken* session) {
    const int64_t now = sync::SystemNowMs();
    SessionClaims claims{.token_id = sync::NewUuidV7(now),
                         .officer_id = officer.officer_id(),
                         .role = officer.role(),
                         .town_id = officer.town_id(),
                         .squad_id = officer.squad_id(),
                         .principal = principal,
                         .issued_at_ms = now,
                         .expires_at_ms = now + context.config->session_ttl_ms};
    auto token = context.signer->Issue(claims);
    if (!token.ok()) return token.status();
    session->set_token(*token);
    session->set_expires_at_ms(claims.expires_at_ms);
    *session->mutable_officer() = officer;
    session->set_role(officer.role());
    session->set_offline_salt(offline_salt);
    return absl::OkStatus();
  }

  // Runs on the writer thread: counts, locks, audits and (on success) issues
  // the session. Returns non-OK only for a storage error; the caller's answer
  // goes to *verdict, so that a refused sign-in still commits its audit entry.
  static absl::Status RecordSignIn(WriteTxn& txn, const ServiceContext& context,
                                   const SecretCheck& check, const Principal& principal,
                                   const v1::SignInRequest& request, v1::SignInResponse* response,
                                   absl::Status* verdict) {
    const int64_t now = sync::SystemNowMs();
    // What a refusal, log line or audit entry names: the caller may have
    // sent megabytes where an id belongs.
    const std::string officer_id = sync::QuotePrefix(request.officer_id());
    const std::string actor = absl::StrCat("officer:", officer_id);
    nlohmann::json details = {{"principal", principal.name()}};
    auto credential = txn.GetCredential(request.officer_id());
    if (!credential.ok()) return credential.status();
    if (!check.officer || !check.has_credential || !*credential || !check.officer->active()) {
      *verdict = WrongSecret(officer_id);
      details["problem"] = !check.officer             ? "unknown officer"
                           : !check.officer->active() ? "officer not active"
                                                      : "no secret set";
      return AppendAudit(txn, now, actor, "auth.sign_in_failed", officer_id, details);
    }
    OfficerCredential& c = **credential;
    if (c.locked_until_ms > now) {
      *verdict = absl::UnauthenticatedError(absl::StrCat(
          "officer ", officer_id, " is locked after ", context.config->max_sign_in_failures,
          " failed sign-ins until ", c.locked_until_ms, " (unix ms)"));
      details["problem"] = "locked";
      return AppendAudit(txn, now, actor, "auth.sign_in_failed", officer_id, details);
    }
    if (!check.matches) {
      ++c.failed_attempts;
      details["problem"] = "wrong secret";
      details["failed_attempts"] = c.failed_attempts;
      *verdict = WrongSecret(officer_id);
      if (c.failed_attempts >= context.config->max_sign_in_failures) {
        c.failed_attempts = 0;
        c.locked_until_ms = now + context.config->sign_in_lockout_ms;
        details["locked_until_ms"] = c.locked_until_ms;
      }
      if (auto s = txn.PutCredential(c); !s.ok()) return s;
      return AppendAudit(txn, now, actor, "auth.sign_in_failed", officer_id, details);
    }
    if (principal.device && principal.device->town_id != check.officer->town_id()) {
      *verdict = absl::PermissionDeniedError(
          absl::StrCat("officer ", officer_id, " of town ", check.officer->town_id(),
                       " may not sign in on device ", principal.device->device_id, " of town ",
                       principal.device->town_id));
      details["problem"] = "device of another town";
      return AppendAudit(txn, now, actor, "auth.sign_in_failed", officer_id, details);
    }
    c.failed_attempts = 0;
    c.locked_until_ms = 0;
    if (auto s = txn.PutCredential(c); !s.ok()) return s;
    if (auto s = IssueSession(context, *check.officer, c.offline_salt, principal.name(),
                              response->mutable_session());
        !s.ok()) {
      return s;
    }
    *verdict = absl::OkStatus();
    return AppendAudit(txn, now, actor, "auth.signed_in", officer_id, details);
  }

  ServiceContext* context_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAuthService(ServiceContext* context) {
  return std::make_unique<AuthServiceImpl>(context);
}

}  // namespace palm::server
