// The squad leader's review (AdminService ResolveConflict, DismissRejected,
// ResubmitRejected, ShiftReport), rejections that restore the device's copy
// on the next pull, and the authorisation of EvidenceService calls.
#include <catch2/catch.hpp>

#include <ctime>

#include "server/evidence_util.h"
#include "server/sync_util.h"

using namespace palm::testing;

namespace {

constexpr char kLeaderA[] = "leader-a";
constexpr char kLeaderB[] = "leader-b";

int64_t AuditEntries(Client& client) {
  grpc::ClientContext ctx;
  v1::VerifyAuditRequest request;
  v1::VerifyAuditResponse response;
  REQUIRE(client.admin->VerifyAudit(&ctx, request, &response).ok());
  REQUIRE(response.ok());
  return static_cast<int64_t>(response.entries());
}

// A description conflict on a new case of squad A: dev-a1 wrote "newer"
// after dev-a2's "older", which lost.
struct ConflictFixture {
  ConflictFixture() : client(server.address()) {
    client.SetUpOrganisation();
    client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
    const int64_t t = palm::sync::SystemNowMs();
    client.PushBatch(
        "dev-a1", {UpdateField("dev-a1", 2, case_id, v1::CASE_FIELD_DESCRIPTION, "newer", t + 20)});
    auto r =
        client.PushBatch("dev-a2", {UpdateField("dev-a2", 1, case_id, v1::CASE_FIELD_DESCRIPTION,
                                                "older", t + 10, kOfficerA2)});
    REQUIRE(r.results(0).conflicts_size() == 1);
    conflict_id = r.results(0).conflicts(0).conflict_id();
  }

  grpc::Status Resolve(bool restore, const std::string& note, v1::ConflictRecord* out,
                       const std::string& token = "") {
    auto ctx = token.empty() ? std::make_unique<grpc::ClientContext>() : SessionContext("", token);
    v1::ResolveConflictRequest request;
    request.set_conflict_id(conflict_id);
    request.set_restore_losing_value(restore);
    request.set_note(note);
    return client.admin->ResolveConflict(ctx.get(), request, out);
  }

  TestServer server;
  Client client;
  std::string case_id;
  std::string conflict_id;
};

std::string Leader(Client& client, const std::string& id, const std::string& town,
                   const std::string& squad) {
  client.SetSecret(id, town, squad, v1::ROLE_SQUAD_LEADER, true, "2468");
  return client.SignIn(id, "2468");
}

grpc::Status Dismiss(Client& client, const std::string& mutation_id, const std::string& note,
                     v1::RejectedMutation* out) {
  grpc::ClientContext ctx;
  v1::DismissRejectedRequest request;
  request.set_mutation_id(mutation_id);
  request.set_note(note);
  return client.admin->DismissRejected(&ctx, request, out);
}

grpc::Status Resubmit(Client& client, const std::string& mutation_id,
                      v1::ResubmitRejectedResponse* out) {
  grpc::ClientContext ctx;
  v1::ResubmitRejectedRequest request;
  request.set_mutation_id(mutation_id);
  return client.admin->ResubmitRejected(&ctx, request, out);
}

std::vector<v1::RejectedMutation> ListRejected(Client& client, bool include_dismissed) {
  grpc::ClientContext ctx;
  v1::ListRejectedRequest request;
  request.set_squad_id(kSquadA);
  request.set_include_dismissed(include_dismissed);
  v1::ListRejectedResponse response;
  REQUIRE(client.admin->ListRejected(&ctx, request, &response).ok());
  return {response.rejected().begin(), response.rejected().end()};
}

grpc::Status Report(Client& client, const std::string& squad, const std::string& date,
                    v1::ShiftReportResponse* out) {
  grpc::ClientContext ctx;
  v1::ShiftReportRequest request;
  request.set_squad_id(squad);
  request.set_date(date);
  return client.admin->ShiftReport(&ctx, request, out);
}

// Today's date in Asia/Shanghai, YYYY-MM-DD.
std::string TodayInShanghai() {
  const time_t seconds = static_cast<time_t>(palm::sync::SystemNowMs() / 1000 + 8 * 3600);
  struct tm parts;
  gmtime_r(&seconds, &parts);
  char text[16];
  strftime(text, sizeof text, "%Y-%m-%d", &parts);
  return text;
}

// Changes of a pull from `cursor`, flattened.
std::vector<v1::Change> Changes(Client& client, const std::string& device,
                                const std::string& cursor) {
  std::vector<v1::Change> out;
  for (const auto& page : client.Pull(device, cursor)) {
    for (const auto& c : page.page().changes()) out.push_back(c);
  }
  return out;
}

std::string LastCursor(Client& client, const std::string& device) {
  auto pages = client.Pull(device, "");
  REQUIRE_FALSE(pages.empty());
  return pages.back().page().cursor();
}

}  // namespace

