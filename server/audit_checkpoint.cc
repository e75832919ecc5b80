#include "server/audit_checkpoint.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "server/log.h"
#include "sync/big_endian.h"
#include "sync/hlc.h"
#include "sync/sha256.h"
#include "sync/status_macros.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

constexpr char kDomain[] = "palm audit checkpoint v1\n";
constexpr int64_t kBatchSpacingMs = 1000;

using sync::PutBigEndian;

// UTC, e.g. 2026-03-14T09:26:53.120Z.
std::string TimeOf(int64_t ms) {
  const int64_t floor_s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const time_t seconds = static_cast<time_t>(floor_s);
  struct tm utc {};
  gmtime_r(&seconds, &utc);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(ms - floor_s * 1000));
  return text;
}

}  // namespace

std::string AuditCheckpointBytes(const v1::AuditCheckpoint& c) {
  std::string bytes(kDomain);
  PutBigEndian(&bytes, c.origin().size(), 4);
  bytes.append(c.origin());
  PutBigEndian(&bytes, c.entries(), 8);
  PutBigEndian(&bytes, static_cast<uint64_t>(c.timestamp_ms()), 8);
  bytes.append(c.head_hash());
  return bytes;
}

bool AuditCheckpointSignatureValid(EVP_PKEY* key, const v1::AuditCheckpoint& c) {
  return key != nullptr && c.head_hash().size() == 32 &&
         sync::Ed25519Verify(key, AuditCheckpointBytes(c), c.signature());
}

absl::StatusOr<CheckpointCheck> CheckAgainstCheckpoint(ReadTxn& txn, const AuditVerdict& chain,
                                                       const v1::AuditCheckpoint& checkpoint,
                                                       const std::string& label) {
  CheckpointCheck check;
  const std::string name = absl::StrCat(label, " signed at ", TimeOf(checkpoint.timestamp_ms()));
  const uint64_t m = checkpoint.entries();
  if (m == 0) return check;
  // The chain verified, so its entries are 1..chain.entries.
  if (chain.entries < m) {
    check.finding = v1::AUDIT_FINDING_CUT;
    check.entry = m;
    check.problem = absl::StrCat("the audit log ends at entry ", chain.entries, " but ", name,
                                 " commits to entry ", m, ": the log was cut");
    return check;
  }
  PALM_ASSIGN_OR_RETURN(std::vector<AuditEntry> at, txn.ReadAudit(m - 1, 1));
  const std::string signed_hash =
      sync::HexEncode(reinterpret_cast<const uint8_t*>(checkpoint.head_hash().data()),
                      checkpoint.head_hash().size());
  if (at.empty() || at.front().seq != m || at.front().hash != signed_hash) {
    check.finding = v1::AUDIT_FINDING_REWRITTEN;
    check.entry = m;
    check.problem = absl::StrCat("entry ", m, "'s hash differs from the one ", name,
                                 " signed: the log was rewritten");
  }
  return check;
}

absl::Status CheckKeptCheckpoint(EVP_PKEY* key, const std::string& origin,
                                 const v1::AuditCheckpoint& kept) {
  if (key == nullptr) {
    return absl::FailedPreconditionError(
        "this server has no usable audit key (see its log, event log_key_unusable), so it "
        "cannot check a checkpoint");
  }
  if (kept.origin() != origin) {
    return absl::InvalidArgumentError(absl::StrCat("the checkpoint was signed by \"", kept.origin(),
                                                   "\", not by this server (\"", origin, "\")"));
  }
  if (!AuditCheckpointSignatureValid(key, kept)) {
    return absl::InvalidArgumentError(
        "the checkpoint's signature does not verify under this server's key: it was altered or "
        "signed by another key");
  }
  return absl::OkStatus();
}

absl::Status VerifyAuditLog(ReadTxn& txn, EVP_PKEY* key, const v1::AuditCheckpoint* kept,
                            v1::VerifyAuditResponse* response) {
  PALM_ASSIGN_OR_RETURN(AuditVerdict verdict, VerifyAuditChain(txn));
  response->set_ok(verdict.ok);
  response->set_entries(verdict.entries);
  response->set_first_bad_entry(verdict.first_bad_entry);
  response->set_problem(verdict.problem);
  response->set_finding(verdict.ok ? v1::AUDIT_FINDING_INTACT : v1::AUDIT_FINDING_BROKEN);
  PALM_ASSIGN_OR_RETURN(std::optional<v1::AuditCheckpoint> stored, txn.LatestAuditCheckpoint());
  if (stored) *response->mutable_stored_checkpoint() = *stored;
  response->set_kept_checkpoint_checked(kept != nullptr);
  if (!verdict.ok) return absl::OkStatus();
  auto fail = [response](const CheckpointCheck& check) {
    response->set_ok(false);
    response->set_finding(check.finding);
    response->set_first_bad_entry(check.entry);
    response->set_problem(check.problem);
  };
  if (stored && key != nullptr && !AuditCheckpointSignatureValid(key, *stored)) {
    fail(CheckpointCheck{
        .finding = v1::AUDIT_FINDING_REWRITTEN,
        .problem = absl::StrCat("the newest stored checkpoint (entry ", stored->entries(),
                                ") does not carry this server's signature: the checkpoints "
                                "were tampered with"),
        .entry = stored->entries()});
    return absl::OkStatus();
  }
  // The kept checkpoint first: it is the one a tamperer could not touch.
  if (kept != nullptr) {
    PALM_ASSIGN_OR_RETURN(CheckpointCheck check,
                          CheckAgainstCheckpoint(txn, verdict, *kept, "the kept checkpoint"));
    if (check.finding != v1::AUDIT_FINDING_INTACT) {
      fail(check);
      return absl::OkStatus();
    }
  }
  if (stored) {
    PALM_ASSIGN_OR_RETURN(CheckpointCheck check,
                          CheckAgainstCheckpoint(txn, verdict, *stored, "the stored checkpoint"));
    if (check.finding != v1::AUDIT_FINDING_INTACT) fail(check);
  }
  return absl::OkStatus();
}

