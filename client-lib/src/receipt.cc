// palm::VerifyEvidenceReceipt: the library's face of the one offline check
// of an evidence receipt (sync/evidence_receipt.h; docs/evidence.md).
#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "palm/client.h"
#include "sync/ed25519.h"
#include "sync/evidence_receipt.h"
#include "sync/sha256.h"

namespace palm {

Status VerifyEvidenceReceipt(const std::string& receipt, const std::string& log_public_key_pem,
                             const std::string& file_path) {
  auto invalid = [](std::string message) {
    return Status(StatusCode::kInvalidArgument, "invalid_argument", std::move(message));
  };
  v1::EvidenceReceipt parsed;
  const absl::string_view text = absl::StripLeadingAsciiWhitespace(receipt);
  if (!text.empty() && text.front() == '{') {
    auto s = google::protobuf::util::JsonStringToMessage(std::string(text), &parsed);
    if (!s.ok()) {
      return invalid(absl::StrCat("the receipt is not a palm.v1.EvidenceReceipt in JSON: ",
                                  s.message().as_string()));
    }
  } else if (receipt.empty() || !parsed.ParseFromString(receipt)) {
    return invalid("the receipt is not a palm.v1.EvidenceReceipt (JSON or binary)");
  }
  auto key = sync::LoadPublicKeyPem(log_public_key_pem);
  if (!key.ok()) {
    return invalid(
        absl::StrCat("the log key is not an Ed25519 public key (PEM): ", key.status().message()));
  }
  std::optional<sync::FileFacts> file;
  if (!file_path.empty()) {
    auto digest = sync::Sha256File(file_path);
    if (!digest.ok()) {
      return Status(StatusCode::kNotFound, "file_not_found",
                    absl::StrCat("the evidence file ", file_path,
                                 " cannot be read: ", digest.status().message()));
    }
    file.emplace();
    file->sha256 = *sync::HexDecodeDigest(digest->sha256_hex);
    file->size = digest->size;
  }
  absl::Status s = sync::VerifyEvidenceReceipt(key->get(), parsed, file);
  if (s.ok()) return Status();
  const bool malformed = s.code() == absl::StatusCode::kInvalidArgument;
  return Status(static_cast<StatusCode>(s.code()),
                malformed ? "invalid_argument" : "receipt_mismatch",
                absl::StrCat("the receipt does not verify: ", s.message()));
}

}  // namespace palm
