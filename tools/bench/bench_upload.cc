// Evidence upload (issue 6): chunked, resumable upload of evidence files to
// a palm-server on loopback TLS, in MB/s (target >= 300 MB/s).
//
// Not measurable yet: neither the server's EvidenceService.Upload nor the
// client's upload during sync exists. Replace this body when they do; keep
// the name.
#include "tools/bench/bench.h"

namespace palm::bench {
namespace {

constexpr Metric kUpload{"upload_mb_per_s", "MB/s", 300, Better::kHigher};
constexpr char kWhy[] =
    "evidence upload is not implemented yet (EvidenceService.Upload and the client's "
    "upload during sync; issue 6)";

}  // namespace

std::vector<Json> RunUploadBench(const BenchContext& context) {
  return {NotMeasured(kUpload, kWhy)};
}

}  // namespace palm::bench
