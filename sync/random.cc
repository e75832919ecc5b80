#include "sync/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <cstring>
#include <mutex>

namespace palm::sync {
namespace {

constexpr size_t kBlockSize = 256;

// Bumped in the child of every fork(): a block drawn before it is the
// parent's too.
std::atomic<uint64_t> g_fork_generation{0};

void ForgetBlocksInChild() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct Block {
  std::array<uint8_t, kBlockSize> bytes{};
  size_t used = kBlockSize;  // empty until first drawn
  uint64_t generation = 0;

  ~Block() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

bool Draw(uint8_t* out, size_t size) { return RAND_bytes(out, static_cast<int>(size)) == 1; }

}  // namespace

bool RandomBytes(uint8_t* out, size_t size) {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, &ForgetBlocksInChild); });
  if (size > kBlockSize / 4) return Draw(out, size);
  thread_local Block block;
  const uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
  if (block.generation != generation || kBlockSize - block.used < size) {
    if (!Draw(block.bytes.data(), kBlockSize)) return false;
    block.used = 0;
    block.generation = generation;
  }
  std::memcpy(out, block.bytes.data() + block.used, size);
  // What was handed out is not kept.
  OPENSSL_cleanse(block.bytes.data() + block.used, size);
  block.used += size;
  return true;
}

}  // namespace palm::sync
