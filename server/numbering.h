// Official numbers that no restore can hand out twice, and that a restored
// server gives back to the records that had them (issue 18; docs/
// protocol.md, "Official numbers across a restore").
//
// - The fence: <data_dir>/numbers.fence holds the highest ticket number ever
//   leased, and per year the case numbers reserved for numbering. It is
//   written durably *before* a lease is granted or a case number beyond the
//   reservation is given, and lives outside the store, so restoring palm.db
//   from a backup does not roll it back. A restored server leases above the
//   fence and numbers cases above the reservation: a number given after the
//   backup is never given again. Case numbers are reserved in blocks
//   (kCaseNumberBlock), so the fence is written once per block, off the
//   push path's common case; a restore leaves a gap of at most one block.
// - Ticket leases carry the server's Ed25519 signature (the evidence log's
//   key, domain-separated): a restored server that forgot a lease takes it
//   back when its device presents it (SyncService.RestoreTicketLeases).
// - Case numbers carry the server's seal (HMAC-SHA-256 under a key derived
//   from the same private key): a restored server that forgot a case gives
//   the resent case the number it had when the device presents the sealed
//   number with it (PushRequest.case_number_claims).
#ifndef PALM_SERVER_NUMBERING_H_
#define PALM_SERVER_NUMBERING_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "palm/v1/case.pb.h"
#include "palm/v1/sync.pb.h"
#include "sync/ed25519.h"
#include "sync/hmac.h"

namespace palm::server {

inline constexpr char kFenceFile[] = "numbers.fence";
// Case numbers reserved by one write of the fence.
inline constexpr int64_t kCaseNumberBlock = 1000;

// The bytes a lease's signature covers: a domain line, then lease_id,
// device_id, prefix (each length-prefixed), first_number, last_number and
// leased_at_ms. Whether it was returned is not covered (that changes).
std::string TicketLeaseBytes(const palm::v1::TicketLease& lease);

// The bytes a case number's seal covers: a domain line, then case_id and
// case_number (length-prefixed), year and seq.
std::string CaseNumberBytes(const std::string& case_id, const std::string& case_number,
                            int32_t year, int64_t seq);

struct NumberingOptions {
  std::string data_dir;
  // The store's highest leased number (ServerStore HighestLeasedNumber).
  int64_t store_highest = 0;
  // The store's case-number counters: year -> last number given.
  std::map<int32_t, int64_t> store_case_counters;
  // The store was just restored or given a new epoch: without a fence, the
  // server cannot know what it numbered after the backup.
  bool after_restore = false;
  // --ticket-number-floor, --case-number-floor (for `floor_year`): raise
  // the fence to at least these (0: not given).
  int64_t ticket_floor = 0;
  int64_t case_floor = 0;
  int32_t floor_year = 0;
};

// Thread-safe.
class Numbering {
 public:
  // Reads the fence, or creates it from the store's figures and the floors.
  // FAILED_PRECONDITION when it is missing after a restore and the floors
  // are not both given; DATA_LOSS when the file is not a fence; INTERNAL or
  // RESOURCE_EXHAUSTED when it cannot be written. `key` signs leases and
  // seals case numbers; null leaves them unsigned (a log key that cannot be
  // read; logged by the caller).
  static absl::StatusOr<std::unique_ptr<Numbering>> Open(const NumberingOptions& options,
                                                         sync::UniqueEvpPkey key);

  // The highest ticket number ever leased, as far as this server knows.
  int64_t Highest() const;
  // Durably records that ticket numbers up to `number` are leased (no-op
  // when the fence is already there). Call before the lease is committed.
  absl::Status Raise(int64_t number);

  // Case numbers reserved per year: none beyond them was ever given.
  std::map<int32_t, int64_t> CaseReservations() const;
  // Before case number `seq` of `year` is given: past the reservation, the
  // fence is raised by a block, durably. Cheap otherwise.
  absl::Status ReserveCaseNumber(int32_t year, int64_t seq);

  // Signs `lease` (sets server_signature); no-op without a key.
  absl::Status Sign(palm::v1::TicketLease* lease) const;
  // True when `lease` carries a signature of this server that verifies.
  bool SignatureValid(const palm::v1::TicketLease& lease) const;

  // Seals case `c`'s number (sets case_number_seal); no-op without a key.
  void SealCaseNumber(palm::v1::Case* c, int32_t year, int64_t seq) const;
  // True when `claim` carries a seal of this server that verifies.
  bool CaseNumberSealValid(const palm::v1::CaseNumberClaim& claim) const;

  const std::string& path() const { return path_; }

 private:
  Numbering(std::string path, sync::UniqueEvpPkey key, std::unique_ptr<sync::HmacSha256> seal)
      : path_(std::move(path)), key_(std::move(key)), seal_(std::move(seal)) {}
  absl::Status WriteLocked(int64_t tickets, const std::map<int32_t, int64_t>& cases);
  std::string Seal(const std::string& bytes) const;

  const std::string path_;
  const sync::UniqueEvpPkey key_;
  // HMAC-SHA-256 under the seal key; null without a key.
  const std::unique_ptr<const sync::HmacSha256> seal_;
  mutable std::mutex mutex_;
  int64_t tickets_ = 0;
  std::map<int32_t, int64_t> cases_;
};

}  // namespace palm::server

#endif  // PALM_SERVER_NUMBERING_H_
