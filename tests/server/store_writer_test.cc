// The SQLite store's writer thread (server/sqlite_store.cc): what it keeps in
// memory between units of work (cases, officers, the audit and change-log
// heads) must never outlive a unit that rolled back,
// and its WAL is checkpointed beside it rather than growing with every write.
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "server/audit.h"
#include "server/evidence_log.h"
#include "server/merkle_store.h"
#include "server/store.h"
#include "support/temp_dir.h"
#include "sync/evidence_entry.h"
#include "sync/merkle.h"
#include "sync/sha256.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;
using palm::testing::TempDir;

std::unique_ptr<ServerStore> OpenStore(const std::string& dir) {
  std::filesystem::create_directories(dir);
  StoreOptions options;
  options.data_dir = dir;
  auto store = OpenSqliteStore(options);
  REQUIRE(store.ok());
  return *std::move(store);
}

// Submits `work` and returns the future of its status.
std::future<absl::Status> Submit(ServerStore& store, ServerStore::WriteWork work,
                                 bool rerunnable = false) {
  auto done = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = done->get_future();
  ServerStore::WriteOptions options;
  options.rerunnable = rerunnable;
  store.SubmitWrite(
      std::move(work), [done](absl::Status s) { done->set_value(s); }, options);
  return result;
}

// Submits a unit that keeps the writer busy for 200 ms and returns its
// future once it runs: the units submitted next, while it sleeps, queue up
// and share the writer's next group transaction (and not this one's).
std::future<absl::Status> HoldWriter(ServerStore& store) {
  auto started = std::make_shared<std::promise<void>>();
  std::future<void> running = started->get_future();
  auto held = Submit(store, [started](WriteTxn&) {
    started->set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return absl::OkStatus();
  });
  running.wait();
  return held;
}

absl::Status Read(ServerStore& store, ServerStore::ReadWork work) {
  auto done = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = done->get_future();
  store.SubmitRead(std::move(work), [done](absl::Status s) { done->set_value(s); });
  return result.get();
}

CaseRecord Case(const std::string& description) {
  CaseRecord record;
  record.value.set_case_id("case-1");
  record.value.set_town_id("town-a");
  record.value.set_squad_id("squad-a");
  record.value.set_state(v1::CASE_STATE_REGISTERED);
  record.value.set_created_at_ms(1);
  record.value.set_description(description);
  record.value.set_case_number(description + "-number");
  return record;
}

// The whole audit chain's verdict, read outside the writer.
AuditVerdict Verify(ServerStore& store) {
  AuditVerdict verdict;
  REQUIRE(Read(store, [&verdict](ReadTxn& txn) -> absl::Status {
            auto v = VerifyAuditChain(txn);
            if (!v.ok()) return v.status();
            verdict = *v;
            return absl::OkStatus();
          }).ok());
  return verdict;
}

// Reads officer `id` into `out`.
absl::Status ReadOfficer(WriteTxn& txn, const std::string& id, std::optional<v1::Officer>* out) {
  auto read = txn.GetOfficer(id);
  if (!read.ok()) return read.status();
  *out = *std::move(read);
  return absl::OkStatus();
}

