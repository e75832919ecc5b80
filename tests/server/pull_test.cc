// Pull: snapshot then incremental by cursor, paging with done/total, scope,
// and "resync required" when the store's epoch changes.
#include <map>
#include <set>

#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

namespace {

struct Pulled {
  std::vector<v1::Change> changes;
  std::vector<v1::PullPage> pages;
  std::string cursor;
};

Pulled Collect(const std::vector<v1::PullResponse>& responses) {
  Pulled out;
  for (const auto& r : responses) {
    REQUIRE(r.has_page());
    out.pages.push_back(r.page());
    for (const auto& c : r.page().changes()) out.changes.push_back(c);
    out.cursor = r.page().cursor();
  }
  REQUIRE_FALSE(out.pages.empty());
  REQUIRE(out.pages.back().last());
  return out;
}

std::set<std::string> CaseIds(const Pulled& p) {
  std::set<std::string> ids;
  for (const auto& c : p.changes) {
    if (c.has_case_()) ids.insert(c.case_().case_id());
  }
  return ids;
}

}  // namespace

TEST_CASE("a first pull is a snapshot of current state plus reference data") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id),
                              UpdateField("dev-a1", 2, case_id, v1::CASE_FIELD_DESCRIPTION, "v2"),
                              UpdateField("dev-a1", 3, case_id, v1::CASE_FIELD_DESCRIPTION, "v3")});
  auto lease = client.Lease("dev-a1", 20);
  client.Lease("dev-a2", 20);

  Pulled p = Collect(client.Pull("dev-a1", ""));
  REQUIRE(p.pages.front().snapshot());
  std::map<std::string, int> kinds;
  for (const auto& c : p.changes) {
    kinds[std::string(
        v1::Change::descriptor()->FindFieldByNumber(static_cast<int>(c.entity_case()))->name())]++;
  }
  // Current state, not history: one case (at v3), its CREATED event.
  REQUIRE(kinds["case"] == 1);
  REQUIRE(kinds["event"] == 1);
  REQUIRE(kinds["catalog"] == 1);
  REQUIRE(kinds["town"] == 2);
  REQUIRE(kinds["squad"] == 2);
  REQUIRE(kinds["officer"] == 3);       // town A's roster only
  REQUIRE(kinds["ticket_lease"] == 1);  // its own lease only
  for (const auto& c : p.changes) {
    if (c.has_case_()) REQUIRE(c.case_().description() == "v3");
    if (c.has_ticket_lease()) REQUIRE(c.ticket_lease().lease_id() == lease.lease_id());
    if (c.has_officer()) REQUIRE(c.officer().town_id() == kTownA);
  }
  REQUIRE(p.pages.back().done() == p.changes.size());
  REQUIRE(p.pages.back().total() == p.changes.size());
}

TEST_CASE("an incremental pull after the cursor carries only what changed") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string first, second;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &first)});
  Pulled snapshot = Collect(client.Pull("dev-a2", ""));
  REQUIRE(CaseIds(snapshot) == std::set<std::string>{first});

  // Nothing new: one empty last page, same position.
  Pulled nothing = Collect(client.Pull("dev-a2", snapshot.cursor));
  REQUIRE(nothing.changes.empty());
  REQUIRE_FALSE(nothing.pages.back().snapshot());

  client.PushBatch("dev-a1",
                   {RecordCase("dev-a1", 2, &second),
                    UpdateField("dev-a1", 3, first, v1::CASE_FIELD_ADDRESS, "2 Bridge Rd")});
  Pulled delta = Collect(client.Pull("dev-a2", snapshot.cursor));
  REQUIRE_FALSE(delta.pages.front().snapshot());
  REQUIRE(CaseIds(delta) == std::set<std::string>{first, second});
  for (const auto& c : delta.changes) {
    if (c.has_case_() && c.case_().case_id() == first) {
      REQUIRE(c.case_().place().address() == "2 Bridge Rd");
    }
    if (c.has_case_() && c.case_().case_id() == second) {
      REQUIRE_FALSE(c.case_().case_number().empty());  // pulled back to the device
    }
    REQUIRE_FALSE(c.has_officer());  // reference data did not change
  }
  // Positions only grow.
  for (size_t i = 1; i < delta.changes.size(); ++i) {
    REQUIRE(delta.changes[i].server_seq() > delta.changes[i - 1].server_seq());
  }
}

