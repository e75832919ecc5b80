#include "client-lib/src/uploader.h"

#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client-lib/src/channel.h"
#include "client-lib/src/sync_client.h"
#include "palm/v1/evidence.grpc.pb.h"

namespace palm::internal {
namespace {

namespace v1 = palm::v1;
using Clock = std::chrono::system_clock;

// The call in flight, cancelled when the sync is.
class InFlight {
 public:
  explicit InFlight(const CancelToken& cancel) : cancel_(cancel) {
    id_ = CancelAccess::Register(cancel_, [this] {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
      if (ctx_ != nullptr) ctx_->TryCancel();
    });
  }
  ~InFlight() { CancelAccess::Unregister(cancel_, id_); }
  void Set(grpc::ClientContext* ctx) {
    std::lock_guard<std::mutex> lock(mu_);
    ctx_ = ctx;
    if (ctx_ != nullptr && cancelled_) ctx_->TryCancel();
  }
  bool cancelled() {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

 private:
  const CancelToken& cancel_;
  uint64_t id_ = 0;
  std::mutex mu_;
  grpc::ClientContext* ctx_ = nullptr;  // guarded by mu_
  bool cancelled_ = false;              // guarded by mu_
};

class Uploader {
 public:
  Uploader(const std::shared_ptr<grpc::Channel>& channel, DeviceStore& store,
           const UploadOptions& options, const CancelToken& cancel)
      : stub_(v1::EvidenceService::NewStub(channel)),
        store_(store),
        options_(options),
        in_flight_(cancel) {}

  absl::StatusOr<UploadOutcome> Run() {
    auto pending = store_.PendingUploads();
    if (!pending.ok()) return pending.status();
    for (const auto& file : *pending) total_ += file.size_bytes;
    Progress();
    for (const auto& file : *pending) {
      if (absl::Status s = Stop(); !s.ok()) return s;
      absl::Status s = UploadFile(file);
      if (s.ok()) {
        if (absl::Status marked = store_.MarkEvidenceUploaded(file.evidence_id); !marked.ok()) {
          return marked;
        }
        ++outcome_.files_uploaded;
      } else if (absl::IsCancelled(s) || absl::IsDeadlineExceeded(s)) {
        return s;
      } else {
        if (outcome_.files_failed++ == 0) outcome_.first_failure = s;
        outcome_.notes.push_back(
            absl::StrCat("evidence ", file.evidence_id, " not uploaded: ", s.message()));
      }
    }
    return FetchReceipts();
  }

 private:
  absl::Status Stop() {
    if (in_flight_.cancelled()) {
      return absl::CancelledError(
          "the sync was cancelled; uploaded bytes are kept and the next sync resumes");
    }
    if (Clock::now() >= options_.deadline) {
      return absl::DeadlineExceededError(
          "the sync ran out of time while uploading evidence; the next sync resumes");
    }
    return absl::OkStatus();
  }

  void Progress() {
    if (options_.progress) options_.progress(done_, total_);
  }

  absl::Status Failed(const grpc::Status& s, absl::string_view what) {
    if (absl::Status stop = Stop(); !stop.ok()) return stop;
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        absl::StrCat(what, ": ", s.error_message()));
  }

  static bool Retryable(grpc::StatusCode code) {
    return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::ABORTED ||
           code == grpc::StatusCode::CANCELLED || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
           code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN;
  }

  // Asks the server how much of `sha256` it durably holds.
  absl::StatusOr<v1::GetUploadOffsetResponse> Offset(const std::string& sha256) {
    grpc::ClientContext ctx;
    PrepareCall(&ctx, store_.device_id(), options_.deadline);
    in_flight_.Set(&ctx);
    v1::GetUploadOffsetRequest request;
    request.set_sha256(sha256);
    v1::GetUploadOffsetResponse response;
    grpc::Status s = stub_->GetUploadOffset(&ctx, request, &response);
    in_flight_.Set(nullptr);
    if (!s.ok()) return Failed(s, "asking for the upload offset");
    return response;
  }

