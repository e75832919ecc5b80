// The server as the authority: what follows from a case is derived from the
// server's own copy of it, never taken from a crafted push; lifecycle
// shortcuts are refused; and a refusal to another town discloses nothing and
// changes nothing in the change log.
#include "sync_util.h"

using namespace palm::testing;
namespace v1 = palm::v1;

namespace {

// A server with the organisation and a lease of 100 ticket numbers for dev-a1.
struct Authority {
  Authority() : client(server.address()) {
    client.SetUpOrganisation();
    lease = client.Lease("dev-a1", 100);
  }
  v1::MutationResult PushOne(const v1::Mutation& m, const std::string& device = "dev-a1") {
    auto r = client.PushBatch(device, {m});
    REQUIRE(r.results_size() == 1);
    return r.results(0);
  }
  // The changes a pull from `cursor` brings to `device`, and the new cursor.
  std::vector<v1::Change> ChangesAfter(const std::string& device, std::string* cursor) {
    std::vector<v1::Change> changes;
    for (const v1::PullResponse& r : client.Pull(device, *cursor)) {
      REQUIRE(r.has_page());
      for (const v1::Change& c : r.page().changes()) changes.push_back(c);
      *cursor = r.page().cursor();
    }
    return changes;
  }

  TestServer server;
  Client client;
  v1::TicketLease lease;
};

}  // namespace

TEST_CASE("a ticket claiming an organisation's limit for a citizen's case is rejected") {
  Authority f;
  std::string case_id;
  REQUIRE_APPLIED(f.PushOne(RecordCase("dev-a1", 1, &case_id)));  // party-1 is a citizen
  v1::Mutation crafted = IssueTicket("dev-a1", 2, case_id, f.lease.first_number(), 200000);
  crafted.mutable_issue_ticket()->mutable_ticket()->set_party_kind(v1::PARTY_KIND_ORGANISATION);
  REQUIRE_REJECTED(f.PushOne(crafted), v1::REASON_FINE_OVER_LIMIT,
                   "fine 2000 yuan exceeds the on-the-spot limit of 200 yuan for a citizen "
                   "(Art. 51); use the ordinary procedure");
  REQUIRE(f.client.GetCase(case_id).tickets_size() == 0);
}

TEST_CASE("a ticket's matter and party kind are the case's, whatever the mutation claims") {
  Authority f;
  std::string case_id;
  REQUIRE_APPLIED(f.PushOne(RecordCase("dev-a1", 1, &case_id)));
  v1::Mutation crafted = IssueTicket("dev-a1", 2, case_id, f.lease.first_number(), 5000);
  crafted.mutable_issue_ticket()->mutable_ticket()->set_party_kind(v1::PARTY_KIND_ORGANISATION);
  crafted.mutable_issue_ticket()->mutable_ticket()->set_matter_code(kMajorMatter);
  REQUIRE_APPLIED(f.PushOne(crafted));
  const v1::CaseDetail detail = f.client.GetCase(case_id);
  REQUIRE(detail.tickets_size() == 1);
  CHECK(detail.tickets(0).matter_code() == kFastMatter);
  CHECK(detail.tickets(0).party_kind() == v1::PARTY_KIND_CITIZEN);
}

TEST_CASE("a ticket on an ordinary-procedure case is rejected REASON_NOT_FAST_TRACK") {
  Authority f;
  std::string case_id;
  REQUIRE_APPLIED(
      f.PushOne(RecordCase("dev-a1", 1, &case_id, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY)));
  const std::string number = f.client.GetCase(case_id).case_().case_number();
  REQUIRE_REJECTED(f.PushOne(IssueTicket("dev-a1", 2, case_id, f.lease.first_number())),
                   v1::REASON_NOT_FAST_TRACK,
                   "case " + number +
                       " follows the ordinary procedure; an on-the-spot ticket needs a "
                       "summary-procedure case (Art. 51)");
  REQUIRE(f.client.GetCase(case_id).tickets_size() == 0);
}

TEST_CASE("a bare transition to NO_PENALTY is rejected: only the decision gets a case there") {
  Authority f;
  std::string case_id;
  REQUIRE_APPLIED(
      f.PushOne(RecordCase("dev-a1", 1, &case_id, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY)));
  REQUIRE_REJECTED(f.PushOne(Transition("dev-a1", 2, case_id, v1::CASE_STATE_REGISTERED,
                                        v1::CASE_STATE_NO_PENALTY)),
                   v1::REASON_ILLEGAL_TRANSITION,
                   "a case reaches NO_PENALTY only through a no-penalty decision "
                   "(record_no_penalty), which carries the Art. 33 checks");
  REQUIRE(f.client.GetCase(case_id).case_().state() == v1::CASE_STATE_REGISTERED);
  REQUIRE_APPLIED(f.PushOne(RecordNoPenalty("dev-a1", 3, case_id)));
  REQUIRE(f.client.GetCase(case_id).case_().state() == v1::CASE_STATE_NO_PENALTY);
}

