// palmctl's squad-leader, reviewer and admin commands end to end: palmctl
// run as a child process, like a squad leader runs it, against a real
// palm-server child on loopback (--insecure). The server's data is made the
// way devices make it: officers and catalogue through palmctl, devices
// enrolled through palmctl, cases pushed through SyncService.Push.
//
// Every command runs against a real palm-server on loopback, including the
// squad leader's review writes (conflicts resolve, rejected dismiss and
// resubmit) and the shift report.
#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "palm/v1/sync.grpc.pb.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace palm::testing {
namespace {

namespace v1 = palm::v1;

constexpr char kTown[] = "wutong";
constexpr char kSquad[] = "sq-a";
constexpr char kOtherSquad[] = "sq-b";
constexpr char kMatter[] = "SR-0101";  // sample catalogue: fast track, no-penalty list

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// <build>/tools/palmctl/palmctl, next to <build>/server/palm-server.
// A distinct, well-formed UUID (version 7 layout) per call.
std::string TestUuid() {
  static int counter = 0;
  char buf[40];
  std::snprintf(buf, sizeof buf, "0190a000-0000-7000-8000-%012x", ++counter);
  return buf;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// palm-server on loopback, palmctl pointed at it, and the squad's data.
class Squad {
 public:
  Squad() : server_(dir_.File("data")) {}

  // palmctl --insecure --server ADDR args...
  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {PalmctlBinary(), "--insecure", "--server", server_.address()});
    return RunCommand(args);
  }

  // Run(), which must succeed; returns stdout.
  std::string Must(const std::vector<std::string>& args) {
    CommandResult result = Run(args);
    INFO("palmctl " << Join(args) << "\nexit " << result.exit_code << "\nstderr: " << result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.err.empty());
    return result.out;
  }

  // Run() with --json, which must succeed and print JSON.
  nlohmann::json MustJson(std::vector<std::string> args) {
    args.push_back("--json");
    const std::string out = Must(args);
    INFO("stdout: " << out);
    return nlohmann::json::parse(out);
  }

  // Officers o1, o2 (sworn) of the squad, the sample catalogue, devices
  // dev-a1, dev-a2, dev-a3 of the squad and dev-b1 of another squad.
  void SetUp() {
    Must({"catalog", "load", std::string(PALM_SOURCE_DIR) + "/tools/data/sample-catalog.json"});
    for (const char* officer : {"o1", "o2"}) {
      Must({"officer", "add", "--id", officer, "--name", officer, "--role", "officer", "--town",
            kTown, "--squad", kSquad, "--sworn", "--certificate-number",
            std::string("ZJ-") + officer});
    }
    Must({"ca", "init", "--dir", dir_.File("ca"), "--bureau", "Test Bureau"});
    Enroll("dev-a1", kSquad);
    Enroll("dev-a2", kSquad);
    Enroll("dev-a3", kSquad);
    Enroll("dev-b1", kOtherSquad);
  }

  void Enroll(const std::string& device, const std::string& squad) {
    Must({"device", "enroll", "--ca", dir_.File("ca"), "--town", kTown, "--squad", squad,
          "--device-id", device, "--out", dir_.File(device)});
  }

  // Pushes `mutations` of `device` in one batch; returns their results.
  std::vector<v1::MutationResult> Push(const std::string& device,
                                       const std::vector<v1::Mutation>& mutations) {
    if (!sync_) {
      auto channel = grpc::CreateChannel(server_.address(), grpc::InsecureChannelCredentials());
      sync_ = v1::SyncService::NewStub(channel);
    }
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-palm-device-id", device);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = sync_->Push(&ctx);
    v1::PushRequest request;
    for (const v1::Mutation& m : mutations) *request.add_mutations() = m;
    REQUIRE(stream->Write(request));
    v1::PushResponse response;
    REQUIRE(stream->Read(&response));
    stream->WritesDone();
    grpc::Status status = stream->Finish();
    INFO(status.error_message());
    REQUIRE(status.ok());
    return {response.results().begin(), response.results().end()};
  }

  // A mutation of `device` numbered `seq`, by officer o1.
  v1::Mutation NewMutation(const std::string& device, uint64_t seq, int64_t wall_ms = 0) {
    v1::Mutation m;
    m.set_mutation_id(TestUuid());
    m.set_device_id(device);
    m.set_device_seq(seq);
    m.mutable_hlc()->set_wall_ms(wall_ms > 0 ? wall_ms : NowMs());
    m.set_officer_id("o1");
    return m;
  }

  v1::Mutation RecordCase(const std::string& device, uint64_t seq, std::string* case_id,
                          const std::string& matter = kMatter,
                          v1::Procedure procedure = v1::PROCEDURE_SUMMARY) {
    v1::Mutation m = NewMutation(device, seq);
    v1::Case* c = m.mutable_record_case()->mutable_case_();
    c->set_case_id(TestUuid());
    c->set_matter_code(matter);
    c->set_procedure(procedure);
    c->set_state(procedure == v1::PROCEDURE_SUMMARY ? v1::CASE_STATE_ISSUED
                                                    : v1::CASE_STATE_REGISTERED);
    c->set_town_id(kTown);
    c->set_description("水果摊占道经营");
    c->mutable_place()->set_address("梧桐街道 1 号");
    c->set_occurred_at_ms(NowMs());
    c->add_officer_ids("o1");
    c->add_officer_ids("o2");
    v1::Party* party = c->add_parties();
    party->set_party_id("party-1");
    party->set_kind(v1::PARTY_KIND_CITIZEN);
    party->set_name("张三");
    party->set_id_number("33010219900101123X");
    if (case_id != nullptr) *case_id = c->case_id();
    return m;
  }

