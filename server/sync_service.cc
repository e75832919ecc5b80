// palm.v1.SyncService: Push (idempotent, ordered, group-committed), Pull
// (scoped, paged, resumable, epoch-checked), ticket-number leases, reference
// data and device status. The wire behaviour is described in
// docs/protocol.md, "Sync protocol".
#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include <google/protobuf/io/coded_stream.h>

#include "absl/strings/str_cat.h"
#include "palm/v1/sync.grpc.pb.h"
#include "server/apply.h"
#include "server/audit.h"
#include "server/authz.h"
#include "server/cursor.h"
#include "server/log.h"
#include "server/rpc_util.h"
#include "server/services.h"
#include "server/store_status.h"
#include "sync/hlc.h"
#include "sync/limits.h"
#include "sync/operations.h"
#include "sync/party_key.h"
#include "sync/request_check.h"
#include "sync/status.h"
#include "sync/status_macros.h"
#include "sync/uuid.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;
namespace pb = google::protobuf;

// A push batch carries at most this many mutations.
constexpr int kMaxBatchMutations = 2000;
// Pull pages: default and largest number of changes, and the largest byte
// budget of one page (sync/limits.h; well under the 4 MiB a default gRPC
// client accepts). A device may ask for less (PullRequest.max_page_bytes).
// Answers of GetReferenceData in parts stay within the same budget.
constexpr uint32_t kDefaultPageSize = 500;
constexpr uint32_t kMaxPageSize = 2000;
constexpr size_t kMaxPageBytes = sync::kMaxPullPageBytes;
// Ticket numbers granted per lease at most.
constexpr uint32_t kMaxLeaseCount = 1000;

std::vector<std::string> ScopesOf(const Caller& caller) {
  return {TownScope(caller.town_id), GlobalScope(), DeviceScope(caller.device_id)};
}

// The device making a device-only call, authorised for `rpc`; Caller::actor
// names the signed-in officer for the audit log.
absl::StatusOr<Caller> DeviceCaller(grpc::CallbackServerContext* ctx, const ServiceContext& context,
                                    Rpc rpc) {
  auto authority = Authorize(ctx, context, rpc);
  if (!authority.ok()) return authority.status();
  Caller caller = authority->device();
  caller.actor = authority->actor();
  return caller;
}

// The byte budget a request asks for (0: none) within the server's maximum.
size_t ByteBudget(uint32_t asked) {
  return asked == 0 ? kMaxPageBytes : std::min<size_t>(asked, kMaxPageBytes);
}

// GetReferenceData: the catalogue when newer than the device's, towns,
// squads, the device town's officers. With max_response_bytes the answer
// comes in parts of about that size (docs/protocol.md, "Bad links"): the
// first part carries the roster and the catalogue's head, later parts only
// matters; every part carries at least one matter, so a catalogue of any
// size arrives over a link that carries little between two breaks.
// The bureau's party-key secret (`secret`, null in harnesses) comes with
// the roster when the device holds another or none.
absl::Status ReadReferenceData(ReadTxn& txn, const Caller& caller,
                               const v1::GetReferenceDataRequest& request,
                               const sync::PartyKeySecret* secret,
                               v1::GetReferenceDataResponse* response) {
  auto catalog = txn.CurrentCatalog();
  if (!catalog.ok()) return catalog.status();
  const bool in_parts = request.max_response_bytes() > 0;
  uint32_t offset = in_parts ? request.catalog_matter_offset() : 0;
  // The catalogue changed while the device was putting its parts together:
  // start it over with the current one.
  if (offset > 0 && (!*catalog || (*catalog)->version() != request.catalog_part_version())) {
    offset = 0;
  }
  if (offset == 0) {
    auto towns = txn.ListTowns();
    if (!towns.ok()) return towns.status();
    for (auto& t : *towns) *response->add_towns() = std::move(t);
    auto squads = txn.ListSquads("");
    if (!squads.ok()) return squads.status();
    for (auto& s : *squads) *response->add_squads() = std::move(s);
    auto officers = txn.ListOfficers(caller.town_id, "");
    if (!officers.ok()) return officers.status();
    for (auto& o : *officers) *response->add_officers() = std::move(o);
    if (secret != nullptr && request.party_key_id() != secret->key_id()) {
      response->mutable_party_key()->set_key_id(secret->key_id());
      response->mutable_party_key()->set_secret(secret->bytes());
    }
  }
  response->set_server_time_ms(sync::SystemNowMs());
  const bool newer = *catalog && (*catalog)->version() > request.catalog_version();
  if (!in_parts) {
    if (newer) *response->mutable_catalog() = std::move(**catalog);
    return absl::OkStatus();
  }
  if (offset == 0 && !newer) return absl::OkStatus();
  v1::Catalog& current = **catalog;
  const int total = current.matters_size();
  if (offset > 0 && static_cast<int64_t>(offset) >= total) {
    return absl::OutOfRangeError(absl::StrCat("catalog_matter_offset ", offset, " is beyond the ",
                                              total, " matters of catalogue version ",
                                              current.version()));
  }
  v1::Catalog* part = response->mutable_catalog_part();
  part->set_version(current.version());
  part->set_label(current.label());
  part->set_published_at_ms(current.published_at_ms());
  if (offset == 0) {
    *part->mutable_calendar() = std::move(*current.mutable_calendar());
    if (current.has_agency()) *part->mutable_agency() = std::move(*current.mutable_agency());
  }
  const size_t budget = ByteBudget(request.max_response_bytes());
  size_t bytes = response->ByteSizeLong();
  for (int i = static_cast<int>(offset); i < total; ++i) {
    // The matter, its tag and its length.
    const size_t length = current.matters(i).ByteSizeLong();
    const size_t size = 1 + pb::io::CodedOutputStream::VarintSize64(length) + length;
    if (part->matters_size() > 0 && bytes + size > budget) break;
    bytes += size;
    *part->add_matters() = std::move(*current.mutable_matters(i));
  }
  response->set_catalog_matter_offset(offset);
  response->set_catalog_matters_total(static_cast<uint32_t>(total));
  return absl::OkStatus();
}