TEST_CASE("a unit that rolls back leaves nothing in the writer's memory") {
  TempDir dir;
  auto store = OpenStore(dir.File("data"));
  uint64_t first_seq = 0;
  REQUIRE(Submit(*store, [&first_seq](WriteTxn& txn) -> absl::Status {
            if (auto s = txn.PutCase(Case("original")); !s.ok()) return s;
            auto seq = txn.AppendChange(EntityKind::kCase, "case-1", TownScope("town-a"));
            if (!seq.ok()) return seq.status();
            first_seq = *seq;
            return AppendAudit(txn, 1, "test", "case.put", "case-1", std::string("{}"));
          }).get() == absl::OkStatus());

  // The next two units queue behind a slow one, so that they share one group
  // transaction: the second runs right after the first one rolled back.
  auto slow = HoldWriter(*store);
  auto failing = Submit(*store, [](WriteTxn& txn) -> absl::Status {
    auto read = txn.GetCase("case-1");  // cached
    if (!read.ok()) return read.status();
    if (auto s = txn.PutCase(Case("changed")); !s.ok()) return s;
    for (const char* id : {"event-1", "event-2"}) {
      if (auto seq = txn.AppendChange(EntityKind::kEvent, id, TownScope("town-a")); !seq.ok()) {
        return seq.status();
      }
    }
    if (auto s = AppendAudit(txn, 2, "test", "case.put", "case-1", std::string("{}")); !s.ok()) {
      return s;
    }
    return absl::AbortedError("the unit fails after writing");
  });
  std::string seen, brief_number;
  uint64_t next_seq = 0;
  auto after = Submit(*store, [&](WriteTxn& txn) -> absl::Status {
    auto read = txn.GetCase("case-1");
    if (!read.ok()) return read.status();
    seen = (*read)->value.description();
    auto brief = txn.GetCaseBrief("case-1");
    if (!brief.ok()) return brief.status();
    brief_number = (*brief)->case_number;
    // The change log goes on from the last committed entry, not from the
    // two the failed unit appended.
    auto seq = txn.AppendChange(EntityKind::kEvent, "event-3", TownScope("town-a"));
    if (!seq.ok()) return seq.status();
    next_seq = *seq;
    return AppendAudit(txn, 3, "test", "case.read", "case-1", std::string("{}"));
  });
  REQUIRE(slow.get().ok());
  absl::Status failed = failing.get();
  CHECK(failed.code() == absl::StatusCode::kAborted);
  CHECK(failed.message() == "the unit fails after writing");
  REQUIRE(after.get().ok());
  CHECK(seen == "original");
  CHECK(brief_number == "original-number");
  CHECK(next_seq == first_seq + 1);

  // Read outside the writer (no cache): the brief comes from the table.
  std::optional<CaseBrief> stored, missing;
  REQUIRE(Read(*store, [&](ReadTxn& txn) -> absl::Status {
            auto b = txn.GetCaseBrief("case-1");
            if (!b.ok()) return b.status();
            stored = *b;
            auto m = txn.GetCaseBrief("case-404");
            if (!m.ok()) return m.status();
            missing = *m;
            return absl::OkStatus();
          }).ok());
  REQUIRE(stored.has_value());
  CHECK(stored->case_id == "case-1");
  CHECK(stored->case_number == "original-number");
  CHECK(stored->town_id == "town-a");
  CHECK_FALSE(missing.has_value());

  // The audit chain continues from the last committed entry: 1, then 2.
  AuditVerdict verdict = Verify(*store);
  INFO(verdict.problem);
  CHECK(verdict.ok);
  CHECK(verdict.entries == 2);
  REQUIRE(store->Close().ok());
}

// The value of `value`, or T{} after keeping its failure in `*first` (the
// first one only), so that a unit can go on and report all it saw.
template <typename T>
T Keep(absl::StatusOr<T> value, absl::Status* first) {
  if (!value.ok()) {
    if (first->ok()) *first = value.status();
    return T{};
  }
  return *std::move(value);
}

