#include "server/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/blob_store.h"
#include "sync/fsync.h"
#include "sync/quote.h"
#include "sync/sha256.h"
#include "sync/status_macros.h"

namespace palm::server {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, SqliteCloser>;

std::string UtcStamp(int64_t ms) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

absl::Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  std::string message = absl::StrCat(what, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(absl::StrCat(message, " (the disk is full)"));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<Db> Open(const std::string& path, int flags, const std::string& what) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return SqliteError(raw, rc, what);
  sqlite3_busy_timeout(raw, 30000);
  return db;
}

absl::Status Exec(sqlite3* db, const char* sql, const std::string& what) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db, rc, what);
}

// Rows of `sql` (no parameters), each column as text (NULL as "").
absl::StatusOr<std::vector<std::vector<std::string>>> Query(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  if (rc != SQLITE_OK) return SqliteError(db, rc, absl::StrCat("reading the backup (", sql, ")"));
  std::vector<std::vector<std::string>> rows;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    std::vector<std::string>& row = rows.emplace_back();
    for (int i = 0; i < sqlite3_column_count(raw); ++i) {
      const unsigned char* text = sqlite3_column_text(raw, i);
      row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, absl::StrCat("reading the backup (", sql, ")"));
  return rows;
}

absl::StatusOr<std::string> One(sqlite3* db, const char* sql) {
  PALM_ASSIGN_OR_RETURN(auto rows, Query(db, sql));
  if (rows.empty() || rows[0].empty()) return std::string();
  return rows[0][0];
}

absl::StatusOr<int64_t> Count(sqlite3* db, const char* sql) {
  PALM_ASSIGN_OR_RETURN(std::string text, One(db, sql));
  return text.empty() ? 0 : std::stoll(text);
}

absl::Status IntegrityCheck(sqlite3* db, const std::string& path) {
  PALM_ASSIGN_OR_RETURN(std::string result, One(db, "PRAGMA integrity_check"));
  if (result != "ok") {
    return absl::DataLossError(
        absl::StrCat("integrity_check of ", path, " failed: ", sync::QuotePrefix(result, 200)));
  }
  return absl::OkStatus();
}

struct FileFacts {
  int64_t bytes = 0;
  std::string sha256;
};

absl::StatusOr<FileFacts> HashFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  sync::Sha256 hash;
  FileFacts facts;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    hash.Update(buffer.data(), static_cast<size_t>(got));
    facts.bytes += got;
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("reading ", path, " failed"));
  facts.sha256 = sync::HexEncode(hash.Final());
  return facts;
}

absl::Status Fsync(const std::string& path) {
  sync::FsyncFailure failure = sync::FsyncPath(path);
  if (failure.err == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(failure.step, " of ", path, " failed: ", std::strerror(failure.err)));
}

absl::Status WriteFile(const std::string& path, const std::string& content) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      return absl::ResourceExhaustedError(
          absl::StrCat("writing ", path, " failed (is the disk full?)"));
    }
  }
  return Fsync(path);
}

absl::Status FileError(const std::error_code& ec, const std::string& what) {
  if (ec == std::errc::no_space_on_device) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": the disk is full"));
  }
  return absl::InternalError(absl::StrCat(what, ": ", ec.message()));
}

