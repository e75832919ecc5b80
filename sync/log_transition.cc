#include "sync/log_transition.h"

#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "sync/ed25519.h"
#include "sync/merkle.h"
#include "sync/status_macros.h"

namespace palm::sync {

namespace v1 = palm::v1;

namespace {

constexpr char kDomain[] = "palm evidence log transition v1";

std::string Prefix(const v1::LogTransition& t) {
  return absl::StrCat("log transition to ", t.to_origin(), ": ");
}

absl::Status CheckShape(const v1::LogTransition& t) {
  for (const std::string* field : {&t.from_origin(), &t.to_origin(), &t.epoch(), &t.reason()}) {
    if (field->find('\n') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(Prefix(t), "a text field contains a newline"));
    }
  }
  if (t.from_origin().empty() || t.to_origin().empty() || t.from_origin() == t.to_origin()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Prefix(t), "needs two different, non-empty origins"));
  }
  if (t.has_from_head() && t.from_head().origin() != t.from_origin()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Prefix(t), "its head is of log ", t.from_head().origin(), ", not of ", t.from_origin()));
  }
  return absl::OkStatus();
}

std::string Utc(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

}  // namespace

std::string LogTransitionText(const v1::LogTransition& t) {
  return absl::StrCat(kDomain, "\n", t.from_origin(), "\n", t.from_head().tree_size(), "\n",
                      absl::Base64Escape(t.from_head().root_hash()), "\n", t.to_origin(), "\n",
                      t.epoch(), "\n", t.at_ms(), "\n", t.reason(), "\n");
}

absl::Status SignLogTransition(EVP_PKEY* key, v1::LogTransition* t) {
  PALM_RETURN_IF_ERROR(CheckShape(*t));
  PALM_ASSIGN_OR_RETURN(std::string signature, Ed25519Sign(key, LogTransitionText(*t)));
  t->set_key_id(KeyId(key));
  t->set_signature(std::move(signature));
  return absl::OkStatus();
}

absl::Status VerifyLogTransition(EVP_PKEY* pub, const v1::LogTransition& t) {
  PALM_RETURN_IF_ERROR(CheckShape(t));
  if (t.has_from_head()) {
    if (absl::Status s = VerifyTreeHead(pub, t.from_head()); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(Prefix(t), "its head: ", s.message()));
    }
  }
  const std::string key_id = KeyId(pub);
  if (!t.key_id().empty() && t.key_id() != key_id) {
    return absl::DataLossError(
        absl::StrCat(Prefix(t), "signed by key ", t.key_id(), ", not ", key_id));
  }
  if (t.signature().size() != 64 || !Ed25519Verify(pub, LogTransitionText(t), t.signature())) {
    return absl::DataLossError(absl::StrCat(Prefix(t), "the signature does not verify"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::LogTransition>> LineageBetween(
    const std::vector<v1::LogTransition>& transitions, const std::string& from,
    const std::string& to) {
  // Each log is continued from exactly one: walk back from `to`.
  std::map<std::string, const v1::LogTransition*> by_to;
  for (const v1::LogTransition& t : transitions) by_to.emplace(t.to_origin(), &t);
  std::vector<v1::LogTransition> path;
  std::string at = to;
  while (at != from) {
    const auto it = by_to.find(at);
    if (it == by_to.end() || path.size() > transitions.size()) {
      return absl::NotFoundError(
          absl::StrCat("no restore recorded by this server leads from log ", from, " to log ", to));
    }
    path.insert(path.begin(), *it->second);
    at = it->second->from_origin();
  }
  return path;
}

absl::Status CheckCarriedThrough(const v1::SignedTreeHead& head,
                                 const std::vector<v1::LogTransition>& path) {
  for (const v1::LogTransition& t : path) {
    const uint64_t kept = t.from_head().tree_size();
    if (head.tree_size() <= kept) continue;
    return absl::FailedPreconditionError(absl::StrCat(
        "log ", head.origin(), " reached ", head.tree_size(), " leaves, but the restore of ",
        Utc(t.at_ms()), " (", t.reason(), ") continued log ", t.from_origin(), " as log ",
        t.to_origin(), " from its head of ", kept, " leaves: leaves ", kept, " to ",
        head.tree_size() - 1,
        " were in the history the restore discarded. Receipts under that head still verify with "
        "the log key; evidence the devices sent again was registered anew in log ",
        t.to_origin()));
  }
  return absl::OkStatus();
}

}  // namespace palm::sync
