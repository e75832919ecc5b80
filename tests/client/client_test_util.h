// Shared fixtures for the client-lib tests: a device with a real SQLite file
// in a temp dir, the sample catalogue, a small officer roster and a leased
// block of ticket numbers.
#ifndef PALM_TESTS_CLIENT_CLIENT_TEST_UTIL_H_
#define PALM_TESTS_CLIENT_CLIENT_TEST_UTIL_H_

#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>

#include "client-lib/src/catalog_json.h"
#include "client-lib/src/client_internal.h"
#include "client-lib/src/status_internal.h"
#include "palm/client.h"
#include "support/temp_dir.h"
#include "sync/rules.h"

namespace palm::testing {

inline constexpr char kDeviceId[] = "device-test-01";
inline constexpr char kSworn[] = "officer-sworn";
inline constexpr char kSworn2[] = "officer-sworn-2";
inline constexpr char kAux1[] = "officer-aux-1";
inline constexpr char kAux2[] = "officer-aux-2";
inline constexpr char kTown[] = "town-wutong";
// Sample-catalogue matters used by the tests.
inline constexpr char kFastTrackNoPenalty[] =
    "SR-0101";                                        // 50..200 yuan, fast track, no-penalty list
inline constexpr char kOrdinaryOnly[] = "SR-0105";    // not fast track, not on the list
inline constexpr char kMajor[] = "GH-0501";           // major: Art. 58 review
inline constexpr char kLargeFastTrack[] = "SR-0108";  // 200..2000 yuan, fast track

inline v1::Catalog SampleCatalog() {
  absl::StatusOr<v1::Catalog> c =
      internal::LoadCatalogFile(std::string(PALM_SOURCE_DIR) + "/tools/data/sample-catalog.json");
  REQUIRE(c.ok());
  return *c;
}

inline v1::Officer MakeOfficer(const std::string& id, bool sworn) {
  v1::Officer o;
  o.set_officer_id(id);
  o.set_name(id);
  o.set_role(sworn ? v1::ROLE_OFFICER : v1::ROLE_AUXILIARY);
  o.set_sworn(sworn);
  if (sworn) o.set_certificate_number("ZJ-" + id);
  o.set_active(true);
  o.set_town_id(kTown);
  return o;
}

// The first row of PRAGMA integrity_check on the database at `path` ("ok"
// when it is intact), through a connection of its own.
inline std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK);
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW)
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// The first column of the first row of `sql` on the database at `path`, as
// text ("" when there is no row).
inline std::string RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(stmt, 0);
    out = t ? reinterpret_cast<const char*>(t) : "";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// Runs `sql` on the database at `path` with a plain connection.
inline void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

// A forked child that runs `body(fd)` with the write end of a pipe; `body`
// must end the child with _exit. The parent gets the pid and the read end.
struct ForkedChild {
  pid_t pid;
  int fd;
};
inline ForkedChild ForkChild(const std::function<void(int)>& body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    body(fds[1]);
    _exit(127);  // body returned
  }
  ::close(fds[1]);
  return ForkedChild{pid, fds[0]};
}

// Everything left to read from `fd`, which is then closed.
inline std::string ReadToEnd(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
  ::close(fd);
  return out;
}

// A device: its database lives in dir/data, its key in dir/keys.
struct Device {
  TempDir dir;
  std::atomic<int64_t> now_ms{1767225600000};  // 2026-01-01T00:00:00Z
  Durability durability = Durability::kFull;   // takes effect at Reopen()
  std::unique_ptr<Client> client;

  std::string db_path() const { return dir.File("data") + "/palm.db"; }
  std::string key_dir() const { return dir.File("keys"); }

  ClientOptions Options() {
    ClientOptions o;
    o.db_path = db_path();
    o.device_id = kDeviceId;
    o.key_provider = std::make_shared<FileKeyProvider>(key_dir());
    o.TEST_now_ms = [this] { return now_ms.load(); };
    o.durability = durability;
    return o;
  }