TEST_CASE("a pull comes in pages with progress, and resumes from any page's cursor") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::vector<v1::Mutation> batch;
  for (int i = 1; i <= 25; ++i) batch.push_back(RecordCase("dev-a1", i));
  client.PushBatch("dev-a1", batch);

  Pulled all = Collect(client.Pull("dev-a1", "", 10));
  const size_t total = all.changes.size();
  REQUIRE(total >= 50);  // 25 cases + 25 events + reference data
  REQUIRE(all.pages.size() == (total + 9) / 10);
  uint64_t done = 0;
  for (size_t i = 0; i < all.pages.size(); ++i) {
    done += all.pages[i].changes_size();
    REQUIRE(all.pages[i].done() == done);
    REQUIRE(all.pages[i].total() == total);
    REQUIRE(all.pages[i].snapshot());
    REQUIRE(all.pages[i].last() == (i + 1 == all.pages.size()));
  }

  // Interrupted after page 2: resuming from its cursor yields exactly the rest.
  Pulled rest = Collect(client.Pull("dev-a1", all.pages[1].cursor(), 10));
  REQUIRE(rest.changes.size() == total - 20);
  REQUIRE(rest.changes.front().server_seq() == all.changes[20].server_seq());
}

TEST_CASE("a device of town A never receives town B's cases") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_a, case_b;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_a)});
  client.PushBatch("dev-b1", {RecordCase("dev-b1", 1, &case_b, kOfficerB1, kTownB),
                              AppendNote("dev-b1", 2, case_b)});
  Pulled a = Collect(client.Pull("dev-a1", ""));
  Pulled b = Collect(client.Pull("dev-b1", ""));
  REQUIRE(CaseIds(a) == std::set<std::string>{case_a});
  REQUIRE(CaseIds(b) == std::set<std::string>{case_b});
  for (const auto& c : a.changes) {
    if (c.has_event()) REQUIRE(c.event().case_id() == case_a);
  }
}

TEST_CASE("a malformed cursor is INVALID_ARGUMENT") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  grpc::Status status;
  client.Pull("dev-a1", "garbage", 0, &status);
  REQUIRE(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(status.error_message() ==
          "the cursor is malformed (unknown layout); send the cursor of the last page as "
          "received, or an empty cursor for a snapshot");
}

TEST_CASE("a cursor from before a restore (new epoch) gets ResyncRequired, then a snapshot works") {
  palm::testing::TempDir dir;
  const std::string data = dir.File("data");
  std::string cursor, old_epoch, case_id;
  {
    TestServer server(data);
    Client client(server.address());
    client.SetUpOrganisation();
    client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
    cursor = Collect(client.Pull("dev-a1", "")).cursor;
    // The same store restarted keeps its epoch: the cursor still works.
  }
  {
    TestServer server(data);
    Client client(server.address());
    Pulled same = Collect(client.Pull("dev-a1", cursor));
    REQUIRE(same.changes.empty());
  }
  // What a restore from a backup does: palm-server --new-epoch.
  TestServer server(data, -1, /*new_epoch=*/true);
  Client client(server.address());
  auto responses = client.Pull("dev-a1", cursor);
  REQUIRE(responses.size() == 1);
  REQUIRE(responses[0].has_resync_required());
  const auto& resync = responses[0].resync_required();
  REQUIRE_FALSE(resync.server_epoch().empty());
  REQUIRE(resync.reason().find("restored from a backup") != std::string::npos);
  Pulled fresh = Collect(client.Pull("dev-a1", ""));
  REQUIRE(fresh.pages.front().snapshot());
  REQUIRE(CaseIds(fresh) == std::set<std::string>{case_id});
}

TEST_CASE("a device moved to another town must resync: its old cursor names the old scope") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string cursor = Collect(client.Pull("dev-a2", "")).cursor;
  client.Enroll("dev-a2", kTownB, kSquadB);
  auto responses = client.Pull("dev-a2", cursor);
  REQUIRE(responses.size() == 1);
  REQUIRE(responses[0].has_resync_required());
  REQUIRE(responses[0].resync_required().reason() ==
          "the cursor was issued for town town-a; device dev-a2 now serves town town-b: take a "
          "fresh snapshot");
}
