// Backups of the server's store and restores from them (docs/operations.md).
//
// A backup is a directory:
//   palm.db              a consistent copy of the SQLite store, taken online
//                        with SQLite's backup API inside one read transaction
//                        (writers go on), checked with integrity_check, in
//                        rollback-journal mode so that it is one file
//   manifest.json        what the copy holds (epoch, change-log head, case
//                        number counters, the highest ticket number leased,
//                        each device's acknowledged sequence, evidence and
//                        audit figures), its size and SHA-256
//   evidence-index.tsv   every evidence file the copy knows: sha256, size,
//                        and whether its content was on disk at the backup
//   log_public_key.pem   the public key that signed the copy's tree heads
//                        and audit checkpoints
// It is written under a hidden staging name and renamed into place, so a
// directory that has a name is a whole backup. Evidence contents and the
// server's secret keys are not in it (docs/operations.md says how to keep
// them).
#ifndef PALM_SERVER_BACKUP_H_
#define PALM_SERVER_BACKUP_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "palm/v1/admin.pb.h"
#include "server/store.h"

namespace palm::server {

inline constexpr char kBackupFormat[] = "palm-backup/1";
inline constexpr char kBackupStoreFile[] = "palm.db";
inline constexpr char kBackupManifestFile[] = "manifest.json";
// In the data directory: which backup it was last restored from.
inline constexpr char kLastRestoreFile[] = "last-restore.json";

// A backup's name: 1–64 of [a-z0-9._-], not starting with '.'. Refusals
// name the field (`name`) and quote at most a short prefix.
absl::Status ValidateBackupName(const std::string& name);
// palm-<UTC yyyymmddThhmmssZ> of `now_ms`.
std::string DefaultBackupName(int64_t now_ms);

// Copies the SQLite database at `source` into the new file `dest`, online
// and consistent (see above), and fsyncs it. A full disk is
// RESOURCE_EXHAUSTED; `dest` is removed on any failure.
absl::Status CopySqliteDatabase(const std::string& source, const std::string& dest);

struct BackupParams {
  // The directory that holds backups, and this one's name in it.
  std::string backup_root;
  std::string name;
  // <data dir>/evidence: where evidence contents are checked for the index.
  std::string evidence_root;
  // The key that signs tree heads and audit checkpoints (may be empty).
  std::string log_public_key_pem;
  std::string server_version;
  int64_t now_ms = 0;
};

// Writes the backup `params.name` of `store` (ServerStore::WriteConsistentCopy)
// with its manifest and index. ALREADY_EXISTS when that name is taken.
// Blocking file I/O: call it off gRPC's threads (a store read).
absl::StatusOr<v1::BackupServerResponse> WriteBackup(ServerStore& store,
                                                     const BackupParams& params);

struct RestoreResult {
  // Where the store that was replaced went (empty when there was none).
  std::string replaced_dir;
  // The manifest's figures, for the log line.
  std::string backup_name;
  std::string backup_epoch;
  int64_t backup_created_at_ms = 0;
};

// palm-server --restore-from: checks the backup in `backup_dir` against its
// manifest (format, size, SHA-256, integrity_check), moves the store files
// of `data_dir` (palm.db and its -wal and -shm) into
// <data_dir>/replaced-<UTC time>/, and puts the backup's copy in their
// place, durably, and records the restore in <data_dir>/last-restore.json;
// restoring the same backup again is FAILED_PRECONDITION (a --restore-from
// left in a config file must not discard later work on the next start).
// The caller then gives the store a new epoch. The data
// directory must not be in use by a running server (see DataDirLock).
absl::StatusOr<RestoreResult> RestoreBackup(const std::string& backup_dir,
                                            const std::string& data_dir, int64_t now_ms);

// An advisory lock on <data dir>/palm-server.lock (a POSIX record lock:
// another process holding it means another palm-server serves that
// directory). Held for the server's lifetime; released by the destructor
// and by the process's end, however it ends.
class DataDirLock {
 public:
  // FAILED_PRECONDITION naming the directory and the holder's pid when
  // another process holds it.
  static absl::StatusOr<DataDirLock> Acquire(const std::string& data_dir);
  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace palm::server

#endif  // PALM_SERVER_BACKUP_H_
