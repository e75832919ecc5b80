// One device's shift: patrol cases with parties, evidence files, fast-track
// tickets, no-penalty decisions, notes and transitions, and edits to the
// town's shared cases — all through the real client library, offline.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/sim/sim.h"

namespace palm::sim {
namespace {

namespace fs = std::filesystem;

// Marks the shared cases of a town (the description starts with it).
constexpr char kSharedMarker[] = "联合整治";

// Sample-catalogue matters (tools/data/sample-catalog.json) by use.
// Fast track, a citizen's fine within the on-the-spot limit (Art. 51).
const std::vector<std::string> kTicketMatters = {"SR-0101", "SR-0102", "SR-0103", "SR-0104",
                                                 "SR-0107", "TC-0801", "TC-0802", "YL-0301"};
// On the no-penalty list (Art. 33).
const std::vector<std::string> kNoPenaltyMatters = {"SR-0101", "SR-0103", "SR-0107", "YL-0304",
                                                    "TC-0802"};
// Ordinary procedure, delegated to towns, not major.
const std::vector<std::string> kOrdinaryMatters = {"SR-0105", "TC-0804", "JZ-0601", "SZ-0204"};

const std::vector<std::string> kSurnames = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                            "吴", "周", "徐", "孙", "沈", "朱", "钱", "蒋"};
const std::vector<std::string> kGiven = {"伟", "芳", "娜", "敏", "静", "强", "磊", "军",
                                         "洋", "勇", "艳", "杰", "涛", "明", "超", "霞"};
const std::vector<std::string> kStreets = {"庆丰路",   "复兴路", "振兴东路", "校场路",  "世纪大道",
                                           "梧桐大道", "康庄路", "环城南路", "崇福大道"};
const std::vector<std::string> kNotes = {"当事人配合调查", "已拍照固定现场", "已告知陈述申辩权利",
                                         "现场已整改完毕", "约定次日复查",   "当事人情绪稳定"};

class Shift {
 public:
  Shift(const Options& options, SimDevice& device)
      : options_(options),
        d_(device),
        c_(*device.client),
        rng_(options.seed * 1000003 + static_cast<uint64_t>(device.index)) {}

  absl::Status Run() {
    if (Status s = c_.SetActingOfficer(d_.officer_id); !s.ok()) return Fail("sign-in", s);
    std::error_code ec;
    fs::create_directories(d_.dir + "/evidence", ec);
    const int n = options_.cases_per_device;
    for (int k = 0; k < n; ++k) {
      if (k == n / 2) EditSharedCases();
      OneCase(k);
    }
    if (n == 0) EditSharedCases();
    return absl::OkStatus();
  }

