#include "sync/mutation.h"

#include <catch2/catch.hpp>

#include "sync/sha256.h"
#include "tests/sync/refusal.h"

namespace palm::sync {
namespace {

namespace v1 = palm::v1;
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr char kCaseId[] = "0190c4e8-7a00-7000-8000-0000000000c1";
constexpr char kOtherId[] = "0190c4e8-7a00-7000-8000-0000000000e1";

v1::Mutation Envelope() {
  v1::Mutation m;
  m.set_mutation_id("0190c4e8-7a00-7000-8000-000000000001");
  m.set_device_id("dev-1");
  m.set_device_seq(1);
  m.mutable_hlc()->set_wall_ms(1767225600000);
  m.set_officer_id("off-sworn-1");
  return m;
}

v1::Mutation RecordCaseMutation() {
  v1::Mutation m = Envelope();
  m.mutable_record_case()->mutable_case_()->set_case_id(kCaseId);
  return m;
}

v1::Mutation AddEvidenceMutation() {
  v1::Mutation m = Envelope();
  v1::Evidence* e = m.mutable_add_evidence()->mutable_evidence();
  e->set_evidence_id(kOtherId);
  e->set_case_id(kCaseId);
  e->set_sha256(HexEncode(Sha256::Of("photo")));
  e->set_size_bytes(5);
  return m;
}

TEST_CASE("a well-formed mutation of every operation passes the shape check", "[mutation]") {
  std::vector<v1::Mutation> all;
  all.push_back(RecordCaseMutation());
  {
    v1::Mutation m = Envelope();
    auto* op = m.mutable_update_case_fields();
    op->set_case_id(kCaseId);
    auto* change = op->add_changes();
    change->set_field(v1::CASE_FIELD_PARTY_NAME);
    change->set_party_id("p1");
    change->set_value("Li Si");
    all.push_back(m);
  }
  all.push_back(AddEvidenceMutation());
  {
    v1::Mutation m = Envelope();
    auto* op = m.mutable_withdraw_evidence();
    op->set_case_id(kCaseId);
    op->set_evidence_id(kOtherId);
    op->set_reason("wrong case photographed");
    all.push_back(m);
  }
  {
    v1::Mutation m = Envelope();
    auto* t = m.mutable_issue_ticket()->mutable_ticket();
    t->set_ticket_id(kOtherId);
    t->set_case_id(kCaseId);
    all.push_back(m);
  }
  {
    v1::Mutation m = Envelope();
    auto* op = m.mutable_void_ticket();
    op->set_case_id(kCaseId);
    op->set_ticket_id(kOtherId);
    op->set_reason("wrong party");
    all.push_back(m);
  }
  {
    v1::Mutation m = Envelope();
    auto* d = m.mutable_record_no_penalty()->mutable_decision();
    d->set_decision_id(kOtherId);
    d->set_case_id(kCaseId);
    all.push_back(m);
  }
  {
    v1::Mutation m = Envelope();
    auto* op = m.mutable_transition_case();
    op->set_case_id(kCaseId);
    op->set_from_state(v1::CASE_STATE_REGISTERED);
    op->set_to_state(v1::CASE_STATE_FILED);
    all.push_back(m);
  }
  {
    v1::Mutation m = Envelope();
    auto* e = m.mutable_append_case_event()->mutable_event();
    e->set_event_id(kOtherId);
    e->set_case_id(kCaseId);
    e->set_kind(v1::CASE_EVENT_KIND_NOTE);
    all.push_back(m);
  }
  const char* names[] = {"record_case",       "update_case_fields", "add_evidence",
                         "withdraw_evidence", "issue_ticket",       "void_ticket",
                         "record_no_penalty", "transition_case",    "append_case_event"};
  REQUIRE(all.size() == 9);
  for (size_t i = 0; i < all.size(); ++i) {
    INFO(names[i]);
    CHECK(CheckMutationShape(all[i]).ok());
    CHECK(OperationName(all[i]) == names[i]);
    CHECK(CaseIdOf(all[i]) == kCaseId);
  }
}

TEST_CASE("a mutation with a missing envelope field is refused naming it", "[mutation]") {
  v1::Mutation m = RecordCaseMutation();
  m.set_mutation_id("m-1");
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "mutation_id \"m-1\" is not a UUID");
  m.clear_mutation_id();
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "mutation_id is missing");
  m = RecordCaseMutation();
  m.clear_device_id();
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "device_id is missing");
  m = RecordCaseMutation();
  m.set_device_seq(0);
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "device_seq is missing (sequences start at 1)");
  m = RecordCaseMutation();
  m.clear_hlc();
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "hlc.wall_ms is missing");
  m = RecordCaseMutation();
  m.clear_officer_id();
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "officer_id is missing");
}