std::string ReplaceYear(const std::string& format, int year) {
  std::string out = format;
  for (size_t at = out.find("{year}"); at != std::string::npos; at = out.find("{year}")) {
    out.replace(at, 6, absl::StrCat(year));
  }
  return out;
}

// Push: read a batch, prepare it here, apply it on the writer thread, answer
// once durable, read the next. One batch in flight per stream.
// Keeps the claimed number of `p`'s record_case when this server sealed it;
// an unsealed or forged claim is dropped (the case is numbered anew) and
// logged.
void ClaimCaseNumber(const std::map<std::string, const v1::CaseNumberClaim*>& claims,
                     const ServiceContext& context, PreparedMutation& p) {
  const auto it = claims.find(p.mutation.record_case().case_().case_id());
  if (it == claims.end()) return;
  if (context.numbering != nullptr && context.numbering->CaseNumberSealValid(*it->second)) {
    p.case_number_claim = *it->second;
    return;
  }
  Log(LogLevel::kWarn, {{"event", "case_number_claim_refused"},
                        {"device", p.mutation.device_id()},
                        {"case", it->second->case_id()},
                        {"detail", "its seal does not verify under this server's key"}});
}

class PushReactor : public grpc::ServerBidiReactor<Checked<v1::PushRequest>, v1::PushResponse> {
 public:
  PushReactor(ServiceContext* context, grpc::CallbackServerContext* ctx) : context_(context) {
    auto caller = DeviceCaller(ctx, *context_, Rpc::kPush);
    if (!caller.ok()) {
      Finish(ToGrpc(caller.status()));
      return;
    }
    caller_ = *caller;
    StartRead(&read_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The device closed its side (or the call ended): nothing is pending.
      Finish(grpc::Status::OK);
      return;
    }
    // A message that is not a PushRequest ends the stream with an answer,
    // never OK (docs/protocol.md, "Bad input").
    // What a mutation carries is checked per mutation below (a refusal
    // of that mutation alone).
    if (!read_.parsed) {
      Finish(ToGrpc(CheckRequest("SyncService.Push", read_)));
      return;
    }
    if (read_.message.mutations_size() > kMaxBatchMutations) {
      Finish(ToGrpc(absl::InvalidArgumentError(
          absl::StrCat("a push batch carries at most ", kMaxBatchMutations, " mutations, this one ",
                       read_.message.mutations_size()))));
      return;
    }
    const int64_t now_ms = sync::SystemNowMs();
    const ApplyOptions options = OptionsOf(*context_);
    // Sealed case numbers presented after a restore, by case (usually none).
    std::map<std::string, const v1::CaseNumberClaim*> claims;
    for (const v1::CaseNumberClaim& claim : read_.message.case_number_claims()) {
      claims.emplace(claim.case_id(), &claim);
    }
    // The batch and its outcome live in the reactor, not in the work: the
    // writer thread (the store's bottleneck) then never frees a batch's
    // mutations or results; this thread does, here and in OnWriteDone.
    batch_.clear();
    batch_.reserve(read_.message.mutations_size());
    for (int i = 0; i < read_.message.mutations_size(); ++i) {
      if (read_.message.mutations(i).device_seq() == 0) {
        Finish(ToGrpc(absl::InvalidArgumentError(
            absl::StrCat("mutations[", i, "].device_seq is missing (sequences start at 1)"))));
        return;
      }
      // Unknown enum values, strings that are not UTF-8, limits: the same
      // walk the device runs before anything else when it stores a
      // mutation, so it comes first here too.
      absl::Status checked = sync::CheckMutation(read_.message.mutations(i));
      // What is kept of a refused mutation (the rejected list) is bounded.
      if (!checked.ok()) sync::CutToLimits(read_.message.mutable_mutations(i));
      batch_.push_back(PrepareMutation(caller_, std::move(*read_.message.mutable_mutations(i)),
                                       now_ms, options));
      if (!checked.ok()) batch_.back().shape = std::move(checked);
      if (!claims.empty() && batch_.back().mutation.has_record_case()) {
        ClaimCaseNumber(claims, *context_, batch_.back());
      }
    }
    outcome_ = BatchOutcome();
    // One batch is in flight per stream: the next OnReadDone, which replaces
    // batch_ and outcome_, comes only after this one's answer was written.
    // The work is rerunnable: it reads batch_ and the store, and starts
    // outcome_ afresh on every run.
    ServerStore::WriteOptions rerunnable;
    rerunnable.rerunnable = true;
    context_->store->SubmitWrite(
        [this, options, now_ms](WriteTxn& txn) {
          outcome_ = BatchOutcome();
          absl::Status applied =
              ApplyBatch(txn, *context_->matters, caller_, batch_, options, now_ms, &outcome_);
          // At most one audit checkpoint per batch and per second (issue 18).
          if (applied.ok() && context_->audit) applied = context_->audit->OnBatch(txn, now_ms);
          return applied;
        },
        [this, size = batch_.size()](absl::Status s) {
          if (!s.ok()) {
            Log(LogLevel::kError, {{"event", "push_failed"},
                                   {"device", caller_.device_id},
                                   {"detail", s.ToString()}});
            // A full disk is RESOURCE_EXHAUSTED, a busy store ABORTED
            // (server/store_status.h).
            Finish(ToGrpc(StoreFailure(s, "the batch could not be stored; resend it")));
            return;
          }
          response_.mutable_results()->Reserve(static_cast<int>(outcome_.results.size()));
          for (auto& r : outcome_.results) *response_.add_results() = std::move(r);
          response_.set_resend_from(outcome_.resend_from);
          response_.set_acknowledged_seq(outcome_.acknowledged_seq);
          Log(LogLevel::kDebug, {{"event", "push_batch"},
                                 {"device", caller_.device_id},
                                 {"mutations", size},
                                 {"answered", response_.results_size()},
                                 {"resend_from", outcome_.resend_from},
                                 {"acknowledged_seq", outcome_.acknowledged_seq}});
          StartWrite(&response_);
        },
        rerunnable);
  }

