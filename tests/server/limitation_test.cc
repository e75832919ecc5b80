// Art. 36 through a real server: a case recorded after the 2 years is
// rejected with the law's sentence, and recorded once the exception that
// applies is given, which the case keeps.
#include <catch2/catch.hpp>

#include "tests/server/after_decision.h"

namespace palm::testing {
namespace {

TEST_CASE(
    "the server rejects a case recorded after the limitation period unless its exception is "
    "recorded (Art. 36)") {
  CaseFixture f;
  std::string id;
  v1::Mutation m = RecordCase("dev-a1", 2, &id);
  m.mutable_record_case()->mutable_case_()->set_occurred_at_ms(At("2024-03-15"));
  m = Dated(m, At("2026-03-16", 9));
  REQUIRE_REJECTED(f.PushOne(m), v1::REASON_LIMITATION_PERIOD,
                   "a violation not discovered within 2 years is not penalised (Art. 36): it ended "
                   "on 2024-03-15, the period ended on 2026-03-15, and it was discovered on "
                   "2026-03-16; the case is not recorded unless the exception that applies is: "
                   "life, health or financial security harmed (5 years) or a law that provides "
                   "otherwise (limitation_exception)");
  // Nothing was stored: the same case id is free.
  v1::LimitationException* x =
      m.mutable_record_case()->mutable_case_()->mutable_limitation_exception();
  x->set_kind(v1::LIMITATION_EXCEPTION_KIND_LIFE_HEALTH_FINANCE);
  x->set_basis("违规燃气管道施工致三户居民一氧化碳中毒送医");
  m.set_device_seq(3);
  m.set_mutation_id(sync::NewUuidV7());
  REQUIRE_APPLIED(f.PushOne(m));
  const v1::Case c = f.client.GetCase(id).case_();
  CHECK(c.limitation_exception().kind() == v1::LIMITATION_EXCEPTION_KIND_LIFE_HEALTH_FINANCE);
  CHECK(c.limitation_exception().basis() == "违规燃气管道施工致三户居民一氧化碳中毒送医");
}

}  // namespace
}  // namespace palm::testing
