#include "client-lib/src/sync_client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client-lib/src/channel.h"
#include "client-lib/src/link.h"
#include "client-lib/src/macros.h"
#include "client-lib/src/sessions.h"
#include "client-lib/src/status_internal.h"
#include "client-lib/src/uploader.h"
#include "palm/v1/sync.grpc.pb.h"
#include "sync/hlc.h"
#include "sync/status.h"

namespace palm {

// --- CancelToken --------------------------------------------------------------

struct CancelToken::State {
  std::mutex mu;
  std::atomic<bool> cancelled{false};
  uint64_t next_id = 1;
  std::map<uint64_t, std::function<void()>> callbacks;  // guarded by mu
};

CancelToken::CancelToken() : state_(std::make_shared<State>()) {}

void CancelToken::Cancel() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->cancelled.exchange(true)) return;
  // Under the lock, so that Unregister cannot return while one runs.
  for (auto& [id, fn] : state_->callbacks) fn();
}

bool CancelToken::cancelled() const { return state_->cancelled.load(); }

const char* SyncPhaseName(SyncPhase phase) {
  switch (phase) {
    case SyncPhase::kReference:
      return "reference";
    case SyncPhase::kPush:
      return "push";
    case SyncPhase::kPull:
      return "pull";
    case SyncPhase::kUpload:
      return "upload";
  }
  return "unknown";
}

namespace internal {

uint64_t CancelAccess::Register(const CancelToken& token, std::function<void()> fn) {
  CancelToken::State& s = *token.state_;
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.cancelled.load()) fn();
  uint64_t id = s.next_id++;
  s.callbacks.emplace(id, std::move(fn));
  return id;
}

void CancelAccess::Unregister(const CancelToken& token, uint64_t id) {
  CancelToken::State& s = *token.state_;
  std::lock_guard<std::mutex> lock(s.mu);
  s.callbacks.erase(id);
}

namespace {

namespace v1 = palm::v1;
using Clock = std::chrono::system_clock;

// Push batches stay well under the 8 MiB message limit, whatever the
// configured count (and within the link's budget, LinkBudget).
constexpr size_t kPushBatchBytes = 2 * 1024 * 1024;
// How often in a row the server may ask for a resend from the same place
// before the sync gives up (a server that cannot take the mutation).
constexpr int kMaxResendsWithoutProgress = 3;
// Leases per RestoreTicketLeases call (the request's limit, sync/limits.cc).
constexpr size_t kLeasesPerRestore = 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

// The server ends refusals of its rules with " [REASON_NAME]"
// (docs/protocol.md, "Errors"); keep that reason machine-readable.
absl::Status FromGrpc(const grpc::Status& s, absl::string_view what) {
  const std::string& message = s.error_message();
  std::string text = absl::StrCat(what, ": ", message);
  const auto code = static_cast<absl::StatusCode>(s.error_code());
  if (absl::EndsWith(message, "]")) {
    size_t open = message.rfind(" [REASON_");
    if (open != std::string::npos) {
      std::string name = message.substr(open + 2, message.size() - open - 3);
      v1::ReasonCode reason;
      if (v1::ReasonCode_Parse(name, &reason)) return sync::Refuse(code, reason, text);
    }
  }
  return absl::Status(code, text);
}

class SyncSession {
 public:
  // `initial_budget`: the link budget the last sync ended with (0: none).
  SyncSession(DeviceStore& store, const SyncOptions& options, size_t initial_budget)
      : store_(store),
        options_(options),
        link_(
            options.timeout.count() > 0 ? Clock::now() + options.timeout : Clock::time_point::max(),
            initial_budget) {}

  absl::Status Run(SyncReport* report) {
    report_ = report;
    PALM_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, MakeSyncChannel(options_));
    stub_ = v1::SyncService::NewStub(channel);
    channel_ = channel;
    const uint64_t cancel_id =
        CancelAccess::Register(options_.cancel, [this] { link_.slot.Cancel(); });
    absl::Status s = Steps();
    CancelAccess::Unregister(options_.cancel, cancel_id);
    report_->retries = link_.retries;
    report_->link_budget_bytes = link_.budget.bytes();
    return s;
  }

