// Evidence files on disk, content-addressed (DESIGN.md §3.6):
//   <root>/sha256/<first two hex>/<sha256>   verified content, one copy per hash
//   <root>/partial/<sha256>                  an upload in progress
// where <root> is <data dir>/evidence. A file reaches sha256/ only after its
// content hashed to its name, through fsync of file and directory and a
// rename, so a crash leaves either the whole verified file or none.
//
// Every method does blocking file I/O: call them only from the upload
// worker thread, never from a gRPC reaction. Thread-compatible.
#ifndef PALM_SERVER_BLOB_STORE_H_
#define PALM_SERVER_BLOB_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace palm::server {

class BlobStore {
 public:
  // Bytes written to a partial file between two fsyncs.
  static constexpr uint64_t kSyncEveryBytes = 4 * 1024 * 1024;

  explicit BlobStore(std::string root) : root_(std::move(root)) {}

  // Path of the verified file with content `sha256` (lowercase hex).
  std::string FinalPath(const std::string& sha256) const;
  std::string PartialPath(const std::string& sha256) const;

  // True when the verified file with content `sha256` is stored.
  bool Has(const std::string& sha256) const;

  // Bytes of `sha256` durably held in its partial file (fsync'd first), 0
  // when there is none.
  absl::StatusOr<uint64_t> DurableOffset(const std::string& sha256) const;

  // An upload in progress: appends to the partial file of one hash.
  class Partial {
   public:
    ~Partial();
    Partial(const Partial&) = delete;
    Partial& operator=(const Partial&) = delete;

    // Bytes in the file so far.
    uint64_t size() const { return size_; }
    // Appends `data`; fsyncs every kSyncEveryBytes.
    absl::Status Append(absl::string_view data);
    // Makes everything appended durable.
    absl::Status Sync();

   private:
    friend class BlobStore;
    Partial(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(path) {}
    int fd_;
    uint64_t size_;
    uint64_t unsynced_ = 0;
    std::string path_;
  };

  // Opens the partial file of `sha256` to continue at `offset`. The file
  // must hold at least `offset` bytes (else FAILED_PRECONDITION naming what
  // it holds); bytes past `offset` are dropped.
  absl::StatusOr<std::unique_ptr<Partial>> OpenPartial(const std::string& sha256, uint64_t offset);

  // Verifies the partial file of `sha256` (closed by the caller first)
  // against the hash and moves it into place. On a mismatch deletes it and
  // returns DATA_LOSS "content does not match its recorded SHA-256 ...".
  absl::Status Commit(const std::string& sha256);

  // Deletes the partial file of `sha256`, if any.
  void Discard(const std::string& sha256);

 private:
  std::string root_;
};

}  // namespace palm::server

#endif  // PALM_SERVER_BLOB_STORE_H_
