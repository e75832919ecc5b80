// The admin lists over a real server: paged and bounded whatever the store
// holds (docs/protocol.md, "Pages of the admin lists"), with opaque,
// checked page tokens; and no entity grown past its limits by a merge.
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "server/sync_util.h"

namespace palm::testing {
namespace {

// More than one answer could carry: gRPC's default receive limit.
constexpr size_t kGrpcDefaultLimit = 4 * 1024 * 1024;

// What one answer of a list may weigh: the 1 MiB page budget plus its
// largest row. Well below the 4 MiB a gRPC client receives by default.
constexpr size_t kMostPageBytes = 1536 * 1024;

// Every page of the paged list `rpc` from `request` on; each call must
// succeed. Pages after the first are asked for after `between(page)` ran.
template <typename Request, typename Response>
std::vector<Response> AllPages(Client& client,
                               grpc::Status (v1::AdminService::Stub::*rpc)(grpc::ClientContext*,
                                                                           const Request&,
                                                                           Response*),
                               Request request, const std::function<void(int)>& between = nullptr) {
  std::vector<Response> pages;
  for (int page = 0;; ++page) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    Response response;
    grpc::Status s = ((*client.admin).*rpc)(&ctx, request, &response);
    INFO("page " << page << ": " << s.error_code() << " " << s.error_message());
    REQUIRE(s.ok());
    pages.push_back(response);
    if (response.next_page_token().empty()) return pages;
    REQUIRE(pages.size() < 10000);
    if (between) between(page);
    request.set_page_token(response.next_page_token());
  }
}

// The paged list `rpc` called once with `request` and `token`; its answer
// into *response when given.
template <typename Request, typename Response>
grpc::Status ListWithToken(Client& client,
                           grpc::Status (v1::AdminService::Stub::*rpc)(grpc::ClientContext*,
                                                                       const Request&, Response*),
                           Request request, const std::string& token,
                           Response* response = nullptr) {
  grpc::ClientContext ctx;
  request.set_page_token(token);
  Response ignored;
  return ((*client.admin).*rpc)(&ctx, request, response != nullptr ? response : &ignored);
}

// Whether `pages` (more than one, together more than one answer could
// carry, each within kMostPageBytes) hold every id of `expected` once and
// nothing else; `ids(page)` are a page's row ids.
template <typename Response, typename Ids>
bool EveryRowOnce(const std::vector<Response>& pages, const std::set<std::string>& expected,
                  Ids ids) {
  REQUIRE(pages.size() > 1);
  std::multiset<std::string> seen;
  size_t bytes = 0;
  for (const Response& page : pages) {
    REQUIRE(page.ByteSizeLong() < kMostPageBytes);
    bytes += page.ByteSizeLong();
    for (const std::string& id : ids(page)) seen.insert(id);
  }
  REQUIRE(bytes > kGrpcDefaultLimit);
  return seen == std::multiset<std::string>(expected.begin(), expected.end());
}

// An update of case `case_id` from `device` stamped at `wall_ms` that sets
// `fields` (field, party id) to `value`.
v1::Mutation UpdateMany(const std::string& device, uint64_t seq, const std::string& case_id,
                        const std::vector<std::pair<v1::CaseField, std::string>>& fields,
                        const std::string& value, int64_t wall_ms = 0) {
  v1::Mutation m = NewMutation(device, seq, kOfficerA1, wall_ms);
  v1::UpdateCaseFields* op = m.mutable_update_case_fields();
  op->set_case_id(case_id);
  for (const auto& [field, party] : fields) {
    v1::CaseFieldChange* change = op->add_changes();
    change->set_field(field);
    change->set_party_id(party);
    change->set_value(value);
  }
  return m;
}

// The largest rejected write the limits allow besides a ticket: 100 field
// changes of 4096 bytes each, on a case the server does not know.
v1::Mutation LargestRejectedUpdate(const std::string& device, uint64_t seq) {
  std::vector<std::pair<v1::CaseField, std::string>> fields(100, {v1::CASE_FIELD_DESCRIPTION, ""});
  return UpdateMany(device, seq, sync::NewUuidV7(), fields, std::string(4096, 'r'));
}

// Evidence for a case the server does not know, carrying a receipt of 100
// proofs of 64 KiB (a receipt is the server's to make: within the limits,
// and 6.5 MiB).
v1::Mutation RejectedEvidenceWithReceipt(const std::string& device, uint64_t seq) {
  v1::Mutation m = NewMutation(device, seq);
  v1::Evidence* e = m.mutable_add_evidence()->mutable_evidence();
  e->set_evidence_id(sync::NewUuidV7());
  e->set_case_id(sync::NewUuidV7());
  e->set_kind(v1::EVIDENCE_KIND_PHOTO);
  e->set_mime_type("image/jpeg");
  e->set_sha256(std::string(64, 'c'));
  e->set_size_bytes(1234);
  e->set_captured_at_ms(sync::SystemNowMs());
  for (int i = 0; i < 100; ++i) e->mutable_receipt()->add_inclusion_proof(std::string(65536, 'p'));
  return m;
}

// The fields of `parties` parties (party-1 ...) and of the case whose values
// may be long: 62 of them.
std::vector<std::pair<v1::CaseField, std::string>> LongFields(int parties) {
  std::vector<std::pair<v1::CaseField, std::string>> fields = {{v1::CASE_FIELD_DESCRIPTION, ""},
                                                               {v1::CASE_FIELD_ADDRESS, ""}};
  for (int i = 1; i <= parties; ++i) {
    const std::string party = "party-" + std::to_string(i);
    for (v1::CaseField f : {v1::CASE_FIELD_PARTY_ADDRESS, v1::CASE_FIELD_PARTY_PHONE,
                            v1::CASE_FIELD_PARTY_ID_NUMBER}) {
      fields.push_back({f, party});
    }
  }
  return fields;
}

void RequireAllApplied(const v1::PushResponse& response, size_t n) {
  REQUIRE(static_cast<size_t>(response.results_size()) == n);
  for (const auto& r : response.results()) {
    INFO(r.ShortDebugString().substr(0, 300));
    REQUIRE(
        (r.outcome() == v1::OUTCOME_APPLIED || r.outcome() == v1::OUTCOME_APPLIED_WITH_CONFLICT));
  }
}

}  // namespace

