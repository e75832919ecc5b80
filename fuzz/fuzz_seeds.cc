// fuzz_seeds DIR: writes a seed corpus for every fuzz target under
// DIR/<target>/, made the way the tests make their inputs: real mutations
// from a device store's outbox (a case with a party, a field edit, a note,
// evidence, a ticket), a cursor and a session token as the server encodes
// them, the sample catalogue, valid JSON for each C API entry point, and an
// evidence entry with a receipt around it.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client-lib/src/client_internal.h"
#include "client-lib/src/device_store.h"
#include "fuzz/fuzz_env.h"
#include "palm/client.h"
#include "palm/v1/sync.pb.h"
#include "server/auth_token.h"
#include "server/cursor.h"
#include "sync/ed25519.h"
#include "sync/evidence_entry.h"

namespace {

namespace fs = std::filesystem;

void Write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_seeds: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return Fail("usage: fuzz_seeds DIR");
  const fs::path out = argv[1];
  const fs::path scratch = fs::temp_directory_path() / absl::StrCat("palm-fuzz-seeds-", getpid());
  fs::create_directories(scratch);

  // --- fuzz_push: a device's real outbox. ---
  auto catalog = palm::internal::LoadCatalogFile(PALM_SAMPLE_CATALOG);
  if (!catalog.ok()) return Fail(catalog.status().ToString());
  palm::ClientOptions o;
  o.db_path = (scratch / "device.db").string();
  o.device_id = "fz-seed-device";
  o.key_provider = std::make_shared<palm::FileKeyProvider>((scratch / "keys").string());
  auto client = palm::Client::Open(o);
  if (!client.ok()) return Fail(client.status().ToString());
  palm::internal::DeviceStore& store = palm::internal::ClientAccess::Store(**client);
  palm::v1::TicketLease lease;
  lease.set_lease_id("fz-lease");
  lease.set_first_number(1);
  lease.set_last_number(100);
  lease.set_prefix("桐综执简〔2026〕");
  if (!store.ApplyCatalog(*catalog).ok() ||
      !store
           .UpsertOfficers({palm::fuzz::Officer(palm::fuzz::kOfficer1, true, "ZJ-FZ-0001"),
                            palm::fuzz::Officer(palm::fuzz::kOfficer2, true, "ZJ-FZ-0002"),
                            palm::fuzz::Officer(palm::fuzz::kAuxiliary, false, "")})
           .ok() ||
      !store.AddTicketLease(lease).ok() ||
      !(*client)->SetActingOfficer(palm::fuzz::kOfficer1).ok()) {
    return Fail("cannot prepare the device store");
  }
  palm::CaseInput input;
  input.matter_code = "SR-0101";
  input.procedure = palm::Procedure::kSummary;
  input.town_id = palm::fuzz::kTown;
  input.description = "占道经营";
  input.place.address = "梧桐街道庆丰路";
  input.place.location = {30.63, 120.56, 5};
  input.officer_ids = {palm::fuzz::kOfficer1, palm::fuzz::kOfficer2};
  input.parties.push_back(
      {"p1", palm::PartyKind::kCitizen, "张三", "330483199001011234", "13800000000", "桐乡市"});
  auto case_id = (*client)->RecordCase(input);
  if (!case_id.ok()) return Fail(case_id.status().ToString());
  palm::CaseFieldChange description;
  description.field = palm::CaseField::kDescription;
  description.value = "占道经营（复核）";
  (void)(*client)->UpdateCaseFields(*case_id, {description});
  (void)(*client)->AppendCaseEvent({*case_id, palm::CaseEventKind::kNote, "现场已拍照", 0, 0,
                                    std::nullopt, std::nullopt, std::nullopt});
  palm::EvidenceInput evidence;
  evidence.case_id = *case_id;
  evidence.kind = palm::EvidenceKind::kPhoto;
  evidence.mime_type = "image/jpeg";
  evidence.sha256_hex = std::string(64, 'a');
  evidence.size_bytes = 1024;
  evidence.content_path = (scratch / "photo.jpg").string();
  (void)(*client)->AddEvidenceRecord(evidence);
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
  ticket.officer_ids = {palm::fuzz::kOfficer1, palm::fuzz::kOfficer2};
  ticket.party_signature = palm::PartySignature::kSigned;
  (void)(*client)->IssueTicket(ticket);
  auto outbox = store.Outbox();
  if (!outbox.ok() || outbox->empty()) return Fail("the outbox is empty");
  palm::v1::PushRequest all;
  for (size_t i = 0; i < outbox->size(); ++i) {
    palm::v1::PushRequest one;
    *one.add_mutations() = (*outbox)[i].mutation;
    *all.add_mutations() = (*outbox)[i].mutation;
    Write(out / "fuzz_push", absl::StrCat("mutation-", i), one.SerializeAsString());
  }
  Write(out / "fuzz_push", "batch", all.SerializeAsString());

