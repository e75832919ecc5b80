// WAL checkpoints run on the store's checkpointer thread (a commit copies at
// most the short tail the thread left): the WAL stays bounded, every write is
// still there after a reopen, and closing the client joins the thread and
// removes the WAL.
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

using internal::Checkpointer;

// Bytes a WAL of `frames` frames takes: a 32-byte header, and per frame a
// 24-byte header and one page.
uintmax_t WalBytes(int frames, int page_size) {
  return 32 + static_cast<uintmax_t>(frames) * (24 + static_cast<uintmax_t>(page_size));
}

int PageSize(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  int page_size = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return page_size;
}

// Records `cases` cases with a ticket each; after every `pause_every` cases
// (0: never) waits for the checkpointer to finish. Returns the case ids and
// the largest the WAL file was after a write.
struct Written {
  std::vector<std::string> case_ids;
  uintmax_t largest_wal_bytes = 0;
};

Written WriteCases(Device& d, int cases, int pause_every) {
  const std::string wal = d.db_path() + "-wal";
  Written written;
  for (int i = 0; i < cases; ++i) {
    Result<std::string> case_id = d.client->RecordCase(SummaryCase());
    INFO(case_id.status().ToString());
    REQUIRE(case_id.ok());
    Result<Ticket> ticket = d.client->IssueTicket(ValidTicket(*case_id));
    INFO(ticket.status().ToString());
    REQUIRE(ticket.ok());
    written.case_ids.push_back(*case_id);
    written.largest_wal_bytes =
        std::max(written.largest_wal_bytes, std::filesystem::file_size(wal));
    if (pause_every > 0 && (i + 1) % pause_every == 0) d.store().TEST_WaitForCheckpoints();
  }
  return written;
}

// Closes the client, checks the file and reopens it: every case with its
// ticket, and the whole outbox, gapless.
void RequireAllThereAfterReopen(Device& d, const Written& written) {
  const std::string wal = d.db_path() + "-wal";
  d.client.reset();
  // Only the last connection to close removes the WAL: the checkpointer's
  // own connection was closed with it.
  CHECK_FALSE(std::filesystem::exists(wal));
  CHECK(IntegrityCheck(d.db_path()) == "ok");

  d.Reopen();
  for (const std::string& case_id : written.case_ids) {
    Result<CaseView> c = d.client->GetCase(case_id);
    INFO("case " << case_id << ": " << c.status().ToString());
    REQUIRE(c.ok());
    CHECK(c->tickets.size() == 1);
  }
  absl::StatusOr<std::vector<internal::OutboxEntry>> outbox = d.store().Outbox();
  REQUIRE(outbox.ok());
  REQUIRE(outbox->size() == 2 * written.case_ids.size());
  for (size_t i = 0; i < outbox->size(); ++i) CHECK((*outbox)[i].mutation.device_seq() == i + 1);
}

TEST_CASE("a writer that pauses now and then never waits for a whole checkpoint") {
  Device d(/*seed=*/true, /*ticket_numbers=*/10000);
  const int page_size = PageSize(d.db_path());
  // 100 cases between pauses append far fewer frames than kForcePages -
  // kWakePages, so no commit ever has to force a checkpoint.
  Written written = WriteCases(d, /*cases=*/1500, /*pause_every=*/100);
  d.store().TEST_WaitForCheckpoints();

  Checkpointer::Stats stats = d.store().CheckpointStats();
  INFO("frames committed " << stats.frames_committed << ", background checkpoints "
                           << stats.background << ", tail " << stats.tail << ", largest WAL "
                           << written.largest_wal_bytes << " bytes, last error "
                           << stats.last_error.ToString());
  // Enough writes to fill the WAL past the wake-up threshold many times.
  REQUIRE(stats.frames_committed > 10 * Checkpointer::kWakePages);
  CHECK(stats.background > 0);
  CHECK(stats.forced == 0);
  CHECK(stats.failures == 0);
  CHECK(stats.last_error.ok());
  // The WAL starts over after each checkpoint instead of growing.
  CHECK(written.largest_wal_bytes < WalBytes(Checkpointer::kForcePages, page_size));
  CHECK(written.largest_wal_bytes * 5 <
        WalBytes(static_cast<int>(stats.frames_committed), page_size));

  RequireAllThereAfterReopen(d, written);
}

TEST_CASE("a writer that never pauses still finds the WAL bounded and nothing lost") {
  Device d(/*seed=*/true, /*ticket_numbers=*/10000);
  const int page_size = PageSize(d.db_path());
  Written written = WriteCases(d, /*cases=*/2500, /*pause_every=*/0);

  Checkpointer::Stats stats = d.store().CheckpointStats();
  INFO("frames committed " << stats.frames_committed << ", background checkpoints "
                           << stats.background << ", tail " << stats.tail << ", forced "
                           << stats.forced << ", largest WAL " << written.largest_wal_bytes
                           << " bytes");
  // Without checkpoints the WAL would have grown well past the bound.
  REQUIRE(stats.frames_committed > 3 * Checkpointer::kForcePages);
  CHECK(stats.failures == 0);
  CHECK(stats.background + stats.tail + stats.forced > 0);
  // kForcePages, plus one commit's frames past it.
  CHECK(written.largest_wal_bytes <= WalBytes(Checkpointer::kForcePages + 100, page_size));

  RequireAllThereAfterReopen(d, written);
}

}  // namespace
}  // namespace palm::testing
