#include "sync/limits.h"

#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"

namespace palm::sync {
namespace {

namespace pb = google::protobuf;

const FieldLimit* Find(const std::string& key) {
  for (const FieldLimit& limit : FieldLimits()) {
    if (key == limit.key) return &limit;
  }
  return nullptr;
}

size_t Default(const char* key) {
  const FieldLimit* limit = Find(key);
  return limit == nullptr ? 0 : limit->max;
}

}  // namespace

const std::vector<FieldLimit>& FieldLimits() {
  static const std::vector<FieldLimit>* const table = new std::vector<FieldLimit>{
      {"palm.v1.PushRequest.mutations", 2000},
      {"palm.v1.PushRequest.case_number_claims", 2000},
      {"palm.v1.UploadChunk.data", 1024 * 1024},
      {"palm.v1.Catalog.matters", 10000},
      {"palm.v1.Town.delegated_matters", 10000},
      {"palm.v1.RestoreTicketLeasesRequest.leases", 1000},
      {"palm.v1.Case.parties", 20},
      {"palm.v1.Case.officer_ids", 20},
      {"palm.v1.Ticket.officer_ids", 20},
      {"palm.v1.NoPenaltyDecision.officer_ids", 20},
      {"palm.v1.NoPenaltyDecision.no_fault_evidence_ids", 20},
      {"palm.v1.NoPenaltyCorrection.verified_by", 128},
      {"palm.v1.ServiceRecord.proof_evidence_ids", 20},
      {"palm.v1.ServiceRecord.recipient", 256},
      {"palm.v1.ServiceRecord.tracking_number", 64},
      {"palm.v1.ServiceRecord.electronic_address", 256},
      {"palm.v1.PaymentRecord.reference", 128},
      {"palm.v1.HandOverRecord.payment_event_ids", 20},
      {"palm.v1.HandOverRecord.reference", 128},
      {"palm.v1.ListDeadlinesRequest.kinds", 10},
      {"palm.v1.Party.name", 256},
      {"palm.v1.SignInRequest.secret", 256},
      {"palm.v1.EnrollDeviceRequest.csr_pem", 16 * 1024},
      {"palm.v1.EnrollDeviceRequest.certificate_pem", 16 * 1024},
      {"*_id", 128},
      {"string", 4 * 1024},
      {"bytes", 64 * 1024},
      {"repeated", 100},
  };
  return *table;
}

namespace {

size_t ComputeMaxBytes(const pb::FieldDescriptor* field) {
  if (const FieldLimit* limit = Find(field->full_name());
      limit != nullptr && !field->is_repeated()) {
    return limit->max;
  }
  if (field->type() == pb::FieldDescriptor::TYPE_STRING &&
      (absl::EndsWith(field->name(), "_id") || absl::EndsWith(field->name(), "_ids"))) {
    return Default("*_id");
  }
  return Default(field->type() == pb::FieldDescriptor::TYPE_BYTES ? "bytes" : "string");
}

size_t ComputeMaxCount(const pb::FieldDescriptor* field) {
  if (const FieldLimit* limit = Find(field->full_name()); limit != nullptr) return limit->max;
  return Default("repeated");
}

// Both limits of `field`, looked up by name once per thread and field: the
// request check asks for them on every field of every mutation, on the push
// path, and a descriptor never changes.
const std::pair<size_t, size_t>& Limits(const pb::FieldDescriptor* field) {
  thread_local absl::flat_hash_map<const pb::FieldDescriptor*, std::pair<size_t, size_t>> cache;
  auto it = cache.find(field);
  if (it == cache.end()) {
    it = cache.emplace(field, std::make_pair(ComputeMaxBytes(field), ComputeMaxCount(field))).first;
  }
  return it->second;
}

}  // namespace

size_t MaxBytes(const pb::FieldDescriptor* field) { return Limits(field).first; }

size_t MaxCount(const pb::FieldDescriptor* field) { return Limits(field).second; }

}  // namespace palm::sync
