// palm_example_cc: a handheld's day through the Palm C++ API, against a real
// palm-server over mutual TLS. The same steps, flags and output as the C
// example (palm_example.c):
//
//   palm_example_cc --server 127.0.0.1:7443 --device-dir var/pki/devices/demo
//     --store /tmp/handheld --officer officer-li --secret-file var/pki/officer-li.secret
//     --partner officer-zhang --town wutong --evidence photo.jpg --log-key log-key.pem
//
// Every call returns a palm::Status or palm::Result<T>; no exception leaves
// the library. Exits 0 when every step succeeded, 1 otherwise, 2 on a usage
// error.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "palm/client.h"
#include "palm/key_provider.h"

namespace {

// Prints the outcome of `step`; returns whether it succeeded.
bool Check(const std::string& step, const palm::Status& status) {
  if (status.ok()) {
    std::cout << "ok    " << step << "\n";
    return true;
  }
  std::cerr << "FAIL  " << step << ": [" << status.reason() << "] " << status.message() << "\n";
  return false;
}

std::string ReadFile(const std::string& path, bool first_line_only) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  if (first_line_only) {
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  std::ostringstream all;
  all << in.rdbuf();
  return all.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  for (const char* name : {"--server", "--device-dir", "--store", "--officer", "--secret-file",
                           "--partner", "--town", "--evidence", "--log-key"}) {
    if (argc % 2 != 1 || flags[name].empty()) {
      std::cerr << "usage: " << argv[0]
                << " --server HOST:PORT --device-dir DIR --store DIR --officer ID"
                   " --secret-file FILE --partner ID --town ID --evidence FILE --log-key PEM\n";
      return 2;
    }
  }
  const std::string device_dir = flags["--device-dir"];
  const std::string store = flags["--store"];
  const std::string officer = flags["--officer"];
  const std::string partner = flags["--partner"];
  const std::string evidence_path = flags["--evidence"];
  const std::string device_id = ReadFile(device_dir + "/device-id.txt", true);
  const std::string secret = ReadFile(flags["--secret-file"], true);
  const std::string log_key = ReadFile(flags["--log-key"], false);
  if (device_id.empty() || secret.empty() || log_key.empty()) {
    std::cerr << "cannot read the device id, the secret or the log key\n";
    return 1;
  }

  // The device's store, encrypted with a key kept in store/keys (an app
  // implements palm::KeyProvider over the Android Keystore or iOS Keychain).
  std::error_code made;
  std::filesystem::create_directories(store, made);
  if (made) {
    std::cerr << "cannot create the store directory " << store << ": " << made.message() << "\n";
    return 1;
  }
  palm::ClientOptions options;
  options.db_path = store + "/device.db";
  options.device_id = device_id;
  options.key_provider = std::make_shared<palm::FileKeyProvider>(store + "/keys");
  auto opened = palm::Client::Open(options);
  if (!Check("open the device store", opened.status())) return 1;
  palm::Client& client = **opened;

  // One connection description serves sign-in and sync.
  palm::SyncOptions connection;
  connection.server_address = flags["--server"];
  connection.ca_cert_path = device_dir + "/ca.crt";
  connection.client_cert_path = device_dir + "/device.crt";
  connection.client_key_path = device_dir + "/device.key";
  connection.timeout = std::chrono::seconds(30);

  if (!Check("sign in", client.SignIn(connection, officer, secret).status())) return 1;
  if (!Check("first sync (catalogue, roster, ticket numbers)", client.Sync(connection).status())) {
    return 1;
  }

  // A street vendor blocking the pavement, settled on the spot.
  palm::CaseInput input;
  input.matter_code = "SR-0101";
  input.procedure = palm::Procedure::kSummary;
  input.town_id = flags["--town"];
  input.description = "占道经营";
  input.place.address = "梧桐街道庆丰路";
  input.place.location = {30.63, 120.56, 0};
  input.officer_ids = {officer, partner};
  palm::Party party;
  party.party_id = "p1";
  party.kind = palm::PartyKind::kCitizen;
  party.name = "张三";
  party.id_number = "330483199001011234";
  input.parties.push_back(party);
  auto case_id = client.RecordCase(input);
  if (!Check("record a case with a party", case_id.status())) return 1;

  palm::EvidenceInput photo;
  photo.case_id = *case_id;
  photo.kind = palm::EvidenceKind::kPhoto;
  photo.mime_type = "image/jpeg";
  photo.description = "现场照片";
  auto evidence_id = client.AttachEvidenceFile(photo, evidence_path);
  if (!Check("attach the evidence file", evidence_id.status())) return 1;

  palm::TicketInput ticket;
  ticket.case_id = *case_id;
  ticket.party_id = "p1";
  ticket.violation = "在庆丰路人行道设摊经营";
  ticket.legal_basis = "《浙江省城市市容和环境卫生管理条例》第十九条第一款";
  ticket.penalty_basis = "《浙江省城市市容和环境卫生管理条例》第五十一条";
  ticket.penalty = palm::PenaltyKind::kFine;
  ticket.fine_fen = 10000;
  ticket.place.address = "梧桐街道庆丰路";
  ticket.remedies = {{palm::RemedyKind::kReconsideration, "桐乡市人民政府", 60},
                     {palm::RemedyKind::kLitigation, "桐乡市人民法院", 0, 6}};
  ticket.agency = "桐乡市综合行政执法局";
  ticket.officer_ids = {officer, partner};
  ticket.party_signature = palm::PartySignature::kSigned;
  auto issued = client.IssueTicket(ticket);
  if (!Check("issue an on-the-spot ticket (100 yuan)", issued.status())) return 1;

  if (!Check("sync (push the case, upload the evidence, pull)", client.Sync(connection).status())) {
    return 1;
  }

  auto view = client.GetCase(*case_id);
  if (!Check("read the case back", view.status())) return 1;
  const std::string case_number = view->record.case_number;
  if (case_number.empty()) {
    std::cerr << "FAIL  the case has no official number after the sync\n";
    return 1;
  }

  bool verified = false;
  auto receipt = client.ExportEvidenceReceipt(*evidence_id);
  if (Check("export the evidence receipt", receipt.status())) {
    verified = Check("verify the receipt offline (log key and file)",
                     palm::VerifyEvidenceReceipt(*receipt, log_key, evidence_path));
  }
  Check("sign out", client.SignOut(connection));
  std::cout << "case number:      " << case_number << "\n"
            << "ticket number:    " << issued->ticket_number_text << "\n"
            << "evidence receipt: " << (verified ? "verifies" : "does NOT verify") << "\n";
  return verified ? 0 : 1;
}
