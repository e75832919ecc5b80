#include "server/audit.h"

#include "absl/strings/str_cat.h"
#include "sync/sha256.h"

namespace palm::server {
namespace {

constexpr uint32_t kVerifyPage = 1000;

void PutInt(std::string* out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void PutField(std::string* out, const std::string& field) {
  PutInt(out, field.size(), 4);
  out->append(field);
}

}  // namespace

const char kAuditGenesisHash[] = "0000000000000000000000000000000000000000000000000000000000000000";

std::string AuditEntryHash(const AuditEntry& e) {
  std::string bytes;
  auto prev = sync::HexDecodeDigest(e.prev_hash);
  // A malformed prev_hash cannot match any real hash: hash its text instead.
  if (prev.ok()) {
    bytes = sync::DigestBytes(*prev);
  } else {
    bytes = e.prev_hash;
  }
  PutInt(&bytes, e.seq, 8);
  PutInt(&bytes, static_cast<uint64_t>(e.at_ms), 8);
  PutField(&bytes, e.actor);
  PutField(&bytes, e.action);
  PutField(&bytes, e.subject);
  PutField(&bytes, e.details);
  return sync::HexEncode(sync::Sha256::Of(bytes));
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
  auto last = txn.LastAudit();
  if (!last.ok()) return last.status();
  AuditEntry e;
  e.seq = *last ? (*last)->seq + 1 : 1;
  e.at_ms = at_ms;
  e.actor = actor;
  e.action = action;
  e.subject = subject;
  e.details = std::move(details);
  e.prev_hash = *last ? (*last)->hash : kAuditGenesisHash;
  e.hash = AuditEntryHash(e);
  return txn.InsertAudit(e);
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