 private:
  // Every step that calls the server retries on a broken link (link.h):
  // each resumes from what the device kept — the reference data's parts,
  // the outbox's acknowledged sequence, the pull cursor, the server's upload
  // offset — so an attempt never redoes what an earlier one finished.
  absl::Status Steps() {
    PALM_RETURN_IF_ERROR(RunWithRetries(link_, [this](bool* p) { return Reference(p); }));
    PALM_RETURN_IF_ERROR(RunWithRetries(link_, [this](bool* p) { return RestoreLeases(p); }));
    PALM_RETURN_IF_ERROR(LeaseIfLow());
    PALM_RETURN_IF_ERROR(RunWithRetries(link_, [this](bool* p) { return Push(p); }));
    PALM_RETURN_IF_ERROR(Upload());
    PALM_RETURN_IF_ERROR(Pull());
    // A snapshot may say that the server lacks the content of evidence this
    // device holds (a server restored from a backup): those files are
    // pending again, and go up in this same sync.
    if (report_->snapshot) {
      PALM_ASSIGN_OR_RETURN(PendingSyncCounts pending, store_.PendingCounts());
      if (pending.uploads > 0) PALM_RETURN_IF_ERROR(Upload());
    }
    // This sync's own writes (pushes, uploads, receipts) change entities on
    // the server also after they are answered — a tree head signed on the
    // server's schedule publishes receipts of the pushed evidence, say — and
    // such a change may land past the first pull's end. One more
    // incremental pull (an empty page when nothing moved) brings them, so
    // that the device ends equal to the server for its scope.
    if (wrote_) PALM_RETURN_IF_ERROR(Pull());
    // A lease that failed is asked for once more only now: had the server
    // granted it and the answer been lost, the pull brought the block down
    // and the device is no longer low.
    if (lease_failed_) PALM_RETURN_IF_ERROR(LeaseIfLow());
    return ReportStatus();
  }

  void Progress(SyncPhase phase, uint64_t done, uint64_t total) {
    if (options_.on_progress) options_.on_progress(SyncProgress{phase, done, total});
  }