  v1::Mutation UpdateDescription(const std::string& device, uint64_t seq,
                                 const std::string& case_id, const std::string& value,
                                 int64_t wall_ms) {
    v1::Mutation m = NewMutation(device, seq, wall_ms);
    m.mutable_update_case_fields()->set_case_id(case_id);
    v1::CaseFieldChange* change = m.mutable_update_case_fields()->add_changes();
    change->set_field(v1::CASE_FIELD_DESCRIPTION);
    change->set_value(value);
    return m;
  }

  v1::Mutation AddPhoto(const std::string& device, uint64_t seq, const std::string& case_id) {
    v1::Mutation m = NewMutation(device, seq);
    v1::Evidence* e = m.mutable_add_evidence()->mutable_evidence();
    e->set_evidence_id(TestUuid());
    e->set_case_id(case_id);
    e->set_kind(v1::EVIDENCE_KIND_PHOTO);
    e->set_mime_type("image/jpeg");
    e->set_sha256(std::string(64, 'c'));
    e->set_size_bytes(1234);
    e->set_captured_at_ms(NowMs());
    return m;
  }

  v1::Mutation Transition(const std::string& device, uint64_t seq, const std::string& case_id,
                          v1::CaseState from, v1::CaseState to) {
    v1::Mutation m = NewMutation(device, seq);
    m.mutable_transition_case()->set_case_id(case_id);
    m.mutable_transition_case()->set_from_state(from);
    m.mutable_transition_case()->set_to_state(to);
    m.mutable_transition_case()->set_reason("investigation done");
    return m;
  }

  // Records an ordinary-procedure case on dev-a3 from sequence `seq` and
  // takes it through its notice to legal review (five mutations). Returns
  // its case number.
  std::string CaseUnderReview(uint64_t seq) {
    std::string id;
    auto results = Push(
        "dev-a3",
        {RecordCase("dev-a3", seq, &id, kMatter, v1::PROCEDURE_ORDINARY),
         Transition("dev-a3", seq + 1, id, v1::CASE_STATE_REGISTERED, v1::CASE_STATE_FILED),
         Transition("dev-a3", seq + 2, id, v1::CASE_STATE_FILED, v1::CASE_STATE_INVESTIGATING),
         Transition("dev-a3", seq + 3, id, v1::CASE_STATE_INVESTIGATING, v1::CASE_STATE_NOTIFIED),
         Transition("dev-a3", seq + 4, id, v1::CASE_STATE_NOTIFIED, v1::CASE_STATE_LEGAL_REVIEW)});
    REQUIRE(results.size() == 5);
    for (const auto& r : results) {
      INFO(r.ShortDebugString());
      REQUIRE(r.outcome() == v1::OUTCOME_APPLIED);
    }
    return results[0].case_number();
  }

  // A shift: dev-a1 records a case with a photo and edits its description;
  // dev-a2, offline, had edited it earlier (a conflict: its value loses)
  // and recorded a case under a matter the catalogue does not have (a
  // rejection). dev-a3 never syncs.
  void WorkShift() {
    const int64_t t = NowMs();
    auto first = Push("dev-a1", {RecordCase("dev-a1", 1, &case_id), AddPhoto("dev-a1", 2, case_id),
                                 UpdateDescription("dev-a1", 3, case_id, "newer", t + 20)});
    REQUIRE(first.size() == 3);
    for (const auto& r : first) REQUIRE(r.outcome() == v1::OUTCOME_APPLIED);
    case_number = first[0].case_number();
    REQUIRE_FALSE(case_number.empty());
    v1::Mutation older = UpdateDescription("dev-a2", 1, case_id, "older", t + 10);
    v1::Mutation unknown = RecordCase("dev-a2", 2, nullptr, "XX-9999");
    rejected_id = unknown.mutation_id();
    auto second = Push("dev-a2", {older, unknown});
    REQUIRE(second.size() == 2);
    REQUIRE(second[0].outcome() == v1::OUTCOME_APPLIED_WITH_CONFLICT);
    REQUIRE(second[0].conflicts_size() == 1);
    conflict_id = second[0].conflicts(0).conflict_id();
    REQUIRE(second[1].outcome() == v1::OUTCOME_REJECTED);
  }

  const TempDir& dir() const { return dir_; }

  std::string case_id;
  std::string case_number;
  std::string conflict_id;
  std::string rejected_id;

 private:
  static std::string Join(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
    return out;
  }

  TempDir dir_;
  ServerProcess server_;
  std::unique_ptr<v1::SyncService::Stub> sync_;
};

// Today's date in Asia/Shanghai, YYYY-MM-DD (the shift report's day).
std::string TodayInShanghai() {
  const time_t seconds = static_cast<time_t>(NowMs() / 1000 + 8 * 3600);
  struct tm parts;
  gmtime_r(&seconds, &parts);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &parts);
  return text;
}

