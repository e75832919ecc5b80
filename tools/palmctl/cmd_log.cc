// palmctl log head|key|consistency: the evidence log's signed tree heads,
// its public key, and consistency between two saved heads
// (EvidenceService GetTreeHead, GetConsistencyProof; docs/evidence.md).
#include "tools/palmctl/cmd_log.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "palm/v1/evidence.grpc.pb.h"
#include "sync/log_transition.h"
#include "sync/merkle.h"
#include "sync/sha256.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {

namespace v1 = palm::v1;

absl::Status ReadMessageFile(const std::string& path, const std::string& what,
                             google::protobuf::Message* message) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, " cannot be read"));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  const std::string text = bytes.str();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (google::protobuf::util::JsonStringToMessage(text, message, options).ok()) {
    return absl::OkStatus();
  }
  message->Clear();
  if (!text.empty() && text.front() != '{' && message->ParseFromString(text)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(path, " is not a ", what, " (JSON or protobuf)"));
}

absl::Status WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::PermissionDeniedError(absl::StrCat(path, " cannot be written"));
  return absl::OkStatus();
}

absl::StatusOr<sync::UniqueEvpPkey> ReadLogKey(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, " cannot be read"));
  std::ostringstream pem;
  pem << in.rdbuf();
  auto key = sync::LoadPublicKeyPem(pem.str());
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not an Ed25519 public key (PEM): ", key.status().message()));
  }
  return key;
}

