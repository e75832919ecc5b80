// The bureau's party-key secret on the server (sync/party_key.h): the file
// that holds it, and the store's prior violations kept under it.
//
// <data dir>/party-key.secret holds the 32 bytes, mode 0600. It is made the
// first time a server starts on a store that has no prior violation keyed
// under another secret, and it is not in backups (like the evidence log's
// key): an operator keeps a copy of it beside the log key. Without it the
// store's prior violations cannot be matched, so a server whose store holds
// keys under a secret the file is not (or the file missing) refuses to start.
#ifndef PALM_SERVER_PARTY_SECRET_H_
#define PALM_SERVER_PARTY_SECRET_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "server/store.h"
#include "sync/party_key.h"

namespace palm::server {

inline constexpr char kPartyKeySecretFile[] = "party-key.secret";

// What OpenPartyKeySecret did.
struct PartyKeyOpening {
  sync::PartyKeySecret secret;
  // Prior violations of older servers (plain SHA-256 keys) rekeyed now, and
  // published again in the change log, so devices replace what they hold.
  int64_t rekeyed = 0;
};

// Reads <data_dir>/party-key.secret, or makes it (durably) when the store
// keys no prior violation under a secret; then rekeys in `txn` every prior
// violation of an older server (run once at start, on the writer). Fails
// with:
//   FAILED_PRECONDITION  the store keys prior violations under a secret the
//                        file is not, or the file is missing while it does
//                        (the message names both key ids and the file);
//   DATA_LOSS            the file is not 32 bytes, or a stored key is not a
//                        SHA-256 in hex;
//   and the store's own errors.
absl::StatusOr<PartyKeyOpening> OpenPartyKeySecret(const std::string& data_dir, WriteTxn& txn);

}  // namespace palm::server

#endif  // PALM_SERVER_PARTY_SECRET_H_