TEST_CASE("palmctl squad status shows each device's sync state", "[palmctl]") {
  Squad squad;
  squad.SetUp();
  squad.WorkShift();

  const std::string table = squad.Must({"squad", "status", "--squad", kSquad});
  INFO(table);
  CHECK(table.rfind("DEVICE  LAST SYNC", 0) == 0);
  CHECK(Contains(table, "never synced"));
  CHECK_FALSE(Contains(table, "dev-b1"));
  std::vector<std::string> lines;
  for (size_t at = 0, next; (next = table.find('\n', at)) != std::string::npos; at = next + 1) {
    lines.push_back(table.substr(at, next - at));
  }
  REQUIRE(lines.size() == 4);  // header + 3 devices
  // Columns line up: STATE starts at the same place on every line.
  const size_t state_column = lines[0].find("STATE");
  for (const std::string& line : lines) CHECK(line.size() > state_column);

  nlohmann::json json = squad.MustJson({"squad", "status", "--squad", kSquad});
  REQUIRE(json.at("devices").size() == 3);
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& d : json.at("devices")) by_id[d.at("device").at("device_id")] = d;
  CHECK(by_id.at("dev-a3").at("state") == "DEVICE_SYNC_STATE_NEVER_SYNCED");
  CHECK(by_id.at("dev-a3").at("last_sync_ms") == "0");
  CHECK(by_id.at("dev-a1").at("acknowledged_seq") == "3");
  CHECK(by_id.at("dev-a2").at("acknowledged_seq") == "2");
  CHECK(by_id.at("dev-a1").at("last_sync_ms") != "0");

  CHECK(squad.Must({"squad", "status", "--squad", "nobody"}) ==
        "squad nobody has no enrolled devices\n");
}