TEST_CASE("the writer logs an entity once per transaction and rewrites a known case in place") {
  TempDir dir;
  auto store = OpenStore(dir.File("data"));
  const std::vector<std::string> town{TownScope("town-a")};
  // Three units behind a slow one share one group transaction.
  auto slow = HoldWriter(*store);
  uint64_t case_at = 0, event_at = 0, case_again = 0, head_in_txn = 0;
  int64_t first_number = 0, second_number = 0, after_rollback = 0;
  auto first = Submit(*store, [&](WriteTxn& txn) -> absl::Status {
    absl::Status s;
    s.Update(txn.PutCase(Case("one")));
    case_at = Keep(txn.AppendChange(EntityKind::kCase, "case-1", town[0]), &s);
    event_at = Keep(txn.AppendChange(EntityKind::kEvent, "event-1", town[0]), &s);
    // The case again, same number and town: rewritten in place, and its
    // change stays where this transaction put it.
    std::optional<CaseRecord> record = Keep(txn.GetCase("case-1"), &s);
    if (!record) return absl::NotFoundError("case-1 was not read back");
    record->value.set_description("two");
    s.Update(txn.PutCase(*std::move(record)));
    case_again = Keep(txn.AppendChange(EntityKind::kCase, "case-1", town[0]), &s);
    head_in_txn = Keep(txn.HighestServerSeq(), &s);
    first_number = Keep(txn.NextCaseNumber(2026), &s);
    return s;
  });
  auto failing = Submit(*store, [&](WriteTxn& txn) -> absl::Status {
    absl::Status s;
    second_number = Keep(txn.NextCaseNumber(2026), &s);
    return s.ok() ? absl::AbortedError("the unit fails after taking a number") : s;
  });
  std::string rewritten;
  auto after = Submit(*store, [&](WriteTxn& txn) -> absl::Status {
    absl::Status s;
    after_rollback = Keep(txn.NextCaseNumber(2026), &s);
    // Read from the table (the rollback emptied the writer's memory).
    std::optional<CaseRecord> record = Keep(txn.GetCase("case-1"), &s);
    if (record) rewritten = record->value.description() + " " + record->value.case_number();
    // A new number: the full upsert, which moves the case's index entries.
    s.Update(txn.PutCase(Case("three")));
    return s;
  });
  REQUIRE(slow.get().ok());
  REQUIRE(first.get().ok());
  CHECK(failing.get().code() == absl::StatusCode::kAborted);
  REQUIRE(after.get().ok());
  CHECK(event_at == case_at + 1);
  CHECK(case_again == case_at);
  CHECK(head_in_txn == event_at);
  CHECK(first_number == 1);
  CHECK(second_number == 2);
  CHECK(after_rollback == 2);
  CHECK(rewritten == "two one-number");

  // A later transaction moves the case to the head.
  uint64_t moved = 0;
  REQUIRE(Submit(*store, [&](WriteTxn& txn) -> absl::Status {
            absl::Status s;
            moved = Keep(txn.AppendChange(EntityKind::kCase, "case-1", town[0]), &s);
            return s;
          }).get() == absl::OkStatus());
  CHECK(moved == event_at + 1);

  uint64_t up_to_event = 0, all = 0;
  std::optional<CaseRecord> stored, by_old_number, by_new_number;
  REQUIRE(Read(*store, [&](ReadTxn& txn) -> absl::Status {
            absl::Status s;
            up_to_event = Keep(txn.CountChanges(0, event_at, town), &s);
            all = Keep(txn.CountChanges(0, moved, town), &s);
            stored = Keep(txn.GetCase("case-1"), &s);
            by_old_number = Keep(txn.GetCaseByNumber("one-number"), &s);
            by_new_number = Keep(txn.GetCaseByNumber("three-number"), &s);
            return s;
          }) == absl::OkStatus());
  CHECK(up_to_event == 1);  // the event; the case has moved past it
  CHECK(all == 2);
  REQUIRE(stored.has_value());
  CHECK(stored->value.description() == "three");
  CHECK_FALSE(by_old_number.has_value());
  REQUIRE(by_new_number.has_value());
  CHECK(by_new_number->value.case_id() == "case-1");
  REQUIRE(store->Close().ok());
}

v1::Officer Officer(const std::string& id, bool active) {
  v1::Officer o;
  o.set_officer_id(id);
  o.set_town_id("town-a");
  o.set_squad_id("squad-a");
  o.set_active(active);
  return o;
}

// Evidence `n` of the log test: its own content hash.
v1::Evidence LoggedEvidence(int n) {
  v1::Evidence e;
  e.set_evidence_id("evidence-" + std::to_string(n));
  e.set_case_id("case-1");
  e.set_sha256(sync::HexEncode(sync::Sha256::Of("content " + std::to_string(n))));
  e.set_size_bytes(1000 + n);
  e.set_integrated_at_ms(n);
  return e;
}

// Appends evidence `from` .. `to` - 1 to the log in `txn`, keeping the leaf
// indices they got.
absl::Status AppendEvidence(WriteTxn& txn, int from, int to, std::vector<uint64_t>* indices) {
  for (int n = from; n < to; ++n) {
    auto leaf = AppendToEvidenceLog(txn, LoggedEvidence(n), "number-1");
    if (!leaf.ok()) return leaf.status();
    indices->push_back(leaf->leaf_index);
  }
  return absl::OkStatus();
}