TEST_CASE("a mutation without an operation is refused", "[mutation]") {
  const v1::Mutation m = Envelope();
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "the mutation carries no operation");
  CHECK(OperationName(m) == "none");
  CHECK(CaseIdOf(m).empty());
}

TEST_CASE("an operation with a malformed id is refused naming the field", "[mutation]") {
  v1::Mutation m = RecordCaseMutation();
  m.mutable_record_case()->mutable_case_()->set_case_id("not-a-uuid");
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "record_case.case.case_id \"not-a-uuid\" is not a UUID");
  m.mutable_record_case()->clear_case_();
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "record_case.case is missing");
  m = AddEvidenceMutation();
  m.mutable_add_evidence()->mutable_evidence()->clear_case_id();
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "add_evidence.evidence.case_id is missing");
}

TEST_CASE("evidence without a proper hash or size is refused", "[mutation]") {
  v1::Mutation m = AddEvidenceMutation();
  m.mutable_add_evidence()->mutable_evidence()->set_sha256("abc");
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "add_evidence.evidence.sha256 must be 64 lowercase hex characters");
  m = AddEvidenceMutation();
  m.mutable_add_evidence()->mutable_evidence()->clear_size_bytes();
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "add_evidence.evidence.size_bytes is missing");
}

TEST_CASE("withdrawals and voids need a reason, transitions a target", "[mutation]") {
  v1::Mutation m = Envelope();
  m.mutable_withdraw_evidence()->set_case_id(kCaseId);
  m.mutable_withdraw_evidence()->set_evidence_id(kOtherId);
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "withdraw_evidence.reason is missing");
  m = Envelope();
  m.mutable_void_ticket()->set_case_id(kCaseId);
  m.mutable_void_ticket()->set_ticket_id(kOtherId);
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "void_ticket.reason is missing");
  m = Envelope();
  m.mutable_transition_case()->set_case_id(kCaseId);
  m.mutable_transition_case()->set_from_state(v1::CASE_STATE_REGISTERED);
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "transition_case.to_state is not set");
  m = Envelope();
  auto* op = m.mutable_update_case_fields();
  op->set_case_id(kCaseId);
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "update_case_fields.changes is empty");
  op->add_changes()->set_field(v1::CASE_FIELD_PARTY_PHONE);
  CHECK_REFUSED(CheckMutationShape(m), kInvalid, v1::REASON_INVALID_ARGUMENT,
                "update_case_fields.changes[0].party_id is missing for a party field");
}

TEST_CASE("the content digest is stable and changes with the content", "[mutation]") {
  const v1::Mutation a = AddEvidenceMutation();
  v1::Mutation b = AddEvidenceMutation();
  CHECK(MutationContentDigest(a) == MutationContentDigest(b));
  CHECK(IsLowerHexSha256(MutationContentDigest(a)));
  b.mutable_add_evidence()->mutable_evidence()->set_description("night shot");
  CHECK(MutationContentDigest(a) != MutationContentDigest(b));
}

}  // namespace
}  // namespace palm::sync
