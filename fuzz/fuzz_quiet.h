// Included by every fuzz target: protobuf logs each string field that is
// not UTF-8 as an ERROR line on stderr, which for a fuzzer is most inputs
// and most of its time. The parse failure is what the target checks; the
// line is noise, so protobuf's log handler is off in fuzz processes.
#ifndef PALM_FUZZ_FUZZ_QUIET_H_
#define PALM_FUZZ_FUZZ_QUIET_H_

#include "google/protobuf/stubs/logging.h"

namespace palm::fuzz {

inline const bool kProtobufQuiet = [] {
  google::protobuf::SetLogHandler(nullptr);
  return true;
}();

}  // namespace palm::fuzz

#endif  // PALM_FUZZ_FUZZ_QUIET_H_
