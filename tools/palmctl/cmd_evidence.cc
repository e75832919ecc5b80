// palmctl evidence verify|receipt: offline verification of an evidence file
// against its receipt and the log's public key, and fetching a receipt
// (EvidenceService GetReceipt; docs/evidence.md).
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "palm/v1/admin.grpc.pb.h"
#include "palm/v1/evidence.grpc.pb.h"
#include "sync/evidence_entry.h"
#include "sync/evidence_receipt.h"
#include "sync/sha256.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/cmd_log.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

struct VerifyOptions {
  std::string file;
  std::string receipt;
  std::string log_key;
  bool json = false;
};

// Never talks to the server: everything needed is in the three files.
int RunVerify(const VerifyOptions& options) {
  v1::EvidenceReceipt receipt;
  if (absl::Status s = ReadMessageFile(options.receipt, "receipt", &receipt); !s.ok()) {
    return Fail(s);
  }
  auto key = ReadLogKey(options.log_key);
  if (!key.ok()) return Fail(key.status());
  auto digest = sync::Sha256File(options.file);
  if (!digest.ok()) return Fail(digest.status());
  sync::FileFacts file;
  file.sha256 = *sync::HexDecodeDigest(digest->sha256_hex);
  file.size = digest->size;
  if (absl::Status s = sync::VerifyEvidenceReceipt(key->get(), receipt, file); !s.ok()) {
    return Fail(absl::StrCat("verification failed: ", s.message()));
  }
  auto entry = sync::DecodeEvidenceEntry(receipt.entry());
  const v1::SignedTreeHead& head = receipt.tree_head();
  if (options.json) {
    PrintJson({{"verified", true},
               {"evidence_id", entry->evidence_id},
               {"sha256", digest->sha256_hex},
               {"size", digest->size},
               {"case", entry->case_number.empty() ? entry->case_id : entry->case_number},
               {"device_id", entry->device_id},
               {"officer_id", entry->officer_id},
               {"captured_at_ms", entry->captured_at_ms},
               {"integrated_at_ms", entry->integrated_at_ms},
               {"leaf_index", receipt.leaf_index()},
               {"tree_size", head.tree_size()},
               {"origin", head.origin()},
               {"key_id", head.key_id()}});
    return kExitOk;
  }
  std::cout << "verified: " << options.file << " is evidence " << entry->evidence_id << " of "
            << (entry->case_number.empty() ? "case " + entry->case_id : entry->case_number) << "\n"
            << "  file SHA-256    " << digest->sha256_hex << " (" << digest->size
            << " bytes) = entry\n"
            << "  entry           signed by the log at leaf " << receipt.leaf_index() << "\n"
            << "  inclusion proof leads to the root of " << head.tree_size() << " leaves\n"
            << "  tree head       signed by " << head.origin() << " key " << head.key_id() << " at "
            << FormatUnixMs(head.timestamp_ms()) << "\n"
            << "  captured        " << FormatUnixMs(entry->captured_at_ms) << " by officer "
            << entry->officer_id << " on device " << entry->device_id << "; registered "
            << FormatUnixMs(entry->integrated_at_ms) << "\n";
  return kExitOk;
}

struct ReceiptOptions {
  std::string evidence_id;
  std::string out;
  bool binary = false;
  bool json = false;  // the default already; accepted like on every read command
};

int RunReceipt(const ReceiptOptions& options, const GlobalOptions& global) {
  v1::GetReceiptRequest request;
  request.set_evidence_id(options.evidence_id);
  v1::GetReceiptResponse response;
  if (int code = CallUnary(global, "GetReceipt", &v1::EvidenceService::Stub::GetReceipt, request,
                           &response);
      code != kExitOk) {
    return code;
  }
  const std::string bytes = options.binary ? response.receipt().SerializeAsString()
                                           : ProtoToJson(response.receipt()) + "\n";
  if (options.out.empty()) {
    std::cout << bytes;
    return kExitOk;
  }
  if (absl::Status s = WriteFile(options.out, bytes); !s.ok()) return Fail(s);
  std::cout << "wrote the receipt of evidence " << options.evidence_id << " (leaf "
            << response.receipt().leaf_index() << " of "
            << response.receipt().tree_head().tree_size() << ") to " << options.out << "\n";
  return kExitOk;
}