  // Uploads one file, resuming after drops. OK once the server answered
  // complete.
  absl::Status UploadFile(const DeviceStore::PendingUpload& file) {
    const uint64_t base = done_;
    absl::Status last;
    for (int attempt = 0; attempt < std::max(1, options_.max_attempts); ++attempt) {
      if (absl::Status s = Stop(); !s.ok()) return s;
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50 * attempt));
      auto offset = Offset(file.sha256_hex);
      if (!offset.ok()) {
        last = offset.status();
        if (absl::IsCancelled(last) || absl::IsDeadlineExceeded(last)) return last;
        if (!Retryable(static_cast<grpc::StatusCode>(last.code()))) return last;
        continue;
      }
      done_ = base + offset->offset();
      Progress();
      // One copy per hash: when the server has the content already, a first
      // chunk without data names this record and is answered complete.
      grpc::Status s = Stream(file, offset->complete() ? 0 : offset->offset(), base,
                              /*announce_only=*/offset->complete());
      if (s.ok()) {
        done_ = base + file.size_bytes;
        Progress();
        return absl::OkStatus();
      }
      last = Failed(s, "uploading");
      if (absl::IsCancelled(last) || absl::IsDeadlineExceeded(last)) return last;
      if (!Retryable(s.error_code())) return last;
    }
    return last;
  }

  // One Upload stream from `offset`; OK only with complete = true.
  grpc::Status Stream(const DeviceStore::PendingUpload& file, uint64_t offset, uint64_t base,
                      bool announce_only) {
    std::ifstream in(file.content_path, std::ios::binary);
    if (!in) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrCat("the file ", file.content_path, " cannot be read"));
    }
    in.seekg(static_cast<std::streamoff>(offset));
    grpc::ClientContext ctx;
    PrepareCall(&ctx, store_.device_id(), options_.deadline);
    in_flight_.Set(&ctx);
    v1::UploadResponse response;
    auto writer = stub_->Upload(&ctx, &response);
    v1::UploadChunk chunk;
    chunk.set_evidence_id(file.evidence_id);
    chunk.set_sha256(file.sha256_hex);
    chunk.set_total_size(file.size_bytes);
    chunk.set_offset(offset);
    std::string buffer(std::max<size_t>(1, options_.chunk_bytes), '\0');
    uint64_t at = offset;
    bool first = true;
    while (first || at < file.size_bytes) {
      const size_t want =
          announce_only
              ? 0
              : static_cast<size_t>(std::min<uint64_t>(buffer.size(), file.size_bytes - at));
      in.read(buffer.data(), static_cast<std::streamsize>(want));
      if (static_cast<size_t>(in.gcount()) != want) {
        ctx.TryCancel();
        writer->Finish();
        in_flight_.Set(nullptr);
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                            absl::StrCat("the file ", file.content_path, " is shorter than its ",
                                         file.size_bytes, " recorded bytes"));
      }
      chunk.set_data(buffer.data(), want);
      if (!writer->Write(chunk)) break;  // the server answered (or the call dropped)
      at += want;
      done_ = base + at;
      Progress();
      chunk.Clear();
      first = false;
      if (announce_only) break;
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    in_flight_.Set(nullptr);
    outcome_.bytes_sent += at - offset;
    if (s.ok() && !response.complete()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "the server kept the bytes but did not finish the file");
    }
    return s;
  }

  absl::StatusOr<UploadOutcome> FetchReceipts() {
    auto ids = store_.EvidenceWithoutReceipt();
    if (!ids.ok()) return ids.status();
    for (const std::string& id : *ids) {
      if (absl::Status s = Stop(); !s.ok()) return s;
      grpc::ClientContext ctx;
      PrepareCall(&ctx, store_.device_id(), options_.deadline);
      in_flight_.Set(&ctx);
      v1::GetReceiptRequest request;
      request.set_evidence_id(id);
      v1::GetReceiptResponse response;
      grpc::Status s = stub_->GetReceipt(&ctx, request, &response);
      in_flight_.Set(nullptr);
      if (!s.ok()) {
        absl::Status failed = Failed(s, "fetching the receipt");
        if (absl::IsCancelled(failed) || absl::IsDeadlineExceeded(failed)) return failed;
        // NOT_FOUND: the record is not on the server (not yet pushed, or
        // rejected); the next sync asks again.
        outcome_.notes.push_back(
            absl::StrCat("no receipt for evidence ", id, " yet: ", s.error_message()));
        continue;
      }
      if (absl::Status stored = store_.StoreEvidenceReceipt(response.receipt()); !stored.ok()) {
        return stored;
      }
      ++outcome_.receipts_stored;
    }
    return outcome_;
  }

  std::unique_ptr<v1::EvidenceService::Stub> stub_;
  DeviceStore& store_;
  const UploadOptions& options_;
  InFlight in_flight_;
  uint64_t total_ = 0;
  uint64_t done_ = 0;
  UploadOutcome outcome_;
};

}  // namespace

absl::StatusOr<UploadOutcome> UploadPendingEvidence(const std::shared_ptr<grpc::Channel>& channel,
                                                    DeviceStore& store,
                                                    const UploadOptions& options,
                                                    const CancelToken& cancel) {
  Uploader uploader(channel, store, options, cancel);
  return uploader.Run();
}

}  // namespace palm::internal