TEST_CASE("resolving a conflict keeps the winner, records who and why, and is audited once") {
  ConflictFixture f;
  const int64_t audited = AuditEntries(f.client);
  v1::ConflictRecord resolved;
  grpc::Status s = f.Resolve(false, "checked with 张三", &resolved);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(resolved.resolved());
  CHECK(resolved.resolved_by() == "operator:loopback");
  CHECK(resolved.resolution() == "kept the winner: checked with 张三");
  CHECK(f.client.GetCase(f.case_id).case_().description() == "newer");
  CHECK(AuditEntries(f.client) == audited + 1);

  grpc::ClientContext ctx;
  v1::ListConflictsRequest list;
  list.set_case_id(f.case_id);
  v1::ListConflictsResponse open;
  REQUIRE(f.client.admin->ListConflicts(&ctx, list, &open).ok());
  CHECK(open.conflicts().empty());

  v1::ConflictRecord again;
  s = f.Resolve(true, "", &again);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message() == "conflict " + f.conflict_id +
                                 " was already resolved by operator:loopback: kept the winner: "
                                 "checked with 张三");
  CHECK(f.client.GetCase(f.case_id).case_().description() == "newer");

  f.conflict_id = "no-such-conflict";
  s = f.Resolve(false, "", &again);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message() == "conflict \"no-such-conflict\" is not on record");
  f.conflict_id = "";
  s = f.Resolve(false, "", &again);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "conflict_id is missing");
}

TEST_CASE("restoring the losing value is a new server write that devices pull") {
  ConflictFixture f;
  const std::string cursor = LastCursor(f.client, "dev-a1");
  v1::ConflictRecord resolved;
  grpc::Status s = f.Resolve(true, "the older value was right", &resolved);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(resolved.resolution() == "restored the losing value: the older value was right");
  CHECK(f.client.GetCase(f.case_id).case_().description() == "older");

  auto changes = Changes(f.client, "dev-a1", cursor);
  bool pulled = false;
  for (const auto& c : changes) {
    pulled = pulled || (c.has_case_() && c.case_().case_id() == f.case_id &&
                        c.case_().description() == "older");
  }
  CHECK(pulled);

  // The restored value carries a fresh stamp: dev-a1's edit from before it
  // (an older stamp) now loses, as a conflict.
  auto late =
      f.client.PushBatch("dev-a1", {UpdateField("dev-a1", 3, f.case_id, v1::CASE_FIELD_DESCRIPTION,
                                                "stale", palm::sync::SystemNowMs() - 60000)});
  CHECK(late.results(0).outcome() == v1::OUTCOME_APPLIED_WITH_CONFLICT);
  CHECK(f.client.GetCase(f.case_id).case_().description() == "older");
}

TEST_CASE("only a squad leader of the conflict's squad or an admin resolves it") {
  ConflictFixture f;
  f.client.SetSecret(kOfficerA1, kTownA, kSquadA, v1::ROLE_OFFICER, true, "1234");
  const std::string officer = f.client.SignIn(kOfficerA1, "1234");
  const std::string leader_b = Leader(f.client, kLeaderB, kTownB, kSquadB);
  const std::string leader_a = Leader(f.client, kLeaderA, kTownA, kSquadA);

  v1::ConflictRecord out;
  grpc::Status s = f.Resolve(false, "", &out, officer);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message() ==
        "officer officer-a1 (ROLE_OFFICER) may not call AdminService.ResolveConflict (allowed: "
        "ROLE_SQUAD_LEADER, ROLE_ADMIN)");
  s = f.Resolve(false, "", &out, leader_b);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message() ==
        "officer leader-b (ROLE_SQUAD_LEADER) of town town-b may not reach "
        "conflict " +
            f.conflict_id + " of town town-a");
  s = f.Resolve(false, "ok", &out, leader_a);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(out.resolved_by() == kLeaderA);
}