  // Opens the client; with `seed`, installs the reference data a sync would.
  explicit Device(bool seed = true, int64_t ticket_numbers = 100) {
    std::filesystem::create_directories(dir.File("data"));
    Reopen();
    if (!seed) return;
    internal::DeviceStore& s = store();
    REQUIRE(s.ApplyCatalog(SampleCatalog()).ok());
    REQUIRE(s.UpsertOfficers({MakeOfficer(kSworn, true), MakeOfficer(kSworn2, true),
                              MakeOfficer(kAux1, false), MakeOfficer(kAux2, false)})
                .ok());
    if (ticket_numbers > 0) {
      v1::TicketLease lease;
      lease.set_lease_id("lease-1");
      lease.set_device_id(kDeviceId);
      lease.set_first_number(1001);
      lease.set_last_number(1000 + ticket_numbers);
      lease.set_prefix("桐综执简〔2026〕D01-");
      REQUIRE(s.AddTicketLease(lease).ok());
    }
    REQUIRE(client->SetActingOfficer(kSworn).ok());
  }

  void Reopen() {
    client.reset();
    Result<std::unique_ptr<Client>> c = Client::Open(Options());
    INFO(c.status().ToString());
    REQUIRE(c.ok());
    client = std::move(*c);
  }

  internal::DeviceStore& store() { return internal::ClientAccess::Store(*client); }
};

inline Party Citizen(const std::string& name = "张三",
                     const std::string& id = "330483199001011234") {
  Party p;
  p.kind = PartyKind::kCitizen;
  p.name = name;
  p.id_number = id;
  p.phone = "13800001111";
  p.address = "桐乡市梧桐街道复兴路1号";
  return p;
}

inline CaseInput SummaryCase(const std::string& matter = kFastTrackNoPenalty) {
  CaseInput c;
  c.matter_code = matter;
  c.procedure = Procedure::kSummary;
  c.town_id = kTown;
  c.description = "在人行道上设摊经营";
  c.place.address = "梧桐街道庆丰路";
  c.place.location = {30.63, 120.56, 5};
  c.officer_ids = {kSworn, kSworn2, kAux1};  // the auxiliary assists
  c.parties = {Citizen()};
  return c;
}

inline CaseInput OrdinaryCase(const std::string& matter = kFastTrackNoPenalty) {
  CaseInput c = SummaryCase(matter);
  c.procedure = Procedure::kOrdinary;
  return c;
}

// A complete Art. 52 ticket for `case_id`, for a fine of `fine_fen`.
inline TicketInput ValidTicket(const std::string& case_id, int64_t fine_fen = 10000) {
  TicketInput t;
  t.case_id = case_id;
  t.violation = "在庆丰路人行道设摊经营";
  t.legal_basis = "《浙江省城市市容和环境卫生管理条例》第十九条第一款";
  t.penalty_basis = "《浙江省城市市容和环境卫生管理条例》第五十一条";
  t.penalty = PenaltyKind::kFine;
  t.fine_fen = fine_fen;
  t.place.address = "梧桐街道庆丰路";
  t.remedies = {{RemedyKind::kReconsideration, "桐乡市人民政府", 60},
                {RemedyKind::kLitigation, "桐乡市人民法院", 0, 6}};
  t.agency = "桐乡市综合行政执法局";
  t.officer_ids = {kSworn, kSworn2};
  t.party_signature = PartySignature::kSigned;
  return t;
}

// A no-penalty decision for `case_id` on the first-violation ground (Art. 33
// ¶1), with the education given and the correction, verified by kSworn2 at
// `corrected_at_ms` (the device's clock: Device::now_ms).
inline NoPenaltyInput FirstViolationDecision(const std::string& case_id, int64_t corrected_at_ms) {
  NoPenaltyInput n;
  n.case_id = case_id;
  n.education_record = "批评教育";
  n.ground = NoPenaltyGround::kFirstViolationSlightHarm;
  n.correction = {"当场收摊", corrected_at_ms, kSworn2};
  return n;
}

// Asserts that `status` is the refusal (code, reason, message).
inline void RequireRefused(const Status& status, StatusCode code, const std::string& reason,
                           const std::string& message) {
  INFO(status.ToString());
  REQUIRE_FALSE(status.ok());
  CHECK(status.code() == code);
  CHECK(status.reason() == reason);
  CHECK(status.message() == message);
}

// Asserts that `status` is a refusal with (code, reason), message unchecked.
inline void RequireRefused(const Status& status, StatusCode code, const std::string& reason) {
  INFO(status.ToString());
  REQUIRE_FALSE(status.ok());
  CHECK(status.code() == code);
  CHECK(status.reason() == reason);
}

}  // namespace palm::testing

#endif  // PALM_TESTS_CLIENT_CLIENT_TEST_UTIL_H_
