#include "server/numbering.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sync/big_endian.h"
#include "sync/fsync.h"
#include "sync/sha256.h"
#include "sync/status_macros.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

constexpr char kLeaseDomain[] = "palm ticket lease v1\n";
constexpr char kCaseNumberDomain[] = "palm case number v1\n";
constexpr char kSealKeyDomain[] = "palm case number seal key v1\n";
constexpr char kFenceHeader[] = "palm number fence v1";
// A seal carries the first 128 bits of its HMAC-SHA-256 (as RFC 4868 does):
// forging one takes 2^128 guesses, each a push the server logs.
constexpr size_t kSealMacSize = 16;

void PutInt(std::string* out, uint64_t v) { sync::PutBigEndian(out, v, 8); }

void PutString(std::string* out, const std::string& s) {
  PutInt(out, s.size());
  out->append(s);
}

absl::Status Errno(const std::string& what, int err) {
  const std::string text = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(text);
  return absl::InternalError(text);
}

struct Fence {
  int64_t tickets = 0;
  std::map<int32_t, int64_t> cases;
};

std::string FloorHelp() {
  return "start with --ticket-number-floor N and --case-number-floor M, N at least the highest "
         "ticket number any device may hold and M at least the highest case number of this "
         "year given since the backup";
}

// The fence, or nullopt when the file does not exist. Lines:
//   palm number fence v1
//   tickets N
//   cases YEAR N        (zero or more)
absl::StatusOr<std::optional<Fence>> ReadFence(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    return Errno(absl::StrCat("reading the number fence ", path), errno);
  }
  std::stringstream text;
  text << in.rdbuf();
  const absl::Status bad = absl::DataLossError(absl::StrCat(
      "the number fence ", path,
      " is not one (it holds the highest ticket number ever leased and the case numbers "
      "reserved); move it away and ",
      FloorHelp()));
  std::vector<std::string> lines = absl::StrSplit(text.str(), '\n');
  if (lines.size() < 3 || lines[0] != kFenceHeader || !lines.back().empty()) return bad;
  Fence fence;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    std::vector<std::string> words = absl::StrSplit(lines[i], ' ');
    int64_t number = 0;
    int32_t year = 0;
    if (i == 1) {
      if (words.size() != 2 || words[0] != "tickets" || !absl::SimpleAtoi(words[1], &number) ||
          number < 0) {
        return bad;
      }
      fence.tickets = number;
    } else if (words.size() != 3 || words[0] != "cases" || !absl::SimpleAtoi(words[1], &year) ||
               !absl::SimpleAtoi(words[2], &number) || year <= 0 || number < 0 ||
               !fence.cases.emplace(year, number).second) {
      return bad;
    }
  }
  return fence;
}

// The HMAC key of case-number seals: SHA-256 of a domain line and the raw
// private key, so that it is as secret as the key and needs no file of
// its own. Empty when `key` is null or holds no private half.
std::string SealKeyOf(EVP_PKEY* key) {
  if (key == nullptr) return "";
  unsigned char raw[64];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_private_key(key, raw, &len) != 1) return "";
  std::string material(kSealKeyDomain);
  material.append(reinterpret_cast<const char*>(raw), len);
  OPENSSL_cleanse(raw, sizeof raw);
  const sync::Sha256Digest digest = sync::Sha256::Of(material);
  OPENSSL_cleanse(material.data(), material.size());
  return std::string(digest.begin(), digest.end());
}

}  // namespace

std::string TicketLeaseBytes(const v1::TicketLease& lease) {
  std::string bytes(kLeaseDomain);
  PutString(&bytes, lease.lease_id());
  PutString(&bytes, lease.device_id());
  PutString(&bytes, lease.prefix());
  PutInt(&bytes, static_cast<uint64_t>(lease.first_number()));
  PutInt(&bytes, static_cast<uint64_t>(lease.last_number()));
  PutInt(&bytes, static_cast<uint64_t>(lease.leased_at_ms()));
  return bytes;
}

std::string CaseNumberBytes(const std::string& case_id, const std::string& case_number,
                            int32_t year, int64_t seq) {
  std::string bytes(kCaseNumberDomain);
  PutString(&bytes, case_id);
  PutString(&bytes, case_number);
  PutInt(&bytes, static_cast<uint64_t>(static_cast<int64_t>(year)));
  PutInt(&bytes, static_cast<uint64_t>(seq));
  return bytes;
}

