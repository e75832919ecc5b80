// The catalogue JSON loader: any text loads or is refused with a status.
#include <cstdint>

#include "client-lib/src/catalog_json.h"
#include "fuzz/fuzz_quiet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto catalog =
      palm::internal::CatalogFromJson(absl::string_view(reinterpret_cast<const char*>(data), size));
  (void)catalog;
  return 0;
}