TEST_CASE("a town whose devices push the largest rows still lists every row once, page by page") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();

  // 48 of the largest cases (about 4.6 MB).
  std::set<std::string> cases;
  uint64_t seq_a1 = 0;
  for (int batch = 0; batch < 6; ++batch) {
    std::vector<v1::Mutation> mutations;
    for (int i = 0; i < 8; ++i) {
      std::string id;
      mutations.push_back(LargestCase("dev-a1", ++seq_a1, &id));
      cases.insert(id);
    }
    RequireAllApplied(client.PushBatch("dev-a1", mutations), mutations.size());
  }
  const std::string first_case = *cases.begin();

  // 12 of the largest rejected updates (about 5 MB) and rejected evidence
  // with a 6.5 MiB receipt.
  std::set<std::string> rejected;
  for (int batch = 0; batch < 3; ++batch) {
    std::vector<v1::Mutation> mutations;
    for (int i = 0; i < 4; ++i) mutations.push_back(LargestRejectedUpdate("dev-a1", ++seq_a1));
    v1::PushResponse response = client.PushBatch("dev-a1", mutations);
    for (const auto& r : response.results()) {
      REQUIRE(r.outcome() == v1::OUTCOME_REJECTED);
      rejected.insert(r.mutation_id());
    }
  }
  {
    v1::PushResponse response =
        client.PushBatch("dev-a1", {RejectedEvidenceWithReceipt("dev-a1", ++seq_a1)});
    REQUIRE(response.results(0).outcome() == v1::OUTCOME_REJECTED);
    rejected.insert(response.results(0).mutation_id());
  }

  // 12 updates of dev-a2, stamped before the case was recorded, each losing
  // 62 long values: 744 conflicts of about 6 KB (about 4.5 MB).
  std::set<std::string> conflicts;
  const int64_t long_ago = sync::SystemNowMs() - 3600 * 1000;
  for (uint64_t seq = 1; seq <= 12; ++seq) {
    v1::PushResponse response = client.PushBatch(
        "dev-a2", {UpdateMany("dev-a2", seq, first_case, LongFields(20),
                              std::string(4096, static_cast<char>('A' + seq)), long_ago)});
    REQUIRE(response.results(0).outcome() == v1::OUTCOME_APPLIED_WITH_CONFLICT);
    REQUIRE(response.results(0).conflicts_size() == 62);
    for (const auto& loss : response.results(0).conflicts()) conflicts.insert(loss.conflict_id());
  }
  REQUIRE(conflicts.size() == 744);

  {  // ListRejected
    // A rejection recorded while the leader pages is listed after the rest.
    std::string late;
    v1::ListRejectedRequest request;
    request.set_squad_id(kSquadA);
    auto pages = AllPages(client, &v1::AdminService::Stub::ListRejected, request, [&](int page) {
      if (page != 0) return;
      v1::PushResponse r = client.PushBatch("dev-a1", {LargestRejectedUpdate("dev-a1", ++seq_a1)});
      late = r.results(0).mutation_id();
    });
    rejected.insert(late);
    REQUIRE(EveryRowOnce(pages, rejected, [](const v1::ListRejectedResponse& page) {
      std::vector<std::string> ids;
      for (const auto& r : page.rejected()) {
        ids.push_back(r.mutation().mutation_id());
        // Kept without the receipt the device had no business sending.
        REQUIRE_FALSE(r.mutation().add_evidence().evidence().has_receipt());
      }
      return ids;
    }));
    REQUIRE(pages.back().rejected(pages.back().rejected_size() - 1).mutation().mutation_id() ==
            late);
  }

  {  // ListConflicts
    v1::ListConflictsRequest request;
    request.set_squad_id(kSquadA);
    request.set_page_size(1000);
    auto pages = AllPages(client, &v1::AdminService::Stub::ListConflicts, request);
    REQUIRE(EveryRowOnce(pages, conflicts, [](const v1::ListConflictsResponse& page) {
      std::vector<std::string> ids;
      for (const auto& c : page.conflicts()) ids.push_back(c.loss().conflict_id());
      return ids;
    }));
  }

  {  // ListCases
    // A case recorded while the leader pages, dated before every other, is
    // not listed this time, and pushes no other case out.
    v1::ListCasesRequest request;
    request.set_town_id(kTownA);
    auto pages = AllPages(client, &v1::AdminService::Stub::ListCases, request, [&](int page) {
      if (page != 0) return;
      v1::Mutation early = LargestCase("dev-a1", ++seq_a1);
      early.mutable_record_case()->mutable_case_()->set_created_at_ms(1);
      RequireAllApplied(client.PushBatch("dev-a1", {early}), 1);
    });
    REQUIRE(EveryRowOnce(pages, cases, [](const v1::ListCasesResponse& page) {
      std::vector<std::string> ids;
      for (const auto& c : page.cases()) ids.push_back(c.case_id());
      return ids;
    }));
  }

  {  // ShiftReport
    grpc::ClientContext ctx;
    v1::ShiftReportRequest request;
    request.set_squad_id(kSquadA);
    request.set_date(BureauToday());
    v1::ShiftReportResponse report;
    grpc::Status s = client.admin->ShiftReport(&ctx, request, &report);
    INFO(s.error_code() << " " << s.error_message());
    REQUIRE(s.ok());
    REQUIRE(report.ByteSizeLong() < 3 * 1024 * 1024);
    const v1::ShiftReportTotals& totals = report.totals();
    CHECK(totals.cases_opened() == 48);
    CHECK(totals.open_conflicts() == 744);
    CHECK(totals.open_rejections() == 14);
    CHECK(report.cases_opened_size() > 0);
    CHECK(report.cases_opened_size() < 48);
    CHECK(report.open_conflicts_size() > 0);
    CHECK(report.open_conflicts_size() < 744);
    CHECK(report.open_rejections_size() > 0);
    CHECK(report.open_rejections_size() < 14);
  }
}