absl::StatusOr<std::unique_ptr<Numbering>> Numbering::Open(const NumberingOptions& options,
                                                           sync::UniqueEvpPkey key) {
  const std::string path = absl::StrCat(options.data_dir, "/", kFenceFile);
  absl::StatusOr<std::optional<Fence>> read = ReadFence(path);
  if (!read.ok()) return read.status();
  if (!read->has_value() && options.after_restore &&
      (options.ticket_floor == 0 || options.case_floor == 0)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data directory has no number fence (", path,
        "): after a restore the server cannot know which ticket and case numbers it gave after "
        "the backup was taken; keep the directory's fence when restoring (palm-server "
        "--restore-from does), or ",
        FloorHelp()));
  }
  Fence fence = read->value_or(Fence{});
  const Fence before = fence;
  fence.tickets = std::max({fence.tickets, options.store_highest, options.ticket_floor});
  for (const auto& [year, last] : options.store_case_counters) {
    int64_t& reserved = fence.cases[year];
    reserved = std::max(reserved, last);
  }
  if (options.case_floor > 0) {
    int64_t& reserved = fence.cases[options.floor_year];
    reserved = std::max(reserved, options.case_floor);
  }
  std::string seal_key = SealKeyOf(key.get());
  std::unique_ptr<sync::HmacSha256> seal;
  if (!seal_key.empty()) seal = std::make_unique<sync::HmacSha256>(seal_key);
  OPENSSL_cleanse(seal_key.data(), seal_key.size());
  std::unique_ptr<Numbering> numbering(new Numbering(path, std::move(key), std::move(seal)));
  std::lock_guard<std::mutex> lock(numbering->mutex_);
  if (!read->has_value() || fence.tickets != before.tickets || fence.cases != before.cases) {
    if (absl::Status s = numbering->WriteLocked(fence.tickets, fence.cases); !s.ok()) return s;
  }
  numbering->tickets_ = fence.tickets;
  numbering->cases_ = std::move(fence.cases);
  return numbering;
}

int64_t Numbering::Highest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return tickets_;
}

absl::Status Numbering::Raise(int64_t number) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (number <= tickets_) return absl::OkStatus();
  if (absl::Status s = WriteLocked(number, cases_); !s.ok()) return s;
  tickets_ = number;
  return absl::OkStatus();
}

std::map<int32_t, int64_t> Numbering::CaseReservations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cases_;
}

absl::Status Numbering::ReserveCaseNumber(int32_t year, int64_t seq) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = cases_.find(year);
  if (it != cases_.end() && seq <= it->second) return absl::OkStatus();
  std::map<int32_t, int64_t> next = cases_;
  next[year] = seq + kCaseNumberBlock - 1;
  if (absl::Status s = WriteLocked(tickets_, next); !s.ok()) return s;
  cases_ = std::move(next);
  return absl::OkStatus();
}

// The fence is either the old one or the new one, durably.
absl::Status Numbering::WriteLocked(int64_t tickets, const std::map<int32_t, int64_t>& cases) {
  std::string content = absl::StrCat(kFenceHeader, "\ntickets ", tickets, "\n");
  for (const auto& [year, reserved] : cases)
    absl::StrAppend(&content, "cases ", year, " ", reserved, "\n");
  return sync::ReplaceFileDurably(path_, content, absl::StrCat("the number fence ", path_));
}

absl::Status Numbering::Sign(v1::TicketLease* lease) const {
  if (key_ == nullptr) return absl::OkStatus();
  absl::StatusOr<std::string> signature = sync::Ed25519Sign(key_.get(), TicketLeaseBytes(*lease));
  if (!signature.ok()) return signature.status();
  lease->set_server_signature(*signature);
  return absl::OkStatus();
}

bool Numbering::SignatureValid(const v1::TicketLease& lease) const {
  return key_ != nullptr && !lease.server_signature().empty() &&
         sync::Ed25519Verify(key_.get(), TicketLeaseBytes(lease), lease.server_signature());
}

std::string Numbering::Seal(const std::string& bytes) const {
  const sync::Sha256Digest mac = seal_->Mac(bytes);
  return std::string(reinterpret_cast<const char*>(mac.data()), kSealMacSize);
}

void Numbering::SealCaseNumber(v1::Case* c, int32_t year, int64_t seq) const {
  if (seal_ == nullptr) return;
  v1::CaseNumberSeal* seal = c->mutable_case_number_seal();
  seal->set_year(year);
  seal->set_seq(seq);
  seal->set_mac(Seal(CaseNumberBytes(c->case_id(), c->case_number(), year, seq)));
}

bool Numbering::CaseNumberSealValid(const v1::CaseNumberClaim& claim) const {
  if (seal_ == nullptr || claim.seal().mac().size() != kSealMacSize) return false;
  const std::string expected = Seal(CaseNumberBytes(claim.case_id(), claim.case_number(),
                                                    claim.seal().year(), claim.seal().seq()));
  return expected.size() == kSealMacSize &&
         CRYPTO_memcmp(expected.data(), claim.seal().mac().data(), kSealMacSize) == 0;
}

}  // namespace palm::server
