// Typed reading of the JSON objects the C API takes (palm/palm.h). Every
// refusal is INVALID_ARGUMENT, reason "invalid_argument", with a message
// naming the argument or the key: "options_json is not valid JSON",
// "db_path must be a string", "server_address is required". Internal to
// client-lib; never throws.
#ifndef PALM_CLIENT_C_JSON_H_
#define PALM_CLIENT_C_JSON_H_

#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"
#include "palm/status.h"

namespace palm::internal {

// Keys not asked for are ignored. The first problem found is kept; getters
// after it do nothing, so a caller reads every key and checks status() once.
class JsonArgs {
 public:
  enum Need { kOptional, kRequired };

  // Parses `text`, the argument called `what` (e.g. "options_json"). A NULL
  // `text` is refused when `need` is kRequired and reads as {} otherwise.
  JsonArgs(const char* text, const char* what, Need need = kRequired);

  // Each leaves *out unchanged when the key is absent (refused if kRequired).
  void String(const char* key, std::string* out, Need need = kOptional);
  void Bool(const char* key, bool* out);
  // An integer from `min` to `max`.
  void Int(const char* key, int64_t* out, int64_t min, int64_t max);
  void UInt32(const char* key, uint32_t* out);

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

 private:
  // The value of `key`, or nullptr when absent (refused if required).
  const nlohmann::json* Find(const char* key, Need need);
  void Refuse(std::string message);

  nlohmann::json json_;
  Status status_;
};

}  // namespace palm::internal

#endif  // PALM_CLIENT_C_JSON_H_
