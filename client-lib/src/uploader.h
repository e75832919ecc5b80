// Evidence file upload and receipt fetching during a sync (DESIGN.md §3.6,
// docs/evidence.md). Internal to client-lib; the sync calls
// UploadPendingEvidence after its push, so every evidence record the files
// belong to is already on the server.
#ifndef PALM_CLIENT_UPLOADER_H_
#define PALM_CLIENT_UPLOADER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "client-lib/src/device_store.h"
#include "client-lib/src/link.h"
#include "palm/client.h"

namespace palm::internal {

struct UploadOptions {
  // Most bytes per UploadChunk (the server takes at most 1 MiB); a chunk is
  // also no larger than the link's budget (link.h).
  size_t chunk_bytes = 1024 * 1024;
  // Called with bytes done and total bytes of this run's files.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct UploadOutcome {
  uint64_t files_uploaded = 0;
  uint64_t bytes_sent = 0;
  uint64_t receipts_stored = 0;
  // Files tried and not uploaded, and the status of the first of them.
  uint64_t files_failed = 0;
  absl::Status first_failure;
  // One sentence per file or receipt left for the next sync, and why.
  std::vector<std::string> notes;
};

// Uploads every evidence file of `store` the server has not acknowledged:
// in one stream per file on a link that has not broken, else in streams of
// the link's budget, each answered with what the server holds; a stream
// the link broke is resumed from the offset the server reports
// (GetUploadOffset), with the retries of RunWithRetries inside
// link.deadline. Marks a file uploaded only once the
// server answered complete (it verified the SHA-256). Then fetches and keeps
// the receipt of each of this device's evidence records that has none. A
// file or receipt that fails is noted and left for the next sync; the run
// fails only when the sync is cancelled (CANCELLED), link.deadline passes
// (DEADLINE_EXCEEDED) or the store fails. Blocks; the memory used is one
// chunk whatever the file size. `link` is the sync's and must outlive the
// call.
absl::StatusOr<UploadOutcome> UploadPendingEvidence(const std::shared_ptr<grpc::Channel>& channel,
                                                    DeviceStore& store,
                                                    const UploadOptions& options, SyncLink& link);

}  // namespace palm::internal

#endif  // PALM_CLIENT_UPLOADER_H_
