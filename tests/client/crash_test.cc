// Crash safety: a writer process is SIGKILLed mid-stream again and again; every
// write it acknowledged must survive with its outbox entry, sequence numbers
// stay gapless and the database stays intact.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "tests/client/client_test_util.h"

namespace palm::testing {
namespace {

// The child: writes forever, reporting each acknowledged write on `fd` as one
// line ("C <case_id>" or "T <ticket_id> <number>"). Never returns.
[[noreturn]] void Writer(const ClientOptions& options, int fd) {
  Result<std::unique_ptr<Client>> c = Client::Open(options);
  if (!c.ok() || !(*c)->SetActingOfficer(kSworn).ok()) _exit(3);
  Client& client = **c;
  for (int i = 0;; ++i) {
    Result<std::string> case_id = client.RecordCase(SummaryCase());
    if (!case_id.ok()) _exit(4);
    std::string line = "C " + *case_id + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
    Result<Ticket> t = client.IssueTicket(ValidTicket(*case_id));
    if (!t.ok()) _exit(6);
    line = "T " + t->ticket_id + " " + std::to_string(t->ticket_number) + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
  }
}

TEST_CASE("acknowledged writes survive SIGKILL at random points, with gapless outbox") {
  Device d(/*seed=*/true, /*ticket_numbers=*/1000000);
  ClientOptions options = d.Options();
  options.TEST_now_ms = nullptr;  // the child uses the real clock
  d.client.reset();

  std::mt19937 random(20260101);
  std::map<std::string, bool> acked_cases;       // case id -> seen
  std::map<std::string, int64_t> acked_tickets;  // ticket id -> number
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const ForkedChild child = ForkChild([&](int fd) { Writer(options, fd); });
    const pid_t pid = child.pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + random() % 180));
    ::kill(pid, SIGKILL);
    int wstatus = 0;
    REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
    INFO("round " << round << " child exit status " << wstatus);
    REQUIRE(WIFSIGNALED(wstatus));

    const std::string reported = ReadToEnd(child.fd);
    size_t start = 0;
    for (size_t nl; (nl = reported.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string line = reported.substr(start, nl - start);
      if (line[0] == 'C') {
        acked_cases[line.substr(2)] = true;
      } else {
        size_t space = line.find(' ', 2);
        acked_tickets[line.substr(2, space - 2)] = std::stoll(line.substr(space + 1));
      }
    }
  }
  INFO(acked_cases.size() << " cases and " << acked_tickets.size() << " tickets acknowledged");
  REQUIRE(acked_cases.size() > kRounds);

  REQUIRE(IntegrityCheck(d.db_path()) == "ok");
  d.Reopen();
  auto outbox = d.store().Outbox();
  REQUIRE(outbox.ok());
  std::map<std::string, const v1::Mutation*> by_entity;
  for (size_t i = 0; i < outbox->size(); ++i) {
    const v1::Mutation& m = (*outbox)[i].mutation;
    REQUIRE(m.device_seq() == i + 1);  // gapless from 1
    if (m.has_record_case()) by_entity[m.record_case().case_().case_id()] = &m;
    if (m.has_issue_ticket()) by_entity[m.issue_ticket().ticket().ticket_id()] = &m;
  }
  for (const auto& [case_id, unused] : acked_cases) {
    INFO("case " << case_id);
    CHECK(d.client->GetCase(case_id).ok());
    CHECK(by_entity.count(case_id) == 1);
  }
  for (const auto& [ticket_id, number] : acked_tickets) {
    INFO("ticket " << ticket_id);
    REQUIRE(by_entity.count(ticket_id) == 1);
    CHECK(by_entity[ticket_id]->issue_ticket().ticket().ticket_number() == number);
  }
  // Numbers consumed = tickets recorded: no number lost or reused.
  int64_t tickets = 0;
  for (const internal::OutboxEntry& e : *outbox) tickets += e.mutation.has_issue_ticket();
  CHECK(*d.client->TicketNumbersLeft() == 1000000 - tickets);
}

}  // namespace
}  // namespace palm::testing
