#include "server/audit.h"

#include "absl/strings/str_cat.h"
#include "sync/big_endian.h"
#include "sync/sha256.h"

namespace palm::server {
namespace {

constexpr uint32_t kVerifyPage = 1000;

using sync::PutBigEndian;

void PutField(std::string* out, const std::string& field) {
  PutBigEndian(out, field.size(), 4);
  out->append(field);
}

}  // namespace

const char kAuditGenesisHash[] = "0000000000000000000000000000000000000000000000000000000000000000";

namespace {

// hash(entry) over `prev`: the raw 32 bytes of prev_hash, or its text when
// it is not a digest (it then matches no real hash).
sync::Sha256Digest AuditDigest(absl::string_view prev, const AuditEntry& e) {
  std::string bytes(prev);
  PutBigEndian(&bytes, e.seq, 8);
  PutBigEndian(&bytes, static_cast<uint64_t>(e.at_ms), 8);
  PutField(&bytes, e.actor);
  PutField(&bytes, e.action);
  PutField(&bytes, e.subject);
  PutField(&bytes, e.details);
  return sync::Sha256::Of(bytes);
}

}  // namespace

std::string AuditEntryHash(const AuditEntry& e) {
  auto prev = sync::HexDecodeDigest(e.prev_hash);
  return sync::HexEncode(AuditDigest(prev.ok() ? sync::DigestBytes(*prev) : e.prev_hash, e));
}

absl::Status AppendAudit(WriteTxn& txn, int64_t at_ms, const std::string& actor,
                         const std::string& action, const std::string& subject,
                         const nlohmann::json& details) {
  return AppendAudit(txn, at_ms, actor, action, subject,
                     details.is_null() ? std::string("{}") : details.dump());
}

absl::Status AppendAudit(WriteTxn& txn, int64_t at_ms, const std::string& actor,
                         const std::string& action, const std::string& subject,
                         std::string details) {
  auto last = txn.LastAuditHead();
  if (!last.ok()) return last.status();
  const AuditHead* head = *last;
  AuditEntry e;
  e.seq = head != nullptr ? head->seq + 1 : 1;
  e.at_ms = at_ms;
  e.actor = actor;
  e.action = action;
  e.subject = subject;
  e.details = std::move(details);
  e.prev_hash = head != nullptr ? head->hash : kAuditGenesisHash;
  // Raw bytes of the previous hash (zeros before the first entry), or its
  // text when the stored head is not a digest.
  const sync::Sha256Digest genesis{};
  const sync::Sha256Digest* prev =
      head == nullptr ? &genesis : (head->digest ? &*head->digest : nullptr);
  const sync::Sha256Digest digest = AuditDigest(
      prev != nullptr ? absl::string_view(reinterpret_cast<const char*>(prev->data()), prev->size())
                      : absl::string_view(e.prev_hash),
      e);
  e.hash = sync::HexEncode(digest);
  return txn.InsertAudit(e, digest);
}

absl::StatusOr<AuditVerdict> VerifyAuditChain(ReadTxn& txn) {
  AuditVerdict verdict;
  uint64_t after = 0;
  std::string prev_hash = kAuditGenesisHash;
  while (true) {
    auto page = txn.ReadAudit(after, kVerifyPage);
    if (!page.ok()) return page.status();
    for (const AuditEntry& e : *page) {
      ++verdict.entries;
      std::string problem;
      if (!verdict.ok) {
        // Past the first break: only count.
      } else if (e.seq != after + 1) {
        problem = absl::StrCat("entry ", after + 1, " is missing (the next entry is ", e.seq, ")");
      } else if (e.prev_hash != prev_hash) {
        problem = absl::StrCat("entry ", e.seq,
                               " does not chain to the entry before it (prev_hash differs)");
      } else if (AuditEntryHash(e) != e.hash) {
        problem =
            absl::StrCat("entry ", e.seq, " was altered (its hash does not match its content)");
      }
      if (!problem.empty()) {
        verdict.ok = false;
        verdict.first_bad_entry = e.seq != after + 1 ? after + 1 : e.seq;
        verdict.problem = problem;
      }
      after = e.seq;
      prev_hash = e.hash;
    }
    if (page->size() < kVerifyPage) break;
  }
  return verdict;
}

}  // namespace palm::server
