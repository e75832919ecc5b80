// How storage failures become statuses (issue 18; docs/protocol.md,
// "Errors"): a full disk — SQLite's SQLITE_FULL, an I/O error whose errno is
// ENOSPC or EDQUOT, or the store's --max-store-pages cap — is
// RESOURCE_EXHAUSTED on every RPC, never UNAVAILABLE; a busy store is
// ABORTED; anything else the RPC names as its own failure.
#ifndef PALM_SERVER_STORE_STATUS_H_
#define PALM_SERVER_STORE_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace palm::server {

// The status of SQLite result `rc` (extended codes allowed) with
// `sys_errno` (sqlite3_system_errno, 0 when unknown), `what` the operation
// and `detail` SQLite's message.
absl::Status SqliteStatus(int rc, int sys_errno, absl::string_view what, absl::string_view detail);

// The status of an OS error `err` (errno) of `what`.
absl::Status ErrnoStatus(int err, absl::string_view what);

// What an RPC answers when the store could not do its unit of work:
// RESOURCE_EXHAUSTED (disk full) and ABORTED (busy, retry) pass through with
// their message; anything else becomes UNAVAILABLE "<retry_hint>: <message>".
absl::Status StoreFailure(const absl::Status& failure, absl::string_view retry_hint);

}  // namespace palm::server

#endif  // PALM_SERVER_STORE_STATUS_H_
