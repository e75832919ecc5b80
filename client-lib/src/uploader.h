// Evidence file upload and receipt fetching during a sync (DESIGN.md §3.6,
// docs/evidence.md). Internal to client-lib; the sync calls
// UploadPendingEvidence after its push, so every evidence record the files
// belong to is already on the server.
#ifndef PALM_CLIENT_UPLOADER_H_
#define PALM_CLIENT_UPLOADER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "client-lib/src/device_store.h"
#include "palm/client.h"

namespace palm::internal {

struct UploadOptions {
  // Bytes per UploadChunk (the server takes at most 1 MiB).
  size_t chunk_bytes = 1024 * 1024;
  // Attempts per file after a dropped stream, each resuming from the
  // server's GetUploadOffset.
  int max_attempts = 5;
  // No call goes on past this point (max(): none).
  std::chrono::system_clock::time_point deadline = std::chrono::system_clock::time_point::max();
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

// Uploads every evidence file of `store` the server has not acknowledged,
// in chunks, each resumed from the offset the server reports; marks a file
// uploaded only once the server answered complete (it verified the SHA-256).
// Then fetches and keeps the receipt of each of this device's evidence
// records that has none. A file or receipt that fails is noted and left for
// the next sync; the run fails only when `cancel` is cancelled (CANCELLED),
// the deadline passes (DEADLINE_EXCEEDED) or the store fails. Blocks; the
// memory used is one chunk whatever the file size.
absl::StatusOr<UploadOutcome> UploadPendingEvidence(const std::shared_ptr<grpc::Channel>& channel,
                                                    DeviceStore& store,
                                                    const UploadOptions& options,
                                                    const CancelToken& cancel);

}  // namespace palm::internal

#endif  // PALM_CLIENT_UPLOADER_H_
