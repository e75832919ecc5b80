#include "server/store_status.h"

#include <sqlite3.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace palm::server {
namespace {

bool DiskFull(int err) { return err == ENOSPC || err == EDQUOT; }

}  // namespace

absl::Status SqliteStatus(int rc, int sys_errno, absl::string_view what, absl::string_view detail) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return absl::DataLossError(absl::StrCat(what, ": ", detail));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return absl::PermissionDeniedError(absl::StrCat(what, ": ", detail));
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(absl::StrCat(what, ": disk full: ", detail));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::AbortedError(absl::StrCat(what, ": ", detail));
    case SQLITE_IOERR:
      // A write, fsync or WAL growth that failed for want of space.
      if (DiskFull(sys_errno)) {
        return absl::ResourceExhaustedError(
            absl::StrCat(what, ": disk full: ", detail, " (", strerror(sys_errno), ")"));
      }
      return absl::InternalError(absl::StrCat(what, ": ", detail));
    default:
      return absl::InternalError(absl::StrCat(what, ": ", detail));
  }
}

absl::Status ErrnoStatus(int err, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", strerror(err));
  if (DiskFull(err)) return absl::ResourceExhaustedError(message);
  if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

absl::Status StoreFailure(const absl::Status& failure, absl::string_view retry_hint) {
  if (failure.ok()) return failure;
  if (absl::IsResourceExhausted(failure)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server's disk is full; nothing of this call was kept: ", failure.message()));
  }
  if (absl::IsAborted(failure)) return failure;
  return absl::UnavailableError(absl::StrCat(retry_hint, ": ", failure.message()));
}

}  // namespace palm::server
