// Sessions ended before their expiry (DESIGN.md §4): RefreshSession ends the
// token it replaces and SignOut the token it carries, at once. A session
// token is signed claims the server does not otherwise store, so ending one
// is a record of its token id ("jti") in the store's ended_sessions table,
// mirrored here in memory so that Authorize checks it without touching the
// disk. Every token palm-server has issued carries a token id, so tokens
// issued before sessions could be ended are ended the same way.
#ifndef PALM_SERVER_AUTH_SESSIONS_H_
#define PALM_SERVER_AUTH_SESSIONS_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/auth_token.h"
#include "server/store.h"

namespace palm::server {

// Thread-safe. Lookups take one mutex and one hash probe. Always held by a
// shared_ptr (Load).
class EndedSessions : public std::enable_shared_from_this<EndedSessions> {
 public:
  // Loads the records of `store` whose tokens have not expired. Blocks on a
  // store read: call at start-up, never from a reaction.
  static absl::StatusOr<std::shared_ptr<EndedSessions>> Load(ServerStore& store);

  // Records, in `txn`, that `claims`' session ended for `reason`
  // (kSessionRefreshed, kSessionSignedOut) at `now_ms`, and makes Check see
  // it once `txn` commits. False when it had already ended.
  absl::StatusOr<bool> End(WriteTxn& txn, const SessionClaims& claims, const char* reason,
                           int64_t now_ms);

  // UNAUTHENTICATED, saying how it ended, when `claims`' session has ended;
  // OK otherwise. Never blocks on the disk.
  absl::Status Check(const SessionClaims& claims) const;

  // The UNAUTHENTICATED status Check answers for a session of `claims` that
  // ended for `reason`.
  static absl::Status Refusal(const SessionClaims& claims, const std::string& reason);

 private:
  void Remember(const std::string& token_id, std::string reason, int64_t expires_at_ms);

  mutable std::mutex mutex_;
  // token id -> (reason, expiry). GUARDED_BY(mutex_)
  std::unordered_map<std::string, std::pair<std::string, int64_t>> ended_;
  // Expired entries are dropped when the map has doubled since the last
  // sweep. GUARDED_BY(mutex_)
  size_t swept_size_ = 0;
};

}  // namespace palm::server

#endif  // PALM_SERVER_AUTH_SESSIONS_H_
