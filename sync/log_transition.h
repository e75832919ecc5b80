// The evidence log across a restore (issue 18, docs/evidence.md "The log
// across a restore"). A server restored from a backup may have forgotten
// leaves that its log had already given receipts for; appending new leaves
// at those indexes under the same origin would tell devices a second history
// for tree heads they hold. Instead the restored server goes on under a new
// origin and signs a LogTransition: "log A, as of its head of M leaves, goes
// on as log B". This is the one implementation of that statement's text, its
// signature, and of what a verifier concludes from a chain of them.
#ifndef PALM_SYNC_LOG_TRANSITION_H_
#define PALM_SYNC_LOG_TRANSITION_H_

#include <openssl/evp.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "palm/v1/case.pb.h"
#include "palm/v1/evidence.pb.h"

namespace palm::sync {

// The text a transition's signature covers, eight lines each ending '\n':
//
//   palm evidence log transition v1
//   <from_origin>
//   <from_head tree_size, decimal; 0 without a head>
//   <from_head root_hash, standard base64; empty without a head>
//   <to_origin>
//   <epoch>
//   <at_ms, decimal>
//   <reason>
std::string LogTransitionText(const palm::v1::LogTransition& t);

// Sets t->key_id and t->signature with the log's private key. INVALID_ARGUMENT
// when a text field holds a newline or the origins are equal or empty.
absl::Status SignLogTransition(EVP_PKEY* key, palm::v1::LogTransition* t);

// Verifies `t` with the log's public key `pub`: its shape, its signature,
// and its from_head's (which must be of from_origin). INVALID_ARGUMENT for a
// malformed statement, DATA_LOSS when a signature does not verify; messages
// start "log transition to <to_origin>: ".
absl::Status VerifyLogTransition(EVP_PKEY* pub, const palm::v1::LogTransition& t);

// The transitions that lead from log `from` to log `to`, oldest first (empty
// when from == to). NOT_FOUND "no restore recorded by this server leads from
// log <from> to log <to>" when `transitions` hold no such path.
absl::StatusOr<std::vector<palm::v1::LogTransition>> LineageBetween(
    const std::vector<palm::v1::LogTransition>& transitions, const std::string& from,
    const std::string& to);

// Whether the leaves under `head` (of the first log of `path`) go on through
// every transition of `path`: OK when head's tree_size is at most every
// transition's from_head size (the new log then holds those very leaves,
// and a consistency proof from head to the last log's heads exists).
// Otherwise FAILED_PRECONDITION, explaining in words which restore cut the
// history:
//   "log A reached N leaves, but the restore of <UTC time> (<reason>)
//    continued it as log B from its head of M leaves: leaves M to N-1 were
//    in the history the restore discarded. Receipts under that head still
//    verify with the log key; evidence the devices sent again was registered
//    anew in log B"
absl::Status CheckCarriedThrough(const palm::v1::SignedTreeHead& head,
                                 const std::vector<palm::v1::LogTransition>& path);

}  // namespace palm::sync

#endif  // PALM_SYNC_LOG_TRANSITION_H_