TEST_CASE("a rejected mutation is dismissed with a note, once") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  v1::Mutation bad = AppendNote("dev-a1", 1, palm::sync::NewUuidV7());
  client.PushBatch("dev-a1", {bad});
  const int64_t audited = AuditEntries(client);

  v1::RejectedMutation out;
  grpc::Status s = Dismiss(client, bad.mutation_id(), "", &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "note is missing: say why the rejected mutation is dismissed");
  s = Dismiss(client, "no-such-mutation", "typo", &out);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message() == "no rejected mutation \"no-such-mutation\" is on record");

  s = Dismiss(client, bad.mutation_id(), "duplicate of 0123", &out);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(out.dismissed());
  CHECK(out.dismissed_by() == "operator:loopback");
  CHECK(out.note() == "duplicate of 0123");
  CHECK(out.mutation().mutation_id() == bad.mutation_id());
  CHECK(AuditEntries(client) == audited + 1);
  CHECK(ListRejected(client, false).empty());
  auto all = ListRejected(client, true);
  REQUIRE(all.size() == 1);
  CHECK(all[0].note() == "duplicate of 0123");

  s = Dismiss(client, bad.mutation_id(), "again", &out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message() == "rejected mutation " + bad.mutation_id() +
                                 " was already closed by operator:loopback: duplicate of 0123");
}

TEST_CASE("a resubmitted mutation applies once what blocked it is fixed, its seq stays consumed") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  v1::Mutation record = RecordCase("dev-a1", 1, &case_id);
  record.mutable_record_case()->mutable_case_()->set_matter_code("XX-9999");
  auto first = client.PushBatch("dev-a1", {record});
  REQUIRE(first.results(0).outcome() == v1::OUTCOME_REJECTED);
  REQUIRE(first.results(0).reason() == v1::REASON_UNKNOWN_MATTER);

  // Still blocked: the same refusal comes back and the rejection stays open.
  v1::ResubmitRejectedResponse out;
  grpc::Status s = Resubmit(client, record.mutation_id(), &out);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(out.result().outcome() == v1::OUTCOME_REJECTED);
  CHECK(out.result().reason() == v1::REASON_UNKNOWN_MATTER);
  CHECK(ListRejected(client, false).size() == 1);

  v1::Catalog catalog = SampleCatalog(2);
  v1::Matter* extra = catalog.add_matters();
  *extra = catalog.matters(0);
  extra->set_code("XX-9999");
  client.LoadCatalog(catalog);
  const int64_t audited = AuditEntries(client);
  s = Resubmit(client, record.mutation_id(), &out);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(out.result().outcome() == v1::OUTCOME_APPLIED);
  CHECK(out.result().mutation_id() == record.mutation_id());
  CHECK(out.result().device_seq() == 1);
  CHECK_FALSE(out.result().case_number().empty());
  CHECK(out.result().server_seq() > 0);
  CHECK(client.GetCase(case_id).case_().case_number() == out.result().case_number());
  CHECK(AuditEntries(client) == audited + 1);
  CHECK(ListRejected(client, false).empty());
  auto closed = ListRejected(client, true);
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].dismissed_by() == "operator:loopback");
  CHECK(closed[0].note() == "resubmitted: OUTCOME_APPLIED");

  s = Resubmit(client, record.mutation_id(), &out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message() == "rejected mutation " + record.mutation_id() +
                                 " was already closed by operator:loopback: resubmitted: "
                                 "OUTCOME_APPLIED");

  // The device's sequence is untouched: its resend is still the original
  // rejection, and its next number is 2.
  auto resend = client.PushBatch("dev-a1", {record});
  CHECK(resend.results(0).outcome() == v1::OUTCOME_DUPLICATE);
  CHECK(resend.results(0).original() == v1::OUTCOME_REJECTED);
  auto next = client.PushBatch("dev-a1", {AppendNote("dev-a1", 2, case_id)});
  CHECK(next.results(0).outcome() == v1::OUTCOME_APPLIED);
  CHECK(next.acknowledged_seq() == 2);
}

