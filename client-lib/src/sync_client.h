// The sync client behind palm::Client::Sync (DESIGN.md §3; wire behaviour in
// docs/protocol.md "Sync protocol"). Internal to client-lib.
#ifndef PALM_CLIENT_SYNC_CLIENT_H_
#define PALM_CLIENT_SYNC_CLIENT_H_

#include <cstdint>
#include <functional>

#include "client-lib/src/device_store.h"
#include "palm/client.h"

namespace palm::internal {

// The hooks a sync hangs on a CancelToken.
struct CancelAccess {
  // Registers `fn` to run (once, on the cancelling thread, under the
  // token's lock: it must be quick and must not touch the token) when the
  // token is cancelled; runs it at once if it already is. Returns an id for
  // Unregister.
  static uint64_t Register(const CancelToken& token, std::function<void()> fn);
  // After it returns, the callback `id` is not running and never will.
  static void Unregister(const CancelToken& token, uint64_t id);
};

// SyncReport::error_reason of a sync that did everything but upload some
// evidence files (report.ok false, the call itself OK).
inline constexpr char kUploadsPendingReason[] = "uploads_pending";

// Runs one sync of `store` with `options` on the calling thread and keeps
// its report (DeviceStore::SetLastSyncReport). The caller holds
// store.sync_mutex(). Errors as documented on Client::Sync.
Result<SyncReport> RunSync(DeviceStore& store, const SyncOptions& options);

}  // namespace palm::internal

#endif  // PALM_CLIENT_SYNC_CLIENT_H_