TEST_CASE("a no-penalty decision's matter is the case's, not the one the mutation claims") {
  Authority f;
  std::string case_id;
  // A major matter is not on the no-penalty list; the decision claims one that is.
  REQUIRE_APPLIED(f.PushOne(
      RecordCase("dev-a1", 1, &case_id, kOfficerA1, kTownA, v1::PROCEDURE_ORDINARY, kMajorMatter)));
  REQUIRE_REJECTED(f.PushOne(RecordNoPenalty("dev-a1", 2, case_id)),
                   v1::REASON_NOT_ON_NO_PENALTY_LIST,
                   "matter CG-0901 (违法建设) is not on the no-penalty list, which Art. 33 ¶1 "
                   "(first violation, slight harm, corrected in time) needs; decide a penalty "
                   "instead");
}

TEST_CASE("a case may list only officers of the device's own town") {
  Authority f;
  v1::Mutation m = RecordCase("dev-a1", 1);
  m.mutable_record_case()->mutable_case_()->add_officer_ids(kOfficerB1);
  REQUIRE_REJECTED(f.PushOne(m), v1::REASON_UNKNOWN_OFFICER,
                   "record_case.case.officer_ids names officer officer-b1, who is not on this "
                   "town's roster");
}

TEST_CASE("field edits mean the same on both ends (negative accuracy and a zero time refused)") {
  Authority f;
  std::string case_id;
  REQUIRE_APPLIED(f.PushOne(RecordCase("dev-a1", 1, &case_id)));
  REQUIRE_REJECTED(
      f.PushOne(UpdateField("dev-a1", 2, case_id, v1::CASE_FIELD_LOCATION, "30.6,120.5,-3")),
      v1::REASON_INVALID_ARGUMENT,
      "update_case_fields.changes[0].value \"30.6,120.5,-3\" is not \"lat,lng[,accuracy]\" "
      "with a valid position and accuracy >= 0");
  REQUIRE_REJECTED(f.PushOne(UpdateField("dev-a1", 3, case_id, v1::CASE_FIELD_OCCURRED_AT, "0")),
                   v1::REASON_INVALID_ARGUMENT,
                   "update_case_fields.changes[0].value \"0\" is not a positive number of Unix "
                   "milliseconds");
  REQUIRE_APPLIED(f.PushOne(
      UpdateField("dev-a1", 4, case_id, v1::CASE_FIELD_LOCATION, "30.63123456789,120.5,2.25")));
  const v1::CaseDetail got = f.client.GetCase(case_id);
  const v1::GeoPoint& p = got.case_().place().location();
  CHECK(p.latitude() == 30.6312346);
  CHECK(p.accuracy_m() == 2.2);
}

TEST_CASE("recording a case under an id already on record answers REASON_ALREADY_EXISTS") {
  Authority f;
  std::string case_id;
  REQUIRE_APPLIED(f.PushOne(RecordCase("dev-a1", 1, &case_id)));
  v1::Mutation again = RecordCase("dev-b1", 1, nullptr, kOfficerB1, kTownB);
  again.mutable_record_case()->mutable_case_()->set_case_id(case_id);
  const v1::MutationResult r = f.PushOne(again, "dev-b1");
  REQUIRE_REJECTED(r, v1::REASON_ALREADY_EXISTS,
                   "case " + case_id + " is already on record; record_case creates a case once");
}

TEST_CASE(
    "a refusal to another town names nothing of the case and leaves the change log as it "
    "was") {
  Authority f;
  std::string case_id;
  REQUIRE_APPLIED(f.PushOne(RecordCase("dev-a1", 1, &case_id)));
  const std::string number = f.client.GetCase(case_id).case_().case_number();
  std::string cursor;
  f.ChangesAfter("dev-a2", &cursor);  // town A's devices are up to date

  std::vector<v1::Mutation> from_b = {
      AppendNote("dev-b1", 1, case_id),
      UpdateField("dev-b1", 2, case_id, v1::CASE_FIELD_DESCRIPTION, "overwritten", 0, kOfficerB1),
      Transition("dev-b1", 3, case_id, v1::CASE_STATE_ISSUED, v1::CASE_STATE_FILED)};
  for (v1::Mutation& m : from_b) m.set_officer_id(kOfficerB1);
  auto response = f.client.PushBatch("dev-b1", from_b);
  REQUIRE(response.results_size() == 3);
  for (const v1::MutationResult& r : response.results()) {
    REQUIRE_REJECTED(
        r, v1::REASON_OUT_OF_JURISDICTION,
        "case " + case_id + " is outside the jurisdiction of device dev-b1 (town town-b)");
    CHECK(r.message().find(number) == std::string::npos);
    CHECK(r.server_seq() == 0);
  }
  CHECK(f.ChangesAfter("dev-a2", &cursor).empty());
  CHECK(f.client.GetCase(case_id).case_().description() == "street stall on the pavement");
}