TEST_CASE("the writer's evidence-log edge follows its appends and never outlives a rollback") {
  TempDir dir;
  auto store = OpenStore(dir.File("data"));
  std::vector<uint64_t> first, failed, after;
  // 5 leaves, then (in one group transaction, behind a slow unit) 6 that
  // roll back, then 6 more: the log's size and right edge the writer keeps
  // must be those of the 5, or the 6 would land at the wrong indices, over
  // the wrong siblings.
  REQUIRE(Submit(*store, [&first](WriteTxn& txn) {
            return AppendEvidence(txn, 0, 5, &first);
          }).get() == absl::OkStatus());
  auto slow = HoldWriter(*store);
  auto failing = Submit(*store, [&failed](WriteTxn& txn) -> absl::Status {
    if (auto s = AppendEvidence(txn, 100, 106, &failed); !s.ok()) return s;
    return absl::AbortedError("the unit fails after appending");
  });
  auto next =
      Submit(*store, [&after](WriteTxn& txn) { return AppendEvidence(txn, 5, 11, &after); });
  REQUIRE(slow.get().ok());
  CHECK(failing.get().code() == absl::StatusCode::kAborted);
  REQUIRE(next.get() == absl::OkStatus());
  CHECK(first == std::vector<uint64_t>{0, 1, 2, 3, 4});
  CHECK(failed == std::vector<uint64_t>{5, 6, 7, 8, 9, 10});
  CHECK(after == std::vector<uint64_t>{5, 6, 7, 8, 9, 10});

  // The stored tree, read outside the writer, is the tree of those 11
  // entries appended in order: every node, not only the root.
  sync::InMemoryNodeStore expected_nodes;
  sync::MerkleTree expected(&expected_nodes, 0);
  for (int n = 0; n < 11; ++n) {
    auto entry = sync::EntryOfEvidence(LoggedEvidence(n), "number-1");
    REQUIRE(entry.ok());
    REQUIRE(expected.Append(sync::EncodeEvidenceEntry(*entry)).ok());
  }
  uint64_t size = 0;
  std::vector<std::string> mismatched;
  REQUIRE(Read(*store, [&](ReadTxn& txn) -> absl::Status {
            auto stored_size = txn.LogSize();
            if (!stored_size.ok()) return stored_size.status();
            size = *stored_size;
            TxnNodeStore nodes(&txn);
            for (uint32_t level = 0; level < 4; ++level) {
              for (uint64_t index = 0; index < (uint64_t{11} >> level); ++index) {
                auto stored = nodes.Get(level, index);
                auto want = expected_nodes.Get(level, index);
                if (!stored.ok() || !want.ok() || *stored != *want) {
                  mismatched.push_back(std::to_string(level) + "/" + std::to_string(index));
                }
              }
            }
            return absl::OkStatus();
          }).ok());
  CHECK(size == 11);
  CHECK(mismatched.empty());
  REQUIRE(store->Close().ok());
}

// A unit that counts its runs, stores case `id` with its change-log entry
// and audit entry, and then fails with ABORTED when `fail`.
ServerStore::WriteWork CountedUnit(const std::string& id, int* runs, bool fail = false) {
  return [id, runs, fail](WriteTxn& txn) -> absl::Status {
    ++*runs;
    CaseRecord record = Case(id);
    record.value.set_case_id(id);
    if (auto s = txn.PutCase(record); !s.ok()) return s;
    if (auto seq = txn.AppendChange(EntityKind::kCase, id, TownScope("town-a")); !seq.ok()) {
      return seq.status();
    }
    if (auto s = AppendAudit(txn, 1, "test", "case.put", id, std::string("{}")); !s.ok()) return s;
    if (fail) return absl::AbortedError(id + " fails after writing");
    return absl::OkStatus();
  };
}

// Whether case `id` is stored, read outside the writer.
bool Stored(ServerStore& store, const std::string& id) {
  bool found = false;
  REQUIRE(Read(store, [&](ReadTxn& txn) -> absl::Status {
            auto brief = txn.GetCaseBrief(id);
            if (!brief.ok()) return brief.status();
            found = brief->has_value();
            return absl::OkStatus();
          }).ok());
  return found;
}

