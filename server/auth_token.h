// Officer session tokens (DESIGN.md §4): short-lived claims signed with the
// server's Ed25519 key, sent by clients as `authorization: Bearer <token>`.
//
// Format (all ASCII):  palm1.<claims>.<signature>
//   claims     base64url (no padding) of a JSON object:
//              {"v":1,"jti":ID,"off":OFFICER,"role":ROLE_NUMBER,"town":T,
//               "squad":S,"dev":PRINCIPAL,"iat":MS,"exp":MS}
//              PRINCIPAL is the device id, or "operator:NAME" for palmctl.
//   signature  base64url of Ed25519 over the ASCII bytes "palm1.<claims>".
// The key lives in the data dir (session-signing.key, 0600), created on
// first start; replacing it ends every session.
#ifndef PALM_SERVER_AUTH_TOKEN_H_
#define PALM_SERVER_AUTH_TOKEN_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "palm/v1/common.pb.h"
#include "sync/ed25519.h"

namespace palm::server {

// Metadata key carrying the token, and the file holding the signing key.
inline constexpr char kAuthorizationMetadata[] = "authorization";
inline constexpr char kSessionKeyFile[] = "session-signing.key";

struct SessionClaims {
  std::string token_id;
  std::string officer_id;
  palm::v1::Role role = palm::v1::ROLE_UNSPECIFIED;
  std::string town_id;
  std::string squad_id;
  // The calling device id, or "operator:NAME"; a token works only there.
  std::string principal;
  int64_t issued_at_ms = 0;
  int64_t expires_at_ms = 0;
};

// Issues and checks tokens. Thread-safe after construction (the key is
// read-only).
class TokenSigner {
 public:
  // Loads `data_dir`/session-signing.key, creating it (0600) when missing.
  static absl::StatusOr<std::unique_ptr<TokenSigner>> Open(const std::string& data_dir);
  // A signer with `key` (tests).
  explicit TokenSigner(sync::UniqueEvpPkey key) : key_(std::move(key)) {}

  // Returns the signed token for `claims`.
  absl::StatusOr<std::string> Issue(const SessionClaims& claims) const;

  // Returns the claims of `token` if it is well formed, signed by this key
  // and not expired at `now_ms`. UNAUTHENTICATED otherwise, with a message
  // saying which ("... malformed", "... does not verify", "... expired").
  absl::StatusOr<SessionClaims> Verify(const std::string& token, int64_t now_ms) const;
  // The same without the expiry check (SignOut accepts an expired token).
  absl::StatusOr<SessionClaims> VerifySignature(const std::string& token) const;

 private:
  sync::UniqueEvpPkey key_;
};

}  // namespace palm::server

#endif  // PALM_SERVER_AUTH_TOKEN_H_