TEST_CASE("palmctl conflicts list and show the losing value, and resolve restores it",
          "[palmctl]") {
  Squad squad;
  squad.SetUp();
  squad.WorkShift();

  const std::string table = squad.Must({"conflicts", "list", "--squad", kSquad});
  INFO(table);
  CHECK(table.rfind("CONFLICT  ", 0) == 0);
  CHECK(Contains(table, squad.conflict_id));
  CHECK(Contains(table, squad.case_number));
  CHECK(Contains(table, "older"));
  CHECK(Contains(table, "newer"));
  CHECK(Contains(table, "dev-a2"));
  CHECK(Contains(table, "description"));

  nlohmann::json json = squad.MustJson({"conflicts", "list", "--case", squad.case_id, "--all"});
  REQUIRE(json.at("conflicts").size() == 1);
  const nlohmann::json& c = json.at("conflicts")[0];
  CHECK(c.at("loss").at("conflict_id") == squad.conflict_id);
  CHECK(c.at("loss").at("field") == "CASE_FIELD_DESCRIPTION");
  CHECK(c.at("loss").at("losing_value") == "older");
  CHECK(c.at("loss").at("winning_value") == "newer");
  CHECK(c.at("resolved") == false);
  CHECK(squad.Must({"conflicts", "list", "--squad", kOtherSquad}) == "no open conflicts\n");
  CHECK(squad.MustJson({"conflicts", "list", "--squad", kOtherSquad}).at("conflicts").empty());

  const std::string shown = squad.Must({"conflicts", "show", squad.conflict_id});
  INFO(shown);
  CHECK(Contains(shown, "conflict:     " + squad.conflict_id + "\n"));
  CHECK(Contains(shown, "losing value: older\n"));
  CHECK(Contains(shown, "kept value:   newer\n"));
  CHECK(Contains(shown, "state:        open\n"));
  CHECK(squad.MustJson({"conflicts", "show", squad.conflict_id}).at("case_number") ==
        squad.case_number);

  CommandResult missing = squad.Run({"conflicts", "show", "no-such-conflict"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err ==
        "palmctl: GetConflict failed: NOT_FOUND: conflict \"no-such-conflict\" is not on "
        "record\n");

  CHECK(squad.Must({"conflicts", "resolve", squad.conflict_id, "--restore-losing", "--note",
                    "the older value was right"}) ==
        "resolved conflict " + squad.conflict_id + ": restored the losing value \"older\"\n");
  const std::string resolved = squad.Must({"conflicts", "show", squad.conflict_id});
  INFO(resolved);
  CHECK(Contains(resolved, "resolved by operator:loopback"));
  nlohmann::json after = squad.MustJson({"conflicts", "show", squad.conflict_id});
  CHECK(after.at("resolved") == true);
  CHECK(after.at("resolution") == "restored the losing value: the older value was right");
  CHECK(squad.MustJson({"cases", "show", squad.case_id}).at("case").at("description") == "older");
  CHECK(squad.Must({"conflicts", "list", "--squad", kSquad}) == "no open conflicts\n");

  CommandResult again = squad.Run({"conflicts", "resolve", squad.conflict_id, "--note", "x"});
  CHECK(again.exit_code == 1);
  CHECK(again.err == "palmctl: ResolveConflict failed: FAILED_PRECONDITION: conflict " +
                         squad.conflict_id +
                         " was already resolved by operator:loopback: restored the losing "
                         "value: the older value was right\n");
}

TEST_CASE("palmctl rejected list and show what the server refused, resubmit and dismiss close it",
          "[palmctl]") {
  Squad squad;
  squad.SetUp();
  squad.WorkShift();

  const std::string table = squad.Must({"rejected", "list", "--squad", kSquad});
  INFO(table);
  CHECK(table.rfind("MUTATION  ", 0) == 0);
  CHECK(Contains(table, squad.rejected_id));
  CHECK(Contains(table, "record_case"));
  CHECK(Contains(table, "unknown matter: "));
  CHECK(Contains(table, "open"));

  nlohmann::json json = squad.MustJson({"rejected", "list", "--all"});
  REQUIRE(json.at("rejected").size() == 1);
  CHECK(json.at("rejected")[0].at("mutation").at("mutation_id") == squad.rejected_id);
  CHECK(json.at("rejected")[0].at("result").at("reason") == "REASON_UNKNOWN_MATTER");
  CHECK(squad.Must({"rejected", "list", "--squad", kOtherSquad}) == "no open rejected mutations\n");

  const std::string shown = squad.Must({"rejected", "show", squad.rejected_id});
  INFO(shown);
  CHECK(Contains(shown, "mutation:  " + squad.rejected_id + "\n"));
  CHECK(Contains(shown, "device:    dev-a2, seq 2\n"));
  CHECK(Contains(shown, "operation: record_case\n"));
  CHECK(Contains(shown, "reason:    unknown matter: "));
  // The officer's record is shown in full, nothing lost.
  CHECK(Contains(shown, "XX-9999"));
  CHECK(Contains(shown, "水果摊占道经营"));
  nlohmann::json one = squad.MustJson({"rejected", "show", squad.rejected_id});
  CHECK(one.at("mutation").at("record_case").at("case").at("matter_code") == "XX-9999");

  // The matter is still unknown: resubmitting gets the same refusal.
  const std::string still = squad.Must({"rejected", "resubmit", squad.rejected_id});
  INFO(still);
  CHECK(still.rfind("resubmitted mutation " + squad.rejected_id + ": ", 0) == 0);
  CHECK(Contains(still, " again ("));
  nlohmann::json resubmitted = squad.MustJson({"rejected", "resubmit", squad.rejected_id});
  CHECK(resubmitted.at("result").at("outcome") == "OUTCOME_REJECTED");
  CHECK(resubmitted.at("result").at("reason") == "REASON_UNKNOWN_MATTER");

  CHECK(squad.Must({"rejected", "dismiss", squad.rejected_id, "--note", "duplicate of 0123"}) ==
        "dismissed rejected mutation " + squad.rejected_id + ": duplicate of 0123\n");
  CHECK(squad.Must({"rejected", "list", "--squad", kSquad}).find(squad.rejected_id) ==
        std::string::npos);
  nlohmann::json dismissed = squad.MustJson({"rejected", "show", squad.rejected_id});
  CHECK(dismissed.at("dismissed") == true);
  CHECK(dismissed.at("dismissed_by") == "operator:loopback");
  CHECK(dismissed.at("note") == "duplicate of 0123");
  CommandResult closed = squad.Run({"rejected", "resubmit", squad.rejected_id});
  CHECK(closed.exit_code == 1);
  CHECK(closed.err == "palmctl: ResubmitRejected failed: FAILED_PRECONDITION: rejected mutation " +
                          squad.rejected_id +
                          " was already closed by operator:loopback: duplicate of 0123\n");
}

TEST_CASE(
    "palmctl rejected list follows pages of large rows and report shift counts what it left out",
    "[palmctl]") {
  Squad squad;
  squad.SetUp();
  // 13 rejected writes of 100 field changes of 4096 bytes each (about 5.5 MB:
  // more than one answer could carry), on a case the server does not know.
  std::vector<std::string> ids;
  uint64_t seq = 0;
  for (int batch = 0; batch < 13; ++batch) {
    v1::Mutation m =
        squad.UpdateDescription("dev-a1", ++seq, TestUuid(), std::string(4096, 'r'), NowMs());
    v1::CaseFieldChange change = m.update_case_fields().changes(0);
    for (int i = 1; i < 100; ++i) *m.mutable_update_case_fields()->add_changes() = change;
    auto results = squad.Push("dev-a1", {m});
    REQUIRE(results.size() == 1);
    REQUIRE(results[0].outcome() == v1::OUTCOME_REJECTED);
    ids.push_back(m.mutation_id());
  }

  nlohmann::json json = squad.MustJson({"rejected", "list", "--squad", kSquad});
  REQUIRE(json.at("rejected").size() == ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    CHECK(json.at("rejected")[i].at("mutation").at("mutation_id") == ids[i]);
  }
  CHECK_FALSE(json.contains("nextPageToken"));

  // The report lists what fits and says how many more there are; the totals
  // count all 13.
  const std::string today = TodayInShanghai();
  const std::string table = squad.Must({"report", "shift", "--squad", kSquad, "--date", today});
  INFO(table.substr(0, 3000));
  CHECK(Contains(table, "另有 12 条未列出\n"));
  CHECK(Contains(table, "(13)\n"));
  const std::string english =
      squad.Must({"report", "shift", "--squad", kSquad, "--date", today, "--lang", "en"});
  CHECK(Contains(english, "  12 more not listed\n"));
  nlohmann::json report = squad.MustJson({"report", "shift", "--squad", kSquad, "--date", today});
  CHECK(report.at("totals").at("open_rejections") == 13);
  CHECK(report.at("open_rejections").size() == 1);
  CHECK(report.at("not_listed").at("open_rejections") == 12);
}

TEST_CASE("palmctl cases list follows pages and cases show has timeline and receipts",
          "[palmctl]") {
  Squad squad;
  squad.SetUp();
  squad.WorkShift();
  std::string second_id;
  std::string third_id;
  squad.Push("dev-a1",
             {squad.RecordCase("dev-a1", 4, &second_id), squad.RecordCase("dev-a1", 5, &third_id)});

  const std::string table = squad.Must({"cases", "list", "--squad", kSquad});
  INFO(table);
  CHECK(table.rfind("CASE NUMBER  ", 0) == 0);
  CHECK(Contains(table, squad.case_number));
  CHECK(Contains(table, second_id));
  CHECK(Contains(table, "summary"));
  CHECK(Contains(table, "issued"));

  // Pages of one are followed to the end.
  nlohmann::json paged = squad.MustJson({"cases", "list", "--page-size", "1"});
  REQUIRE(paged.at("cases").size() == 3);
  CHECK(paged.at("cases")[0].at("case_id") == squad.case_id);
  CHECK(paged.at("cases")[2].at("case_id") == third_id);
  CHECK(paged.at("next_page_token") == "");
  // --limit stops early and says so.
  nlohmann::json limited = squad.MustJson({"cases", "list", "--limit", "2", "--page-size", "1"});
  CHECK(limited.at("cases").size() == 2);
  CHECK(limited.at("next_page_token") != "");
  CHECK(Contains(squad.Must({"cases", "list", "--limit", "1"}),
                 "(the first 1 cases; more match — raise --limit)\n"));
  // Filters reach the server.
  CHECK(squad.MustJson({"cases", "list", "--state", "issued"}).at("cases").size() == 3);
  CHECK(squad.MustJson({"cases", "list", "--state", "legal-review"}).at("cases").empty());
  CHECK(squad.Must({"cases", "list", "--town", "elsewhere"}) == "no cases match\n");
  CHECK(squad.MustJson({"cases", "list", "--to", "2020-01-01"}).at("cases").empty());
  CHECK(squad.MustJson({"cases", "list", "--from", "2020-01-01"}).at("cases").size() == 3);

  for (const std::string& ref : {squad.case_number, squad.case_id}) {
    const std::string shown = squad.Must({"cases", "show", ref});
    INFO(shown);
    CHECK(Contains(shown, "case number:   " + squad.case_number + "\n"));
    CHECK(Contains(shown, "case id:       " + squad.case_id + "\n"));
    CHECK(Contains(shown, "description:   newer\n"));
    CHECK(Contains(shown, "parties:       张三 (citizen)\n"));
    CHECK(Contains(shown, "\nTIMELINE ("));
    CHECK(Contains(shown, "\nEVIDENCE (1)\n"));
    CHECK(Contains(shown, std::string(64, 'c')));
    // The evidence service has not integrated the photo: no receipt yet.
    CHECK(Contains(shown, "no receipt"));
    CHECK(Contains(shown, "\nTICKETS (0)\n"));
  }
  nlohmann::json detail = squad.MustJson({"cases", "show", squad.case_number});
  CHECK(detail.at("case").at("case_id") == squad.case_id);
  REQUIRE(detail.at("evidence").size() == 1);
  CHECK_FALSE(detail.at("evidence")[0].contains("receipt"));

  // palmctl evidence list: the same record, with upload and capture-time state.
  const std::string evidence = squad.Must({"evidence", "list", squad.case_number});
  INFO(evidence);
  CHECK(evidence.rfind("EVIDENCE", 0) == 0);
  CHECK(Contains(evidence, detail.at("evidence")[0].at("evidence_id").get<std::string>()));
  nlohmann::json listed = squad.MustJson({"evidence", "list", squad.case_id});
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].at("sha256") == std::string(64, 'c'));
  CHECK(listed[0].at("uploaded") == false);
  CHECK(listed[0].at("has_receipt") == false);

  CommandResult missing = squad.Run({"cases", "show", "桐综执罚〔1999〕0001号"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err ==
        "palmctl: GetCase failed: NOT_FOUND: no case with id or number \"桐综执罚〔1999〕0001号\" "
        "is on record\n");
}