TEST_CASE("a group of rerunnable units loses only the unit that fails, and stores the rest once") {
  TempDir dir;
  auto store = OpenStore(dir.File("data"));
  auto slow = HoldWriter(*store);

  SECTION("every unit rerunnable: the group runs once more, each unit in a savepoint") {
    int a_runs = 0, b_runs = 0, c_runs = 0;
    auto a = Submit(*store, CountedUnit("case-a", &a_runs), /*rerunnable=*/true);
    auto b = Submit(*store, CountedUnit("case-b", &b_runs, /*fail=*/true), true);
    auto c = Submit(*store, CountedUnit("case-c", &c_runs), true);
    REQUIRE(slow.get().ok());
    CHECK(a.get() == absl::OkStatus());
    absl::Status failed = b.get();
    CHECK(failed.code() == absl::StatusCode::kAborted);
    CHECK(failed.message() == "case-b fails after writing");
    CHECK(c.get() == absl::OkStatus());
    // Without savepoints first (a, then b fails and all is rolled back),
    // then with them: a, b rolled back alone, c.
    CHECK(a_runs == 2);
    CHECK(b_runs == 2);
    CHECK(c_runs == 1);
    CHECK(Stored(*store, "case-a"));
    CHECK_FALSE(Stored(*store, "case-b"));
    CHECK(Stored(*store, "case-c"));
    // Each kept unit's audit entry is in the chain once: a and c.
    AuditVerdict verdict = Verify(*store);
    INFO(verdict.problem);
    CHECK(verdict.ok);
    CHECK(verdict.entries == 2);
  }

  SECTION("a group that succeeds runs each unit once") {
    int a_runs = 0, c_runs = 0;
    auto a = Submit(*store, CountedUnit("case-a", &a_runs), true);
    auto c = Submit(*store, CountedUnit("case-c", &c_runs), true);
    REQUIRE(slow.get().ok());
    CHECK(a.get() == absl::OkStatus());
    CHECK(c.get() == absl::OkStatus());
    CHECK(a_runs == 1);
    CHECK(c_runs == 1);
    CHECK(Verify(*store).entries == 2);
  }

  SECTION("a unit that is not rerunnable runs once, in a savepoint, beside one that fails") {
    int once_runs = 0, b_runs = 0;
    auto once = Submit(*store, CountedUnit("case-a", &once_runs));
    auto b = Submit(*store, CountedUnit("case-b", &b_runs, /*fail=*/true), true);
    REQUIRE(slow.get().ok());
    CHECK(once.get() == absl::OkStatus());
    CHECK(b.get().code() == absl::StatusCode::kAborted);
    CHECK(once_runs == 1);
    CHECK(b_runs == 1);
    CHECK(Stored(*store, "case-a"));
    CHECK_FALSE(Stored(*store, "case-b"));
    CHECK(Verify(*store).entries == 1);
  }
  REQUIRE(store->Close().ok());
}

TEST_CASE("the writer's officers follow PutOfficer and never outlive a unit that rolled back") {
  TempDir dir;
  auto store = OpenStore(dir.File("data"));
  REQUIRE(Submit(*store, [](WriteTxn& txn) {
            return txn.PutOfficer(Officer("officer-1", true));
          }).get() == absl::OkStatus());

  // As above: the units after the slow one share one group transaction.
  auto slow = HoldWriter(*store);
  std::optional<v1::Officer> before_put, after_put, absent, added;
  auto failing = Submit(*store, [&](WriteTxn& txn) -> absl::Status {
    if (auto s = ReadOfficer(txn, "officer-1", &before_put); !s.ok()) return s;  // now cached
    if (auto s = txn.PutOfficer(Officer("officer-1", false)); !s.ok()) return s;
    if (auto s = ReadOfficer(txn, "officer-1", &after_put); !s.ok()) return s;
    // Absent, and cached as absent.
    if (auto s = ReadOfficer(txn, "officer-2", &absent); !s.ok()) return s;
    if (auto s = txn.PutOfficer(Officer("officer-2", true)); !s.ok()) return s;
    if (auto s = ReadOfficer(txn, "officer-2", &added); !s.ok()) return s;
    return absl::AbortedError("the unit fails after writing");
  });
  std::optional<v1::Officer> first, second;
  auto after = Submit(*store, [&](WriteTxn& txn) -> absl::Status {
    if (auto s = ReadOfficer(txn, "officer-1", &first); !s.ok()) return s;
    return ReadOfficer(txn, "officer-2", &second);
  });
  REQUIRE(slow.get().ok());
  CHECK(failing.get().code() == absl::StatusCode::kAborted);
  REQUIRE(after.get().ok());

  REQUIRE(before_put.has_value());
  CHECK(before_put->active());
  REQUIRE(after_put.has_value());
  CHECK_FALSE(after_put->active());
  CHECK_FALSE(absent.has_value());
  REQUIRE(added.has_value());
  CHECK(added->active());
  // What the failed unit wrote is gone, from the table and from memory.
  REQUIRE(first.has_value());
  CHECK(first->active());
  CHECK_FALSE(second.has_value());
  REQUIRE(store->Close().ok());
}