 private:
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[rng_() % v.size()];
  }
  bool Chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }

  absl::Status Fail(const std::string& what, const Status& s) {
    return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
  }

  // Counts a write; failures are counted, not fatal (the app would show them).
  bool Wrote(const Status& s, const char* what) {
    if (s.ok()) {
      ++d_.stats.mutations;
      return true;
    }
    ++d_.stats.write_errors;
    if (d_.error.empty()) d_.error = absl::StrCat(what, ": ", s.ToString());
    return false;
  }

  Party NewParty(int k) {
    Party p;
    p.kind = PartyKind::kCitizen;
    p.name = Pick(kSurnames) + Pick(kGiven) + (Chance(50) ? Pick(kGiven) : "");
    // Unique per run, device and case: every violation is a first one.
    p.id_number = absl::StrFormat("330483%03d%04d%04d%d", salt_ % 1000, d_.index % 10000, k % 10000,
                                  static_cast<int>(rng_() % 10));
    p.phone = absl::StrFormat("138%08d", static_cast<int>(rng_() % 100000000));
    p.address = "桐乡市" + Pick(kStreets) + std::to_string(1 + rng_() % 300) + "号";
    return p;
  }

  Place NewPlace() {
    Place place;
    place.address = "桐乡市" + Pick(kStreets) + std::to_string(1 + rng_() % 300) + "号附近";
    place.location = {30.60 + (rng_() % 1000) / 10000.0, 120.50 + (rng_() % 1000) / 10000.0,
                      static_cast<double>(3 + rng_() % 15)};
    place.town_id = d_.squad.town_id;
    return place;
  }

  // The officers present: the device's own, the squad leader, and the
  // deputy when the device's officer is an auxiliary (who does not count).
  std::vector<std::string> Officers() {
    if (d_.sworn) return {d_.officer_id, d_.squad.leader_id};
    return {d_.officer_id, d_.squad.leader_id, d_.squad.deputy_id};
  }

  void Attach(const std::string& case_id, int k, int nth) {
    const std::string path = absl::StrFormat("%s/evidence/case%03d-%d.jpg", d_.dir, k, nth);
    const size_t bytes = static_cast<size_t>(options_.evidence_kib) * 1024;
    {
      std::string content(bytes, '\0');
      for (size_t i = 0; i + 8 <= bytes; i += 8) {
        const uint64_t word = rng_();
        std::memcpy(&content[i], &word, 8);
      }
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    EvidenceInput e;
    e.case_id = case_id;
    e.kind = EvidenceKind::kPhoto;
    e.mime_type = "image/jpeg";
    e.location = {30.63, 120.56, 5};
    e.description = absl::StrCat("现场照片 ", nth);
    Result<std::string> id = c_.AttachEvidenceFile(e, path);
    if (Wrote(id.status(), "AttachEvidenceFile")) {
      ++d_.stats.evidence_files;
      d_.stats.evidence_bytes += bytes;
    }
  }

  std::optional<std::string> Record(const std::string& matter, Procedure procedure,
                                    const std::string& what, int k) {
    CaseInput in;
    in.matter_code = matter;
    in.procedure = procedure;
    in.town_id = d_.squad.town_id;
    in.squad_id = d_.squad.squad_id;
    in.description = what;
    in.place = NewPlace();
    in.officer_ids = Officers();
    in.parties = {NewParty(k)};
    Result<std::string> id = c_.RecordCase(in);
    if (!Wrote(id.status(), "RecordCase")) return std::nullopt;
    ++d_.stats.cases;
    return *id;
  }

  std::string PartyOf(const std::string& case_id) {
    Result<CaseView> view = c_.GetCase(case_id);
    if (!view.ok() || view->record.parties.empty()) return "";
    return view->record.parties.front().party_id;
  }

  void Note(const std::string& case_id) {
    CaseEventInput e;
    e.case_id = case_id;
    e.kind = CaseEventKind::kNote;
    e.text = Pick(kNotes);
    Wrote(c_.AppendCaseEvent(e).status(), "AppendCaseEvent");
  }

  void OneCase(int k) {
    // Half the cases end in an on-the-spot ticket, --no-penalty-percent in
    // a no-penalty decision, the rest go the ordinary procedure.
    const int kind = static_cast<int>(rng_() % 100);
    if (kind < 50) {
      TicketCase(k);
    } else if (kind < 50 + options_.no_penalty_percent) {
      NoPenaltyCase(k);
    } else {
      OrdinaryCase(k);
    }
  }

  void TicketCase(int k) {
    const std::string matter = Pick(kTicketMatters);
    std::optional<std::string> id =
        Record(matter, Procedure::kSummary, "巡查发现当事人违规经营", k);
    if (!id) return;
    Attach(*id, k, 1);
    if (Chance(50)) Attach(*id, k, 2);
    Result<Matter> m = c_.GetMatter(matter);
    if (!m.ok()) return;
    // Within the matter's range and the on-the-spot limit for a citizen
    // (200 yuan, Art. 51), in steps of 10 yuan.
    const int64_t lo = std::max<int64_t>(m->fine_min_fen, 1000);
    const int64_t hi = std::min<int64_t>(m->fine_max_fen, 20000);
    if (hi < lo) return;
    const int64_t fine = lo + static_cast<int64_t>(rng_() % ((hi - lo) / 1000 + 1)) * 1000;
    TicketInput t;
    t.case_id = *id;
    t.party_id = PartyOf(*id);
    t.violation = m->name;
    t.legal_basis = m->legal_basis;
    t.penalty_basis = m->penalty_basis;
    t.penalty = PenaltyKind::kFine;
    t.fine_fen = fine;
    t.place = NewPlace();
    t.remedies = {{RemedyKind::kReconsideration, "桐乡市人民政府", 60},
                  {RemedyKind::kLitigation, "桐乡市人民法院", 0, 6}};
    t.agency = "桐乡市综合行政执法局";
    t.officer_ids = Officers();
    t.party_signature = Chance(90) ? PartySignature::kSigned : PartySignature::kRefused;
    Result<Ticket> ticket = c_.IssueTicket(t);
    if (!Wrote(ticket.status(), "IssueTicket")) return;
    ++d_.stats.tickets;
    d_.stats.tickets_fen += fine;
    if (Chance(40)) {
      CaseEventInput pay;
      pay.case_id = *id;
      pay.kind = CaseEventKind::kPayment;
      pay.amount_fen = fine;
      // Paid at once through the electronic payment system (Art. 67).
      PaymentRecord r;
      r.channel = PaymentChannel::kElectronic;
      r.paid_at_ms = ticket->issued_at_ms;
      r.reference = absl::StrCat("sim-", *id);
      pay.payment = r;
      Wrote(c_.AppendCaseEvent(pay).status(), "AppendCaseEvent");
    }
  }

  void NoPenaltyCase(int k) {
    const std::string matter = Pick(kNoPenaltyMatters);
    std::optional<std::string> id =
        Record(matter, Procedure::kOrdinary, "首次轻微违法，当场整改", k);
    if (!id) return;
    Attach(*id, k, 1);
    NoPenaltyInput np;
    np.case_id = *id;
    np.party_id = PartyOf(*id);
    np.education_record = "已向当事人讲解相关规定，当事人承诺不再违反";
    np.officer_ids = Officers();
    // 首违不罚: the first violation, corrected on the spot and verified by
    // the squad leader (Art. 33 ¶1).
    np.ground = NoPenaltyGround::kFirstViolationSlightHarm;
    np.correction = {"当场整改完毕", absl::ToUnixMillis(absl::Now()), d_.squad.leader_id};
    if (Wrote(c_.RecordNoPenalty(np).status(), "RecordNoPenalty")) ++d_.stats.no_penalty;
  }

  void OrdinaryCase(int k) {
    std::optional<std::string> id =
        Record(Pick(kOrdinaryMatters), Procedure::kOrdinary, "群众举报，需立案调查", k);
    if (!id) return;
    Attach(*id, k, 1);
    if (Chance(30)) Attach(*id, k, 2);
    if (Chance(50)) Note(*id);
    if (!Wrote(c_.TransitionCase(*id, CaseState::kFiled, "立案审批通过"), "TransitionCase")) return;
    if (Chance(50)) {
      Wrote(c_.TransitionCase(*id, CaseState::kInvestigating, "开展调查取证"), "TransitionCase");
    }
    if (Chance(40)) {
      Wrote(c_.UpdateCaseFields(*id, {{CaseField::kAddress, NewPlace().address, ""}}),
            "UpdateCaseFields");
    }
  }

  // Every device of the town corrects the same fields of the shared cases
  // while offline: last writer wins on the server, the others conflict.
  void EditSharedCases() {
    for (const std::string& id : d_.shared_case_ids) {
      const std::string text =
          absl::StrCat(kSharedMarker, "：", d_.officer_id, " 补充现场情况 ", rng_() % 1000);
      if (Wrote(c_.UpdateCaseFields(id, {{CaseField::kDescription, text, ""},
                                         {CaseField::kAddress, NewPlace().address, ""}}),
                "UpdateCaseFields")) {
        ++d_.stats.shared_edits;
      }
      if (Chance(50)) Note(id);
    }
  }

  const Options& options_;
  SimDevice& d_;
  Client& c_;
  std::mt19937_64 rng_;
  uint64_t salt_ = 0;

 public:
  void set_salt(uint64_t salt) { salt_ = salt; }
};

}  // namespace

