// What a handheld keeps for its own security beside the device store: whether
// the server revoked it, and the verifiers that let an officer unlock the app
// offline with the secret they last signed in with online (DESIGN.md §4).
//
// Kept in "<db_path>-security" (JSON, mode 0600, replaced atomically), which
// Client::WipeStore deletes with the store. A verifier is scrypt (N = 2^15,
// r = 8, p = 1) of the secret with the per-officer salt the server returned
// at sign-in (SessionToken.offline_salt); the secret itself is never stored.
//
// Thread-safe: one internal mutex serialises the calls. Each call reads the
// file afresh, so several DeviceSecurity objects (or a Client signing in,
// which caches verifiers itself) on one store see each other's writes.
#ifndef PALM_DEVICE_SECURITY_H_
#define PALM_DEVICE_SECURITY_H_

#include <memory>
#include <mutex>
#include <string>

#include "palm/export.h"
#include "palm/status.h"

namespace palm {

class PALM_EXPORT DeviceSecurity {
 public:
  // Failed offline unlocks after which the officer must sign in online.
  static constexpr int kMaxOfflineFailures = 5;

  // Opens (creating on first write) the security file of the store at
  // `db_path`. INVALID_ARGUMENT for an empty path; DATA_LOSS when the file
  // exists but cannot be read as one.
  static Result<std::unique_ptr<DeviceSecurity>> Open(const std::string& db_path);

  // After an online sign-in of `officer_id` with `secret`: stores the
  // verifier for `salt` (the session's offline_salt) and clears any offline
  // lock of that officer. INVALID_ARGUMENT for an empty id, secret or salt.
  Status CacheOfflineVerifier(const std::string& officer_id, const std::string& secret,
                              const std::string& salt);

  // Checks `secret` against the cached verifier of `officer_id`. OK when it
  // matches (the failure count resets). Otherwise:
  //   NOT_FOUND          reason "no_offline_verifier": sign in online first;
  //   PERMISSION_DENIED  reason "device_revoked": the device was revoked;
  //   UNAUTHENTICATED    reason "wrong_secret", naming the attempts left;
  //   PERMISSION_DENIED  reason "offline_unlock_locked" after
  //                      kMaxOfflineFailures failures, until the next online
  //                      sign-in (CacheOfflineVerifier).
  Status UnlockOffline(const std::string& officer_id, const std::string& secret);

  // Records what a Client::Sync returned: a status with reason
  // "device_revoked" (the server refused the device) marks the device
  // revoked, durably, and returns true; anything else returns false.
  Result<bool> RecordSyncStatus(const Status& sync_status);

  // True once a sync reported the revocation; the app should lock and offer
  // Client::WipeStore.
  bool IsRevoked() const;
  std::string revoke_message() const;

  // "<db_path>-security".
  static std::string PathFor(const std::string& db_path);

  ~DeviceSecurity();

 private:
  struct State;
  DeviceSecurity(std::string path, std::unique_ptr<State> state);
  // Replaces *state with what `path` holds (empty when there is no file).
  static Status Load(const std::string& path, State* state);
  Status SaveLocked();

  std::string path_;
  mutable std::mutex mutex_;
  std::unique_ptr<State> state_;  // GUARDED_BY(mutex_)
};

}  // namespace palm

#endif  // PALM_DEVICE_SECURITY_H_
