#include "sync/request_check.h"

#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/dynamic_message.h>

#include "absl/strings/str_cat.h"
#include "sync/limits.h"
#include "sync/quote.h"
#include "sync/status.h"

namespace palm::sync {
namespace {

namespace pb = google::protobuf;

// How much of a value over its limit a refusal quotes.
constexpr size_t kLimitQuoteBytes = 16;

// Whether `field` is a string in the contract. The lenient copies of the
// contract (FindInvalidUtf8) declare strings as bytes; the generated pool
// still knows them as strings.
bool IsContractString(const pb::FieldDescriptor* field) {
  if (field->file()->pool() == pb::DescriptorPool::generated_pool()) {
    return field->type() == pb::FieldDescriptor::TYPE_STRING;
  }
  const pb::FieldDescriptor* original =
      pb::DescriptorPool::generated_pool()->FindFieldByName(field->full_name());
  return original != nullptr && original->type() == pb::FieldDescriptor::TYPE_STRING;
}

// What a walk checks: everything, or only that strings are UTF-8 (naming
// the field of bytes the parser refused).
enum class Mode { kAll, kUtf8Only };

// Where the walk is, as a chain from the innermost field outwards. The path
// string is rendered only for a refusal: the walk runs on every mutation of
// every push, and almost every one passes.
struct PathNode {
  const PathNode* parent;
  const pb::FieldDescriptor* field;
  int index;  // -1 for a singular field
};

std::string Render(const PathNode* node) {
  if (node == nullptr) return "";
  std::string out = Render(node->parent);
  if (!out.empty()) out += ".";
  out += node->field->name();
  if (node->index >= 0) absl::StrAppend(&out, "[", node->index, "]");
  return out;
}

absl::Status CheckValue(const pb::Message& m, const PathNode& at, Mode mode);

absl::Status Walk(const pb::Message& m, const PathNode* parent, Mode mode) {
  const pb::Reflection* r = m.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (f->is_repeated()) {
      const int n = r->FieldSize(m, f);
      if (mode == Mode::kAll && static_cast<size_t>(n) > MaxCount(f)) {
        const PathNode at{parent, f, -1};
        return absl::InvalidArgumentError(
            absl::StrCat(Render(&at), ": at most ", MaxCount(f), " elements, this one has ", n));
      }
      for (int i = 0; i < n; ++i) {
        absl::Status s = CheckValue(m, PathNode{parent, f, i}, mode);
        if (!s.ok()) return s;
      }
    } else {
      absl::Status s = CheckValue(m, PathNode{parent, f, -1}, mode);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckValue(const pb::Message& m, const PathNode& at, Mode mode) {
  const pb::Reflection* r = m.GetReflection();
  const pb::FieldDescriptor* f = at.field;
  const int index = at.index;
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      if (mode != Mode::kAll) return absl::OkStatus();
      const int value = index < 0 ? r->GetEnumValue(m, f) : r->GetRepeatedEnumValue(m, f, index);
      if (f->enum_type()->FindValueByNumber(value) == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(Render(&at), ": unknown enum value ", value,
                                                       " for ", f->enum_type()->full_name()));
      }
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      const bool is_string = IsContractString(f);
      std::string scratch;
      const std::string& value = index < 0 ? r->GetStringReference(m, f, &scratch)
                                           : r->GetRepeatedStringReference(m, f, index, &scratch);
      if (mode == Mode::kAll && value.size() > MaxBytes(f)) {
        // A short prefix only: the value may be megabytes, or not text.
        return absl::InvalidArgumentError(absl::StrCat(
            Render(&at), ": at most ", MaxBytes(f), " bytes, this one has ", value.size(),
            is_string ? absl::StrCat(" (\"", QuotePrefix(value, kLimitQuoteBytes), "\")") : ""));
      }
      if (!is_string) return absl::OkStatus();
      if (!IsUtf8(value)) return absl::InvalidArgumentError(absl::StrCat(Render(&at), ": not valid UTF-8"));
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      return Walk(index < 0 ? r->GetMessage(m, f) : r->GetRepeatedMessage(m, f, index), &at, mode);
    default:
      return absl::OkStatus();
  }
}

void StringsToBytes(pb::DescriptorProto* type) {
  for (auto& field : *type->mutable_field()) {
    if (field.type() == pb::FieldDescriptorProto::TYPE_STRING) {
      field.set_type(pb::FieldDescriptorProto::TYPE_BYTES);
    }
  }
  for (auto& nested : *type->mutable_nested_type()) StringsToBytes(&nested);
}

// The contract with every string declared as bytes, so that bytes refused
// only for invalid UTF-8 parse, and the walk can name the field.
class LenientContract {
 public:
  LenientContract() : pool_(&database_), factory_(&pool_) {}