absl::Status RecordSharedCases(const Options& options, SimDevice& device) {
  Client& c = *device.client;
  if (Status s = c.SetActingOfficer(device.officer_id); !s.ok()) {
    return absl::InternalError(s.ToString());
  }
  for (int k = 0; k < options.shared_cases; ++k) {
    CaseInput in;
    in.matter_code = "SR-0105";
    in.procedure = Procedure::kOrdinary;
    in.town_id = device.squad.town_id;
    in.squad_id = device.squad.squad_id;
    in.description =
        absl::StrCat(kSharedMarker, "：", device.squad.town_id, " 第", k + 1, "号联合巡查");
    in.place.address = "桐乡市复兴路" + std::to_string(k + 1) + "号";
    in.place.town_id = device.squad.town_id;
    in.officer_ids = {device.officer_id, device.squad.leader_id, device.squad.deputy_id};
    Party p;
    p.kind = PartyKind::kOrganisation;
    p.name = absl::StrCat("桐乡市某某餐饮有限公司", k + 1);
    p.id_number =
        absl::StrFormat("91330483MA%02d%06d", k % 100, static_cast<int>(options.seed % 1000000));
    in.parties = {p};
    Result<std::string> id = c.RecordCase(in);
    if (!id.ok()) return absl::InternalError(absl::StrCat("shared case: ", id.status().ToString()));
    ++device.stats.mutations;
    ++device.stats.cases;
  }
  return absl::OkStatus();
}

absl::Status FindSharedCases(SimDevice& device) {
  device.shared_case_ids.clear();
  CaseQuery q;
  q.town_id = device.squad.town_id;
  q.page_size = 500;
  for (;;) {
    Result<CasePage> page = device.client->ListCases(q);
    if (!page.ok()) return absl::InternalError(page.status().ToString());
    for (const CaseRecord& c : page->cases) {
      if (absl::StartsWith(c.description, kSharedMarker))
        device.shared_case_ids.push_back(c.case_id);
    }
    if (page->next_page_token.empty()) break;
    q.page_token = page->next_page_token;
  }
  return absl::OkStatus();
}

absl::Status WorkShift(const Options& options, SimDevice& device) {
  Shift shift(options, device);
  shift.set_salt(options.salt);
  return shift.Run();
}

}  // namespace palm::sim
