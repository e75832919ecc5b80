// palm.v1.EvidenceService (DESIGN.md §3.6, docs/evidence.md): resumable,
// content-addressed upload of evidence files, and the Merkle-log receipts,
// tree heads and consistency proofs.
//
// Threads: reactions only validate and hand work on. File I/O runs on one
// upload worker thread (uploads are disk-bound; one thread keeps the disk
// sequential), store work on the store's threads, head signing on a small
// scheduler thread that only submits writes. Each upload stream has at most
// one chunk in flight, so memory stays flat however large the file.
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "palm/v1/evidence.grpc.pb.h"
#include "server/authz.h"
#include "server/blob_store.h"
#include "server/evidence_log.h"
#include "server/identity.h"
#include "server/log.h"
#include "server/log_lineage.h"
#include "server/merkle_store.h"
#include "server/rpc_util.h"
#include "server/services.h"
#include "sync/hlc.h"
#include "sync/merkle.h"
#include "sync/sha256.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

// Largest `data` of one UploadChunk.
constexpr size_t kMaxChunkBytes = 1024 * 1024;

// A single thread running posted tasks in order.
class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;  // stopping and drained
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // GUARDED_BY(mutex_)
  bool stop_ = false;                        // GUARDED_BY(mutex_)
  std::thread thread_;
};

class EvidenceServiceImpl final : public v1::EvidenceService::CallbackService {
 public:
  explicit EvidenceServiceImpl(ServiceContext* context)
      : context_(context), blobs_(context->config->data_dir + "/evidence") {
    // The key server.cc loaded (it logged why when it could not).
    if (context->log_key != nullptr) {
      signer_ = {.key = context->log_key.get(),
                 .origin = context->log_origin.empty() ? context->config->log_origin
                                                       : context->log_origin};
      auto pem = sync::PublicKeyPem(context->log_key.get());
      if (pem.ok()) public_pem_ = *pem;
    } else {
      key_status_ = context->log_key_status.ok()
                        ? absl::FailedPreconditionError("no evidence log key was loaded")
                        : context->log_key_status;
    }
    if (key_status_.ok() && context->config->tree_head_interval_ms > 0) {
      scheduler_ = std::thread([this] { ScheduleHeads(); });
    }
  }

