#include "client-lib/src/c_json.h"

#include "absl/strings/str_cat.h"

namespace palm::internal {

JsonArgs::JsonArgs(const char* text, const char* what, Need need)
    : json_(nlohmann::json::object()) {
  if (text == nullptr) {
    if (need == kRequired) Refuse(absl::StrCat(what, " is required"));
    return;
  }
  json_ = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json_.is_discarded()) {
    Refuse(absl::StrCat(what, " is not valid JSON"));
  } else if (!json_.is_object()) {
    Refuse(absl::StrCat(what, " must be a JSON object"));
  }
}

void JsonArgs::Refuse(std::string message) {
  if (status_.ok()) {
    status_ = Status(StatusCode::kInvalidArgument, "invalid_argument", std::move(message));
  }
}

const nlohmann::json* JsonArgs::Find(const char* key, Need need) {
  if (!ok()) return nullptr;
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) {
    if (need == kRequired) Refuse(absl::StrCat(key, " is required"));
    return nullptr;
  }
  return &*it;
}

void JsonArgs::String(const char* key, std::string* out, Need need) {
  const nlohmann::json* v = Find(key, need);
  if (v == nullptr) return;
  if (!v->is_string()) return Refuse(absl::StrCat(key, " must be a string"));
  *out = v->get_ref<const std::string&>();
  if (need == kRequired && out->empty()) Refuse(absl::StrCat(key, " must not be empty"));
}

void JsonArgs::Bool(const char* key, bool* out) {
  const nlohmann::json* v = Find(key, kOptional);
  if (v == nullptr) return;
  if (!v->is_boolean()) return Refuse(absl::StrCat(key, " must be true or false"));
  *out = v->get<bool>();
}

void JsonArgs::Int(const char* key, int64_t* out, int64_t min, int64_t max) {
  const nlohmann::json* v = Find(key, kOptional);
  if (v == nullptr) return;
  const bool in_range =
      (v->is_number_unsigned() && v->get<uint64_t>() <= static_cast<uint64_t>(max) &&
       static_cast<int64_t>(v->get<uint64_t>()) >= min) ||
      (v->is_number_integer() && !v->is_number_unsigned() && v->get<int64_t>() >= min &&
       v->get<int64_t>() <= max);
  if (!in_range) {
    return Refuse(absl::StrCat(key, " must be an integer from ", min, " to ", max));
  }
  *out = v->is_number_unsigned() ? static_cast<int64_t>(v->get<uint64_t>()) : v->get<int64_t>();
}

void JsonArgs::UInt32(const char* key, uint32_t* out) {
  int64_t value = *out;
  Int(key, &value, 0, UINT32_MAX);
  if (ok()) *out = static_cast<uint32_t>(value);
}

}  // namespace palm::internal
