#include "server/auth_sessions.h"

#include <future>

#include "absl/strings/str_cat.h"
#include "sync/hlc.h"

namespace palm::server {

absl::StatusOr<std::shared_ptr<EndedSessions>> EndedSessions::Load(ServerStore& store) {
  auto sessions = std::make_shared<EndedSessions>();
  std::promise<absl::Status> loaded;
  std::vector<EndedSession> records;
  store.SubmitRead(
      [&records](ReadTxn& txn) -> absl::Status {
        auto list = txn.ListEndedSessions(sync::SystemNowMs());
        if (!list.ok()) return list.status();
        records = std::move(*list);
        return absl::OkStatus();
      },
      [&loaded](absl::Status s) { loaded.set_value(std::move(s)); });
  if (absl::Status s = loaded.get_future().get(); !s.ok()) return s;
  for (EndedSession& r : records)
    sessions->Remember(r.token_id, std::move(r.reason), r.expires_at_ms);
  return sessions;
}

absl::StatusOr<bool> EndedSessions::End(WriteTxn& txn, const SessionClaims& claims,
                                        const char* reason, int64_t now_ms) {
  auto ended = txn.EndSession({.token_id = claims.token_id,
                               .officer_id = claims.officer_id,
                               .reason = reason,
                               .ended_at_ms = now_ms,
                               .expires_at_ms = claims.expires_at_ms});
  if (!ended.ok() || !*ended) return ended;
  txn.OnCommit(
      [self = shared_from_this(), id = claims.token_id, why = std::string(reason),
       expires = claims.expires_at_ms]() mutable { self->Remember(id, std::move(why), expires); });
  return true;
}

absl::Status EndedSessions::Check(const SessionClaims& claims) const {
  std::string reason;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = ended_.find(claims.token_id);
    if (it == ended_.end()) return absl::OkStatus();
    reason = it->second.first;
  }
  return Refusal(claims, reason);
}

absl::Status EndedSessions::Refusal(const SessionClaims& claims, const std::string& reason) {
  if (reason == kSessionRefreshed) {
    return absl::UnauthenticatedError(
        absl::StrCat("the session token of officer ", claims.officer_id,
                     " was replaced by RefreshSession and has ended; use the new token or sign "
                     "in again"));
  }
  return absl::UnauthenticatedError(absl::StrCat("the session of officer ", claims.officer_id,
                                                 " has ended (signed out); sign in again"));
}

void EndedSessions::Remember(const std::string& token_id, std::string reason,
                             int64_t expires_at_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  ended_[token_id] = {std::move(reason), expires_at_ms};
  if (ended_.size() < 2 * swept_size_ + 64) return;
  const int64_t now = sync::SystemNowMs();
  for (auto it = ended_.begin(); it != ended_.end();) {
    it = it->second.second <= now ? ended_.erase(it) : std::next(it);
  }
  swept_size_ = ended_.size();
}

}  // namespace palm::server