  // --- fuzz_cursor and fuzz_session_token: as the server makes them. ---
  Write(out / "fuzz_cursor", "cursor",
        palm::server::EncodeCursor({.epoch = "0193d1c2-epoch", .scope = "fz", .server_seq = 42}));
  auto key = palm::sync::GenerateEd25519Key();
  if (!key.ok()) return Fail("cannot make a key");
  palm::server::TokenSigner signer(std::move(*key));
  palm::server::SessionClaims claims;
  claims.token_id = "t1";
  claims.officer_id = palm::fuzz::kOfficer1;
  claims.role = palm::v1::ROLE_OFFICER;
  claims.town_id = palm::fuzz::kTown;
  claims.squad_id = palm::fuzz::kSquad;
  claims.principal = "fz-seed-device";
  claims.issued_at_ms = 1767225600000;
  claims.expires_at_ms = 1767225600000 + 3600000;
  auto token = signer.Issue(claims);
  if (!token.ok()) return Fail(token.status().ToString());
  Write(out / "fuzz_session_token", "token", *token);

  // --- fuzz_catalog_json: the sample catalogue. ---
  std::ifstream sample(PALM_SAMPLE_CATALOG, std::ios::binary);
  Write(out / "fuzz_catalog_json", "sample-catalog.json",
        std::string(std::istreambuf_iterator<char>(sample), {}));

  // --- fuzz_c_api_json: selector byte + valid JSON per entry point. ---
  const std::vector<std::string> c_api = {
      R"({"matter_code": "SR-0101", "procedure": "PROCEDURE_SUMMARY", "town_id": "fz", )"
      R"("officer_ids": ["fz-officer-1", "fz-officer-2"], "parties": [{"party_id": "p1", )"
      R"("kind": "PARTY_KIND_CITIZEN", "name": "张三"}]})",
      R"([{"field": "CASE_FIELD_DESCRIPTION", "value": "占道经营"}])",
      R"({"case_id": "x", "kind": "EVIDENCE_KIND_PHOTO", "mime_type": "image/jpeg"})",
      R"({"case_id": "x", "party_id": "p1", "violation": "v", "penalty": "PENALTY_KIND_FINE", )"
      R"("fine_fen": 5000, "officer_ids": ["fz-officer-1", "fz-officer-2"]})",
      R"({"case_id": "x", "party_id": "p1", "education_record": "当场教育"})",
      R"({"case_id": "x", "kind": "CASE_EVENT_KIND_NOTE", "text": "note"})",
      R"({"state": "FILED", "page_size": 10})",
      R"({"evidence_id": "e", "leaf_index": "1", "entry": "AA=="})"};
  for (size_t i = 0; i < c_api.size(); ++i) {
    Write(out / "fuzz_c_api_json", absl::StrCat("entry-", i),
          std::string(1, static_cast<char>(i)) + c_api[i]);
  }

  // --- fuzz_evidence: an entry, and a receipt around it. ---
  palm::sync::EvidenceEntry entry;
  entry.case_number = "桐综执罚〔2026〕0001号";
  entry.evidence_id = "ev-1";
  entry.size = 1024;
  entry.device_id = "fz-seed-device";
  entry.officer_id = palm::fuzz::kOfficer1;
  entry.has_location = true;
  entry.latitude = 30.63;
  entry.longitude = 120.56;
  entry.captured_at_ms = 1767225600000;
  entry.integrated_at_ms = 1767225601000;
  const std::string encoded = palm::sync::EncodeEvidenceEntry(entry);
  Write(out / "fuzz_evidence", "entry", encoded);
  palm::v1::EvidenceReceipt receipt;
  receipt.set_evidence_id("ev-1");
  receipt.set_entry(encoded);
  receipt.mutable_tree_head()->set_tree_size(1);
  Write(out / "fuzz_evidence", "receipt", receipt.SerializeAsString());

  client->reset();
  fs::remove_all(scratch);
  std::printf("fuzz_seeds: wrote the seed corpora under %s\n", out.c_str());
  return 0;
}