namespace {

struct HeadOptions {
  bool fresh = false;
  bool json = false;
  std::string out;
};

int RunHead(const HeadOptions& options, const GlobalOptions& global) {
  v1::GetTreeHeadRequest request;
  request.set_fresh(options.fresh);
  v1::GetTreeHeadResponse response;
  if (int code = CallUnary(global, "GetTreeHead", &v1::EvidenceService::Stub::GetTreeHead, request,
                           &response);
      code != kExitOk) {
    return code;
  }
  const v1::SignedTreeHead& head = response.tree_head();
  if (!options.out.empty()) {
    if (absl::Status s = WriteFile(options.out, ProtoToJson(head) + "\n"); !s.ok()) return Fail(s);
  }
  if (options.json) {
    PrintProtoJson(head);
    return kExitOk;
  }
  std::cout << "origin     " << head.origin() << "\n"
            << "tree size  " << head.tree_size() << "\n"
            << "root       "
            << sync::HexEncode(reinterpret_cast<const uint8_t*>(head.root_hash().data()),
                               head.root_hash().size())
            << "\n"
            << "signed at  " << FormatUnixMs(head.timestamp_ms()) << "\n"
            << "key id     " << head.key_id() << "\n";
  for (const v1::LogTransition& t : response.transitions()) {
    std::cout << "restore    " << FormatUnixMs(t.at_ms()) << " (" << t.reason() << "): log "
              << t.from_origin() << " goes on as log " << t.to_origin() << " from its head of "
              << t.from_head().tree_size() << " leaves\n";
  }
  return kExitOk;
}

struct KeyOptions {
  std::string out;
  bool json = false;
};

int RunKey(const KeyOptions& options, const GlobalOptions& global) {
  v1::GetTreeHeadRequest request;
  v1::GetTreeHeadResponse response;
  if (int code = CallUnary(global, "GetTreeHead", &v1::EvidenceService::Stub::GetTreeHead, request,
                           &response);
      code != kExitOk) {
    return code;
  }
  auto key = sync::LoadPublicKeyPem(response.public_key_pem());
  if (!key.ok()) return Fail("the server's log key is not an Ed25519 public key");
  if (options.json) {
    PrintJson({{"key_id", sync::KeyId(key->get())}, {"public_key_pem", response.public_key_pem()}});
    return kExitOk;
  }
  if (options.out.empty()) {
    std::cout << response.public_key_pem();
    return kExitOk;
  }
  if (absl::Status s = WriteFile(options.out, response.public_key_pem()); !s.ok()) return Fail(s);
  std::cout << "wrote the log key " << sync::KeyId(key->get()) << " to " << options.out << "\n";
  return kExitOk;
}

struct ConsistencyOptions {
  std::string old_head;
  std::string new_head;
  std::string proof;
  std::string log_key;
  bool json = false;
};

int RunConsistency(const ConsistencyOptions& options, const GlobalOptions& global) {
  v1::SignedTreeHead first, second;
  if (absl::Status s = ReadMessageFile(options.old_head, "tree head", &first); !s.ok()) {
    return Fail(s);
  }
  if (absl::Status s = ReadMessageFile(options.new_head, "tree head", &second); !s.ok()) {
    return Fail(s);
  }
  if (!options.log_key.empty()) {
    auto key = ReadLogKey(options.log_key);
    if (!key.ok()) return Fail(key.status());
    for (const auto* head : {&first, &second}) {
      if (absl::Status s = sync::VerifyTreeHead(key->get(), *head); !s.ok()) {
        return Fail(
            absl::StrCat("tree head of size ", head->tree_size(), " signature: ", s.message()));
      }
    }
  }
  // Heads of different logs: a restore went between them when the server
  // recorded a transition from the one to the other (docs/evidence.md, "The
  // log across a restore").
  std::vector<v1::LogTransition> across;
  if (first.origin() != second.origin()) {
    v1::GetTreeHeadResponse current;
    if (int code = CallUnary(global, "GetTreeHead", &v1::EvidenceService::Stub::GetTreeHead,
                             v1::GetTreeHeadRequest(), &current);
        code != kExitOk) {
      return code;
    }
    auto path = sync::LineageBetween({current.transitions().begin(), current.transitions().end()},
                                     first.origin(), second.origin());
    if (!path.ok()) {
      return Fail(absl::StrCat("the heads are of different logs: ", first.origin(), " and ",
                               second.origin(), ", and ", path.status().message()));
    }
    auto key = options.log_key.empty() ? sync::LoadPublicKeyPem(current.public_key_pem())
                                       : ReadLogKey(options.log_key);
    if (!key.ok()) return Fail(key.status());
    for (const v1::LogTransition& t : *path) {
      if (absl::Status s = sync::VerifyLogTransition(key->get(), t); !s.ok()) return Fail(s);
    }
    if (absl::Status s = sync::CheckCarriedThrough(first, *path); !s.ok()) {
      if (options.json) {
        PrintJson({{"consistent", false},
                   {"old_origin", first.origin()},
                   {"old_tree_size", first.tree_size()},
                   {"new_origin", second.origin()},
                   {"new_tree_size", second.tree_size()},
                   {"explanation", std::string(s.message())}});
        return kExitFailure;
      }
      return Fail(s);
    }
    across = std::move(*path);
  }
  v1::GetConsistencyProofResponse proof;
  if (!options.proof.empty()) {
    if (absl::Status s = ReadMessageFile(options.proof, "consistency proof", &proof); !s.ok()) {
      return Fail(s);
    }
  } else {
    // Two heads of a log a restore has since continued: the server holds
    // that log only as far as the restore kept it.
    if (first.origin() == second.origin()) {
      v1::GetTreeHeadResponse current;
      if (int code = CallUnary(global, "GetTreeHead", &v1::EvidenceService::Stub::GetTreeHead,
                               v1::GetTreeHeadRequest(), &current);
          code != kExitOk) {
        return code;
      }
      for (const v1::LogTransition& t : current.transitions()) {
        if (t.from_origin() == second.origin() && second.tree_size() > t.from_head().tree_size()) {
          return Fail(absl::StrCat(
              "the restore of ", FormatUnixMs(t.at_ms()), " (", t.reason(), ") continued log ",
              t.from_origin(), " as log ", t.to_origin(), " from its head of ",
              t.from_head().tree_size(), " leaves: this server no longer holds the tree of ",
              second.tree_size(),
              " leaves; check these heads with a proof saved before the restore (--proof)"));
        }
      }
    }
    v1::GetConsistencyProofRequest request;
    request.set_first_size(first.tree_size());
    request.set_second_size(second.tree_size());
    if (int code = CallUnary(global, "GetConsistencyProof",
                             &v1::EvidenceService::Stub::GetConsistencyProof, request, &proof);
        code != kExitOk) {
      return code;
    }
  }
  auto root1 = sync::DigestFromBytes(first.root_hash());
  auto root2 = sync::DigestFromBytes(second.root_hash());
  if (!root1.ok() || !root2.ok()) return Fail("a tree head's root is not 32 bytes");
  std::vector<sync::Sha256Digest> nodes;
  for (const std::string& node : proof.proof()) {
    auto digest = sync::DigestFromBytes(node);
    if (!digest.ok()) return Fail("a consistency proof node is not 32 bytes");
    nodes.push_back(*digest);
  }
  if (absl::Status s =
          sync::VerifyConsistency(first.tree_size(), second.tree_size(), *root1, *root2, nodes);
      !s.ok()) {
    return Fail(absl::StrCat("consistency proof: ", s.message()));
  }
  if (options.json) {
    nlohmann::json restores = nlohmann::json::array();
    for (const v1::LogTransition& t : across) {
      restores.push_back({{"from_origin", t.from_origin()},
                          {"from_tree_size", t.from_head().tree_size()},
                          {"to_origin", t.to_origin()},
                          {"at_ms", t.at_ms()},
                          {"reason", t.reason()}});
    }
    PrintJson({{"consistent", true},
               {"old_tree_size", first.tree_size()},
               {"new_tree_size", second.tree_size()},
               {"restores", restores}});
    return kExitOk;
  }
  std::cout << "consistent: the tree of " << first.tree_size()
            << " leaves is a prefix of the tree of " << second.tree_size() << " leaves\n";
  for (const v1::LogTransition& t : across) {
    std::cout << "  across the restore of " << FormatUnixMs(t.at_ms()) << " (" << t.reason()
              << "): log " << t.from_origin() << " goes on as log " << t.to_origin()
              << " from its head of " << t.from_head().tree_size() << " leaves\n";
  }
  return kExitOk;
}

void RegisterLog(CommandLine& cli) {
  CLI::App* group = cli.Group("log", "The evidence log: signed tree heads, key, consistency");
  const GlobalOptions& global = cli.global();

  auto head = std::make_shared<HeadOptions>();
  CLI::App* head_cmd =
      cli.Command(group, "head", "The latest signed tree head (checkpoint) of the evidence log",
                  [head, &global] { return RunHead(*head, global); });
  head_cmd->add_flag("--fresh", head->fresh, "Have the server sign a new head now");
  head_cmd->add_option("--out", head->out, "Also save the head (JSON) to this file");
  AddJsonFlag(head_cmd, &head->json);

  auto key = std::make_shared<KeyOptions>();
  CLI::App* key_cmd = cli.Command(group, "key", "The log's Ed25519 public key (PEM)",
                                  [key, &global] { return RunKey(*key, global); });
  key_cmd->add_option("--out", key->out, "Write the key to this file instead of stdout");
  AddJsonFlag(key_cmd, &key->json);

  auto consistency = std::make_shared<ConsistencyOptions>();
  CLI::App* consistency_cmd = cli.Command(
      group, "consistency",
      "Verify that the log of the NEW saved head extends that of the OLD one (the proof comes "
      "from the server unless --proof names a saved one)",
      [consistency, &global] { return RunConsistency(*consistency, global); });
  consistency_cmd->add_option("OLD", consistency->old_head, "Saved tree head (smaller)")
      ->required();
  consistency_cmd->add_option("NEW", consistency->new_head, "Saved tree head (larger)")->required();
  consistency_cmd->add_option("--proof", consistency->proof,
                              "Saved GetConsistencyProofResponse (JSON); verifies offline");
  consistency_cmd->add_option("--log-key", consistency->log_key,
                              "Also verify both heads' signatures with this public key");
  AddJsonFlag(consistency_cmd, &consistency->json);
}

}  // namespace

PALMCTL_REGISTER_GROUP(log, RegisterLog);

}  // namespace palm::palmctl
