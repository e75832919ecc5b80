// Big-endian integers in byte strings: the one encoder behind every signed
// or hashed format Palm defines (evidence entries, audit hashes and
// checkpoints, lease and case-number signatures). Those formats are fixed;
// this only writes what they already say.
#ifndef PALM_SYNC_BIG_ENDIAN_H_
#define PALM_SYNC_BIG_ENDIAN_H_

#include <cstdint>
#include <string>

namespace palm::sync {

// Appends the low `bytes` bytes of `value`, most significant first.
inline void PutBigEndian(std::string* out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace palm::sync

#endif  // PALM_SYNC_BIG_ENDIAN_H_