TEST_CASE("palmctl catalog load --calendar adds the working-day calendar (Art. 85)", "[palmctl]") {
  Squad squad;
  const std::string data = std::string(PALM_SOURCE_DIR) + "/tools/data/";
  CommandResult wrong = squad.Run({"catalog", "load", data + "sample-catalog.json", "--calendar",
                                   data + "sample-catalog.json"});
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err == "palmctl: " + data +
                         "sample-catalog.json: a calendar file holds \"calendar\" (one entry per "
                         "year) and no matters\n");
  const std::string loaded = squad.Must({"catalog", "load", data + "sample-catalog.json",
                                         "--calendar", data + "sample-calendar.json"});
  CHECK(Contains(loaded, " matters, working-day calendar 2026, 2027): SAMPLE"));
  nlohmann::json json = squad.MustJson({"catalog", "show"});
  REQUIRE(json.at("calendar").size() == 2);
  CHECK(json.at("calendar")[0].at("year") == 2026);
}

TEST_CASE("palmctl catalog load checks the file and catalog show prints it", "[palmctl]") {
  Squad squad;
  const std::string sample = std::string(PALM_SOURCE_DIR) + "/tools/data/sample-catalog.json";
  CHECK(Contains(squad.Must({"catalog", "load", sample}), "loaded catalogue version 1 ("));
  const std::string shown = squad.Must({"catalog", "show"});
  INFO(shown);
  CHECK(Contains(shown, "version:   1\n"));
  CHECK(Contains(shown, "label:     SAMPLE"));
  CHECK(Contains(shown, "SR-0101  市容环境"));
  CHECK(Contains(shown, "50.00–200.00"));
  nlohmann::json json = squad.MustJson({"catalog", "show"});
  CHECK(json.at("version") == "1");
  CHECK(json.at("matters")[0].at("code") == "SR-0101");

  // The same version again: the server's refusal, word for word.
  CommandResult again = squad.Run({"catalog", "load", sample});
  CHECK(again.exit_code == 1);
  CHECK(again.err ==
        "palmctl: LoadCatalog failed: FAILED_PRECONDITION: catalogue version 1 is not newer "
        "than the current version 1\n");

  // Bad files are refused before the server is asked, naming the problem
  // and where it is.
  const TempDir& dir = squad.dir();
  const auto write = [&dir](const std::string& name, const std::string& text) {
    std::ofstream(dir.File(name)) << text;
    return dir.File(name);
  };
  const std::string syntax =
      write("syntax.json", "{\n \"version\": 2,\n \"matters\": [\n  {\"code\": \"A\", }\n ]\n}\n");
  CommandResult r = squad.Run({"catalog", "load", syntax});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "palmctl: " + syntax +
                     ": not JSON: parse error at line 4, column 17: syntax error while parsing "
                     "object key - unexpected '}'; expected string literal\n");
  const std::string typo = write(
      "typo.json",
      R"({"version": 2, "matters": [{"code": "A", "name": "n", "legal_basis": "b"}, {"code": "B", "nmae": "n"}]})");
  r = squad.Run({"catalog", "load", typo});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "palmctl: " + typo +
                     ": catalogue JSON is not a palm.v1.Catalog: (matters[1]) nmae: Cannot find "
                     "field.\n");
  const std::string twice = write(
      "twice.json",
      R"({"version": 2, "matters": [{"code": "A", "name": "n", "legal_basis": "b"}, {"code": "A", "name": "n", "legal_basis": "b"}]})");
  r = squad.Run({"catalog", "load", twice});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "palmctl: " + twice + ": matter code A appears twice\n");
  r = squad.Run({"catalog", "load", dir.File("missing.json")});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "palmctl: cannot read the catalogue file " + dir.File("missing.json") + "\n");
  CHECK(squad.MustJson({"catalog", "show"}).at("version") == "1");
}