TEST_CASE("every admin list takes page_size and hands out each row once, in order") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();

  v1::ListDevicesRequest devices;
  devices.set_page_size(1);
  std::vector<std::string> device_ids;
  for (const auto& page : AllPages(client, &v1::AdminService::Stub::ListDevices, devices)) {
    REQUIRE(page.devices_size() <= 1);
    for (const auto& d : page.devices()) device_ids.push_back(d.device_id());
  }
  CHECK(device_ids == std::vector<std::string>{"dev-a1", "dev-a2", "dev-b1"});

  v1::ListOfficersRequest officers;
  officers.set_town_id(kTownA);
  officers.set_page_size(2);
  std::vector<std::string> officer_ids;
  auto officer_pages = AllPages(client, &v1::AdminService::Stub::ListOfficers, officers);
  CHECK(officer_pages.size() == 2);
  for (const auto& page : officer_pages) {
    for (const auto& o : page.officers()) officer_ids.push_back(o.officer_id());
  }
  CHECK(officer_ids == std::vector<std::string>{kAuxA3, kOfficerA1, kOfficerA2});

  v1::SquadStatusRequest status;
  status.set_squad_id(kSquadA);
  status.set_page_size(1);
  std::vector<std::string> status_ids;
  for (const auto& page : AllPages(client, &v1::AdminService::Stub::SquadStatus, status)) {
    for (const auto& d : page.devices()) status_ids.push_back(d.device().device_id());
  }
  CHECK(status_ids == std::vector<std::string>{"dev-a1", "dev-a2"});

  // Three cases under legal review, two a page.
  std::vector<std::string> under_review;
  uint64_t seq = 0;
  for (int i = 0; i < 3; ++i) {
    std::string id;
    RequireAllApplied(
        client.PushBatch(
            "dev-a1",
            {RecordCase("dev-a1", ++seq, &id, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY),
             Transition("dev-a1", ++seq, id, v1::CASE_STATE_REGISTERED, v1::CASE_STATE_FILED),
             Transition("dev-a1", ++seq, id, v1::CASE_STATE_FILED, v1::CASE_STATE_INVESTIGATING),
             Transition("dev-a1", ++seq, id, v1::CASE_STATE_INVESTIGATING,
                        v1::CASE_STATE_NOTIFIED),
             Transition("dev-a1", ++seq, id, v1::CASE_STATE_NOTIFIED,
                        v1::CASE_STATE_LEGAL_REVIEW)}),
        5);
    under_review.push_back(id);
  }
  v1::ReviewQueueRequest queue;
  queue.set_page_size(2);
  std::vector<std::string> queued;
  auto queue_pages = AllPages(client, &v1::AdminService::Stub::ReviewQueue, queue);
  CHECK(queue_pages.size() == 2);
  for (const auto& page : queue_pages) {
    for (const auto& c : page.cases()) queued.push_back(c.case_id());
  }
  std::sort(under_review.begin(), under_review.end());
  std::sort(queued.begin(), queued.end());
  CHECK(queued == under_review);

  // Conflicts and rejections of one squad, one a page.
  const int64_t long_ago = sync::SystemNowMs() - 3600 * 1000;
  v1::PushResponse lost = client.PushBatch(
      "dev-a2", {UpdateMany("dev-a2", 1, under_review[0], LongFields(0), "older", long_ago),
                 UpdateMany("dev-a2", 2, sync::NewUuidV7(), LongFields(0), "x"),
                 UpdateMany("dev-a2", 3, sync::NewUuidV7(), LongFields(0), "y")});
  REQUIRE(lost.results(0).conflicts_size() == 2);
  v1::ListConflictsRequest conflict_request;
  conflict_request.set_page_size(1);
  std::set<std::string> conflict_ids;
  auto conflict_pages = AllPages(client, &v1::AdminService::Stub::ListConflicts, conflict_request);
  CHECK(conflict_pages.size() == 2);
  for (const auto& page : conflict_pages) {
    for (const auto& c : page.conflicts()) conflict_ids.insert(c.loss().conflict_id());
  }
  CHECK(conflict_ids == std::set<std::string>{lost.results(0).conflicts(0).conflict_id(),
                                              lost.results(0).conflicts(1).conflict_id()});
  v1::ListRejectedRequest rejected_request;
  rejected_request.set_page_size(1);
  std::vector<std::string> rejected_ids;
  for (const auto& page :
       AllPages(client, &v1::AdminService::Stub::ListRejected, rejected_request)) {
    for (const auto& r : page.rejected()) rejected_ids.push_back(r.mutation().mutation_id());
  }
  CHECK(rejected_ids ==
        std::vector<std::string>{lost.results(1).mutation_id(), lost.results(2).mutation_id()});
}