TEST_CASE(
    "the shift report lists the squad's day: cases, tickets with total, evidence, open issues") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
  const v1::TicketLease lease = client.Lease("dev-a1", 5);
  std::string evidence_id;
  auto pushed =
      client.PushBatch("dev-a1", {IssueTicket("dev-a1", 2, case_id, lease.first_number(), 5000),
                                  IssueTicket("dev-a1", 3, case_id, lease.first_number() + 1, 2000),
                                  AddEvidence("dev-a1", 4, case_id, "photo", &evidence_id),
                                  AppendNote("dev-a1", 5, palm::sync::NewUuidV7())});
  REQUIRE(pushed.results(0).outcome() == v1::OUTCOME_APPLIED);
  REQUIRE(pushed.results(1).outcome() == v1::OUTCOME_APPLIED);
  std::string other_case;
  v1::Mutation b_case = RecordCase("dev-b1", 1, &other_case, kOfficerB1, kTownB);
  client.PushBatch("dev-b1", {b_case});
  const int64_t audited = AuditEntries(client);

  v1::ShiftReportResponse report;
  grpc::Status s = Report(client, kSquadA, TodayInShanghai(), &report);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(report.squad_id() == kSquadA);
  CHECK(report.date() == TodayInShanghai());
  REQUIRE(report.cases_opened_size() == 1);
  CHECK(report.cases_opened(0).case_id() == case_id);
  CHECK(report.tickets_size() == 2);
  CHECK(report.tickets_total_fen() == 7000);
  REQUIRE(report.evidence_size() == 1);
  CHECK(report.evidence(0).evidence_id() == evidence_id);
  CHECK(report.evidence_with_receipt() == 0);
  CHECK(report.no_penalty().empty());
  CHECK(report.open_conflicts().empty());
  REQUIRE(report.open_rejections_size() == 1);
  CHECK(report.open_rejections(0).result().reason() == v1::REASON_UNKNOWN_CASE);
  CHECK(AuditEntries(client) == audited + 1);

  v1::ShiftReportResponse empty;
  REQUIRE(Report(client, kSquadA, "2020-01-01", &empty).ok());
  CHECK(empty.cases_opened().empty());
  CHECK(empty.tickets().empty());
  CHECK(empty.tickets_total_fen() == 0);
  CHECK(empty.open_rejections_size() == 1);  // still open, whatever the day

  s = Report(client, kSquadA, "2026-13-01", &empty);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "date \"2026-13-01\" is not a date of the form YYYY-MM-DD");
  s = Report(client, kSquadA, "2026-02-30", &empty);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "date \"2026-02-30\" does not exist");
  s = Report(client, "", "2026-02-01", &empty);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "squad_id is missing");
  s = Report(client, "no-such-squad", "2026-02-01", &empty);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message() == "squad no-such-squad is not on record");

  // A squad leader gets their own squad's report, not another's.
  const std::string leader_b = Leader(client, kLeaderB, kTownB, kSquadB);
  v1::ShiftReportRequest request;
  request.set_squad_id(kSquadA);
  request.set_date(TodayInShanghai());
  s = client.admin->ShiftReport(SessionContext("", leader_b).get(), request, &empty);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message() ==
        "officer leader-b (ROLE_SQUAD_LEADER) of squad squad-b1 may not reach squad squad-a1");
  request.clear_squad_id();
  s = client.admin->ShiftReport(SessionContext("", leader_b).get(), request, &empty);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(empty.squad_id() == kSquadB);
  REQUIRE(empty.cases_opened_size() == 1);
  CHECK(empty.cases_opened(0).case_id() == other_case);
}