TEST_CASE("palmctl officer add and list, with the secret from a file", "[palmctl]") {
  Squad squad;
  const TempDir& dir = squad.dir();
  std::ofstream(dir.File("pin")) << "246810\n";
  const std::string added =
      squad.Must({"officer", "add", "--id", "o9", "--name", "王五", "--role", "squad-leader",
                  "--town", kTown, "--squad", kSquad, "--sworn", "--certificate-number", "33000123",
                  "--legal-reviewer", "--secret-file", dir.File("pin")});
  CHECK(
      added ==
      "added officer o9 (王五, squad leader, sworn, legal reviewer) to town wutong, squad sq-a\n");
  // Sworn without a credential number: added, and told that they do not count.
  CHECK(squad.Must({"officer", "add", "--id", "o7", "--name", "孙七", "--role", "officer", "--town",
                    kTown, "--sworn"}) ==
        "added officer o7 (孙七, officer, sworn) to town wutong; no secret set; no credential "
        "number: does not count as one of the two law-enforcement officers (Art. 42)\n");
  nlohmann::json aux = squad.MustJson(
      {"officer", "add", "--id", "x1", "--name", "赵六", "--role", "auxiliary", "--town", kTown});
  CHECK(aux.at("officer").at("role") == "ROLE_AUXILIARY");
  CHECK(aux.at("officer").at("active") == true);
  CHECK_FALSE(Contains(aux.dump(), "246810"));

  const std::string table = squad.Must({"officer", "list", "--town", kTown});
  INFO(table);
  CHECK(table.rfind("OFFICER  NAME  ROLE          SWORN  CERTIFICATE", 0) == 0);
  CHECK(Contains(table, "o9       王五  squad leader  yes    33000123"));
  CHECK(Contains(table, "x1       赵六  auxiliary     no     -"));
  nlohmann::json json = squad.MustJson({"officer", "list", "--squad", kSquad});
  REQUIRE(json.at("officers").size() == 1);
  CHECK(json.at("officers")[0].at("certificate_number") == "33000123");
  CHECK(json.at("officers")[0].at("legal_reviewer") == true);
  CHECK(Contains(table, "REVIEWER"));

  // stdin is empty here: no secret is refused rather than set empty.
  CommandResult empty = squad.Run({"officer", "add", "--id", "o8", "--name", "n", "--role",
                                   "officer", "--town", kTown, "--secret-stdin"});
  CHECK(empty.exit_code == 1);
  CHECK(empty.err == "palmctl: stdin holds no secret\n");
}