TEST_CASE("a malformed or foreign page_token is refused INVALID_ARGUMENT naming page_token") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  const std::string malformed = "page_token is malformed; pass next_page_token as received";
  const std::string foreign =
      "page_token was made for another list or other filters; pass next_page_token with the "
      "request it came from, or start again without page_token";
  auto require_refused = [](const grpc::Status& s, const std::string& message) {
    INFO(s.error_code() << " " << s.error_message());
    REQUIRE(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    REQUIRE(s.error_message() == message);
  };
  using Stub = v1::AdminService::Stub;

  // A real token of ListDevices (three devices, one a page).
  v1::ListDevicesRequest first;
  first.set_page_size(1);
  v1::ListDevicesResponse devices;
  REQUIRE(ListWithToken(client, &Stub::ListDevices, first, "", &devices).ok());
  const std::string token = devices.next_page_token();
  REQUIRE_FALSE(token.empty());

  // Not base64url, a token cut short, the old ListCases form: refused by
  // every list.
  for (const std::string& bad :
       {std::string("not a token!"), token.substr(0, 6),
        std::string("1770000000000/0190a000-0000-7000-8000-000000000001")}) {
    INFO("token " << bad);
    require_refused(ListWithToken(client, &Stub::ListRejected, {}, bad), malformed);
    require_refused(ListWithToken(client, &Stub::ListConflicts, {}, bad), malformed);
    require_refused(ListWithToken(client, &Stub::ListCases, {}, bad), malformed);
    require_refused(ListWithToken(client, &Stub::ReviewQueue, {}, bad), malformed);
    require_refused(ListWithToken(client, &Stub::ListDevices, {}, bad), malformed);
    require_refused(ListWithToken(client, &Stub::ListOfficers, {}, bad), malformed);
    require_refused(ListWithToken(client, &Stub::SquadStatus, {}, bad), malformed);
  }
  // A byte of the token's tag changed: the token of no list.
  std::string altered = token;
  altered[4] = altered[4] == 'A' ? 'B' : 'A';
  require_refused(ListWithToken(client, &Stub::ListDevices, {}, altered), foreign);
  // ListDevices' token on another list.
  require_refused(ListWithToken(client, &Stub::ListOfficers, {}, token), foreign);
  // The same list with other filters.
  v1::ListDevicesRequest town_a;
  town_a.set_town_id(kTownA);
  require_refused(ListWithToken(client, &Stub::ListDevices, town_a, token), foreign);
  // Unchanged, it reads on (page_size may change between pages).
  v1::ListDevicesRequest more;
  more.set_page_size(5);
  v1::ListDevicesResponse rest;
  REQUIRE(ListWithToken(client, &Stub::ListDevices, more, token, &rest).ok());
  REQUIRE(rest.devices_size() == 2);
  REQUIRE(rest.next_page_token().empty());
}