  void OnWriteDone(bool ok) override {
    response_.Clear();
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the device went away"));
      return;
    }
    StartRead(&read_);
  }

  void OnDone() override { delete this; }

 private:
  ServiceContext* context_;
  Caller caller_;
  Checked<v1::PushRequest> read_;
  v1::PushResponse response_;
  std::vector<PreparedMutation> batch_;
  BatchOutcome outcome_;
};

// Pull: one page per store read; the next is read when the previous one has
// been written to the stream.
class PullReactor : public grpc::ServerWriteReactor<v1::PullResponse> {
 public:
  PullReactor(ServiceContext* context, grpc::CallbackServerContext* ctx,
              const v1::PullRequest* request)
      : context_(context) {
    auto caller = DeviceCaller(ctx, *context_, Rpc::kPull);
    if (!caller.ok()) {
      Finish(ToGrpc(caller.status()));
      return;
    }
    caller_ = *caller;
    scopes_ = ScopesOf(caller_);
    epoch_ = context_->store->epoch();
    page_size_ =
        request->page_size() == 0 ? kDefaultPageSize : std::min(request->page_size(), kMaxPageSize);
    page_bytes_ = ByteBudget(request->max_page_bytes());
    omit_catalog_ = request->omit_catalog();
    if (request->cursor().empty()) {
      snapshot_ = true;
    } else {
      auto cursor = DecodeCursor(request->cursor());
      if (!cursor.ok()) {
        Finish(ToGrpc(cursor.status()));
        return;
      }
      if (cursor->epoch != epoch_) {
        Resync(absl::StrCat("the cursor belongs to store epoch ", cursor->epoch,
                            "; the server now runs epoch ", epoch_,
                            " (restored from a backup): take a fresh snapshot"));
        return;
      }
      if (cursor->scope != caller_.town_id) {
        Resync(absl::StrCat("the cursor was issued for town ", cursor->scope, "; device ",
                            caller_.device_id, " now serves town ", caller_.town_id,
                            ": take a fresh snapshot"));
        return;
      }
      after_ = cursor->server_seq;
    }
    ReadPage(/*first=*/true);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the device went away"));
      return;
    }
    if (finished_after_write_) {
      Finish(grpc::Status::OK);
      return;
    }
    ReadPage(/*first=*/false);
  }

  void OnDone() override { delete this; }

 private:
  void Resync(const std::string& reason) {
    response_.Clear();
    response_.mutable_resync_required()->set_server_epoch(epoch_);
    response_.mutable_resync_required()->set_reason(reason);
    finished_after_write_ = true;
    StartWrite(&response_);
  }

  // The next page: from the changes read for an earlier page that did not
  // fit its byte budget, else from one store read of up to page_size_.
  void ReadPage(bool first) {
    if (!pending_.empty()) {
      SendPage();
      return;
    }
    auto page = std::make_shared<std::vector<v1::Change>>();
    auto ahead = std::make_shared<bool>(false);
    context_->store->SubmitRead(
        [this, first, page, ahead](ReadTxn& txn) -> absl::Status {
          if (first) {
            auto high = txn.HighestServerSeq();
            if (!high.ok()) return high.status();
            high_ = *high;
            if (after_ > high_) {
              *ahead = true;
              return absl::OkStatus();
            }
            auto total = txn.CountChanges(after_, high_, scopes_);
            if (!total.ok()) return total.status();
            total_ = *total;
          }
          auto changes = txn.ReadChanges(after_, high_, scopes_, page_size_);
          if (!changes.ok()) return changes.status();
          *page = std::move(*changes);
          return absl::OkStatus();
        },
        [this, page, ahead](absl::Status s) {
          if (!s.ok()) {
            Finish(ToGrpc(StoreFailure(s, "the changes could not be read; pull again")));
            return;
          }
          if (*ahead) {
            Resync(absl::StrCat("the cursor is ahead of this store (position ", after_, " of ",
                                high_, "): the store was restored without a new epoch"));
            return;
          }
          read_full_ = page->size() >= page_size_;
          pending_.assign(std::make_move_iterator(page->begin()),
                          std::make_move_iterator(page->end()));
          SendPage();
        });
  }

  // Sends the next page out of pending_: changes up to the byte budget,
  // and at least one.
  void SendPage() {
    response_.Clear();
    v1::PullPage* page = response_.mutable_page();
    size_t bytes = 0;
    while (!pending_.empty()) {
      v1::Change& change = pending_.front();
      if (omit_catalog_ && change.has_catalog()) {
        // The device takes the catalogue from GetReferenceData, in parts.
        after_ = change.server_seq();
        pending_.pop_front();
        continue;
      }
      if (change.has_prior_violation()) {
        // Only the server knows which case recorded another party's violation.
        *change.mutable_prior_violation() =
            sync::PriorViolationForDevice(std::move(*change.mutable_prior_violation()));
      }
      const size_t size = change.ByteSizeLong();
      if (page->changes_size() > 0 && bytes + size > page_bytes_) break;
      bytes += size;
      after_ = change.server_seq();
      *page->add_changes() = std::move(change);
      pending_.pop_front();
    }
    done_ += page->changes_size();
    const bool last = pending_.empty() && (!read_full_ || after_ >= high_);
    if (last) {
      after_ = high_;
      total_ = done_;  // entities changed during the pull arrive with the next one
    }
    page->set_cursor(
        EncodeCursor({.epoch = epoch_, .scope = caller_.town_id, .server_seq = after_}));
    page->set_done(done_);
    page->set_total(std::max(total_, done_));
    page->set_snapshot(snapshot_);
    page->set_last(last);
    finished_after_write_ = last;
    StartWrite(&response_);
  }

  ServiceContext* context_;
  Caller caller_;
  std::vector<std::string> scopes_;
  std::string epoch_;
  uint32_t page_size_ = kDefaultPageSize;
  size_t page_bytes_ = kMaxPageBytes;
  bool omit_catalog_ = false;
  bool snapshot_ = false;
  // Read and written on the store's reader thread and in reactions, never at
  // the same time: one page is in flight at a time.
  uint64_t after_ = 0;
  uint64_t high_ = 0;
  uint64_t total_ = 0;
  uint64_t done_ = 0;
  // Changes read and not yet sent (a page stopped at its byte budget), and
  // whether the read that gave them hit page_size_ (more may follow).
  std::deque<v1::Change> pending_;
  bool read_full_ = false;
  bool finished_after_write_ = false;
  v1::PullResponse response_;
};