TEST_CASE("palmctl review queue lists cases under legal review, approve and reject by number",
          "[palmctl]") {
  Squad squad;
  squad.SetUp();
  CHECK(squad.Must({"review", "queue"}) == "no cases await legal review\n");
  const std::string first = squad.CaseUnderReview(1);
  const std::string second = squad.CaseUnderReview(6);

  const std::string queue = squad.Must({"review", "queue"});
  INFO(queue);
  CHECK(queue.rfind("CASE NUMBER  ", 0) == 0);
  CHECK(Contains(queue, first));
  CHECK(Contains(queue, second));
  nlohmann::json json = squad.MustJson({"review", "queue"});
  REQUIRE(json.at("cases").size() == 2);
  CHECK(json.at("cases")[0].at("state") == "CASE_STATE_LEGAL_REVIEW");

  CHECK(squad.Must({"review", "approve", first, "--reason", "事实清楚，依据充分"}) ==
        "approved case " + first + " (now legal review): 事实清楚，依据充分\n");
  CHECK(squad.Must({"review", "reject", second, "--reason", "证据不足"}) ==
        "rejected case " + second + " (now investigating): 证据不足\n");
  // The decision is on the case's timeline.
  CHECK(Contains(squad.Must({"cases", "show", second}), "sent back to investigation: 证据不足"));
  nlohmann::json after = squad.MustJson({"review", "queue"});
  REQUIRE(after.at("cases").size() == 1);
  CHECK(after.at("cases")[0].at("case_number") == first);
  CHECK(after.at("cases")[0].at("review_approved") == true);

  // A case not under review: the server's refusal, word for word.
  CommandResult again = squad.Run({"review", "reject", second, "--reason", "x"});
  CHECK(again.exit_code == 1);
  CHECK(again.err == "palmctl: ReviewDecision failed: FAILED_PRECONDITION: case " + second +
                         " is in state CASE_STATE_INVESTIGATING, not CASE_STATE_LEGAL_REVIEW; "
                         "only a case under legal review can be approved or sent back\n");
  CommandResult unknown = squad.Run({"review", "approve", "no-such-case", "--reason", "x"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err ==
        "palmctl: GetCase failed: NOT_FOUND: no case with id or number \"no-such-case\" is on "
        "record\n");
}

TEST_CASE("palmctl audit verify checks the whole audit chain", "[palmctl]") {
  Squad squad;
  squad.SetUp();
  const std::string out = squad.Must({"audit", "verify"});
  INFO(out);
  CHECK(out.rfind("the audit log is intact: ", 0) == 0);
  CHECK(Contains(out, " entries verified\n"));
  nlohmann::json json = squad.MustJson({"audit", "verify"});
  CHECK(json.at("ok") == true);
  // The set-up wrote the catalogue, two officers and four devices.
  CHECK(std::stoull(json.at("entries").get<std::string>()) >= 7);
}

TEST_CASE("palmctl report shift prints the squad's day as a table, csv, json and html",
          "[palmctl]") {
  Squad squad;
  squad.SetUp();
  squad.WorkShift();
  squad.Must({"town", "add", "--id", kTown, "--name", "梧桐街道"});
  squad.Must({"squad", "add", "--id", kSquad, "--town", kTown, "--name", "梧桐一中队"});
  const std::string today = TodayInShanghai();

  // Chinese by default, with the squad's and town's names beside their ids
  // and the bureau's name (no --cert-dir here, so from --bureau).
  const std::string table = squad.Must(
      {"report", "shift", "--squad", kSquad, "--date", today, "--bureau", "测试市综合行政执法局"});
  INFO(table);
  CHECK(table.rfind("测试市综合行政执法局\n执法日报\n中队:     梧桐一中队 (" + std::string(kSquad) +
                        ")\n镇街:     梧桐街道 (" + std::string(kTown) + ")\n日期:     " + today +
                        "\n生成时间: " + today.substr(0, 4),
                    0) == 0);
  CHECK(Contains(table, squad.case_number));
  CHECK(Contains(table, "罚款合计（元）  0.00\n"));
  CHECK(Contains(table, "已取得存证回执  0\n"));
  CHECK(Contains(table, "未处理冲突      1\n"));
  CHECK(Contains(table, "终端同步状态 (3)\n"));
  const std::string english =
      squad.Must({"report", "shift", "--squad", kSquad, "--date", today, "--lang", "en"});
  CHECK(english.rfind("Shift report\nSquad:     梧桐一中队 (" + std::string(kSquad) + ")\n", 0) ==
        0);
  CHECK(Contains(english, "Fines total (yuan)     0.00\n"));

  const std::string csv =
      squad.Must({"report", "shift", "--squad", kSquad, "--date", today, "--format", "csv"});
  INFO(csv);
  CHECK(csv.rfind("\xEF\xBB\xBF执法日报\r\n中队,梧桐一中队 (" + std::string(kSquad) + ")\r\n", 0) ==
        0);
  CHECK(Contains(csv, "\r\n新立案件,1\r\n"));
  CHECK(Contains(csv, "\r\n未处理冲突,1\r\n"));
  CHECK(Contains(csv, "\r\n未处理被拒写入,1\r\n"));

  nlohmann::json json = nlohmann::json::parse(
      squad.Must({"report", "shift", "--squad", kSquad, "--date", today, "--format", "json"}));
  CHECK(json.at("squad_id") == kSquad);
  CHECK(json.at("date") == today);
  REQUIRE(json.at("cases_opened").size() == 1);
  CHECK(json.at("cases_opened")[0].at("case_number") == squad.case_number);
  CHECK(json.at("evidence").size() == 1);
  CHECK(json.at("open_conflicts").size() == 1);
  CHECK(json.at("open_rejections").size() == 1);
  CHECK(json.at("squad_name") == "梧桐一中队");
  CHECK(json.at("totals").at("cases_opened") == 1);
  CHECK(json.at("totals").at("fines_total_yuan") == 0.0);
  CHECK(json.at("devices").size() == 3);
  CHECK(json.at("unavailable").empty());

  const std::string file = squad.dir().File("report.html");
  CommandResult html = squad.Run(
      {"report", "shift", "--squad", kSquad, "--date", today, "--format", "html", "--out", file});
  CHECK(html.exit_code == 0);
  CHECK(html.out.empty());
  CHECK(html.err == "wrote the shift report of squad " + std::string(kSquad) + " for " + today +
                        " to " + file + "\n");
  std::ifstream in(file);
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(Contains(page, squad.case_number));

  // Another day of the squad: nothing opened, the open issues still listed.
  nlohmann::json quiet = nlohmann::json::parse(squad.Must(
      {"report", "shift", "--squad", kSquad, "--date", "2020-01-01", "--format", "json"}));
  CHECK(quiet.at("cases_opened").empty());
  CHECK(quiet.at("open_rejections").size() == 1);

  // A refused report writes no file.
  const std::string refused_file = squad.dir().File("refused");
  CommandResult bad = squad.Run({"report", "shift", "--squad", "nobody", "--date", today,
                                 "--format", "html", "--out", refused_file});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err == "palmctl: ShiftReport failed: NOT_FOUND: squad nobody is not on record\n");
  CHECK_FALSE(std::filesystem::exists(refused_file));
}