  // What a failed call means for the sync: a cancellation or a passed
  // deadline of ours is said as such, anything else is the server's status,
  // marked transient when another attempt may succeed.
  absl::Status CallFailed(const grpc::Status& s, absl::string_view what) {
    if (options_.cancel.cancelled()) return SyncCancelled();
    if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && Clock::now() >= link_.deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the sync did not finish within ", options_.timeout.count(), " ms (during ",
                       what, "); what was done is kept and the next sync resumes"));
    }
    if (s.ok()) {
      return absl::InternalError(
          absl::StrCat(what, ": the server ended the call without answering"));
    }
    absl::Status failed = FromGrpc(s, what);
    return IsTransientCall(s) ? MarkTransient(std::move(failed)) : failed;
  }

  // A call that carried a message sized by the link budget failed: when the
  // link broke (not a refusal), that size did not get through.
  absl::Status BudgetedCallFailed(const grpc::Status& s, size_t budget, absl::string_view what) {
    if (IsTransientCall(s)) link_.budget.Cut(budget);
    return CallFailed(s, what);
  }

  absl::Status CheckStop() {
    if (options_.cancel.cancelled()) return SyncCancelled();
    if (Clock::now() >= link_.deadline) {
      return CallFailed(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, ""), "the sync");
    }
    return absl::OkStatus();
  }

  // Evidence files and receipts (issue 6, uploader.h), after the push so the
  // records exist on the server. A file that fails waits for the next sync.
  absl::Status Upload() {
    PALM_RETURN_IF_ERROR(CheckStop());
    UploadOptions upload;
    upload.progress = [this](uint64_t done, uint64_t total) {
      Progress(SyncPhase::kUpload, done, total);
    };
    absl::StatusOr<UploadOutcome> outcome = UploadPendingEvidence(channel_, store_, upload, link_);
    if (!outcome.ok()) return outcome.status();
    for (std::string& note : outcome->notes) notes_.push_back(std::move(note));
    report_->uploads_done += outcome->files_uploaded;
    report_->uploads_failed += outcome->files_failed;
    if (!outcome->first_failure.ok() && report_->upload_error_code.empty()) {
      report_->upload_error_code = absl::StatusCodeToString(outcome->first_failure.code());
      report_->upload_error = std::string(outcome->first_failure.message());
    }
    wrote_ = wrote_ || outcome->files_uploaded > 0 || outcome->receipts_stored > 0;
    return absl::OkStatus();
  }

  // Catalogue, towns, squads and officers. Asked for in parts of the link's
  // budget: a newer catalogue comes a few matters at a time, and the parts
  // that arrived stay in catalog_parts_ across attempts, so that a retry
  // asks only for the rest. An older server answers in one piece.
  absl::Status Reference(bool* progressed) {
    PALM_RETURN_IF_ERROR(CheckStop());
    Progress(SyncPhase::kReference, 0, 1);
    PALM_ASSIGN_OR_RETURN(int64_t version, store_.CatalogVersion());
    for (bool done = false; !done;) {
      v1::GetReferenceDataRequest request;
      request.set_catalog_version(version);
      const size_t budget = link_.budget.bytes();
      request.set_max_response_bytes(static_cast<uint32_t>(budget));
      request.set_catalog_matter_offset(static_cast<uint32_t>(catalog_parts_.matters_size()));
      request.set_catalog_part_version(catalog_parts_.version());
      request.set_party_key_id(store_.PartyKeyId());
      v1::GetReferenceDataResponse response;
      grpc::ClientContext ctx;
      PrepareCall(&ctx, store_.device_id(), link_.deadline);
      grpc::Status s;
      {
        CallSlot::Scope scope(link_.slot, &ctx);
        s = stub_->GetReferenceData(&ctx, request, &response);
      }
      if (!s.ok()) return BudgetedCallFailed(s, budget, "reading reference data");
      *progressed = true;
      link_.budget.Delivered(budget, response.ByteSizeLong());
      epoch_ = response.server_epoch();
      PALM_ASSIGN_OR_RETURN(done, TakeReferencePart(response));
    }
    Progress(SyncPhase::kReference, 1, 1);
    return absl::OkStatus();
  }

  // Keeps one answer of GetReferenceData; true when nothing more is to come.
  absl::StatusOr<bool> TakeReferencePart(v1::GetReferenceDataResponse& response) {
    if (!response.has_catalog_part()) {
      // Up to date, or a server that answers in one piece (`catalog`).
      PALM_RETURN_IF_ERROR(store_.ApplyReferenceData(response));
      return true;
    }
    v1::Catalog& part = *response.mutable_catalog_part();
    const int matters = part.matters_size();
    if (response.catalog_matter_offset() == 0) {
      // The first part (again, when the catalogue changed meanwhile): the
      // roster comes with it.
      PALM_RETURN_IF_ERROR(store_.ApplyReferenceData(response));
      catalog_parts_ = std::move(part);
    } else if (part.version() != catalog_parts_.version() ||
               response.catalog_matter_offset() !=
                   static_cast<uint32_t>(catalog_parts_.matters_size())) {
      return absl::DataLossError(
          absl::StrCat("the server sent matters from ", response.catalog_matter_offset(),
                       " of catalogue version ", part.version(), " after matters up to ",
                       catalog_parts_.matters_size(), " of version ", catalog_parts_.version()));
    } else {
      for (v1::Matter& m : *part.mutable_matters()) *catalog_parts_.add_matters() = std::move(m);
    }
    const int total = static_cast<int>(response.catalog_matters_total());
    if (catalog_parts_.matters_size() < total) {
      if (matters == 0) {
        return absl::DataLossError(absl::StrCat("the server sent a part of catalogue version ",
                                                catalog_parts_.version(), " without matters"));
      }
      return false;
    }
    PALM_RETURN_IF_ERROR(store_.ApplyCatalog(catalog_parts_));
    catalog_parts_.Clear();
    return true;
  }

  // A new block of ticket numbers when the device runs low. Asked for once:
  // a retry after a lost answer would lease a second block (Steps asks
  // again after the pull). A refusal is not fatal: the outbox must still
  // go up.
  absl::Status LeaseIfLow() {
    lease_failed_ = false;
    PALM_ASSIGN_OR_RETURN(int64_t left, store_.TicketNumbersLeft());
    if (left >= options_.ticket_numbers_low_water || options_.ticket_numbers_per_lease == 0) {
      return absl::OkStatus();
    }
    PALM_RETURN_IF_ERROR(CheckStop());
    v1::LeaseTicketNumbersRequest request;
    request.set_count(options_.ticket_numbers_per_lease);
    v1::LeaseTicketNumbersResponse response;
    grpc::ClientContext ctx;
    PrepareCall(&ctx, store_.device_id(), link_.deadline);
    grpc::Status s;
    {
      CallSlot::Scope scope(link_.slot, &ctx);
      s = stub_->LeaseTicketNumbers(&ctx, request, &response);
    }
    if (!s.ok()) {
      absl::Status failed = CallFailed(s, "leasing ticket numbers");
      if (absl::IsCancelled(failed) || absl::IsDeadlineExceeded(failed)) return failed;
      // A lost answer leaves a block on the server that the pull brings
      // down (it is in the device's scope), so nothing is wasted for long.
      notes_.push_back(std::string(failed.message()));
      lease_failed_ = IsTransient(failed);
      return absl::OkStatus();
    }
    PALM_RETURN_IF_ERROR(store_.AddTicketLease(response.lease()));
    report_->ticket_numbers_leased +=
        response.lease().last_number() - response.lease().first_number() + 1;
    return absl::OkStatus();
  }

  // After the server's epoch changed (a restore from a backup), before
  // anything is pushed or leased: the device presents its signed leases, so
  // that a restored server that forgot some takes them back and accepts the
  // tickets numbered from them. Runs again on the next sync until the pull
  // stores the new epoch; presenting a lease twice is harmless.
  absl::Status RestoreLeases(bool* progressed) {
    PALM_ASSIGN_OR_RETURN(auto stored, store_.SyncCursor());
    after_restore_ = !stored.second.empty() && !epoch_.empty() && stored.second != epoch_;
    if (!after_restore_) return absl::OkStatus();
    PALM_ASSIGN_OR_RETURN(std::vector<v1::TicketLease> leases, store_.SignedTicketLeases());
    uint64_t restored = 0;
    std::vector<std::string> refused;
    for (size_t from = 0; from < leases.size(); from += kLeasesPerRestore) {
      PALM_RETURN_IF_ERROR(CheckStop());
      v1::RestoreTicketLeasesRequest request;
      for (size_t i = from; i < std::min(leases.size(), from + kLeasesPerRestore); ++i) {
        *request.add_leases() = leases[i];
      }
      v1::RestoreTicketLeasesResponse response;
      grpc::ClientContext ctx;
      PrepareCall(&ctx, store_.device_id(), link_.deadline);
      grpc::Status s;
      {
        CallSlot::Scope scope(link_.slot, &ctx);
        s = stub_->RestoreTicketLeases(&ctx, request, &response);
      }
      if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) return absl::OkStatus();
      if (!s.ok()) return CallFailed(s, "presenting ticket leases to the restored server");
      *progressed = true;
      for (const v1::TicketLease& lease : response.leases()) {
        PALM_RETURN_IF_ERROR(store_.AddTicketLease(lease));
      }
      restored += response.leases_size();
      for (const v1::LeaseRefusal& r : response.refused()) refused.push_back(r.message());
    }
    report_->ticket_leases_restored = restored;
    report_->ticket_leases_refused = refused.size();
    if (!refused.empty()) {
      notes_.push_back(absl::StrCat("the restored server refused ", refused.size(),
                                    " ticket lease(s): ", absl::StrJoin(refused, "; ")));
    }
    return absl::OkStatus();
  }

  // Reads the next batch from `from`: at most push_batch_size mutations and
  // `max_bytes` bytes (at least one).
  absl::StatusOr<v1::PushRequest> NextBatch(uint64_t from, size_t max_bytes) {
    const size_t limit = std::clamp<size_t>(options_.push_batch_size, 1, 2000);
    PALM_ASSIGN_OR_RETURN(std::vector<OutboxEntry> entries, store_.OutboxFrom(from, limit));
    v1::PushRequest request;
    size_t bytes = 0;
    for (OutboxEntry& e : entries) {
      bytes += e.mutation.ByteSizeLong();
      if (bytes > max_bytes && request.mutations_size() > 0) break;
      *request.add_mutations() = std::move(e.mutation);
    }
    // After a restore, a resent record_case brings the number the old
    // server gave its case, so that the restored server gives it again.
    if (after_restore_) {
      for (const v1::Mutation& m : request.mutations()) {
        if (!m.has_record_case()) continue;
        PALM_ASSIGN_OR_RETURN(std::optional<v1::CaseNumberClaim> claim,
                              store_.CaseNumberClaim(m.record_case().case_().case_id()));
        if (claim) *request.add_case_number_claims() = std::move(*claim);
      }
    }
    return request;
  }

  // The outbox, in sequence order, one batch in flight; every result is
  // recorded (and the outbox acknowledged) before the next batch goes. An
  // attempt after a broken stream starts again from the first mutation not
  // acknowledged: the server answers a mutation it already has DUPLICATE
  // with its first outcome, so resending is always safe.
  //
  // With nothing pending, the server is still asked for what it holds (an
  // empty batch) when its epoch is not the one the device last pulled from:
  // a server restored from a backup may have lost acknowledged mutations,
  // and only the device can send them again. The probe runs before the pull
  // stores the new epoch, so an interrupted sync probes again next time.
  absl::Status Push(bool* progressed) {
    PALM_ASSIGN_OR_RETURN(uint64_t next, store_.FirstPendingSeq());
    PALM_ASSIGN_OR_RETURN(uint64_t last_seq, store_.LastDeviceSeq());
    PALM_ASSIGN_OR_RETURN(auto stored, store_.SyncCursor());
    const bool probe = next == 0 && last_seq > 0 && stored.second != epoch_;
    if (next == 0 && !probe) return absl::OkStatus();
    PALM_RETURN_IF_ERROR(CheckStop());
    PALM_ASSIGN_OR_RETURN(PendingSyncCounts pending, store_.PendingCounts());
    const uint64_t total = pending.mutations;
    uint64_t done = 0;
    Progress(SyncPhase::kPush, 0, total);

    grpc::ClientContext ctx;
    PrepareCall(&ctx, store_.device_id(), link_.deadline);
    CallSlot::Scope scope(link_.slot, &ctx);
    std::unique_ptr<grpc::ClientReaderWriter<v1::PushRequest, v1::PushResponse>> stream =
        stub_->Push(&ctx);
    // Ends the call after a local failure, so that nothing is left running.
    auto abandon = [&](absl::Status s) {
      ctx.TryCancel();
      (void)stream->Finish();
      return s;
    };

    if (probe) {
      v1::PushResponse response;
      if (!stream->Write(v1::PushRequest()) || !stream->Read(&response)) {
        return CallFailed(stream->Finish(), "asking the server what it holds");
      }
      if (response.acknowledged_seq() >= last_seq) {
        stream->WritesDone();
        grpc::Status s = stream->Finish();
        if (!s.ok()) return CallFailed(s, "finishing the push");
        return absl::OkStatus();
      }
      next = response.acknowledged_seq() + 1;
      notes_.push_back(absl::StrCat("the server holds this device's mutations only up to ",
                                    response.acknowledged_seq(), "; sent again from the outbox"));
    }

    uint64_t last_resend = 0;
    int resends = 0;
    for (;;) {
      const size_t budget = link_.budget.bytes();
      absl::StatusOr<v1::PushRequest> batch = NextBatch(next, std::min(budget, kPushBatchBytes));
      if (!batch.ok()) return abandon(batch.status());
      if (batch->mutations_size() == 0) break;
      if (batch->mutations(0).device_seq() != next) {
        return abandon(
            absl::DataLossError(absl::StrCat("the server needs mutation ", next,
                                             " of this device, which its outbox does not hold")));
      }
      const uint64_t batch_last = batch->mutations(batch->mutations_size() - 1).device_seq();
      v1::PushResponse response;
      if (!stream->Write(*batch) || !stream->Read(&response)) {
        return BudgetedCallFailed(stream->Finish(), budget, "pushing the outbox");
      }
      absl::StatusOr<PushRecorded> recorded = store_.RecordPushResults(response);
      if (!recorded.ok()) return abandon(recorded.status());
      *progressed = true;
      link_.budget.Delivered(budget, batch->ByteSizeLong());
      report_->pushed += response.results_size();
      wrote_ = wrote_ || response.results_size() > 0;
      report_->applied += recorded->applied;
      report_->applied_with_conflict += recorded->applied_with_conflict;
      report_->rejected += recorded->rejected;
      report_->duplicates += recorded->duplicates;
      report_->conflicts += recorded->conflicts;
      done += response.results_size();
      Progress(SyncPhase::kPush, done, std::max(done, total));
      if (response.resend_from() != 0) {
        // A gap on the server (it lost what it had acknowledged, e.g. after
        // a restore): send again from there, out of the outbox.
        if (response.resend_from() > batch_last) {
          return abandon(absl::InternalError(
              absl::StrCat("the server asked for a resend from ", response.resend_from(),
                           ", after the batch it was sent (", next, "..", batch_last, ")")));
        }
        resends = response.resend_from() == last_resend ? resends + 1 : 0;
        if (resends >= kMaxResendsWithoutProgress) {
          return abandon(absl::AbortedError(absl::StrCat("the server keeps asking for mutation ",
                                                         response.resend_from(), " again")));
        }
        last_resend = response.resend_from();
        next = response.resend_from();
      } else {
        next = batch_last + 1;
      }
    }
    stream->WritesDone();
    grpc::Status s = stream->Finish();
    if (!s.ok()) return CallFailed(s, "finishing the push");
    return absl::OkStatus();
  }

  // Changes of the device's scope after the stored cursor, page by page,
  // each page applied with its cursor in one transaction (a checkpoint); a
  // broken stream is pulled again from the last page applied.
  absl::Status Pull() {
    ++report_->pulls;
    return RunWithRetries(link_, [this](bool* p) { return PullFromCursor(p); });
  }

  // One Pull call, pages of at most the link's budget; a "resync required"
  // answer restarts it once as a snapshot.
  absl::Status PullFromCursor(bool* progressed) {
    for (int attempt = 0;; ++attempt) {
      PALM_RETURN_IF_ERROR(CheckStop());
      PALM_ASSIGN_OR_RETURN(auto stored, store_.SyncCursor());
      const bool snapshot = stored.first.empty();
      report_->snapshot = report_->snapshot || snapshot;
      const size_t budget = link_.budget.bytes();
      v1::PullRequest request;
      request.set_cursor(stored.first);
      request.set_page_size(options_.pull_page_size);
      request.set_max_page_bytes(static_cast<uint32_t>(budget));
      // The catalogue came with the reference data, in parts.
      request.set_omit_catalog(true);

      grpc::ClientContext ctx;
      PrepareCall(&ctx, store_.device_id(), link_.deadline);
      CallSlot::Scope scope(link_.slot, &ctx);
      std::unique_ptr<grpc::ClientReader<v1::PullResponse>> reader = stub_->Pull(&ctx, request);
      v1::PullResponse response;
      bool first_page = true;
      std::string resync_reason;
      while (reader->Read(&response)) {
        if (response.has_resync_required()) {
          resync_reason = response.resync_required().reason();
          continue;  // the server ends the call after it
        }
        const v1::PullPage& page = response.page();
        absl::StatusOr<int> applied =
            store_.ApplyPullPage(page, /*replace_scope=*/snapshot && first_page, epoch_);
        if (!applied.ok()) {
          ctx.TryCancel();
          (void)reader->Finish();
          return applied.status();
        }
        *progressed = true;
        link_.budget.Delivered(budget, page.ByteSizeLong());
        first_page = false;
        report_->pulled += page.changes_size();
        Progress(SyncPhase::kPull, page.done(), page.total());
      }
      grpc::Status s = reader->Finish();
      if (!s.ok()) return BudgetedCallFailed(s, budget, "pulling changes");
      if (resync_reason.empty()) return absl::OkStatus();
      if (attempt > 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("the server asked for a resync again right after a fresh snapshot began: ",
                         resync_reason));
      }
      // Drop the cursor only; the scope's data is replaced by the
      // snapshot's first page, in that page's transaction, and the outbox
      // is never touched.
      PALM_RETURN_IF_ERROR(store_.SetSyncCursor("", ""));
      report_->resync = true;
      notes_.push_back(absl::StrCat("resync: ", resync_reason));
    }
  }

  // Tells the server what is still waiting, for squad status. Advisory.
  absl::Status ReportStatus() {
    PALM_ASSIGN_OR_RETURN(PendingSyncCounts pending, store_.PendingCounts());
    PALM_ASSIGN_OR_RETURN(int64_t left, store_.TicketNumbersLeft());
    v1::ReportDeviceStatusRequest request;
    request.set_pending_mutations(pending.mutations);
    request.set_pending_uploads(pending.uploads);
    request.set_ticket_numbers_left(left);
    absl::Status s = RunWithRetries(link_, [&](bool*) {
      v1::ReportDeviceStatusResponse response;
      grpc::ClientContext ctx;
      PrepareCall(&ctx, store_.device_id(), link_.deadline);
      CallSlot::Scope scope(link_.slot, &ctx);
      grpc::Status sent = stub_->ReportDeviceStatus(&ctx, request, &response);
      return sent.ok() ? absl::OkStatus() : CallFailed(sent, "reporting device status");
    });
    if (!s.ok()) {
      if (absl::IsCancelled(s) || absl::IsDeadlineExceeded(s)) return s;
      notes_.push_back(std::string(s.message()));
    }
    return absl::OkStatus();
  }

 public:
  // Things worth telling that did not fail the sync.
  std::vector<std::string> notes_;

 private:
  DeviceStore& store_;
  const SyncOptions& options_;
  SyncLink link_;
  std::unique_ptr<v1::SyncService::Stub> stub_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string epoch_;
  SyncReport* report_ = nullptr;
  // The parts of a newer catalogue received so far in this sync.
  v1::Catalog catalog_parts_;
  // The lease asked for before the push failed on the link.
  bool lease_failed_ = false;
  // This sync changed something on the server (pushed, uploaded, fetched a
  // receipt that a fresh tree head made).
  bool wrote_ = false;
  // The server's epoch is not the one the device last pulled from (a
  // restore): leases are presented, case numbers claimed.
  bool after_restore_ = false;
};

}  // namespace

