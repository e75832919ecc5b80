// Ticket numbers that no restore can hand out twice (issue 18; docs/
// protocol.md, "Ticket numbers across a restore").
//
// Two parts:
// - The fence: <data_dir>/ticket-numbers.fence holds the highest ticket
//   number ever leased, written durably *before* a lease is granted and kept
//   outside the store, so that restoring palm.db from a backup does not roll
//   it back. The next lease starts above max(fence, store); numbers leased
//   after a backup are therefore never leased again by the restored server.
// - The signature: every lease carries the server's Ed25519 signature (the
//   evidence log's key, domain-separated). A restored server that forgot a
//   lease takes it back when its device presents it with a signature that
//   verifies (SyncService.RestoreTicketLeases), so the tickets numbered from
//   it are accepted instead of rejected.
#ifndef PALM_SERVER_TICKET_NUMBERING_H_
#define PALM_SERVER_TICKET_NUMBERING_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "palm/v1/sync.pb.h"
#include "sync/ed25519.h"

namespace palm::server {

inline constexpr char kTicketFenceFile[] = "ticket-numbers.fence";

// The bytes a lease's signature covers: a domain line, then lease_id,
// device_id, prefix (each length-prefixed), first_number, last_number and
// leased_at_ms. Whether it was returned is not covered (that changes).
std::string TicketLeaseBytes(const palm::v1::TicketLease& lease);

struct TicketNumberingOptions {
  std::string data_dir;
  // The store's highest leased number (ServerStore HighestLeasedNumber).
  int64_t store_highest = 0;
  // The store was just restored or given a new epoch: without a fence, the
  // server cannot know what it leased after the backup.
  bool after_restore = false;
  // --ticket-number-floor: raise the fence to at least this (0: not given).
  int64_t floor = 0;
};

// Thread-safe.
class TicketNumbering {
 public:
  // Reads the fence, or creates it from options.store_highest and floor.
  // FAILED_PRECONDITION when it is missing after a restore and no floor is
  // given; DATA_LOSS when the file is not a fence; INTERNAL or
  // RESOURCE_EXHAUSTED when it cannot be written. `key` signs leases; null
  // leaves them unsigned (a log key that cannot be read; logged by the
  // caller).
  static absl::StatusOr<std::unique_ptr<TicketNumbering>> Open(
      const TicketNumberingOptions& options, sync::UniqueEvpPkey key);

  // The highest number ever leased, as far as this server knows.
  int64_t Highest() const;

  // Durably records that numbers up to `number` are leased (no-op when the
  // fence is already there). Call before the lease is committed.
  absl::Status Raise(int64_t number);

  // Signs `lease` (sets server_signature); no-op without a key.
  absl::Status Sign(palm::v1::TicketLease* lease) const;
  // True when `lease` carries a signature of this server that verifies.
  bool SignatureValid(const palm::v1::TicketLease& lease) const;

  const std::string& path() const { return path_; }

 private:
  TicketNumbering(std::string path, int64_t highest, sync::UniqueEvpPkey key)
      : path_(std::move(path)), highest_(highest), key_(std::move(key)) {}
  absl::Status WriteLocked(int64_t number);

  const std::string path_;
  mutable std::mutex mutex_;
  int64_t highest_;
  const sync::UniqueEvpPkey key_;
};

}  // namespace palm::server

#endif  // PALM_SERVER_TICKET_NUMBERING_H_
