#include "sync/evidence_entry.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "sync/big_endian.h"

namespace palm::sync {
namespace {

// Tags, in the order they appear. Never renumber; a new field gets a new
// tag and a new version.
enum Tag : uint8_t {
  kCaseNumber = 0x01,
  kCaseId = 0x02,
  kEvidenceId = 0x03,
  kSha256 = 0x04,
  kSize = 0x05,
  kDevice = 0x06,
  kOfficer = 0x07,
  kLocation = 0x08,
  kCapturedAt = 0x09,
  kIntegratedAt = 0x0A,
};

void PutU32(std::string* out, uint32_t v) { PutBigEndian(out, v, 4); }

void PutU64(std::string* out, uint64_t v) { PutBigEndian(out, v, 8); }

uint64_t GetU64(absl::string_view bytes) {
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

uint64_t DoubleBits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return bits;
}

double BitsDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

void PutField(std::string* out, Tag tag, absl::string_view value) {
  out->push_back(static_cast<char>(tag));
  PutU32(out, static_cast<uint32_t>(value.size()));
  out->append(value.data(), value.size());
}

std::string U64Bytes(uint64_t v) {
  std::string s;
  PutU64(&s, v);
  return s;
}

// Reads the entry field by field.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : rest_(bytes) {}

  bool done() const { return rest_.empty(); }
  // The tag of the next field without consuming it; 0 at the end.
  uint8_t PeekTag() const { return rest_.empty() ? 0 : static_cast<uint8_t>(rest_[0]); }

  // The value of the next field, which must have `tag` (and `length`, when
  // not negative).
  absl::StatusOr<absl::string_view> Field(Tag tag, const char* name, int64_t length = -1) {
    if (rest_.size() < 5) {
      return absl::InvalidArgumentError(absl::StrCat("evidence entry ends before its ", name));
    }
    if (static_cast<uint8_t>(rest_[0]) != tag) {
      return absl::InvalidArgumentError(
          absl::StrCat("evidence entry has tag ", static_cast<int>(static_cast<uint8_t>(rest_[0])),
                       " where its ", name, " (tag ", static_cast<int>(tag), ") belongs"));
    }
    const uint64_t size = GetU64(rest_.substr(1, 4));
    if (rest_.size() - 5 < size) {
      return absl::InvalidArgumentError(absl::StrCat("evidence entry's ", name, " is truncated"));
    }
    if (length >= 0 && size != static_cast<uint64_t>(length)) {
      return absl::InvalidArgumentError(
          absl::StrCat("evidence entry's ", name, " is ", size, " bytes, not ", length));
    }
    absl::string_view value = rest_.substr(5, size);
    rest_.remove_prefix(5 + size);
    return value;
  }