Result<SyncReport> RunSync(DeviceStore& store, const SyncOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  SyncReport report;
  report.ever_synced = true;
  report.started_at_ms = NowMs();
  // The link budget carries over from the last sync (its report keeps it):
  // a device on a bad link does not learn it again from scratch.
  size_t initial_budget = 0;
  if (absl::StatusOr<SyncReport> last = store.LastSyncReport(); last.ok()) {
    initial_budget = last->link_budget_bytes;
  }
  SyncSession session(store, options, initial_budget);
  absl::Status s = session.Run(&report);
  report.finished_at_ms = NowMs();
  report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  // What still waits, also after a failed sync (its report says so).
  if (absl::StatusOr<PendingSyncCounts> pending = store.PendingCounts(); pending.ok()) {
    report.uploads_pending = pending->uploads;
  }
  report.ok = s.ok();
  // Every refusal names its reason, the server's auth refusals included.
  Status result = WithReason(FromAbsl(s));
  report.error_reason = result.reason();
  report.message = s.ok() ? "" : result.message();
  if (s.ok() && report.uploads_failed > 0) {
    // The writes and the pull are done; files are not: not a plain success
    // (docs/protocol.md, "Sync results").
    report.ok = false;
    report.error_reason = kUploadsPendingReason;
    report.message = absl::StrCat(report.uploads_failed, " evidence file(s) failed to upload (",
                                  report.upload_error_code, ": ", report.upload_error, "); ",
                                  report.uploads_pending, " wait for the next sync");
  }
  for (const std::string& note : session.notes_) {
    absl::StrAppend(&report.message, report.message.empty() ? "" : "; ", note);
  }
  // The report is advisory; failing to keep it does not undo the sync.
  (void)store.SetLastSyncReport(report);
  if (!s.ok()) return result;
  return report;
}

}  // namespace internal
}  // namespace palm
