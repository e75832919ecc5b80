// The canonical entry of the evidence log (DESIGN.md §3.6): the bytes each
// Merkle leaf hashes, binding an evidence record's content hash to its case,
// device, officer, place and times. The format is documented byte by byte in
// docs/evidence.md; anyone can decode it without Palm's code.
#ifndef PALM_SYNC_EVIDENCE_ENTRY_H_
#define PALM_SYNC_EVIDENCE_ENTRY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "palm/v1/case.pb.h"
#include "sync/sha256.h"

namespace palm::sync {

// Version byte of the entries this build writes (and the only one it reads).
inline constexpr uint8_t kEvidenceEntryVersion = 1;

// The fields of one entry. Exactly one of case_number and case_id is set:
// the official case number when the server had assigned it when the
// evidence was integrated, otherwise the device-made case id.
struct EvidenceEntry {
  std::string case_number;
  std::string case_id;
  std::string evidence_id;
  Sha256Digest sha256{};
  uint64_t size = 0;
  std::string device_id;
  std::string officer_id;
  bool has_location = false;
  double latitude = 0;
  double longitude = 0;
  double accuracy_m = 0;
  int64_t captured_at_ms = 0;
  int64_t integrated_at_ms = 0;
};

// Returns the canonical encoding of `entry` (version 1). Deterministic: the
// same fields always give the same bytes.
std::string EncodeEvidenceEntry(const EvidenceEntry& entry);

// Parses an encoded entry. Strict: the version, every tag in order, exact
// lengths and no trailing bytes, so that one entry has one encoding.
// Returns INVALID_ARGUMENT naming the first problem.
absl::StatusOr<EvidenceEntry> DecodeEvidenceEntry(absl::string_view bytes);

// The entry of `evidence` integrated at evidence.integrated_at_ms(), with
// `case_number` (empty when none was assigned yet: then the case id is
// used). INVALID_ARGUMENT when evidence.sha256() is not lowercase hex.
absl::StatusOr<EvidenceEntry> EntryOfEvidence(const palm::v1::Evidence& evidence,
                                              const std::string& case_number);

}  // namespace palm::sync

#endif  // PALM_SYNC_EVIDENCE_ENTRY_H_
