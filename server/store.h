// The server store: the one narrow interface between the services and the
// database that holds the authoritative state. Nothing above this interface
// speaks SQL, so a PostgreSQL backend is an addition, not a rewrite
// (DESIGN.md §6). The embedded default is SQLite (sqlite_store.cc).
#ifndef PALM_SERVER_STORE_H_
#define PALM_SERVER_STORE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace palm::server {

struct StoreOptions {
  // Directory holding the store's files; must exist and be writable.
  std::string data_dir;
};

// Thread-safe: every method may be called from any thread.
class ServerStore {
 public:
  virtual ~ServerStore() = default;

  // Identity of this store's history. A store restored from a backup gets a
  // new epoch, so cursors issued before the restore are recognised as stale.
  virtual std::string epoch() const = 0;

  // Flushes and closes. Further calls fail. Idempotent.
  virtual absl::Status Close() = 0;
};

// Opens (creating if needed) the embedded SQLite store `palm.db` under
// options.data_dir. Fails with FAILED_PRECONDITION when the file was written
// by a newer schema, DATA_LOSS when it is not a database, PERMISSION_DENIED
// when it cannot be written.
absl::StatusOr<std::unique_ptr<ServerStore>> OpenSqliteStore(const StoreOptions& options);

}  // namespace palm::server

#endif  // PALM_SERVER_STORE_H_