TEST_CASE("a tampered audit head neither stops writes nor hides where the chain broke") {
  TempDir dir;
  const std::string data = dir.File("data");
  {
    auto store = OpenStore(data);
    for (int i = 1; i <= 3; ++i) {
      REQUIRE(Submit(*store, [i](WriteTxn& txn) {
                return AppendAudit(txn, i, "test", "entry", std::to_string(i), std::string("{}"));
              }).get() == absl::OkStatus());
    }
    AuditVerdict intact = Verify(*store);
    CHECK(intact.ok);
    CHECK(intact.entries == 3);
    REQUIRE(store->Close().ok());
  }
  // Someone with the file drops the guard and garbles the newest hash.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((data + "/palm.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db,
                       "DROP TRIGGER audit_log_no_update;"
                       "UPDATE audit_log SET hash = 'not-a-hash' WHERE seq = 3",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

  auto store = OpenStore(data);
  REQUIRE(Submit(*store, [](WriteTxn& txn) {
            return AppendAudit(txn, 4, "test", "entry", "4", std::string("{}"));
          }).get() == absl::OkStatus());
  AuditVerdict verdict = Verify(*store);
  CHECK_FALSE(verdict.ok);
  CHECK(verdict.entries == 4);
  // The garbled entry, not the one written after it (which chains to the
  // garbled text).
  CHECK(verdict.first_bad_entry == 3);
  CHECK(verdict.problem == "entry 3 was altered (its hash does not match its content)");
  REQUIRE(store->Close().ok());
}

TEST_CASE("the writer's WAL is checkpointed beside it, not only when it is huge") {
  TempDir dir;
  const std::string data = dir.File("data");
  constexpr int kUnits = 1000;
  const std::string name(64 * 1024, 'x');  // 64 MiB written in all
  uintmax_t largest_wal = 0;
  {
    auto store = OpenStore(data);
    for (int i = 0; i < kUnits; ++i) {
      REQUIRE(Submit(*store, [&name, i](WriteTxn& txn) {
                v1::Town town;
                town.set_town_id("town-" + std::to_string(i));
                town.set_name(name);
                return txn.PutTown(town);
              }).get() == absl::OkStatus());
      std::error_code ec;
      const uintmax_t wal = std::filesystem::file_size(data + "/palm.db-wal", ec);
      if (!ec) largest_wal = std::max(largest_wal, wal);
    }
    REQUIRE(store->Close().ok());
  }
  // Without the checkpoint thread the WAL would hold all of it (the writer
  // checkpoints itself only past 16,000 pages, 256 MiB).
  INFO("largest WAL " << largest_wal << " bytes");
  CHECK(largest_wal > 0);
  CHECK(largest_wal < 48u * 1024 * 1024);
  // A clean close leaves no WAL, and everything is there on reopen.
  CHECK_FALSE(std::filesystem::exists(data + "/palm.db-wal"));
  auto store = OpenStore(data);
  size_t towns = 0;
  REQUIRE(Read(*store, [&towns](ReadTxn& txn) -> absl::Status {
            auto all = txn.ListTowns();
            if (!all.ok()) return all.status();
            towns = all->size();
            return absl::OkStatus();
          }).ok());
  CHECK(towns == kUnits);
}

}  // namespace
}  // namespace palm::server
