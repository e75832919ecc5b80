// The bounded contract's table (sync/limits.h) against its copy in
// docs/protocol.md, and the request walk (sync/request_check.h) at and over
// each kind of limit.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>

#include "palm/v1/admin.pb.h"
#include "palm/v1/auth.pb.h"
#include "palm/v1/evidence.pb.h"
#include "palm/v1/sync.pb.h"
#include "sync/limits.h"
#include "sync/request_check.h"
#include "sync/status.h"

namespace v1 = palm::v1;
using palm::sync::CheckMessage;
using palm::sync::CheckMutation;

TEST_CASE("the limits table of docs/protocol.md is the table of sync/limits.cc") {
  std::ifstream in(std::string(PALM_SOURCE_DIR) + "/docs/protocol.md");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const size_t begin = doc.find("<!-- limits-table: begin -->");
  const size_t end = doc.find("<!-- limits-table: end -->");
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  const std::string table = doc.substr(begin, end - begin);
  std::vector<std::pair<std::string, size_t>> documented;
  const std::regex row("\\| `([^`]+)` \\| ([0-9]+) \\|");
  for (auto it = std::sregex_iterator(table.begin(), table.end(), row);
       it != std::sregex_iterator(); ++it) {
    documented.emplace_back((*it)[1].str(), std::stoul((*it)[2].str()));
  }
  std::vector<std::pair<std::string, size_t>> coded;
  for (const auto& limit : palm::sync::FieldLimits()) coded.emplace_back(limit.key, limit.max);
  REQUIRE(documented == coded);
}

TEST_CASE("every field the limits table names is a field of the contract") {
  // Link every file's descriptors.
  (void)v1::PushRequest::descriptor();
  (void)v1::UploadChunk::descriptor();
  (void)v1::SignInRequest::descriptor();
  (void)v1::EnrollDeviceRequest::descriptor();
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto& limit : palm::sync::FieldLimits()) {
    const std::string key = limit.key;
    if (key == "*_id" || key == "string" || key == "bytes" || key == "repeated") continue;
    INFO(key);
    REQUIRE(pool->FindFieldByName(key) != nullptr);
  }
}

TEST_CASE("a string is accepted at its limit and refused one byte over it, quoting a prefix") {
  v1::SignInRequest request;
  request.set_officer_id(std::string(128, 'o'));
  request.set_secret(std::string(256, 's'));
  REQUIRE(CheckMessage(request).ok());
  request.set_officer_id(std::string(129, 'o'));
  REQUIRE(CheckMessage(request) ==
          absl::InvalidArgumentError(
              "officer_id: at most 128 bytes, this one has 129 (\"oooooooooooooooo…\")"));
  request.set_officer_id(std::string(1024 * 1024, 'o'));
  REQUIRE(CheckMessage(request).message() ==
          "officer_id: at most 128 bytes, this one has 1048576 (\"oooooooooooooooo…\")");
  request.set_officer_id("o");
  request.set_secret(std::string(257, 's'));
  REQUIRE(CheckMessage(request).message() ==
          "secret: at most 256 bytes, this one has 257 (\"ssssssssssssssss…\")");
}

TEST_CASE("a mutation over a limit is refused with REASON_INVALID_ARGUMENT naming the path") {
  v1::Mutation m;
  m.set_mutation_id("m-1");
  v1::Case* c = m.mutable_record_case()->mutable_case_();
  c->set_description(std::string(4096, 'd'));
  v1::Party* p = c->add_parties();
  p->set_name(std::string(256, 'n'));
  REQUIRE(CheckMutation(m).ok());
  p->set_name(std::string(257, 'n'));
  absl::Status s = CheckMutation(m);
  REQUIRE(palm::sync::ReasonOf(s) == v1::REASON_INVALID_ARGUMENT);
  REQUIRE(s.message() ==
          "record_case.case.parties[0].name: at most 256 bytes, this one has 257 "
          "(\"nnnnnnnnnnnnnnnn…\")");
  p->set_name("n");
  c->set_description(std::string(4097, 'd'));
  REQUIRE(CheckMutation(m).message() ==
          "record_case.case.description: at most 4096 bytes, this one has 4097 "
          "(\"dddddddddddddddd…\")");
  c->set_description("d");
  for (int i = 1; i < 20; ++i) *c->add_parties() = *p;
  REQUIRE(CheckMutation(m).ok());
  *c->add_parties() = *p;
  REQUIRE(CheckMutation(m).message() ==
          "record_case.case.parties: at most 20 elements, this one has 21");
}

TEST_CASE("an unknown enum value and a string that is not UTF-8 are named by path") {
  v1::Mutation m;
  v1::Ticket* t = m.mutable_issue_ticket()->mutable_ticket();
  t->add_remedies()->set_kind(v1::REMEDY_KIND_RECONSIDERATION);
  t->add_remedies()->set_kind(static_cast<v1::RemedyKind>(99));
  REQUIRE(CheckMutation(m).message() ==
          "issue_ticket.ticket.remedies[1].kind: unknown enum value 99 for palm.v1.RemedyKind");
  t->mutable_remedies(1)->set_kind(v1::REMEDY_KIND_RECONSIDERATION);
  REQUIRE(CheckMutation(m).ok());
  t->set_violation(std::string("\xe4\xb8", 2));
  REQUIRE(CheckMutation(m).message() == "issue_ticket.ticket.violation: not valid UTF-8");
}

TEST_CASE("IsUtf8 accepts well-formed UTF-8 only") {
  using palm::sync::IsUtf8;
  REQUIRE(IsUtf8(""));
  REQUIRE(IsUtf8("张三 abc \xf0\x9f\x98\x80"));
  REQUIRE_FALSE(IsUtf8("\xc0\xaf"));          // overlong
  REQUIRE_FALSE(IsUtf8("\xed\xa0\x80"));      // surrogate
  REQUIRE_FALSE(IsUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  REQUIRE_FALSE(IsUtf8("\xe4\xb8"));          // cut short
  REQUIRE_FALSE(IsUtf8("\xff"));
}
