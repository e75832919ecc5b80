#include "client-lib/src/convergence.h"

#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace palm::internal {

std::string DiffWithServer(Client& device, const std::vector<v1::CaseDetail>& server_cases) {
  std::ostringstream diff;
  std::set<std::string> mine;
  CaseQuery q;
  q.page_size = 500;
  for (;;) {
    Result<CasePage> page = device.ListCases(q);
    if (!page.ok()) return "ListCases: " + page.status().ToString();
    for (const CaseRecord& r : page->cases) mine.insert(r.case_id);
    if (page->next_page_token.empty()) break;
    q.page_token = page->next_page_token;
  }
  std::set<std::string> theirs;
  for (const v1::CaseDetail& detail : server_cases) theirs.insert(detail.case_().case_id());
  for (const std::string& id : mine) {
    if (!theirs.count(id)) diff << "has case " << id << " the server lacks; ";
  }
  for (const v1::CaseDetail& server : server_cases) {
    const std::string& id = server.case_().case_id();
    if (!mine.count(id)) {
      diff << "lacks case " << id << "; ";
      continue;
    }
    Result<CaseView> view = device.GetCase(id);
    if (!view.ok()) {
      diff << "GetCase " << id << ": " << view.status().ToString() << "; ";
      continue;
    }
    const CaseRecord& d = view->record;
    const v1::Case& s = server.case_();
    auto field = [&](const char* name, const auto& a, const auto& b) {
      if (!(a == b))
        diff << "case " << id << " " << name << ": device " << a << ", server " << b << "; ";
    };
    field("case_number", d.case_number, s.case_number());
    field("state", static_cast<int>(d.state), static_cast<int>(s.state()));
    field("description", d.description, s.description());
    field("address", d.place.address, s.place().address());
    field("matter", d.matter_code, s.matter_code());
    field("occurred_at", d.occurred_at_ms, s.occurred_at_ms());
    field("parties", d.parties.size(), static_cast<size_t>(s.parties_size()));
    std::set<std::string> ev_d, ev_s, tk_d, tk_s, np_d, np_s, tl_d, tl_s;
    for (const auto& e : view->evidence) ev_d.insert(e.evidence_id + (e.withdrawn ? "/w" : ""));
    for (const auto& e : server.evidence())
      ev_s.insert(e.evidence_id() + (e.withdrawn() ? "/w" : ""));
    for (const auto& t : view->tickets) tk_d.insert(t.ticket_id + (t.voided ? "/v" : ""));
    for (const auto& t : server.tickets()) tk_s.insert(t.ticket_id() + (t.voided() ? "/v" : ""));
    for (const auto& n : view->no_penalty_decisions) np_d.insert(n.decision_id);
    for (const auto& n : server.no_penalty()) np_s.insert(n.decision_id());
    for (const auto& e : view->timeline) tl_d.insert(e.event_id);
    for (const auto& e : server.timeline()) tl_s.insert(e.event_id());
    auto sets = [&](const char* name, const std::set<std::string>& a,
                    const std::set<std::string>& b) {
      if (a != b)
        diff << "case " << id << " " << name << ": device " << a.size() << ", server " << b.size()
             << "; ";
    };
    sets("evidence", ev_d, ev_s);
    sets("tickets", tk_d, tk_s);
    sets("no-penalty decisions", np_d, np_s);
    sets("timeline", tl_d, tl_s);
    if (tl_d != tl_s) {
      for (const auto& e : view->timeline) {
        if (!tl_s.count(e.event_id)) {
          diff << "(device-only event kind " << static_cast<int>(e.kind) << " '" << e.text << "' "
               << static_cast<int>(e.from_state) << "->" << static_cast<int>(e.to_state) << ") ";
        }
      }
      for (const auto& e : server.timeline()) {
        if (!tl_d.count(e.event_id())) diff << "(server-only event kind " << e.kind() << ") ";
      }
    }
  }
  return diff.str();
}

}  // namespace palm::internal
