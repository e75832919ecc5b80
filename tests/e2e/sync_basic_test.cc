// Client::Sync against a real palm-server: the basic round trip, what the
// options refuse, and the issues a sync keeps for the officer.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_util.h"

namespace palm::e2e {
namespace {

TEST_CASE("a first sync brings reference data down, pushes the outbox and pulls case numbers") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-a");
  Device device(admin, "device-a1", town);

  // Before any sync the roster is empty, so any officer may sign in; the
  // catalogue is missing, so recording waits for the first sync.
  REQUIRE(device.client->SetActingOfficer(town.officers[0]).ok());
  std::vector<SyncProgress> progress;
  SyncOptions options;
  options.on_progress = [&](const SyncProgress& p) { progress.push_back(p); };
  Result<SyncReport> first = device.Sync(server.address(), options);
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(first->ok);
  CHECK(first->snapshot);
  CHECK(first->ticket_numbers_leased == 200);
  CHECK(*device.client->CatalogVersion() > 0);
  CHECK(*device.client->TicketNumbersLeft() == 200);
  REQUIRE_FALSE(progress.empty());
  CHECK(progress.front().phase == SyncPhase::kReference);
  CHECK(progress.back().phase == SyncPhase::kPull);

  Result<std::string> id = device.client->RecordCase(NewCase(town, Procedure::kSummary, "设摊"));
  REQUIRE(id.ok());
  Result<Ticket> ticket = device.client->IssueTicket(NewTicket(town, *id));
  INFO(ticket.status().ToString());
  REQUIRE(ticket.ok());
  REQUIRE(device.client
              ->AppendCaseEvent({*id, CaseEventKind::kNote, "当事人已签字", 0, 0, std::nullopt,
                                 std::nullopt, std::nullopt})
              .ok());
  CHECK(device.Pending() == 3);

  Result<SyncReport> second = device.Sync(server.address());
  INFO(second.status().ToString());
  REQUIRE(second.ok());
  CHECK(second->pushed == 3);
  CHECK(second->applied == 3);
  CHECK(second->rejected == 0);
  CHECK_FALSE(second->snapshot);
  CHECK(second->pulled > 0);
  CHECK(device.Pending() == 0);
  Result<CaseView> view = device.client->GetCase(*id);
  REQUIRE(view.ok());
  CHECK(view->record.case_number == admin.GetCase(*id).case_().case_number());
  CHECK_FALSE(view->record.case_number.empty());
  CHECK(DiffWithServer(device, admin).empty());

  Result<SyncReport> last = device.client->LastSyncReport();
  REQUIRE(last.ok());
  CHECK(last->ever_synced);
  CHECK(last->pushed == 3);
}

TEST_CASE("the working-day calendar reaches the device with the reference data (Art. 85)") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-a");
  Device device(admin, "device-a1", town);
  {
    absl::StatusOr<sync::WorkingDayCalendar> before = device.store().Calendar();
    REQUIRE(before.ok());
    CHECK_FALSE(before->Covers(2026));
  }
  REQUIRE(device.client->SetActingOfficer(town.officers[0]).ok());
  device.SyncUntilOk(server.address());
  absl::StatusOr<sync::WorkingDayCalendar> calendar = device.store().Calendar();
  INFO(calendar.status());
  REQUIRE(calendar.ok());
  CHECK(calendar->Covers(2026));
  CHECK(calendar->Covers(2027));
  // Three working days after 30 September 2026: the National Day week is off
  // and Saturday 10 October is worked.
  CHECK(*calendar->AddWorkingDays(absl::CivilDay(2026, 9, 30), 3) == absl::CivilDay(2026, 10, 10));
}

TEST_CASE("sync options are checked before anything goes on the wire") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  Town town = SetUpTown(admin, "town-a");
  Device device(admin, "device-a1", town);

  SyncOptions o;
  Result<SyncReport> r = device.client->Sync(o);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message() == "a server address (host:port) is required");

  o.server_address = "10.20.30.40:7443";
  o.insecure_loopback = true;
  r = device.client->Sync(o);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message() ==
        "insecure_loopback only talks to a loopback address, not 10.20.30.40:7443; give the TLS "
        "files");

  o.insecure_loopback = false;
  r = device.client->Sync(o);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message() ==
        "TLS needs the CA certificate (ca_cert_path); plaintext is for loopback tests only");

  o.ca_cert_path = data.File("missing-ca.pem");
  r = device.client->Sync(o);
  CHECK(r.status().code() == StatusCode::kNotFound);

  // An unknown device is refused by the server, and the report says so.
  TempDir other;
  ClientOptions co;
  std::filesystem::create_directories(other.File("data"));
  co.db_path = other.File("data") + "/palm.db";
  co.device_id = "device-never-enrolled";
  co.key_provider = std::make_shared<FileKeyProvider>(other.File("keys"));
  auto stranger = Client::Open(co);
  REQUIRE(stranger.ok());
  SyncOptions loop;
  loop.server_address = server.address();
  loop.insecure_loopback = true;
  r = (*stranger)->Sync(loop);
  CHECK(r.status().code() == StatusCode::kUnauthenticated);
  CHECK_THAT(r.status().message(), Catch::Contains("device device-never-enrolled is not enrolled"));
  CHECK_FALSE((*stranger)->LastSyncReport()->ok);
}

TEST_CASE("a stale transition is rejected, listed as a sync issue and undone on the device") {
  TempDir data;
  ServerProcess server(data.path().string());
  Admin admin(server.address());
  admin.LoadSampleCatalog();
  Town town = SetUpTown(admin, "town-a");
  Device a(admin, "device-a1", town);
  Device b(admin, "device-a2", town);
  for (Device* d : {&a, &b}) {
    d->SyncUntilOk(server.address());
    REQUIRE(d->client->SetActingOfficer(town.officers[0]).ok());
  }
  Result<std::string> id = a.client->RecordCase(NewCase(town, Procedure::kOrdinary, "占道"));
  REQUIRE(id.ok());
  a.SyncUntilOk(server.address());
  b.SyncUntilOk(server.address());
  // Both move the case on from REGISTERED, offline; b's move comes second.
  REQUIRE(a.client->TransitionCase(*id, CaseState::kFiled, "立案").ok());
  REQUIRE(b.client->TransitionCase(*id, CaseState::kNotFiled, "不予立案").ok());
  a.SyncUntilOk(server.address());
  SyncReport rb = b.SyncUntilOk(server.address());
  CHECK(rb.rejected == 1);
  CHECK(rb.snapshot);

  Result<std::vector<SyncIssue>> issues = b.client->ListSyncIssues();
  REQUIRE(issues.ok());
  REQUIRE(issues->size() == 1);
  CHECK((*issues)[0].kind == SyncIssueKind::kRejected);
  CHECK((*issues)[0].reason == "stale_transition");
  CHECK((*issues)[0].case_id == *id);
  CHECK(b.client->GetCase(*id)->record.state == CaseState::kFiled);
  CHECK(DiffWithServer(b, admin).empty());

  REQUIRE(b.client->DismissSyncIssue((*issues)[0].issue_id).ok());
  CHECK(b.client->ListSyncIssues()->empty());
  CHECK(b.client->ListSyncIssues(/*include_dismissed=*/true)->size() == 1);
  CHECK(b.client->DismissSyncIssue("no-such-issue").code() == StatusCode::kNotFound);
}

}  // namespace
}  // namespace palm::e2e