TEST_CASE("a rejected mutation re-logs the entity it names, so an incremental pull restores it") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  client.PushBatch("dev-a1",
                   {RecordCase("dev-a1", 1, &case_id, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY)});
  const std::string cursor = LastCursor(client, "dev-a2");
  auto stale = client.PushBatch(
      "dev-a2", {Transition("dev-a2", 1, case_id, v1::CASE_STATE_FILED, v1::CASE_STATE_DECIDED)});
  REQUIRE(stale.results(0).outcome() == v1::OUTCOME_REJECTED);
  CHECK(stale.results(0).reason() == v1::REASON_STALE_TRANSITION);
  CHECK(stale.results(0).server_seq() > 0);
  auto changes = Changes(client, "dev-a2", cursor);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].case_().case_id() == case_id);
  CHECK(changes[0].case_().state() == v1::CASE_STATE_REGISTERED);
  CHECK(changes[0].server_seq() == stale.results(0).server_seq());

  // Nothing on the server to restore: server_seq stays 0.
  auto unknown = client.PushBatch("dev-a2", {AppendNote("dev-a2", 2, palm::sync::NewUuidV7())});
  CHECK(unknown.results(0).outcome() == v1::OUTCOME_REJECTED);
  CHECK(unknown.results(0).server_seq() == 0);
}

TEST_CASE("an empty push batch is answered with the acknowledged sequence number") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1), RecordCase("dev-a1", 2)});
  v1::PushResponse r = client.PushBatch("dev-a1", {});
  CHECK(r.results().empty());
  CHECK(r.acknowledged_seq() == 2);
  CHECK(r.resend_from() == 0);
  CHECK(client.PushBatch("dev-a2", {}).acknowledged_seq() == 0);
}

TEST_CASE("evidence calls are authorised: a token of another device or town, a revoked device") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  EvidenceClient evidence(client.channel);
  std::string case_id;
  client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
  std::string evidence_id;
  const std::string content = "photo of the stall";
  client.PushBatch("dev-a1", {AddEvidence("dev-a1", 2, case_id, content, &evidence_id)});
  client.SetSecret(kOfficerB1, kTownB, kSquadB, v1::ROLE_OFFICER, true, "1357");
  const std::string token_b = client.SignIn(kOfficerB1, "1357", "dev-b1");

  auto upload = [&](const std::string& device, const std::string& token) {
    auto ctx = token.empty() ? DeviceContext(device) : SessionContext(device, token);
    v1::UploadResponse response;
    auto writer = evidence.stub->Upload(ctx.get(), &response);
    v1::UploadChunk chunk;
    chunk.set_evidence_id(evidence_id);
    chunk.set_sha256(Sha256Hex(content));
    chunk.set_total_size(content.size());
    chunk.set_data(content);
    writer->Write(chunk);
    writer->WritesDone();
    return writer->Finish();
  };
  auto receipt = [&](const std::string& device, const std::string& token) {
    auto ctx = token.empty() ? DeviceContext(device) : SessionContext(device, token);
    v1::GetReceiptRequest request;
    request.set_evidence_id(evidence_id);
    v1::GetReceiptResponse response;
    return evidence.stub->GetReceipt(ctx.get(), request, &response);
  };

  // Officer B's token, issued on dev-b1, replayed on dev-a1.
  grpc::Status s = upload("dev-a1", token_b);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(s.error_message() ==
        "the session token was issued to dev-b1, not to dev-a1; sign in on this device");
  s = receipt("dev-a1", token_b);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  // On its own device, officer B still does not reach town A's evidence.
  s = receipt("dev-b1", token_b);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message() ==
        "officer officer-b1 (ROLE_OFFICER) of town town-b may not reach "
        "evidence " +
            evidence_id + " of town town-a");

  grpc::ClientContext revoke_ctx;
  v1::RevokeDeviceRequest revoke;
  revoke.set_device_id("dev-a1");
  revoke.set_reason("lost");
  v1::RevokeDeviceResponse revoked;
  REQUIRE(client.admin->RevokeDevice(&revoke_ctx, revoke, &revoked).ok());
  for (const grpc::Status& refused : {upload("dev-a1", ""), receipt("dev-a1", "")}) {
    CHECK(refused.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(refused.error_message() == "device dev-a1 was revoked: lost [REASON_DEVICE_REVOKED]");
  }
  // Another device of the town is served.
  CHECK(upload("dev-a2", "").ok());
  CHECK(receipt("dev-a2", "").ok());
}