// One lease of RestoreTicketLeases: answers it in `response` when the
// server holds it (now or already), or returns why it does not.
absl::StatusOr<std::optional<std::string>> RestoreLease(WriteTxn& txn, Numbering& numbering,
                                                        const Caller& caller,
                                                        const v1::TicketLease& presented,
                                                        v1::RestoreTicketLeasesResponse* response) {
  const std::string name = absl::StrCat("ticket lease ", presented.lease_id());
  if (presented.device_id() != caller.device_id) {
    return absl::StrCat(name, " was granted to device ", presented.device_id(), ", not to ",
                        caller.device_id);
  }
  if (presented.server_signature().empty()) {
    return absl::StrCat(name, " carries no server signature (granted by an older server)");
  }
  if (!numbering.SignatureValid(presented)) {
    return absl::StrCat(name, " carries a signature that does not verify under this server's key");
  }
  PALM_ASSIGN_OR_RETURN(std::optional<v1::TicketLease> held, txn.GetLease(presented.lease_id()));
  if (held) {
    *response->add_leases() = *held;
    return std::nullopt;
  }
  PALM_ASSIGN_OR_RETURN(std::optional<v1::TicketLease> overlap,
                        txn.LeaseOverlapping(presented.first_number(), presented.last_number()));
  if (overlap) {
    return absl::StrCat(name, " (numbers ", presented.first_number(), " to ",
                        presented.last_number(), ") overlaps lease ", overlap->lease_id(),
                        " of device ", overlap->device_id(), " (numbers ", overlap->first_number(),
                        " to ", overlap->last_number(), ")");
  }
  v1::TicketLease lease = presented;
  PALM_RETURN_IF_ERROR(numbering.Raise(lease.last_number()));
  PALM_RETURN_IF_ERROR(txn.PutLease(lease));
  PALM_RETURN_IF_ERROR(
      txn.AppendChange(EntityKind::kTicketLease, lease.lease_id(), DeviceScope(caller.device_id))
          .status());
  PALM_RETURN_IF_ERROR(AppendAudit(txn, sync::SystemNowMs(), caller.actor, "lease.restored",
                                   lease.lease_id(),
                                   {{"device", caller.device_id},
                                    {"first", lease.first_number()},
                                    {"last", lease.last_number()},
                                    {"leased_at_ms", lease.leased_at_ms()}}));
  *response->add_leases() = lease;
  return std::nullopt;
}

