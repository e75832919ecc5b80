// fsync of a file or directory named by path.
//
// A file created or renamed is only durable once its directory is synced
// too. The device store (the WAL's directory), the evidence blob store and
// the evidence log's key file all need that; each reports a failure in its
// own words, so this returns what failed rather than a message.
#ifndef PALM_SYNC_FSYNC_H_
#define PALM_SYNC_FSYNC_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace palm::sync {

// What went wrong in FsyncPath: `err` is 0 when nothing did, else the errno
// of `step`, "open" or "fsync".
struct FsyncFailure {
  int err = 0;
  const char* step = "";
};

// Opens `path` read-only (a directory or a file), fsyncs it and closes it.
FsyncFailure FsyncPath(const std::string& path);

// Replaces the file `path` with `content`, durably and atomically: writes
// <path>.tmp (mode 0600), fsyncs it, renames it over `path` and fsyncs the
// directory, so `path` is either the old file or the new one after a crash.
// `what` names the file in messages ("the number fence /d/numbers.fence");
// a full disk is RESOURCE_EXHAUSTED, anything else INTERNAL, each with the
// step and the errno's text.
absl::Status ReplaceFileDurably(const std::string& path, absl::string_view content,
                                const std::string& what);

}  // namespace palm::sync

#endif  // PALM_SYNC_FSYNC_H_
