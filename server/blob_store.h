// Evidence files on disk, content-addressed (DESIGN.md §3.6):
//   <root>/sha256/<first two hex>/<sha256>   verified content, one copy per hash
//   <root>/partial/<sha256>                  an upload in progress
// where <root> is <data dir>/evidence. A file reaches sha256/ only after its
// content hashed to its name, through fsync of file and directory and a
// rename, so a crash leaves either the whole verified file or none.
//
// Partial files are written with O_DIRECT, or buffered where open refuses
// it with EINVAL. Evidence is written once and read rarely, and a buffered
// write of a new file costs the kernel a copy into freshly allocated
// page-cache pages: on the reference VM buffered writes plus fdatasync reach
// 0.69 GB/s against 3.0 GB/s direct, and that copy was the upload path's
// largest cost. The content is hashed as it arrives, so committing does not
// read the file again.
//
// Every method does blocking file I/O: call them only from the upload
// worker thread, never from a gRPC reaction. Thread-compatible.
#ifndef PALM_SERVER_BLOB_STORE_H_
#define PALM_SERVER_BLOB_STORE_H_

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sync/sha256.h"

namespace palm::server {

class BlobStore {
 public:
  // Bytes appended to a partial file between two fsyncs; also the size of
  // its staging buffer, so most direct writes are this large.
  static constexpr uint64_t kSyncEveryBytes = 4 * 1024 * 1024;

  explicit BlobStore(std::string root) : root_(std::move(root)) {}

  // Path of the verified file with content `sha256` (lowercase hex).
  std::string FinalPath(const std::string& sha256) const;
  std::string PartialPath(const std::string& sha256) const;

  // True when the verified file with content `sha256` is stored.
  bool Has(const std::string& sha256) const;

  // Bytes of `sha256` durably held in its partial file (fsync'd first), 0
  // when there is none. When a Partial of it is open, syncs that first: the
  // bytes it has staged count, as a device resuming after a drop must not
  // lose them.
  absl::StatusOr<uint64_t> DurableOffset(const std::string& sha256) const;

  // An upload in progress: appends to the partial file of one hash and
  // keeps the SHA-256 of everything in it from byte 0. Appended bytes are
  // staged in memory and reach the file in whole aligned blocks; Sync()
  // writes the rest. The destructor syncs.
  class Partial {
   public:
    ~Partial();
    Partial(const Partial&) = delete;
    Partial& operator=(const Partial&) = delete;

    // Bytes in the file so far, counting those still staged.
    uint64_t size() const { return size_; }
    // Appends `data`; syncs every kSyncEveryBytes.
    absl::Status Append(absl::string_view data);
    // Makes everything appended durable: afterwards the file holds exactly
    // size() bytes.
    absl::Status Sync();

   private:
    friend class BlobStore;
    Partial(int fd, bool direct, uint64_t size, std::string path, char* staging);
    // Hashes the size_ bytes the file holds and stages its last partial
    // block.
    absl::Status Resume();
    // Sync(), and with `with_metadata` an fsync (not fdatasync) even when
    // nothing is unsynced: Commit's one sync before the rename.
    absl::Status Sync(bool with_metadata);
    // Writes the staged whole blocks, and with `with_tail` the bytes past
    // the last whole block too, keeping that partial block staged.
    absl::Status Flush(bool with_tail);
    absl::Status WriteAt(int fd, const char* data, size_t size, uint64_t offset);

    BlobStore* store_ = nullptr;  // which lists this Partial in open_
    int fd_;                      // O_DIRECT when direct_
    int tail_fd_ = -1;            // buffered, for the unaligned tail; opened on demand
    bool direct_;
    uint64_t size_;
    uint64_t unsynced_ = 0;
    std::string path_;
    // kSyncEveryBytes, block-aligned: file bytes [staged_at_, size_).
    std::unique_ptr<char, void (*)(void*)> staging_;
    uint64_t staged_at_;  // a multiple of the block size
    sync::Sha256 sha256_;
  };

  // Opens the partial file of `sha256` to continue at `offset`. The file
  // must hold at least `offset` bytes (else FAILED_PRECONDITION naming what
  // it holds); bytes past `offset` are dropped. Reads and hashes the first
  // `offset` bytes.
  absl::StatusOr<std::unique_ptr<Partial>> OpenPartial(const std::string& sha256, uint64_t offset);

  // Syncs and closes `partial`, the upload of `sha256`, checks the hash of
  // what it received and moves the file into place. On a mismatch deletes it
  // and returns DATA_LOSS "content does not match its recorded SHA-256 ...".
  absl::Status Commit(const std::string& sha256, std::unique_ptr<Partial> partial);

  // Deletes the partial file of `sha256`, if any.
  void Discard(const std::string& sha256);

 private:
  std::string root_;
  // Open Partials by path; each removes itself when destroyed, so they must
  // not outlive the store.
  std::map<std::string, Partial*> open_;
};

}  // namespace palm::server

#endif  // PALM_SERVER_BLOB_STORE_H_