class SyncServiceImpl final : public v1::SyncService::CallbackService {
 public:
  explicit SyncServiceImpl(ServiceContext* context) : context_(context) {}

  grpc::ServerWriteReactor<v1::PullResponse>* Pull(grpc::CallbackServerContext* ctx,
                                                   const v1::PullRequest* request) override {
    return new PullReactor(context_, ctx, request);
  }

  grpc::ServerUnaryReactor* LeaseTicketNumbers(grpc::CallbackServerContext* ctx,
                                               const v1::LeaseTicketNumbersRequest* request,
                                               v1::LeaseTicketNumbersResponse* response) override {
    auto caller = DeviceCaller(ctx, *context_, Rpc::kLeaseTicketNumbers);
    if (!caller.ok()) return FinishNow(ctx, caller.status());
    if (request->count() == 0) {
      return FinishNow(ctx, absl::InvalidArgumentError("count must be at least 1"));
    }
    const uint32_t count = std::min(request->count(), kMaxLeaseCount);
    const int64_t now_ms = sync::SystemNowMs();
    const std::string prefix =
        ReplaceYear(context_->config->ticket_prefix_format, BureauYear(now_ms));
    return FinishAfterWrite(
        ctx, context_->store,
        [caller = *caller, count, now_ms, prefix, response,
         numbering = context_->numbering.get()](WriteTxn& txn) -> absl::Status {
          auto highest = txn.HighestLeasedNumber();
          if (!highest.ok()) return highest.status();
          // Above every number ever leased, also those a restore made the
          // store forget (the fence is outside the store).
          const int64_t after =
              numbering == nullptr ? *highest : std::max(*highest, numbering->Highest());
          v1::TicketLease lease;
          lease.set_lease_id(sync::NewUuidV7(now_ms));
          lease.set_device_id(caller.device_id);
          lease.set_first_number(after + 1);
          lease.set_last_number(after + count);
          lease.set_prefix(prefix);
          lease.set_leased_at_ms(now_ms);
          if (numbering != nullptr) {
            // Fence first: a lease that fails to commit only leaves a gap.
            if (auto s = numbering->Raise(lease.last_number()); !s.ok()) return s;
            if (auto s = numbering->Sign(&lease); !s.ok()) return s;
          }
          if (auto s = txn.PutLease(lease); !s.ok()) return s;
          auto seq = txn.AppendChange(EntityKind::kTicketLease, lease.lease_id(),
                                      DeviceScope(caller.device_id));
          if (!seq.ok()) return seq.status();
          if (auto s = AppendAudit(txn, now_ms, caller.actor, "lease.granted", lease.lease_id(),
                                   {{"device", caller.device_id},
                                    {"first", lease.first_number()},
                                    {"last", lease.last_number()}});
              !s.ok()) {
            return s;
          }
          *response->mutable_lease() = lease;
          return absl::OkStatus();
        });
  }

