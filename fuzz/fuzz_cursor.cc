// The pull cursor decoder: any bytes decode or are refused; a decoded cursor
// encodes back to bytes that decode to the same cursor.
#include <cstdint>
#include <cstdlib>

#include "fuzz/fuzz_quiet.h"
#include "server/cursor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto cursor = palm::server::DecodeCursor(bytes);
  if (!cursor.ok()) return 0;
  auto again = palm::server::DecodeCursor(palm::server::EncodeCursor(*cursor));
  if (!again.ok() || again->epoch != cursor->epoch || again->scope != cursor->scope ||
      again->server_seq != cursor->server_seq) {
    std::abort();  // a cursor the server made must read back as itself
  }
  return 0;
}