AuditCheckpointer::AuditCheckpointer(ServerStore* store, sync::UniqueEvpPkey key,
                                     std::string origin, int64_t interval_ms)
    : store_(store), key_(std::move(key)), origin_(std::move(origin)), interval_ms_(interval_ms) {
  auto pem = sync::PublicKeyPem(key_.get());
  if (pem.ok()) public_pem_ = *pem;
}

AuditCheckpointer::~AuditCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AuditCheckpointer::Start() {
  if (interval_ms_ <= 0) return;
  thread_ = std::thread([this] { Schedule(); });
}

void AuditCheckpointer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  SubmitAndWait();
}

void AuditCheckpointer::Schedule() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    // Waits, so that no queued write outlives this object.
    SubmitAndWait();
    lock.lock();
  }
}

void AuditCheckpointer::SubmitAndWait() {
  auto finished = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  auto done = std::make_shared<bool>(false);
  store_->SubmitWrite(
      [this](WriteTxn& txn) { return Quietly(Checkpoint(txn, sync::SystemNowMs(), 0).status()); },
      [finished, done](absl::Status s) {
        if (!s.ok() && s.code() != absl::StatusCode::kUnavailable) {
          Log(LogLevel::kError, {{"event", "audit_checkpoint_failed"}, {"detail", s.ToString()}});
        }
        std::lock_guard<std::mutex> lock(finished->first);
        *done = true;
        finished->second.notify_all();
      });
  std::unique_lock<std::mutex> lock(finished->first);
  finished->second.wait(lock, [&] { return *done; });
}

absl::StatusOr<std::optional<v1::AuditCheckpoint>> AuditCheckpointer::Checkpoint(
    WriteTxn& txn, int64_t now_ms, int64_t min_spacing_ms) {
  PALM_ASSIGN_OR_RETURN(const AuditHead* head, txn.LastAuditHead());
  const uint64_t head_seq = head != nullptr ? head->seq : 0;
  const std::optional<sync::Sha256Digest> head_digest =
      head != nullptr ? head->digest : std::nullopt;
  PALM_ASSIGN_OR_RETURN(std::optional<v1::AuditCheckpoint> latest, txn.LatestAuditCheckpoint());
  // Never sign (nor hand out) for a log that no longer extends the newest
  // checkpoint (cut or rewritten while the server was stopped): that
  // checkpoint must stay the newest, so that VerifyAudit names what
  // happened. One read by primary key.
  if (latest && latest->entries() > 0) {
    PALM_ASSIGN_OR_RETURN(std::vector<AuditEntry> at, txn.ReadAudit(latest->entries() - 1, 1));
    const std::string signed_hash = sync::HexEncode(
        reinterpret_cast<const uint8_t*>(latest->head_hash().data()), latest->head_hash().size());
    if (at.empty() || at.front().seq != latest->entries() || at.front().hash != signed_hash) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the audit log no longer extends its newest checkpoint (entry ", latest->entries(),
          "): no new checkpoint is signed; run palmctl audit verify"));
    }
  }
  if (head_seq == 0) return latest;
  if (latest) {
    const bool moved = latest->entries() != head_seq;
    const bool young = now_ms - latest->timestamp_ms() < min_spacing_ms;
    if (!moved || young) {
      // Only a hint for OnBatch (a rolled-back read costs one more read).
      int64_t seen = last_signed_ms_.load();
      while (seen < latest->timestamp_ms() &&
             !last_signed_ms_.compare_exchange_weak(seen, latest->timestamp_ms())) {
      }
      return latest;
    }
  }
  // A head that is not a digest (a tampered row) is not signed: the chain
  // check names that row.
  if (!head_digest) return latest;
  v1::AuditCheckpoint checkpoint;
  checkpoint.set_origin(origin_);
  checkpoint.set_entries(head_seq);
  checkpoint.set_head_hash(sync::DigestBytes(*head_digest));
  // Never before the previous one, even if the clock went back.
  checkpoint.set_timestamp_ms(latest ? std::max(now_ms, latest->timestamp_ms()) : now_ms);
  PALM_ASSIGN_OR_RETURN(std::string signature,
                        sync::Ed25519Sign(key_.get(), AuditCheckpointBytes(checkpoint)));
  checkpoint.set_signature(std::move(signature));
  PALM_RETURN_IF_ERROR(txn.PutAuditCheckpoint(checkpoint));
  const int64_t signed_ms = checkpoint.timestamp_ms();
  txn.OnCommit([this, signed_ms] {
    int64_t seen = last_signed_ms_.load();
    while (seen < signed_ms && !last_signed_ms_.compare_exchange_weak(seen, signed_ms)) {
    }
  });
  return std::optional<v1::AuditCheckpoint>(std::move(checkpoint));
}

absl::Status AuditCheckpointer::Quietly(absl::Status s) {
  if (!absl::IsFailedPrecondition(s)) return s;
  // A diverged log: say so once, never fail the caller's writes for it.
  if (!divergence_logged_.exchange(true)) {
    Log(LogLevel::kError, {{"event", "audit_log_diverged"}, {"detail", s.ToString()}});
  }
  return absl::OkStatus();
}

absl::Status AuditCheckpointer::OnBatch(WriteTxn& txn, int64_t now_ms) {
  if (now_ms - last_signed_ms_.load() < kBatchSpacingMs) return absl::OkStatus();
  return Quietly(Checkpoint(txn, now_ms, kBatchSpacingMs).status());
}

}  // namespace palm::server
