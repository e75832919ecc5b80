// The evidence log's parsers: an entry decodes or is refused, and a decoded
// entry is canonical (it re-encodes to the same bytes, docs/evidence.md); a
// receipt (binary palm.v1.EvidenceReceipt) verifies or is refused with
// DATA_LOSS or INVALID_ARGUMENT, never anything else.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "fuzz/fuzz_quiet.h"
#include "palm/v1/case.pb.h"
#include "sync/ed25519.h"
#include "sync/evidence_entry.h"
#include "sync/evidence_receipt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto entry = palm::sync::DecodeEvidenceEntry(bytes);
  if (entry.ok() && palm::sync::EncodeEvidenceEntry(*entry) != bytes) std::abort();

  static palm::sync::UniqueEvpPkey* key =
      new palm::sync::UniqueEvpPkey(std::move(*palm::sync::GenerateEd25519Key()));
  palm::v1::EvidenceReceipt receipt;
  if (!receipt.ParseFromArray(data, static_cast<int>(size))) return 0;
  palm::sync::FileFacts facts;
  facts.size = size;
  for (const auto& file : {std::optional<palm::sync::FileFacts>(), std::optional(facts)}) {
    absl::Status s = palm::sync::VerifyEvidenceReceipt(key->get(), receipt, file);
    if (!s.ok() && !absl::IsDataLoss(s) && !absl::IsInvalidArgument(s)) std::abort();
  }
  return 0;
}