  ~EvidenceServiceImpl() override {
    {
      std::lock_guard<std::mutex> lock(stop_mutex_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    if (scheduler_.joinable()) scheduler_.join();
  }

  grpc::ServerUnaryReactor* GetUploadOffset(grpc::CallbackServerContext* ctx,
                                            const v1::GetUploadOffsetRequest* request,
                                            v1::GetUploadOffsetResponse* response) override {
    auto caller = DeviceCaller(ctx, Rpc::kGetUploadOffset);
    if (!caller.ok()) return FinishNow(ctx, caller.status());
    if (!sync::IsLowerHexSha256(request->sha256())) {
      return FinishNow(ctx,
                       absl::InvalidArgumentError("sha256 must be 64 lowercase hex characters"));
    }
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const std::string sha = request->sha256();
    worker_.Post([this, reactor, response, sha] {
      if (blobs_.Has(sha)) {
        response->set_complete(true);
        std::error_code ec;
        auto size = std::filesystem::file_size(blobs_.FinalPath(sha), ec);
        response->set_offset(ec ? 0 : size);
        reactor->Finish(grpc::Status::OK);
        return;
      }
      auto offset = blobs_.DurableOffset(sha);
      if (!offset.ok()) {
        reactor->Finish(ToGrpc(offset.status()));
        return;
      }
      response->set_offset(*offset);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* GetReceipt(grpc::CallbackServerContext* ctx,
                                       const v1::GetReceiptRequest* request,
                                       v1::GetReceiptResponse* response) override {
    auto authority = Authorize(ctx, *context_, Rpc::kGetReceipt);
    if (!authority.ok()) return FinishNow(ctx, authority.status());
    if (!key_status_.ok()) return FinishNow(ctx, KeyUnusable());
    if (request->evidence_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("evidence_id is missing"));
    }
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const std::string id = request->evidence_id();
    auto covered = std::make_shared<bool>(false);
    context_->store->SubmitRead(
        [this, id, response, covered, authority = *authority](ReadTxn& txn) -> absl::Status {
          auto leaf = LeafOf(txn, id);
          if (!leaf.ok()) return leaf.status();
          // A receipt is for a device of the evidence's town.
          auto evidence = txn.GetEvidence(id);
          if (!evidence.ok()) return evidence.status();
          if (*evidence) {
            auto record = txn.GetCase((*evidence)->case_id());
            if (!record.ok()) return record.status();
            if (*record) {
              if (auto s = CheckTown(authority, (*record)->value.town_id(),
                                     absl::StrCat("evidence ", id));
                  !s.ok()) {
                return s;
              }
            }
          }
          auto head = txn.LatestTreeHead();
          if (!head.ok()) return head.status();
          if (!*head || (*head)->tree_size() <= leaf->leaf_index) return absl::OkStatus();
          auto receipt = BuildReceipt(txn, signer_, *leaf, **head, &committed_nodes_);
          if (!receipt.ok()) return receipt.status();
          *response->mutable_receipt() = std::move(*receipt);
          *covered = true;
          return absl::OkStatus();
        },
        [this, reactor, id, response, covered](absl::Status s) {
          if (!s.ok() || *covered) {
            reactor->Finish(ToGrpc(s));
            return;
          }
          // No head covers the leaf yet: sign one now rather than make the
          // device wait for the schedule.
          context_->store->SubmitWrite(
              [this, id, response](WriteTxn& txn) -> absl::Status {
                auto head = SignAndPublishHead(txn, signer_, sync::SystemNowMs());
                if (!head.ok()) return head.status();
                auto leaf = LeafOf(txn, id);
                if (!leaf.ok()) return leaf.status();
                auto receipt = BuildReceipt(txn, signer_, *leaf, *head);
                if (!receipt.ok()) return receipt.status();
                *response->mutable_receipt() = std::move(*receipt);
                return absl::OkStatus();
              },
              [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* GetTreeHead(grpc::CallbackServerContext* ctx,
                                        const v1::GetTreeHeadRequest* request,
                                        v1::GetTreeHeadResponse* response) override {
    if (auto a = Authorize(ctx, *context_, Rpc::kGetTreeHead); !a.ok()) {
      return FinishNow(ctx, a.status());
    }
    if (!key_status_.ok()) return FinishNow(ctx, KeyUnusable());
    response->set_public_key_pem(public_pem_);
    // The newest kMaxLogTransitions restores, oldest first.
    const std::vector<v1::LogTransition>& lineage = context_->log_lineage;
    for (size_t i = lineage.size() > kMaxLogTransitions ? lineage.size() - kMaxLogTransitions : 0;
         i < lineage.size(); ++i) {
      *response->add_transitions() = lineage[i];
    }
    if (request->fresh()) {
      return FinishAfterWrite(ctx, context_->store, [this, response](WriteTxn& txn) {
        auto head = SignAndPublishHead(txn, signer_, sync::SystemNowMs());
        if (!head.ok()) return head.status();
        *response->mutable_tree_head() = std::move(*head);
        return absl::OkStatus();
      });
    }
    // The latest head; the first one is signed on demand.
    return FinishAfterWrite(ctx, context_->store, [this, response](WriteTxn& txn) {
      auto latest = txn.LatestTreeHead();
      if (!latest.ok()) return latest.status();
      if (*latest) {
        *response->mutable_tree_head() = std::move(**latest);
        return absl::OkStatus();
      }
      auto head = SignAndPublishHead(txn, signer_, sync::SystemNowMs());
      if (!head.ok()) return head.status();
      *response->mutable_tree_head() = std::move(*head);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetConsistencyProof(
      grpc::CallbackServerContext* ctx, const v1::GetConsistencyProofRequest* request,
      v1::GetConsistencyProofResponse* response) override {
    if (auto a = Authorize(ctx, *context_, Rpc::kGetConsistencyProof); !a.ok()) {
      return FinishNow(ctx, a.status());
    }
    const uint64_t first = request->first_size();
    const uint64_t second = request->second_size();
    if (first > second) {
      return FinishNow(ctx, absl::InvalidArgumentError(absl::StrCat(
                                "first_size ", first, " is larger than second_size ", second)));
    }
    return FinishAfterRead(
        ctx, context_->store, [this, first, second, response](ReadTxn& txn) -> absl::Status {
          auto size = txn.LogSize();
          if (!size.ok()) return size.status();
          if (second > *size) {
            return absl::OutOfRangeError(
                absl::StrCat("second_size ", second, " is beyond the log's ", *size, " leaves"));
          }
          TxnNodeStore nodes(&txn);
          sync::CachingNodeStore cached(&nodes, &committed_nodes_);
          sync::MerkleTree tree(&cached, *size);
          auto proof = tree.ConsistencyProof(first, second);
          if (!proof.ok()) return proof.status();
          for (const auto& node : *proof) {
            response->add_proof(sync::DigestBytes(node));
          }
          return absl::OkStatus();
        });
  }

  // --- Shared with the upload reactor. ---
  ServerStore* store() const { return context_->store; }
  BlobStore& blobs() { return blobs_; }
  Worker& worker() { return worker_; }

  // The device calling `rpc` (Upload, GetUploadOffset), authorised like
  // every other RPC (server/authz.h): session token, role, device of the
  // officer's town, not revoked.
  absl::StatusOr<Caller> DeviceCaller(grpc::CallbackServerContext* ctx, Rpc rpc) const {
    auto authority = Authorize(ctx, *context_, rpc);
    if (!authority.ok()) return authority.status();
    if (!authority->principal.device) {
      return absl::PermissionDeniedError("only an enrolled device uploads evidence files");
    }
    Caller caller = authority->device();
    caller.actor = authority->actor();
    return caller;
  }

  // Marks `sha256` as being uploaded; false when another stream has it.
  bool Claim(const std::string& sha256) {
    std::lock_guard<std::mutex> lock(active_mutex_);
    return active_.insert(sha256).second;
  }
  void Release(const std::string& sha256) {
    std::lock_guard<std::mutex> lock(active_mutex_);
    active_.erase(sha256);
  }

 private:
  absl::Status KeyUnusable() const {
    return absl::InternalError(
        absl::StrCat("the evidence log key is unusable: ", key_status_.message()));
  }

  static absl::StatusOr<LogLeaf> LeafOf(ReadTxn& txn, const std::string& evidence_id) {
    auto leaf = txn.GetLogLeafOfEvidence(evidence_id);
    if (!leaf.ok()) return leaf.status();
    if (!*leaf) {
      return absl::NotFoundError(
          absl::StrCat("evidence ", evidence_id, " is not in the evidence log (not on record)"));
    }
    return std::move(**leaf);
  }

  // Signs a head every tree_head_interval_ms when the log grew since the
  // last one (and once at start when there is none).
  void ScheduleHeads() {
    const auto interval = std::chrono::milliseconds(context_->config->tree_head_interval_ms);
    std::unique_lock<std::mutex> lock(stop_mutex_);
    while (!stopping_) {
      lock.unlock();
      context_->store->SubmitWrite(
          [this](WriteTxn& txn) -> absl::Status {
            auto latest = txn.LatestTreeHead();
            if (!latest.ok()) return latest.status();
            auto size = txn.LogSize();
            if (!size.ok()) return size.status();
            if (*latest && (*latest)->tree_size() == *size) return absl::OkStatus();
            return SignAndPublishHead(txn, signer_, sync::SystemNowMs()).status();
          },
          [](absl::Status s) {
            if (!s.ok() && s.code() != absl::StatusCode::kUnavailable) {
              Log(LogLevel::kError, {{"event", "tree_head_failed"}, {"detail", s.ToString()}});
            }
          });
      lock.lock();
      stop_cv_.wait_for(lock, interval, [this] { return stopping_; });
    }
  }

  ServiceContext* context_;
  BlobStore blobs_;  // used only on worker_'s thread
  absl::Status key_status_;
  LogSigner signer_;
  // Upper Merkle nodes read by proofs in read transactions (committed, so
  // never changing), shared by the reader threads.
  sync::NodeCache committed_nodes_;
  std::string public_pem_;

  std::mutex active_mutex_;
  std::set<std::string> active_;  // GUARDED_BY(active_mutex_)

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // GUARDED_BY(stop_mutex_)
  std::thread scheduler_;
  // Declared last: destroyed (drained and joined) first.
  Worker worker_;
};

// One upload stream. Reads a chunk, has the worker append it, reads the
// next; at total_size verifies and stores the file, records it in the store,
// then answers.
class UploadReactor : public grpc::ServerReadReactor<Checked<v1::UploadChunk>> {
 public:
  UploadReactor(EvidenceServiceImpl* service, grpc::CallbackServerContext* ctx,
                v1::UploadResponse* response)
      : service_(service), response_(response) {
    auto caller = service_->DeviceCaller(ctx, Rpc::kUpload);
    if (!caller.ok()) {
      End(caller.status());
      return;
    }
    caller_ = *caller;
    StartRead(&read_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The device half-closed or went away: keep what arrived, durably.
      if (sha256_.empty()) {
        End(absl::InvalidArgumentError("the upload stream carried no chunk"));
        return;
      }
      service_->worker().Post([this] {
        absl::Status s = partial_ ? partial_->Sync() : absl::OkStatus();
        const uint64_t held = partial_ ? partial_->size() : 0;
        partial_.reset();
        response_->set_sha256(sha256_);
        response_->set_size(held);
        response_->set_complete(false);
        End(s);
      });
      return;
    }
    // A message that is not an UploadChunk ends the stream INVALID_ARGUMENT
    // (docs/protocol.md, "Bad input").
    if (absl::Status checked = CheckRequest("EvidenceService.Upload", read_); !checked.ok()) {
      End(checked);
      return;
    }
    if (chunk_.data().size() > kMaxChunkBytes) {
      End(absl::InvalidArgumentError(absl::StrCat("a chunk carries at most ", kMaxChunkBytes,
                                                  " bytes, this one ", chunk_.data().size())));
      return;
    }
    if (sha256_.empty()) {
      Begin();
      return;
    }
    if (chunk_.offset() != 0 && chunk_.offset() != position_) {
      End(absl::InvalidArgumentError(absl::StrCat("chunk offset ", chunk_.offset(),
                                                  " is not the stream's position ", position_)));
      return;
    }
    Append();
  }

  void OnDone() override { delete this; }

 private:
  // Ends the call with `status`: closes the file on the worker (never file
  // I/O in a reaction) and frees the content for another stream first, so a
  // client that saw the answer can start the next upload at once. Called
  // when no other work of this stream is pending.
  void End(const absl::Status& status) {
    if (partial_ != nullptr) {
      service_->worker().Post([this, status] {
        partial_.reset();
        End(status);
      });
      return;
    }
    if (claimed_) service_->Release(sha256_);
    claimed_ = false;
    Finish(ToGrpc(status));
  }

  // The first chunk: checks it names known evidence, then opens the file.
  void Begin() {
    if (chunk_.evidence_id().empty() || !sync::IsLowerHexSha256(chunk_.sha256())) {
      End(absl::InvalidArgumentError(
          "the first chunk must name evidence_id and sha256 (64 lowercase hex characters)"));
      return;
    }
    sha256_ = chunk_.sha256();
    total_ = chunk_.total_size();
    position_ = chunk_.offset();
    if (position_ + chunk_.data().size() > total_) {
      End(absl::InvalidArgumentError(absl::StrCat("offset ", position_, " plus ",
                                                  chunk_.data().size(),
                                                  " bytes is past total_size ", total_)));
      return;
    }
    if (!service_->Claim(sha256_)) {
      End(absl::AbortedError(
          absl::StrCat("another upload of ", sha256_, " is in progress; retry in a moment")));
      return;
    }
    claimed_ = true;
    const std::string evidence_id = chunk_.evidence_id();
    service_->store()->SubmitRead(
        [this, evidence_id](ReadTxn& txn) -> absl::Status {
          auto e = txn.GetEvidence(evidence_id);
          if (!e.ok()) return e.status();
          if (!*e) {
            return absl::FailedPreconditionError(absl::StrCat(
                "evidence ", evidence_id,
                " is not on record; push its add_evidence mutation before uploading its file"));
          }
          if ((*e)->sha256() != sha256_) {
            return absl::FailedPreconditionError(absl::StrCat("evidence ", evidence_id,
                                                              " was recorded with SHA-256 ",
                                                              (*e)->sha256(), ", not ", sha256_));
          }
          if ((*e)->size_bytes() != 0 && (*e)->size_bytes() != total_) {
            return absl::FailedPreconditionError(
                absl::StrCat("evidence ", evidence_id, " was recorded with ", (*e)->size_bytes(),
                             " bytes, not total_size ", total_));
          }
          return absl::OkStatus();
        },
        [this](absl::Status s) {
          if (!s.ok()) {
            End(s);
            return;
          }
          service_->worker().Post([this] { OpenOnWorker(); });
        });
  }

  // On the worker.
  void OpenOnWorker() {
    if (service_->blobs().Has(sha256_)) {
      // One copy per hash: the content is already here.
      Record();
      return;
    }
    auto partial = service_->blobs().OpenPartial(sha256_, position_);
    if (!partial.ok()) {
      End(partial.status());
      return;
    }
    partial_ = std::move(*partial);
    WriteOnWorker();
  }

  void Append() {
    service_->worker().Post([this] { WriteOnWorker(); });
  }

  // On the worker: appends chunk_, then completes or reads the next chunk.
  void WriteOnWorker() {
    if (position_ + chunk_.data().size() > total_) {
      End(absl::InvalidArgumentError(
          absl::StrCat("the stream sends more than total_size ", total_, " bytes")));
      return;
    }
    if (absl::Status s = partial_->Append(chunk_.data()); !s.ok()) {
      End(s);
      return;
    }
    position_ += chunk_.data().size();
    if (position_ < total_) {
      StartRead(&read_);
      return;
    }
    // Commit syncs and closes the partial and checks the hash it kept.
    if (absl::Status s = service_->blobs().Commit(sha256_, std::move(partial_)); !s.ok()) {
      End(s);
      return;
    }
    Record();
  }

  // Records the stored file (idempotent) and answers complete.
  void Record() {
    BlobRecord blob{.sha256 = sha256_, .size = total_, .stored_at_ms = sync::SystemNowMs()};
    service_->store()->SubmitWrite(
        [blob](WriteTxn& txn) -> absl::Status {
          auto known = txn.GetBlob(blob.sha256);
          if (!known.ok()) return known.status();
          if (*known) return RecordUploaded(txn, **known);
          return RecordUploaded(txn, blob);
        },
        [this](absl::Status s) {
          response_->set_sha256(sha256_);
          response_->set_size(total_);
          response_->set_complete(s.ok());
          End(s);
        });
  }

  EvidenceServiceImpl* service_;
  v1::UploadResponse* response_;
  Caller caller_;
  Checked<v1::UploadChunk> read_;
  v1::UploadChunk& chunk_ = read_.message;
  std::string sha256_;
  uint64_t total_ = 0;
  uint64_t position_ = 0;
  bool claimed_ = false;
  std::unique_ptr<BlobStore::Partial> partial_;  // used on the worker only
};

}  // namespace

grpc::ServerReadReactor<Checked<v1::UploadChunk>>* StartUpload(grpc::Service* evidence,
                                                               grpc::CallbackServerContext* ctx,
                                                               v1::UploadResponse* response) {
  return new UploadReactor(static_cast<EvidenceServiceImpl*>(evidence), ctx, response);
}

std::unique_ptr<grpc::Service> MakeEvidenceService(ServiceContext* context) {
  return std::make_unique<EvidenceServiceImpl>(context);
}

}  // namespace palm::server
