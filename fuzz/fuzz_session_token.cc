// The session token verifier: any string verifies or is refused
// UNAUTHENTICATED, never anything else.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz/fuzz_quiet.h"
#include "server/auth_token.h"
#include "sync/ed25519.h"

namespace {

const palm::server::TokenSigner& Signer() {
  static const auto* signer =
      new palm::server::TokenSigner(std::move(*palm::sync::GenerateEd25519Key()));
  return *signer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string token(reinterpret_cast<const char*>(data), size);
  for (auto claims : {Signer().Verify(token, 1767225600000), Signer().VerifySignature(token)}) {
    if (!claims.ok() && !absl::IsUnauthenticated(claims.status())) std::abort();
  }
  return 0;
}
