// The evidence log's transitions across restores (sync/log_transition.h):
// their signed text, what a tampered one answers, the path between two logs,
// and the words that explain a head past where a restore cut the history.
#include "sync/log_transition.h"

#include <catch2/catch.hpp>

#include "sync/ed25519.h"
#include "sync/merkle.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;

v1::SignedTreeHead Head(EVP_PKEY* key, const std::string& origin, uint64_t size) {
  v1::SignedTreeHead h;
  h.set_origin(origin);
  h.set_tree_size(size);
  h.set_root_hash(std::string(32, static_cast<char>(size)));
  h.set_timestamp_ms(1767225600000);
  REQUIRE(SignTreeHead(key, &h).ok());
  return h;
}

v1::LogTransition Transition(EVP_PKEY* key, const std::string& from, uint64_t kept,
                             const std::string& to, int64_t at_ms) {
  v1::LogTransition t;
  t.set_from_origin(from);
  *t.mutable_from_head() = Head(key, from, kept);
  t.set_to_origin(to);
  t.set_epoch(to.substr(to.rfind('/') + 1));
  t.set_at_ms(at_ms);
  t.set_reason("restored from backup nightly");
  REQUIRE(SignLogTransition(key, &t).ok());
  return t;
}

struct Keys {
  Keys() {
    auto k = GenerateEd25519Key();
    REQUIRE(k.ok());
    key = std::move(*k);
    auto pem = PublicKeyPem(key.get());
    REQUIRE(pem.ok());
    auto p = LoadPublicKeyPem(*pem);
    REQUIRE(p.ok());
    pub = std::move(*p);
  }
  UniqueEvpPkey key;
  UniqueEvpPkey pub;
};

TEST_CASE("a log transition's signed text is eight fixed lines", "[log_transition]") {
  Keys k;
  v1::LogTransition t = Transition(k.key.get(), "palm.tongxiang/evidence", 3,
                                   "palm.tongxiang/evidence/e2", 1767225600000);
  CHECK(LogTransitionText(t) ==
        "palm evidence log transition v1\npalm.tongxiang/evidence\n3\n"
        "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=\npalm.tongxiang/evidence/e2\ne2\n"
        "1767225600000\nrestored from backup nightly\n");
  CHECK(t.signature().size() == 64);
  CHECK(t.key_id() == KeyId(k.key.get()));
  CHECK(VerifyLogTransition(k.pub.get(), t).ok());
}

TEST_CASE("a tampered or malformed log transition is refused by name", "[log_transition]") {
  Keys k;
  const v1::LogTransition good = Transition(k.key.get(), "palm.tongxiang/evidence", 3,
                                            "palm.tongxiang/evidence/e2", 1767225600000);
  SECTION("the kept size changed") {
    v1::LogTransition t = good;
    t.mutable_from_head()->set_tree_size(9);
    const absl::Status s = VerifyLogTransition(k.pub.get(), t);
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(s.message() ==
          "log transition to palm.tongxiang/evidence/e2: its head: tree head signature does not "
          "verify");
  }
  SECTION("the reason changed") {
    v1::LogTransition t = good;
    t.set_reason("new epoch");
    const absl::Status s = VerifyLogTransition(k.pub.get(), t);
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(s.message() ==
          "log transition to palm.tongxiang/evidence/e2: the signature does not verify");
  }
  SECTION("another key") {
    Keys other;
    const absl::Status s = VerifyLogTransition(other.pub.get(), good);
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(s.message().find("log transition to palm.tongxiang/evidence/e2: its head: tree head "
                           "was signed by key ") == 0);
  }
  SECTION("a newline in a field") {
    v1::LogTransition t = good;
    t.set_reason("restored\nfrom a backup");
    const absl::Status s = SignLogTransition(k.key.get(), &t);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() ==
          "log transition to palm.tongxiang/evidence/e2: a text field contains a newline");
  }
  SECTION("the same origin on both sides") {
    v1::LogTransition t = good;
    t.set_to_origin(t.from_origin());
    const absl::Status s = SignLogTransition(k.key.get(), &t);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() ==
          "log transition to palm.tongxiang/evidence: needs two different, non-empty origins");
  }
}

TEST_CASE("the lineage between two logs is walked back from the newer one", "[log_transition]") {
  Keys k;
  // a -> b at 10; a backup from before b then restored: a -> c at 30; c -> d.
  const std::vector<v1::LogTransition> all = {Transition(k.key.get(), "a", 10, "a/b", 1),
                                              Transition(k.key.get(), "a", 30, "a/c", 2),
                                              Transition(k.key.get(), "a/c", 40, "a/d", 3)};
  auto path = LineageBetween(all, "a", "a/d");
  REQUIRE(path.ok());
  REQUIRE(path->size() == 2);
  CHECK((*path)[0].to_origin() == "a/c");
  CHECK((*path)[1].to_origin() == "a/d");
  CHECK(LineageBetween(all, "a/d", "a/d")->empty());

  auto abandoned = LineageBetween(all, "a/b", "a/d");
  CHECK(abandoned.status().code() == absl::StatusCode::kNotFound);
  CHECK(abandoned.status().message() ==
        "no restore recorded by this server leads from log a/b to log a/d");
}

TEST_CASE("a head past where a restore cut the log is explained, one within it carries through",
          "[log_transition]") {
  Keys k;
  const std::vector<v1::LogTransition> path = {
      Transition(k.key.get(), "a", 30, "a/c", 1767225600000),
      Transition(k.key.get(), "a/c", 40, "a/d", 1767312000000)};
  CHECK(CheckCarriedThrough(Head(k.key.get(), "a", 30), path).ok());
  CHECK(CheckCarriedThrough(Head(k.key.get(), "a", 0), path).ok());

  const absl::Status cut = CheckCarriedThrough(Head(k.key.get(), "a", 31), path);
  CHECK(cut.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(cut.message() ==
        "log a reached 31 leaves, but the restore of 2026-01-01 00:00:00 UTC (restored from "
        "backup nightly) continued log a as log a/c from its head of 30 leaves: leaves 30 to 30 "
        "were in the history the restore discarded. Receipts under that head still verify with "
        "the log key; evidence the devices sent again was registered anew in log a/c");
}

}  // namespace
}  // namespace palm::sync