TEST_CASE(
    "an update that would give a party a 4096-byte name is refused and the case stays as it was") {
  TestServer server;
  Client client(server.address());
  client.SetUpOrganisation();
  std::string case_id;
  v1::PushResponse recorded = client.PushBatch("dev-a1", {RecordCase("dev-a1", 1, &case_id)});
  REQUIRE_APPLIED(recorded.results(0));
  const std::string number = recorded.results(0).case_number();
  const v1::CaseDetail before = client.GetCase(case_id);
  const std::string cursor = client.Pull("dev-a2", "").back().page().cursor();

  // A change may carry 4096 bytes; a party's name holds 256.
  v1::Mutation long_name = UpdateMany(
      "dev-a1", 2, case_id, {{v1::CASE_FIELD_PARTY_NAME, "party-1"}}, std::string(4096, 'n'));
  // Each new party id adds a party; a case holds at most 20.
  std::vector<std::pair<v1::CaseField, std::string>> new_parties;
  for (int i = 2; i <= 21; ++i) {
    new_parties.push_back({v1::CASE_FIELD_PARTY_NAME, "party-" + std::to_string(i)});
  }
  v1::Mutation many = UpdateMany("dev-a1", 3, case_id, new_parties, "李四");
  v1::PushResponse refused = client.PushBatch("dev-a1", {long_name, many});
  REQUIRE_REJECTED(refused.results(0), v1::REASON_INVALID_ARGUMENT,
                   "update_case_fields would leave case " + number +
                       " over a limit: parties[0].name: at most 256 bytes, this one has 4096 "
                       "(\"nnnnnnnnnnnnnnnn…\")");
  REQUIRE_REJECTED(refused.results(1), v1::REASON_INVALID_ARGUMENT,
                   "update_case_fields would leave case " + number +
                       " over a limit: parties: at most 20 elements, this one has 21");

  // Nothing of either was stored: the case, its timeline and its stamps are
  // as they were. The case moves to the head of the change log, unchanged,
  // as after every refusal in the caller's own town (docs/protocol.md).
  const v1::CaseDetail after = client.GetCase(case_id);
  REQUIRE(google::protobuf::util::MessageDifferencer::Equals(before, after));
  std::vector<v1::Change> changes;
  for (const auto& page : client.Pull("dev-a2", cursor)) {
    for (const auto& change : page.page().changes()) changes.push_back(change);
  }
  REQUIRE(changes.size() == 1);
  REQUIRE(google::protobuf::util::MessageDifferencer::Equals(changes[0].case_(), before.case_()));

  // A long name that lost its merge is kept as a conflict; restoring it is
  // refused the same way, and changes nothing.
  v1::PushResponse lost = client.PushBatch(
      "dev-a2", {UpdateMany("dev-a2", 1, case_id, {{v1::CASE_FIELD_PARTY_NAME, "party-1"}},
                            std::string(4096, 'm'), sync::SystemNowMs() - 3600 * 1000)});
  REQUIRE(lost.results(0).outcome() == v1::OUTCOME_APPLIED_WITH_CONFLICT);
  const std::string head = client.Pull("dev-a2", cursor).back().page().cursor();
  grpc::ClientContext ctx;
  v1::ResolveConflictRequest restore;
  restore.set_conflict_id(lost.results(0).conflicts(0).conflict_id());
  restore.set_restore_losing_value(true);
  v1::ConflictRecord resolved;
  grpc::Status s = client.admin->ResolveConflict(&ctx, restore, &resolved);
  REQUIRE(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(s.error_message() ==
          "update_case_fields would leave case " + number +
              " over a limit: parties[0].name: at most 256 bytes, this one has 4096 "
              "(\"mmmmmmmmmmmmmmmm…\") [REASON_INVALID_ARGUMENT]");
  REQUIRE(google::protobuf::util::MessageDifferencer::Equals(before, client.GetCase(case_id)));
  std::vector<v1::PullResponse> since = client.Pull("dev-a2", head);
  REQUIRE(since.size() == 1);
  REQUIRE(since[0].page().changes_size() == 0);
}

}  // namespace palm::testing
