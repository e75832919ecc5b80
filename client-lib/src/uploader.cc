#include "client-lib/src/uploader.h"

#include <algorithm>
#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "client-lib/src/channel.h"
#include "palm/v1/evidence.grpc.pb.h"

namespace palm::internal {
namespace {

namespace v1 = palm::v1;
using Clock = std::chrono::system_clock;

class Uploader {
 public:
  Uploader(const std::shared_ptr<grpc::Channel>& channel, DeviceStore& store,
           const UploadOptions& options, SyncLink& link)
      : stub_(v1::EvidenceService::NewStub(channel)),
        store_(store),
        options_(options),
        link_(link) {}

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
    if (link_.slot.cancelled()) return SyncCancelled();
    if (Clock::now() >= link_.deadline) {
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
    absl::Status failed(static_cast<absl::StatusCode>(s.error_code()),
                        absl::StrCat(what, ": ", s.error_message()));
    return IsTransientCall(s) ? MarkTransient(std::move(failed)) : failed;
  }

  // Asks the server how much of `sha256` it durably holds.
  absl::StatusOr<v1::GetUploadOffsetResponse> Offset(const std::string& sha256) {
    grpc::ClientContext ctx;
    PrepareCall(&ctx, store_.device_id(), link_.deadline);
    v1::GetUploadOffsetRequest request;
    request.set_sha256(sha256);
    v1::GetUploadOffsetResponse response;
    grpc::Status s;
    {
      CallSlot::Scope scope(link_.slot, &ctx);
      s = stub_->GetUploadOffset(&ctx, request, &response);
    }
    if (!s.ok()) return Failed(s, "asking for the upload offset");
    return response;
  }

  // Uploads one file, resuming after drops from the server's offset. OK
  // once the server answered complete.
  //
  // On a link that never broke (the budget at its ceiling) the rest of the
  // file goes in one stream. Once the link has broken, a stream carries at
  // most the budget's bytes and is then closed: the server answers how much
  // it holds, durably, and the next stream goes on from there. A stream
  // the link breaks loses what the server had received but not yet taken
  // (gRPC drops it with the call), so a stream must not be larger than what
  // the link carries between two breaks, like a pull page.
  absl::Status UploadFile(const DeviceStore::PendingUpload& file) {
    const uint64_t base = done_;
    std::optional<uint64_t> held;
    return RunWithRetries(link_, [&](bool* progressed) -> absl::Status {
      if (absl::Status s = Stop(); !s.ok()) return s;
      auto offset = Offset(file.sha256_hex);
      if (!offset.ok()) return offset.status();
      // Bytes the server kept since the last attempt are progress.
      *progressed = held.has_value() && offset->offset() > *held;
      held = offset->offset();
      done_ = base + offset->offset();
      Progress();
      // One copy per hash: when the server has the content already, a first
      // chunk without data names this record and is answered complete.
      const bool announce_only = offset->complete();
      uint64_t from = announce_only ? 0 : offset->offset();
      for (;;) {
        const size_t budget = link_.budget.bytes();
        const uint64_t segment = budget >= LinkBudget::kCeiling ? file.size_bytes - from : budget;
        v1::UploadResponse answer;
        grpc::Status s = Stream(file, from, base, announce_only,
                                std::min<size_t>(options_.chunk_bytes, budget), segment, &answer);
        if (!s.ok()) {
          absl::Status failed = Failed(s, "uploading");
          if (IsTransient(failed)) link_.budget.Cut(budget);
          return failed;
        }
        if (answer.complete()) {
          done_ = base + file.size_bytes;
          Progress();
          return absl::OkStatus();
        }
        // A segment answered: the server holds answer.size() bytes.
        if (answer.size() <= from) {
          return MarkTransient(absl::UnavailableError(
              absl::StrCat("uploading: the server holds ", answer.size(), " bytes of ",
                           file.evidence_id, " after a segment sent from ", from)));
        }
        link_.budget.Delivered(budget, answer.size() - from);
        *progressed = true;
        from = answer.size();
        held = from;
      }
    });
  }

  // One Upload stream of at most `segment` bytes from `offset` (the whole
  // rest: complete = true expected), in chunks of `chunk_bytes`. OK with the
  // server's answer in *answer.
  grpc::Status Stream(const DeviceStore::PendingUpload& file, uint64_t offset, uint64_t base,
                      bool announce_only, size_t chunk_bytes, uint64_t segment,
                      v1::UploadResponse* answer) {
    std::ifstream in(file.content_path, std::ios::binary);
    if (!in) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrCat("the file ", file.content_path, " cannot be read"));
    }
    in.seekg(static_cast<std::streamoff>(offset));
    grpc::ClientContext ctx;
    PrepareCall(&ctx, store_.device_id(), link_.deadline);
    CallSlot::Scope scope(link_.slot, &ctx);
    auto writer = stub_->Upload(&ctx, answer);
    v1::UploadChunk chunk;
    chunk.set_evidence_id(file.evidence_id);
    chunk.set_sha256(file.sha256_hex);
    chunk.set_total_size(file.size_bytes);
    chunk.set_offset(offset);
    std::string buffer(std::max<size_t>(1, chunk_bytes), '\0');
    const uint64_t end = std::min<uint64_t>(file.size_bytes, offset + segment);
    uint64_t at = offset;
    bool first = true;
    while (first || at < end) {
      const size_t want =
          announce_only ? 0 : static_cast<size_t>(std::min<uint64_t>(buffer.size(), end - at));
      in.read(buffer.data(), static_cast<std::streamsize>(want));
      if (static_cast<size_t>(in.gcount()) != want) {
        ctx.TryCancel();
        writer->Finish();
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
    outcome_.bytes_sent += at - offset;
    if (s.ok() && !answer->complete() && end == file.size_bytes && !announce_only) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "the server kept the bytes but did not finish the file");
    }
    return s;
  }

  absl::StatusOr<UploadOutcome> FetchReceipts() {
    auto ids = store_.EvidenceWithoutReceipt();
    if (!ids.ok()) return ids.status();
    for (const std::string& id : *ids) {
      v1::GetReceiptResponse response;
      absl::Status fetched = RunWithRetries(link_, [&](bool*) -> absl::Status {
        if (absl::Status s = Stop(); !s.ok()) return s;
        grpc::ClientContext ctx;
        PrepareCall(&ctx, store_.device_id(), link_.deadline);
        CallSlot::Scope scope(link_.slot, &ctx);
        v1::GetReceiptRequest request;
        request.set_evidence_id(id);
        grpc::Status s = stub_->GetReceipt(&ctx, request, &response);
        return s.ok() ? absl::OkStatus() : Failed(s, "fetching the receipt");
      });
      if (!fetched.ok()) {
        if (absl::IsCancelled(fetched) || absl::IsDeadlineExceeded(fetched)) return fetched;
        // NOT_FOUND: the record is not on the server (not yet pushed, or
        // rejected); the next sync asks again.
        outcome_.notes.push_back(
            absl::StrCat("no receipt for evidence ", id, " yet: ", fetched.message()));
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
  SyncLink& link_;
  uint64_t total_ = 0;
  uint64_t done_ = 0;
  UploadOutcome outcome_;
};

}  // namespace

absl::StatusOr<UploadOutcome> UploadPendingEvidence(const std::shared_ptr<grpc::Channel>& channel,
                                                    DeviceStore& store,
                                                    const UploadOptions& options, SyncLink& link) {
  Uploader uploader(channel, store, options, link);
  return uploader.Run();
}

}  // namespace palm::internal
