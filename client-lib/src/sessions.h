// The officer's online session behind Client::SignIn, SignOut,
// GetSessionState and UnlockOffline, and the token Client::Sync sends
// (DESIGN.md §4). Internal to client-lib.
#ifndef PALM_CLIENT_SESSIONS_H_
#define PALM_CLIENT_SESSIONS_H_

#include <mutex>
#include <string>

#include "client-lib/src/device_store.h"
#include "palm/client.h"

namespace palm::internal {

// `s` with a machine reason: unchanged when it has one; else the reason its
// code and the server's words imply (the server refuses sign-ins and
// sessions without a reason tag: "wrong_secret", "officer_locked",
// "device_not_enrolled", "sign_in_required", "out_of_jurisdiction",
// "server_unreachable"); else its code's name in lower case. OK stays OK.
Status WithReason(Status s);

// Thread-safe: one mutex serialises sign-in, renewal and sign-out, so that
// a sync never sends a token that a concurrent sign-out dropped; State()
// takes no part in it.
class Sessions {
 public:
  // `store` outlives this; `db_path` locates the security file
  // (DeviceSecurity::PathFor).
  Sessions(DeviceStore& store, std::string db_path);

  // As Client::SignIn, SignOut, GetSessionState and UnlockOffline.
  Result<SessionState> SignIn(const SyncOptions& connection, const std::string& officer_id,
                              const std::string& secret);
  Status SignOut(const SyncOptions& connection);
  Result<SessionState> State();
  Status UnlockOffline(const std::string& officer_id, const std::string& secret);

  // The token a sync with `options` sends: the kept session's, renewed
  // first (AuthService.RefreshSession) when it expires within the margin.
  // UNAUTHENTICATED "sign_in_required" when there is none to send.
  Result<std::string> TokenForSync(const SyncOptions& options);

  // What a sync returned: a "device_revoked" refusal is recorded in
  // DeviceSecurity; "sign_in_required" after sending `token` (empty: none
  // was sent) drops that session when it is still the kept one.
  void SyncFailed(const Status& status, const std::string& token);

 private:
  std::mutex mu_;
  DeviceStore& store_;
  const std::string db_path_;
};

}  // namespace palm::internal

#endif  // PALM_CLIENT_SESSIONS_H_