  // Takes back the presented leases this server does not hold (a restore
  // made it forget them) when their signature is its own, they are the
  // caller's and their numbers overlap no lease on record.
  grpc::ServerUnaryReactor* RestoreTicketLeases(
      grpc::CallbackServerContext* ctx, const v1::RestoreTicketLeasesRequest* request,
      v1::RestoreTicketLeasesResponse* response) override {
    auto caller = DeviceCaller(ctx, *context_, Rpc::kRestoreTicketLeases);
    if (!caller.ok()) return FinishNow(ctx, caller.status());
    Numbering* numbering = context_->numbering.get();
    if (numbering == nullptr) {
      return FinishNow(ctx,
                       absl::FailedPreconditionError(
                           "this server keeps no ticket-number fence; it takes back no lease"));
    }
    return FinishAfterWrite(
        ctx, context_->store,
        [caller = *caller, request, response, numbering](WriteTxn& txn) -> absl::Status {
          for (const v1::TicketLease& presented : request->leases()) {
            PALM_ASSIGN_OR_RETURN(std::optional<std::string> refusal,
                                  RestoreLease(txn, *numbering, caller, presented, response));
            if (refusal) {
              v1::LeaseRefusal* r = response->add_refused();
              r->set_lease_id(presented.lease_id());
              r->set_message(*refusal);
            }
          }
          return absl::OkStatus();
        });
  }

