// An integrator's first program: open a device store, record nothing the
// catalogue does not know, read the pending counts. Exits 0 when the
// installed library behaves as documented.
#include <cstdio>
#include <memory>
#include <string>

#include "palm/client.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer DB_PATH KEY_DIR\n");
    return 2;
  }
  palm::ClientOptions options;
  options.db_path = argv[1];
  options.device_id = "consumer-device";
  options.key_provider = std::make_shared<palm::FileKeyProvider>(argv[2]);
  auto client = palm::Client::Open(options);
  if (!client.ok()) {
    std::fprintf(stderr, "open: %s\n", client.status().message().c_str());
    return 1;
  }
  auto counts = (*client)->PendingCounts();
  if (!counts.ok() || counts->mutations != 0) {
    std::fprintf(stderr, "pending counts wrong\n");
    return 1;
  }
  if (!(*client)->SetActingOfficer("officer-1").ok()) return 1;
  palm::CaseInput input;
  input.matter_code = "NO-SUCH-MATTER";
  input.procedure = palm::Procedure::kOrdinary;
  input.town_id = "town-1";
  auto refused = (*client)->RecordCase(input);
  if (refused.ok() || refused.status().reason() != "unknown_matter") {
    std::fprintf(stderr, "expected unknown_matter, got %s\n", refused.status().reason().c_str());
    return 1;
  }
  std::printf("consumer ok: device %s, refused with [%s] %s\n", (*client)->device_id().c_str(),
              refused.status().reason().c_str(), refused.status().message().c_str());
  return 0;
}