// The manifest's figures, read from the copy itself: they describe exactly
// what the backup holds.
absl::StatusOr<Json> DescribeCopy(sqlite3* db) {
  Json m;
  PALM_ASSIGN_OR_RETURN(m["epoch"], One(db, "SELECT value FROM store_meta WHERE key = 'epoch'"));
  PALM_ASSIGN_OR_RETURN(m["schema_version"],
                        Count(db, "SELECT max(version) FROM schema_migrations"));
  PALM_ASSIGN_OR_RETURN(m["change_log_head"], Count(db, "SELECT max(server_seq) FROM change_log"));
  PALM_ASSIGN_OR_RETURN(m["cases"], Count(db, "SELECT count(*) FROM cases"));
  Json counters = Json::object();
  PALM_ASSIGN_OR_RETURN(auto years, Query(db, "SELECT year, last FROM case_number_counters"));
  for (const auto& row : years) counters[row[0]] = std::stoll(row[1]);
  m["case_number_counters"] = counters;
  PALM_ASSIGN_OR_RETURN(m["tickets"], Count(db, "SELECT count(*) FROM tickets"));
  PALM_ASSIGN_OR_RETURN(m["ticket_leases"], Count(db, "SELECT count(*) FROM ticket_leases"));
  PALM_ASSIGN_OR_RETURN(m["highest_ticket_number_leased"],
                        Count(db, "SELECT max(last_number) FROM ticket_leases"));
  PALM_ASSIGN_OR_RETURN(m["evidence_records"], Count(db, "SELECT count(*) FROM evidence"));
  PALM_ASSIGN_OR_RETURN(m["evidence_log_leaves"], Count(db, "SELECT count(*) FROM log_leaves"));
  PALM_ASSIGN_OR_RETURN(
      m["newest_tree_head_size"],
      Count(db, "SELECT tree_size FROM tree_heads ORDER BY head_seq DESC LIMIT 1"));
  PALM_ASSIGN_OR_RETURN(m["audit_entries"], Count(db, "SELECT count(*) FROM audit_log"));
  PALM_ASSIGN_OR_RETURN(m["audit_head_hash"],
                        One(db, "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
  Json devices = Json::array();
  PALM_ASSIGN_OR_RETURN(auto rows,
                        Query(db,
                              "SELECT d.device_id, coalesce(s.acked_seq, 0) FROM devices d "
                              "LEFT JOIN device_sync s USING (device_id) ORDER BY 1"));
  for (const auto& row : rows) {
    devices.push_back({{"device_id", row[0]}, {"acknowledged_seq", std::stoll(row[1])}});
  }
  m["devices"] = devices;
  return m;
}

// evidence-index.tsv: sha256, size, "present" or "missing" (content on disk
// at the backup or not). Returns {files, bytes, missing}.
absl::StatusOr<std::array<int64_t, 3>> WriteEvidenceIndex(sqlite3* db, const std::string& path,
                                                          const std::string& evidence_root) {
  PALM_ASSIGN_OR_RETURN(auto rows, Query(db, "SELECT sha256, size FROM evidence_blobs ORDER BY 1"));
  BlobStore blobs(evidence_root);
  std::string text = "sha256\tsize\tcontent\n";
  std::array<int64_t, 3> totals = {0, 0, 0};
  for (const auto& row : rows) {
    const bool present = blobs.Has(row[0]);
    absl::StrAppend(&text, row[0], "\t", row[1], "\t", present ? "present" : "missing", "\n");
    totals[0] += 1;
    totals[1] += std::stoll(row[1]);
    if (!present) totals[2] += 1;
  }
  PALM_RETURN_IF_ERROR(WriteFile(path, text));
  return totals;
}

absl::StatusOr<Json> ReadManifest(const std::string& dir) {
  const std::string path = (fs::path(dir) / kBackupManifestFile).string();
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(dir, " is not a Palm backup: it has no ", kBackupManifestFile));
  }
  Json manifest = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_object() ||
      manifest.value("format", "") != kBackupFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is not a ", kBackupFormat, " manifest: it is damaged or from another program"));
  }
  return manifest;
}

}  // namespace

absl::Status ValidateBackupName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '.';
  for (char c : name) {
    ok = ok &&
         ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("name \"", sync::QuotePrefix(name, 64),
                     "\" is not a backup name: use 1-64 of a-z 0-9 . _ - , not starting with '.'"));
  }
  return absl::OkStatus();
}

std::string DefaultBackupName(int64_t now_ms) { return absl::StrCat("palm-", UtcStamp(now_ms)); }

absl::Status CopySqliteDatabase(const std::string& source, const std::string& dest) {
  absl::Status status = [&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Db src,
                          Open(source, SQLITE_OPEN_READONLY, "opening the store to back up"));
    PALM_ASSIGN_OR_RETURN(Db dst, Open(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                       absl::StrCat("creating ", dest)));
    sqlite3_backup* backup = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
    if (backup == nullptr) {
      return SqliteError(dst.get(), sqlite3_errcode(dst.get()), "starting the backup");
    }
    // One step over every page: one read transaction, so one consistent
    // state of the store however many writers commit meanwhile (WAL).
    int rc = sqlite3_backup_step(backup, -1);
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) return SqliteError(nullptr, rc, absl::StrCat("copying into ", dest));
    // The copy carries the store's WAL mode in its header: make it one
    // self-contained file.
    PALM_RETURN_IF_ERROR(Exec(dst.get(), "PRAGMA journal_mode = DELETE", "finishing the copy"));
    PALM_RETURN_IF_ERROR(IntegrityCheck(dst.get(), dest));
    dst.reset();
    return Fsync(dest);
  }();
  if (!status.ok()) {
    std::error_code ignored;
    fs::remove(dest, ignored);
    fs::remove(dest + "-journal", ignored);
  }
  return status;
}

