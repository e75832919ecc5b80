// Random bytes from OpenSSL's CSPRNG, drawn in blocks.
//
// Ids (UUIDv7) and AES-GCM nonces take a few random bytes each, several per
// local write. RAND_bytes costs some 650 ns a call whatever the size asked for
// (docs/benchmarks.md, local_write), so each thread draws a block and hands
// it out piece by piece; no byte is handed out twice. After fork() the child
// throws away the blocks it inherited, so that parent and child never hand
// out the same bytes (which would repeat an id, or a nonce under one key).
#ifndef PALM_SYNC_RANDOM_H_
#define PALM_SYNC_RANDOM_H_

#include <cstddef>
#include <cstdint>

namespace palm::sync {

// Fills `size` bytes at `out` with CSPRNG output and returns true; returns
// false, with nothing usable at `out`, when OpenSSL cannot seed its
// generator. Thread-safe.
[[nodiscard]] bool RandomBytes(uint8_t* out, size_t size);

}  // namespace palm::sync

#endif  // PALM_SYNC_RANDOM_H_