TEST_CASE(
    "every palmctl squad, review and admin command prints usage and exits 2 on wrong "
    "arguments",
    "[palmctl]") {
  struct Case {
    std::vector<std::string> args;
    std::string usage;  // the usage line of the command concerned
    std::string says;   // part of the error line
  };
  const std::vector<Case> cases = {
      {{"squad"}, "Usage: palmctl squad", "subcommand is required"},
      {{"squad", "status", "--squad", "s", "extra"},
       "Usage: palmctl squad status",
       "unexpected arguments: extra"},
      {{"conflicts"}, "Usage: palmctl conflicts", "subcommand is required"},
      {{"conflicts", "list", "--bogus"},
       "Usage: palmctl conflicts list",
       "unexpected arguments: --bogus"},
      {{"conflicts", "show"}, "Usage: palmctl conflicts show", "id is required"},
      {{"conflicts", "resolve", "c1"}, "Usage: palmctl conflicts resolve", "--note is required"},
      {{"rejected"}, "Usage: palmctl rejected", "subcommand is required"},
      {{"rejected", "list", "--squad"}, "Usage: palmctl rejected list", "--squad"},
      {{"rejected", "show"}, "Usage: palmctl rejected show", "mutation_id is required"},
      {{"rejected", "dismiss", "m1"}, "Usage: palmctl rejected dismiss", "--note is required"},
      {{"rejected", "resubmit"}, "Usage: palmctl rejected resubmit", "mutation_id is required"},
      {{"cases"}, "Usage: palmctl cases", "subcommand is required"},
      {{"cases", "list", "--state", "bogus"},
       "Usage: palmctl cases list",
       "unknown case state \"bogus\""},
      {{"cases", "list", "--from", "2026-02-30"},
       "Usage: palmctl cases list",
       "\"2026-02-30\" is not a date: give today, yesterday or YYYY-MM-DD"},
      {{"cases", "list", "--to", "someday"}, "Usage: palmctl cases list", "is not a date"},
      {{"cases", "list", "--limit", "0"}, "Usage: palmctl cases list", "--limit"},
      {{"cases", "show"}, "Usage: palmctl cases show", "ref is required"},
      {{"review"}, "Usage: palmctl review", "subcommand is required"},
      {{"review", "queue", "extra"}, "Usage: palmctl review queue", "unexpected arguments: extra"},
      {{"review", "approve", "c1"}, "Usage: palmctl review approve", "--reason is required"},
      {{"review", "reject", "--reason", "r"}, "Usage: palmctl review reject", "case is required"},
      {{"catalog"}, "Usage: palmctl catalog", "subcommand is required"},
      {{"catalog", "load"}, "Usage: palmctl catalog load", "file is required"},
      {{"catalog", "show", "extra"}, "Usage: palmctl catalog show", "unexpected arguments: extra"},
      {{"officer"}, "Usage: palmctl officer", "subcommand is required"},
      {{"officer", "add", "--id", "o", "--name", "n", "--town", "t"},
       "Usage: palmctl officer add",
       "--role is required"},
      {{"officer", "add", "--id", "o", "--name", "n", "--role", "captain", "--town", "t"},
       "Usage: palmctl officer add",
       "unknown role \"captain\""},
      {{"officer", "add", "--id", "o", "--name", "n", "--role", "officer", "--town", "t",
        "--certificate-number", "1"},
       "Usage: palmctl officer add",
       "--certificate-number requires --sworn"},
      {{"officer", "add", "--id", "o", "--name", "n", "--role", "officer", "--town", "t",
        "--secret-file", "f", "--secret-stdin"},
       "Usage: palmctl officer add",
       "excludes"},
      {{"officer", "list", "--bogus"},
       "Usage: palmctl officer list",
       "unexpected arguments: --bogus"},
      {{"audit"}, "Usage: palmctl audit", "subcommand is required"},
      {{"audit", "verify", "extra"}, "Usage: palmctl audit verify", "unexpected arguments: extra"},
      {{"report"}, "Usage: palmctl report", "subcommand is required"},
      {{"report", "shift", "--squad", "s", "--date", "14.03.2026"},
       "Usage: palmctl report shift",
       "is not a date: give today, yesterday or YYYY-MM-DD"},
      {{"report", "shift", "--squad", "s", "--date", "2026-03-14", "--format", "pdf"},
       "Usage: palmctl report shift",
       "--format"},
  };
  const std::string palmctl = PalmctlBinary();
  for (const Case& c : cases) {
    std::vector<std::string> argv = c.args;
    argv.insert(argv.begin(), palmctl);
    CommandResult result = RunCommand(argv);
    std::string line;
    for (const auto& a : c.args) line += " " + a;
    INFO("palmctl" << line << "\nstderr: " << result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.err.rfind("palmctl: ", 0) == 0);
    CHECK(Contains(result.err, c.says));
    CHECK(Contains(result.err, c.usage));
    CHECK(result.out.empty());
  }
}

TEST_CASE("every new palmctl command has --help", "[palmctl]") {
  const std::string palmctl = PalmctlBinary();
  const std::vector<std::vector<std::string>> commands = {
      {"squad", "status"},      {"conflicts", "list"},    {"conflicts", "show"},
      {"conflicts", "resolve"}, {"rejected", "list"},     {"rejected", "show"},
      {"rejected", "dismiss"},  {"rejected", "resubmit"}, {"cases", "list"},
      {"cases", "show"},        {"review", "queue"},      {"review", "approve"},
      {"review", "reject"},     {"catalog", "load"},      {"catalog", "show"},
      {"officer", "add"},       {"officer", "list"},      {"audit", "verify"},
      {"report", "shift"}};
  for (const auto& command : commands) {
    CommandResult result = RunCommand({palmctl, command[0], command[1], "--help"});
    INFO(command[0] << " " << command[1]);
    CHECK(result.exit_code == 0);
    CHECK(Contains(result.out, "Usage: palmctl " + command[0] + " " + command[1]));
  }
}

}  // namespace
}  // namespace palm::testing