absl::StatusOr<v1::BackupServerResponse> WriteBackup(ServerStore& store,
                                                     const BackupParams& params) {
  PALM_RETURN_IF_ERROR(ValidateBackupName(params.name));
  const fs::path root(params.backup_root);
  const fs::path final_dir = root / params.name;
  const fs::path staging = root / absl::StrCat(".", params.name, ".partial");
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return FileError(ec, absl::StrCat("creating the backup directory ", root.string()));
  if (fs::exists(final_dir, ec)) {
    return absl::AlreadyExistsError(absl::StrCat("backup ", params.name, " already exists in ",
                                                 root.string(), ": choose another name"));
  }
  // A staging directory left by a crash is an incomplete backup.
  fs::remove_all(staging, ec);
  fs::create_directory(staging, ec);
  if (ec) return FileError(ec, absl::StrCat("creating ", staging.string()));
  ::chmod(staging.c_str(), 0700);

  absl::StatusOr<v1::BackupServerResponse> result =
      [&]() -> absl::StatusOr<v1::BackupServerResponse> {
    const std::string copy = (staging / kBackupStoreFile).string();
    PALM_RETURN_IF_ERROR(store.WriteConsistentCopy(copy));
    PALM_ASSIGN_OR_RETURN(FileFacts facts, HashFile(copy));
    PALM_ASSIGN_OR_RETURN(Db db, Open(copy, SQLITE_OPEN_READONLY, "reading the copy"));
    PALM_ASSIGN_OR_RETURN(Json manifest, DescribeCopy(db.get()));
    PALM_ASSIGN_OR_RETURN(auto evidence,
                          WriteEvidenceIndex(db.get(), (staging / "evidence-index.tsv").string(),
                                             params.evidence_root));
    db.reset();
    manifest["format"] = kBackupFormat;
    manifest["name"] = params.name;
    manifest["created_at_ms"] = params.now_ms;
    manifest["created_at"] = absl::FormatTime(
        "%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(params.now_ms), absl::UTCTimeZone());
    manifest["server_version"] = params.server_version;
    manifest["store_file"] = kBackupStoreFile;
    manifest["store_bytes"] = facts.bytes;
    manifest["store_sha256"] = facts.sha256;
    manifest["evidence_files"] = evidence[0];
    manifest["evidence_bytes"] = evidence[1];
    manifest["evidence_files_missing_content"] = evidence[2];
    manifest["not_included"] = {
        "evidence file contents: copy <data dir>/evidence/sha256/ (content-addressed, "
        "append-only)",
        "secret keys: <data dir>/evidence/log_key.pem, <data dir>/session-signing.key and "
        "<data dir>/party-key.secret"};
    if (!params.log_public_key_pem.empty()) {
      PALM_RETURN_IF_ERROR(
          WriteFile((staging / "log_public_key.pem").string(), params.log_public_key_pem));
      manifest["log_public_key_sha256"] =
          sync::HexEncode(sync::Sha256::Of(params.log_public_key_pem));
    }
    const std::string manifest_text = manifest.dump(2) + "\n";
    PALM_RETURN_IF_ERROR(WriteFile((staging / kBackupManifestFile).string(), manifest_text));
    PALM_RETURN_IF_ERROR(Fsync(staging.string()));
    fs::rename(staging, final_dir, ec);
    if (ec) return FileError(ec, absl::StrCat("naming the backup ", final_dir.string()));
    PALM_RETURN_IF_ERROR(Fsync(root.string()));
    v1::BackupServerResponse response;
    response.set_directory(fs::absolute(final_dir).lexically_normal().string());
    response.set_manifest_json(manifest_text);
    response.set_store_bytes(facts.bytes);
    response.set_store_sha256(facts.sha256);
    return response;
  }();
  if (!result.ok()) fs::remove_all(staging, ec);
  return result;
}

absl::StatusOr<RestoreResult> RestoreBackup(const std::string& backup_dir,
                                            const std::string& data_dir, int64_t now_ms) {
  PALM_ASSIGN_OR_RETURN(Json manifest, ReadManifest(backup_dir));
  const std::string copy = (fs::path(backup_dir) / kBackupStoreFile).string();
  PALM_ASSIGN_OR_RETURN(FileFacts facts, HashFile(copy));
  const std::string want = manifest.value("store_sha256", "");
  if (facts.sha256 != want || facts.bytes != manifest.value("store_bytes", int64_t{-1})) {
    return absl::DataLossError(absl::StrCat(
        copy, " does not match its manifest (", facts.bytes, " bytes, sha256 ", facts.sha256,
        "; the manifest says ", manifest.value("store_bytes", int64_t{-1}), " bytes, sha256 ",
        sync::QuotePrefix(want, 64), "): the backup is damaged or was changed"));
  }
  {
    PALM_ASSIGN_OR_RETURN(Db db, Open(copy, SQLITE_OPEN_READONLY, "opening the backup"));
    PALM_RETURN_IF_ERROR(IntegrityCheck(db.get(), copy));
  }

  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return FileError(ec, absl::StrCat("creating ", data_dir));
  // --restore-from left in a config file must not restore again on the next
  // start: that would discard everything written since.
  const fs::path marker = fs::path(data_dir) / kLastRestoreFile;
  if (std::ifstream in(marker); in) {
    Json last = Json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (last.is_object() && last.value("store_sha256", "") == facts.sha256) {
      return absl::FailedPreconditionError(absl::StrCat(
          data_dir, " was already restored from this backup (", last.value("backup", ""), ", at ",
          last.value("restored_at", ""),
          "): drop --restore-from, as restoring it again would discard everything written "
          "since"));
    }
  }
  const fs::path store = fs::path(data_dir) / "palm.db";
  RestoreResult result;
  result.backup_name = manifest.value("name", "");
  result.backup_epoch = manifest.value("epoch", "");
  result.backup_created_at_ms = manifest.value("created_at_ms", int64_t{0});
  // Keep what is replaced: a restore is never the only copy of anything.
  std::vector<fs::path> present;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    fs::path p = store.string() + suffix;
    if (fs::exists(p, ec)) present.push_back(p);
  }
  if (!present.empty()) {
    const fs::path aside = fs::path(data_dir) / absl::StrCat("replaced-", UtcStamp(now_ms));
    fs::create_directories(aside, ec);
    if (ec) return FileError(ec, absl::StrCat("creating ", aside.string()));
    for (const fs::path& p : present) {
      fs::rename(p, aside / p.filename(), ec);
      if (ec) return FileError(ec, absl::StrCat("moving ", p.string(), " aside"));
    }
    PALM_RETURN_IF_ERROR(Fsync(aside.string()));
    result.replaced_dir = aside.string();
  }
  const fs::path incoming = store.string() + ".restoring";
  fs::copy_file(copy, incoming, fs::copy_options::overwrite_existing, ec);
  if (ec) return FileError(ec, absl::StrCat("copying ", copy, " into ", data_dir));
  PALM_RETURN_IF_ERROR(Fsync(incoming.string()));
  fs::rename(incoming, store, ec);
  if (ec) return FileError(ec, absl::StrCat("putting the backup in place as ", store.string()));
  Json last = {{"backup", fs::absolute(backup_dir).lexically_normal().string()},
               {"store_sha256", facts.sha256},
               {"restored_at", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(now_ms),
                                                absl::UTCTimeZone())},
               {"replaced_store_kept_in", result.replaced_dir}};
  PALM_RETURN_IF_ERROR(WriteFile(marker.string(), last.dump(2) + "\n"));
  PALM_RETURN_IF_ERROR(Fsync(data_dir));
  return result;
}

absl::StatusOr<DataDirLock> DataDirLock::Acquire(const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  const std::string path = (fs::path(data_dir) / "palm-server.lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd, F_SETLK, &lock) != 0) {
    struct flock holder = lock;
    std::string who;
    if (::fcntl(fd, F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK) {
      who = absl::StrCat(" (pid ", holder.l_pid, ")");
    }
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("another palm-server", who, " is using the data directory ", data_dir,
                     ": stop it first, or give this one its own --data-dir"));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) == 0) {
    ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
    (void)ignored;
  }
  return DataDirLock(fd);
}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace palm::server