  std::string Find(const pb::Descriptor* type, absl::string_view bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    Add(type->file());
    const pb::Descriptor* lenient = pool_.FindMessageTypeByName(type->full_name());
    if (lenient == nullptr) return "";
    std::unique_ptr<pb::Message> message(factory_.GetPrototype(lenient)->New());
    if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return "";
    const absl::Status s = Walk(*message, nullptr, Mode::kUtf8Only);
    if (s.ok()) return "";
    const std::string text(s.message());
    const size_t colon = text.find(": not valid UTF-8");
    return colon == std::string::npos ? "" : text.substr(0, colon);
  }

 private:
  void Add(const pb::FileDescriptor* file) {
    if (!added_.insert(file->name()).second) return;
    for (int i = 0; i < file->dependency_count(); ++i) Add(file->dependency(i));
    pb::FileDescriptorProto proto;
    file->CopyTo(&proto);
    for (auto& type : *proto.mutable_message_type()) StringsToBytes(&type);
    database_.Add(proto);
  }

  std::mutex mutex_;
  std::set<std::string> added_;
  pb::SimpleDescriptorDatabase database_;
  pb::DescriptorPool pool_;
  pb::DynamicMessageFactory factory_;
};

void Cut(pb::Message* m) {
  const pb::Reflection* r = m->GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(*m, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (f->is_repeated()) {
      while (static_cast<size_t>(r->FieldSize(*m, f)) > MaxCount(f)) r->RemoveLast(m, f);
    }
    const int n = f->is_repeated() ? r->FieldSize(*m, f) : 1;
    for (int i = 0; i < n; ++i) {
      if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        Cut(f->is_repeated() ? r->MutableRepeatedMessage(m, f, i) : r->MutableMessage(m, f));
      } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
        const size_t max = MaxBytes(f);
        std::string value = f->is_repeated() ? r->GetRepeatedString(*m, f, i) : r->GetString(*m, f);
        if (value.size() <= max) continue;
        value = QuotePrefix(value, max >= 3 ? max - 3 : 0);
        if (f->is_repeated()) {
          r->SetRepeatedString(m, f, i, std::move(value));
        } else {
          r->SetString(m, f, std::move(value));
        }
      }
    }
  }
}

}  // namespace

void CutToLimits(google::protobuf::Message* message) { Cut(message); }

void BoundRefused(palm::v1::Mutation* mutation) {
  Cut(mutation);
  if (mutation->has_add_evidence()) {
    mutation->mutable_add_evidence()->mutable_evidence()->clear_receipt();
  }
}

absl::Status CheckChangedEntity(const google::protobuf::Message& entity, absl::string_view what) {
  absl::Status s = CheckMessage(entity);
  if (s.ok()) return s;
  return InvalidArgument(palm::v1::REASON_INVALID_ARGUMENT, absl::StrCat(what, ": ", s.message()));
}

absl::Status CheckMessage(const google::protobuf::Message& message) {
  return Walk(message, nullptr, Mode::kAll);
}

absl::Status CheckMutation(const palm::v1::Mutation& mutation) {
  absl::Status s = CheckMessage(mutation);
  if (s.ok()) return s;
  return InvalidArgument(palm::v1::REASON_INVALID_ARGUMENT, s.message());
}

std::string FindInvalidUtf8(const google::protobuf::Descriptor* type, absl::string_view bytes) {
  static LenientContract* const contract = new LenientContract();
  return contract->Find(type, bytes);
}

bool IsUtf8(absl::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace palm::sync