struct ListOptions {
  std::string case_ref;
  bool json = false;
};

// The evidence of one case with upload state, receipt and capture-time flag
// (AdminService GetCase).
int RunList(const ListOptions& options, const GlobalOptions& global) {
  v1::GetCaseRequest request;
  request.set_case_ref(options.case_ref);
  v1::CaseDetail detail;
  if (int code = CallUnary(global, "GetCase", &v1::AdminService::Stub::GetCase, request, &detail);
      code != kExitOk) {
    return code;
  }
  if (options.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const v1::Evidence& e : detail.evidence()) {
      rows.push_back({{"evidence_id", e.evidence_id()},
                      {"sha256", e.sha256()},
                      {"size_bytes", e.size_bytes()},
                      {"captured_at_ms", e.captured_at_ms()},
                      {"integrated_at_ms", e.integrated_at_ms()},
                      {"uploaded", e.uploaded()},
                      {"has_receipt", e.has_receipt()},
                      {"leaf_index", e.receipt().leaf_index()},
                      {"capture_time_flagged", e.capture_time_flagged()},
                      {"capture_time_flag", e.capture_time_flag()}});
    }
    PrintJson(rows);
    return kExitOk;
  }
  TextTable table({"EVIDENCE", "CAPTURED", "REGISTERED", "UPLOADED", "LEAF", "CAPTURE TIME"});
  for (const v1::Evidence& e : detail.evidence()) {
    table.AddRow(
        {e.evidence_id(), FormatUnixMs(e.captured_at_ms()), FormatUnixMs(e.integrated_at_ms()),
         e.uploaded() ? "yes" : "no",
         e.has_receipt() ? absl::StrCat(e.receipt().leaf_index()) : "-",
         e.capture_time_flagged() ? absl::StrCat("FLAGGED: ", e.capture_time_flag()) : "ok"});
  }
  std::cout << table.Render();
  return kExitOk;
}

void RegisterEvidence(CommandLine& cli) {
  CLI::App* group = cli.Group("evidence", "Evidence receipts: fetch and verify offline");
  const GlobalOptions& global = cli.global();

  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* verify_cmd = cli.Command(
      group, "verify",
      "Verify FILE against its receipt and the log's public key, offline: file SHA-256, entry, "
      "inclusion proof, tree-head signature",
      [verify] { return RunVerify(*verify); });
  verify_cmd->add_option("FILE", verify->file, "The evidence file")->required();
  verify_cmd->add_option("--receipt", verify->receipt, "Receipt (JSON or protobuf)")->required();
  verify_cmd->add_option("--log-key", verify->log_key, "The log's public key (PEM)")->required();
  AddJsonFlag(verify_cmd, &verify->json);

  auto receipt = std::make_shared<ReceiptOptions>();
  CLI::App* receipt_cmd = cli.Command(group, "receipt", "Fetch the receipt of one evidence record",
                                      [receipt, &global] { return RunReceipt(*receipt, global); });
  receipt_cmd->add_option("EVIDENCE_ID", receipt->evidence_id, "Evidence id")->required();
  receipt_cmd->add_option("--out", receipt->out, "Write the receipt here instead of stdout");
  receipt_cmd->add_flag("--binary", receipt->binary,
                        "Binary protobuf (palm.v1.EvidenceReceipt) instead of JSON");
  receipt_cmd->add_flag("--json", receipt->json, "JSON (the default)")->excludes("--binary");

  auto list = std::make_shared<ListOptions>();
  CLI::App* list_cmd =
      cli.Command(group, "list", "The evidence of a case: upload, receipt and capture-time flags",
                  [list, &global] { return RunList(*list, global); });
  list_cmd->add_option("CASE", list->case_ref, "Case id or case number")->required();
  AddJsonFlag(list_cmd, &list->json);
}

}  // namespace

PALMCTL_REGISTER_GROUP(evidence, RegisterEvidence);

}  // namespace palm::palmctl
