// Helpers for the evidence suites (evidence_*_test.cc): evidence mutations,
// an EvidenceService client, chunked uploads that can be cut off.
#ifndef PALM_TESTS_SERVER_EVIDENCE_UTIL_H_
#define PALM_TESTS_SERVER_EVIDENCE_UTIL_H_

#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "palm/v1/evidence.grpc.pb.h"
#include "server/sync_util.h"
#include "sync/ed25519.h"
#include "sync/sha256.h"

namespace palm::testing {

// `size` pseudo-random bytes from `seed`.
inline std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

inline std::string Sha256Hex(const std::string& content) {
  return palm::sync::HexEncode(palm::sync::Sha256::Of(content));
}

// AddEvidence of a photo with `content`'s hash and size on `case_id`.
inline v1::Mutation AddEvidence(const std::string& device, uint64_t seq, const std::string& case_id,
                                const std::string& content, std::string* evidence_id = nullptr,
                                int64_t captured_at_ms = 0) {
  v1::Mutation m = NewMutation(device, seq);
  v1::Evidence* e = m.mutable_add_evidence()->mutable_evidence();
  e->set_evidence_id(sync::NewUuidV7());
  e->set_case_id(case_id);
  e->set_kind(v1::EVIDENCE_KIND_PHOTO);
  e->set_mime_type("image/jpeg");
  e->set_sha256(Sha256Hex(content));
  e->set_size_bytes(content.size());
  e->set_captured_at_ms(captured_at_ms > 0 ? captured_at_ms : sync::SystemNowMs());
  e->mutable_location()->set_latitude(30.6298);
  e->mutable_location()->set_longitude(120.5650);
  e->mutable_location()->set_accuracy_m(8);
  if (evidence_id != nullptr) *evidence_id = e->evidence_id();
  return m;
}

struct EvidenceClient {
  explicit EvidenceClient(const std::shared_ptr<grpc::Channel>& channel)
      : stub(v1::EvidenceService::NewStub(channel)) {}

  v1::GetTreeHeadResponse TreeHead(bool fresh) {
    grpc::ClientContext ctx;
    v1::GetTreeHeadRequest request;
    request.set_fresh(fresh);
    v1::GetTreeHeadResponse response;
    grpc::Status s = stub->GetTreeHead(&ctx, request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return response;
  }

  grpc::Status Receipt(const std::string& evidence_id, v1::EvidenceReceipt* out) {
    grpc::ClientContext ctx;
    v1::GetReceiptRequest request;
    request.set_evidence_id(evidence_id);
    v1::GetReceiptResponse response;
    grpc::Status s = stub->GetReceipt(&ctx, request, &response);
    *out = response.receipt();
    return s;
  }

  grpc::Status Consistency(uint64_t first, uint64_t second, std::vector<std::string>* proof) {
    grpc::ClientContext ctx;
    v1::GetConsistencyProofRequest request;
    request.set_first_size(first);
    request.set_second_size(second);
    v1::GetConsistencyProofResponse response;
    grpc::Status s = stub->GetConsistencyProof(&ctx, request, &response);
    proof->assign(response.proof().begin(), response.proof().end());
    return s;
  }

  v1::GetUploadOffsetResponse Offset(const std::string& device, const std::string& sha256) {
    auto ctx = DeviceContext(device);
    v1::GetUploadOffsetRequest request;
    request.set_sha256(sha256);
    v1::GetUploadOffsetResponse response;
    grpc::Status s = stub->GetUploadOffset(ctx.get(), request, &response);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return response;
  }

  // Streams content[offset..] in `chunk`-byte chunks. With `cut_after` > 0
  // the call is cancelled after that many chunks (a dropped connection),
  // once the server holds some of them: on a loaded machine it may not have
  // read a single chunk yet when the cancel arrives, and then the stream
  // would leave nothing to resume from (GetUploadOffset is polled for at
  // most 10 s).
  grpc::Status Upload(const std::string& device, const std::string& evidence_id,
                      const std::string& content, uint64_t offset, size_t chunk,
                      v1::UploadResponse* response, int cut_after = 0,
                      const std::string& claimed_sha256 = "") {
    auto ctx = DeviceContext(device);
    auto writer = stub->Upload(ctx.get(), response);
    int sent = 0;
    bool first = true;
    for (uint64_t at = offset; first || at < content.size(); at += chunk) {
      v1::UploadChunk c;
      if (first) {
        c.set_evidence_id(evidence_id);
        c.set_sha256(claimed_sha256.empty() ? Sha256Hex(content) : claimed_sha256);
        c.set_total_size(content.size());
        c.set_offset(offset);
        first = false;
      }
      c.set_data(content.substr(at, std::min<uint64_t>(chunk, content.size() - at)));
      if (!writer->Write(c)) break;
      if (cut_after > 0 && ++sent == cut_after) {
        const std::string sha = claimed_sha256.empty() ? Sha256Hex(content) : claimed_sha256;
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (Offset(device, sha).offset() <= offset &&
               std::chrono::steady_clock::now() < give_up) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        ctx->TryCancel();
        break;
      }
    }
    if (cut_after == 0) writer->WritesDone();
    return writer->Finish();
  }

  // Upload that retries while another stream still holds the content
  // (ABORTED right after a drop).
  grpc::Status UploadRetrying(const std::string& device, const std::string& evidence_id,
                              const std::string& content, uint64_t offset, size_t chunk,
                              v1::UploadResponse* response, int cut_after = 0) {
    for (int attempt = 0;; ++attempt) {
      grpc::Status s = Upload(device, evidence_id, content, offset, chunk, response, cut_after);
      if (s.error_code() != grpc::StatusCode::ABORTED || attempt == 100) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::unique_ptr<v1::EvidenceService::Stub> stub;
};

}  // namespace palm::testing

#endif  // PALM_TESTS_SERVER_EVIDENCE_UTIL_H_