 private:
  absl::string_view rest_;
};

#define PALM_ENTRY_FIELD(var, expr)             \
  auto var##_or = (expr);                       \
  if (!var##_or.ok()) return var##_or.status(); \
  absl::string_view var = *var##_or

}  // namespace

std::string EncodeEvidenceEntry(const EvidenceEntry& e) {
  std::string out;
  out.push_back(static_cast<char>(kEvidenceEntryVersion));
  if (!e.case_number.empty()) {
    PutField(&out, kCaseNumber, e.case_number);
  } else {
    PutField(&out, kCaseId, e.case_id);
  }
  PutField(&out, kEvidenceId, e.evidence_id);
  PutField(&out, kSha256,
           absl::string_view(reinterpret_cast<const char*>(e.sha256.data()), e.sha256.size()));
  PutField(&out, kSize, U64Bytes(e.size));
  PutField(&out, kDevice, e.device_id);
  PutField(&out, kOfficer, e.officer_id);
  std::string location;
  if (e.has_location) {
    PutU64(&location, DoubleBits(e.latitude));
    PutU64(&location, DoubleBits(e.longitude));
    PutU64(&location, DoubleBits(e.accuracy_m));
  }
  PutField(&out, kLocation, location);
  PutField(&out, kCapturedAt, U64Bytes(static_cast<uint64_t>(e.captured_at_ms)));
  PutField(&out, kIntegratedAt, U64Bytes(static_cast<uint64_t>(e.integrated_at_ms)));
  return out;
}

absl::StatusOr<EvidenceEntry> DecodeEvidenceEntry(absl::string_view bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("evidence entry is empty");
  if (static_cast<uint8_t>(bytes[0]) != kEvidenceEntryVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "evidence entry has version ", static_cast<int>(static_cast<uint8_t>(bytes[0])),
        "; this build reads version ", static_cast<int>(kEvidenceEntryVersion)));
  }
  Reader r(bytes.substr(1));
  EvidenceEntry e;
  if (r.PeekTag() == kCaseNumber) {
    PALM_ENTRY_FIELD(number, r.Field(kCaseNumber, "case number"));
    if (number.empty()) return absl::InvalidArgumentError("evidence entry's case number is empty");
    e.case_number = std::string(number);
  } else {
    PALM_ENTRY_FIELD(case_id, r.Field(kCaseId, "case id"));
    e.case_id = std::string(case_id);
  }
  PALM_ENTRY_FIELD(evidence_id, r.Field(kEvidenceId, "evidence id"));
  e.evidence_id = std::string(evidence_id);
  PALM_ENTRY_FIELD(sha, r.Field(kSha256, "SHA-256", 32));
  std::memcpy(e.sha256.data(), sha.data(), 32);
  PALM_ENTRY_FIELD(size, r.Field(kSize, "size", 8));
  e.size = GetU64(size);
  PALM_ENTRY_FIELD(device, r.Field(kDevice, "device"));
  e.device_id = std::string(device);
  PALM_ENTRY_FIELD(officer, r.Field(kOfficer, "officer"));
  e.officer_id = std::string(officer);
  PALM_ENTRY_FIELD(location, r.Field(kLocation, "location"));
  if (!location.empty()) {
    if (location.size() != 24) {
      return absl::InvalidArgumentError(
          absl::StrCat("evidence entry's location is ", location.size(), " bytes, not 0 or 24"));
    }
    e.has_location = true;
    e.latitude = BitsDouble(GetU64(location.substr(0, 8)));
    e.longitude = BitsDouble(GetU64(location.substr(8, 8)));
    e.accuracy_m = BitsDouble(GetU64(location.substr(16, 8)));
  }
  PALM_ENTRY_FIELD(captured, r.Field(kCapturedAt, "capture time", 8));
  e.captured_at_ms = static_cast<int64_t>(GetU64(captured));
  PALM_ENTRY_FIELD(integrated, r.Field(kIntegratedAt, "integration time", 8));
  e.integrated_at_ms = static_cast<int64_t>(GetU64(integrated));
  if (!r.done()) return absl::InvalidArgumentError("evidence entry has bytes after its last field");
  return e;
}

absl::StatusOr<EvidenceEntry> EntryOfEvidence(const palm::v1::Evidence& evidence,
                                              const std::string& case_number) {
  auto digest = HexDecodeDigest(evidence.sha256());
  if (!digest.ok() || !IsLowerHexSha256(evidence.sha256())) {
    return absl::InvalidArgumentError(
        absl::StrCat("evidence ", evidence.evidence_id(), " has no lowercase hex SHA-256"));
  }
  EvidenceEntry e;
  if (case_number.empty()) {
    e.case_id = evidence.case_id();
  } else {
    e.case_number = case_number;
  }
  e.evidence_id = evidence.evidence_id();
  e.sha256 = *digest;
  e.size = evidence.size_bytes();
  e.device_id = evidence.device_id();
  e.officer_id = evidence.officer_id();
  if (evidence.has_location()) {
    e.has_location = true;
    e.latitude = evidence.location().latitude();
    e.longitude = evidence.location().longitude();
    e.accuracy_m = evidence.location().accuracy_m();
  }
  e.captured_at_ms = evidence.captured_at_ms();
  e.integrated_at_ms = evidence.integrated_at_ms();
  return e;
}

}  // namespace palm::sync