  grpc::ServerUnaryReactor* ReturnTicketLease(grpc::CallbackServerContext* ctx,
                                              const v1::ReturnTicketLeaseRequest* request,
                                              v1::ReturnTicketLeaseResponse* response) override {
    auto caller = DeviceCaller(ctx, *context_, Rpc::kReturnTicketLease);
    if (!caller.ok()) return FinishNow(ctx, caller.status());
    if (request->lease_id().empty()) {
      return FinishNow(ctx, absl::InvalidArgumentError("lease_id is missing"));
    }
    return FinishAfterWrite(
        ctx, context_->store, [caller = *caller, request, response](WriteTxn& txn) -> absl::Status {
          auto lease = txn.GetLease(request->lease_id());
          if (!lease.ok()) return lease.status();
          if (!*lease || (*lease)->device_id() != caller.device_id) {
            return absl::NotFoundError(absl::StrCat("ticket lease ", request->lease_id(),
                                                    " is not leased to device ", caller.device_id));
          }
          v1::TicketLease& l = **lease;
          if (l.returned()) {
            return absl::FailedPreconditionError(absl::StrCat("ticket lease ", l.lease_id(),
                                                              " was already returned from number ",
                                                              l.returned_from()));
          }
          const int64_t from = request->unused_from();
          if (from < l.first_number() || from > l.last_number() + 1) {
            return absl::OutOfRangeError(absl::StrCat("unused_from ", from, " is outside lease ",
                                                      l.lease_id(), " (numbers ", l.first_number(),
                                                      " to ", l.last_number(), ", or ",
                                                      l.last_number() + 1, " to return nothing)"));
          }
          auto used = txn.HighestUsedTicketNumber(from, l.last_number());
          if (!used.ok()) return used.status();
          if (*used != 0) {
            return absl::FailedPreconditionError(
                absl::StrCat("ticket number ", *used, " of lease ", l.lease_id(),
                             " was already used; return the numbers after it"));
          }
          l.set_returned(true);
          l.set_returned_from(from);
          if (auto s = txn.PutLease(l); !s.ok()) return s;
          if (auto s = AppendAudit(txn, sync::SystemNowMs(), caller.actor, "lease.returned",
                                   l.lease_id(), {{"device", caller.device_id}, {"from", from}});
              !s.ok()) {
            return s;
          }
          auto seq = txn.AppendChange(EntityKind::kTicketLease, l.lease_id(),
                                      DeviceScope(caller.device_id));
          if (!seq.ok()) return seq.status();
          *response->mutable_lease() = l;
          return absl::OkStatus();
        });
  }

  grpc::ServerUnaryReactor* GetReferenceData(grpc::CallbackServerContext* ctx,
                                             const v1::GetReferenceDataRequest* request,
                                             v1::GetReferenceDataResponse* response) override {
    auto caller = DeviceCaller(ctx, *context_, Rpc::kGetReferenceData);
    if (!caller.ok()) return FinishNow(ctx, caller.status());
    response->set_server_epoch(context_->store->epoch());
    return FinishAfterRead(
        ctx, context_->store,
        [caller = *caller, request, response,
         secret = context_->party_key ? &*context_->party_key : nullptr](ReadTxn& txn) {
          return ReadReferenceData(txn, caller, *request, secret, response);
        });
  }

  grpc::ServerUnaryReactor* ReportDeviceStatus(grpc::CallbackServerContext* ctx,
                                               const v1::ReportDeviceStatusRequest* request,
                                               v1::ReportDeviceStatusResponse*) override {
    auto caller = DeviceCaller(ctx, *context_, Rpc::kReportDeviceStatus);
    if (!caller.ok()) return FinishNow(ctx, caller.status());
    DeviceReport report{.pending_mutations = request->pending_mutations(),
                        .pending_uploads = request->pending_uploads(),
                        .ticket_numbers_left = request->ticket_numbers_left(),
                        .reported_at_ms = sync::SystemNowMs()};
    return FinishAfterWrite(
        ctx, context_->store,
        [device = caller->device_id, actor = caller->actor, report](WriteTxn& txn) -> absl::Status {
          if (auto s = txn.PutDeviceReport(device, report); !s.ok()) return s;
          return AppendAudit(txn, report.reported_at_ms, actor, "device.status_reported", device,
                             {{"pending_mutations", report.pending_mutations},
                              {"pending_uploads", report.pending_uploads},
                              {"ticket_numbers_left", report.ticket_numbers_left}});
        });
  }

 private:
  ServiceContext* context_;
};

}  // namespace

grpc::ServerBidiReactor<Checked<v1::PushRequest>, v1::PushResponse>* StartPush(
    ServiceContext* context, grpc::CallbackServerContext* ctx) {
  return new PushReactor(context, ctx);
}

std::unique_ptr<grpc::Service> MakeSyncService(ServiceContext* context) {
  return std::make_unique<SyncServiceImpl>(context);
}

}  // namespace palm::server
