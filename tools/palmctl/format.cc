#include "tools/palmctl/format.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <ctime>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace palm::palmctl {
namespace {

// Decodes one UTF-8 code point at text[*i] and advances *i past it; an
// invalid byte decodes as itself (one byte).
uint32_t NextCodePoint(absl::string_view text, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(*i);
  const size_t extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
  if (extra == 0 || *i + extra >= text.size()) {
    ++*i;
    return lead;
  }
  uint32_t cp = lead & (0x3F >> extra);
  for (size_t k = 1; k <= extra; ++k) {
    if ((byte(*i + k) & 0xC0) != 0x80) {
      ++*i;
      return lead;
    }
    cp = (cp << 6) | (byte(*i + k) & 0x3F);
  }
  *i += extra + 1;
  return cp;
}

// East Asian Wide and Full-width ranges (Unicode 15, UAX #11), coarsely.
bool IsWide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
         (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
         (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

bool IsZeroWidth(uint32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0xFE00 && cp <= 0xFE0F);
}

// The prefix every value name of `type` shares, up to and including its last
// '_' ("CASE_STATE_").
std::string CommonPrefix(const google::protobuf::EnumDescriptor* type) {
  if (type->value_count() == 0) return "";
  std::string prefix = type->value(0)->name();
  for (int i = 1; i < type->value_count(); ++i) {
    const std::string& name = type->value(i)->name();
    size_t n = 0;
    while (n < prefix.size() && n < name.size() && prefix[n] == name[n]) ++n;
    prefix.resize(n);
  }
  size_t underscore = prefix.rfind('_');
  return underscore == std::string::npos ? "" : prefix.substr(0, underscore + 1);
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

size_t DisplayWidth(absl::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    const uint32_t cp = NextCodePoint(text, &i);
    if (IsZeroWidth(cp)) continue;
    width += IsWide(cp) ? 2 : 1;
  }
  return width;
}

TextTable::TextTable(std::vector<std::string> header) : header_(std::move(header)) {}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(header_.size());
  for (std::string& cell : cells) {
    if (cell.empty()) cell = "-";
    // One row is one line.
    absl::StrReplaceAll({{"\r\n", " "}, {"\n", " "}, {"\r", " "}, {"\t", " "}}, &cell);
  }
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render() const {
  std::vector<size_t> widths(header_.size(), 0);
  for (size_t c = 0; c < header_.size(); ++c) widths[c] = DisplayWidth(header_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  std::string out;
  const auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out.append(widths[c] - DisplayWidth(cells[c]) + 2, ' ');
    }
    out += "\n";
  };
  line(header_);
  for (const auto& row : rows_) line(row);
  return out;
}

std::string KeyValueLines(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, DisplayWidth(key));
  std::string out;
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&out, key, ":", std::string(width - DisplayWidth(key) + 1, ' '),
                    value.empty() ? "-" : value, "\n");
  }
  return out;
}

std::string EnumToken(const google::protobuf::EnumDescriptor* type, int number) {
  const google::protobuf::EnumValueDescriptor* value = type->FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat(number);
  std::string name = value->name();
  const std::string prefix = CommonPrefix(type);
  if (absl::StartsWith(name, prefix)) name = name.substr(prefix.size());
  return absl::AsciiStrToLower(name);
}

std::string EnumLabel(const google::protobuf::EnumDescriptor* type, int number) {
  return absl::StrReplaceAll(EnumToken(type, number), {{"_", " "}});
}

std::optional<int> ParseEnum(const google::protobuf::EnumDescriptor* type, absl::string_view text) {
  std::string wanted = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  absl::StrReplaceAll({{"-", "_"}, {" ", "_"}}, &wanted);
  const std::string prefix = CommonPrefix(type);
  for (int i = 0; i < type->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = type->value(i);
    if (value->number() == 0) continue;
    if (value->name() == wanted || value->name() == prefix + wanted) return value->number();
  }
  return std::nullopt;
}

std::vector<std::string> EnumTokens(const google::protobuf::EnumDescriptor* type) {
  std::vector<std::string> tokens;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() != 0) tokens.push_back(EnumToken(type, type->value(i)->number()));
  }
  return tokens;
}

std::string FormatYuan(int64_t fen) {
  // Magnitude as unsigned so that INT64_MIN has one too.
  const uint64_t magnitude = fen < 0 ? 0 - static_cast<uint64_t>(fen) : static_cast<uint64_t>(fen);
  return absl::StrFormat("%s%d.%02d", fen < 0 ? "-" : "", magnitude / 100, magnitude % 100);
}

std::optional<int64_t> ShanghaiDayStartMs(absl::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(date[i]))) return std::nullopt;
  }
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  if (!absl::SimpleAtoi(date.substr(0, 4), &year) || !absl::SimpleAtoi(date.substr(5, 2), &month) ||
      !absl::SimpleAtoi(date.substr(8, 2), &day)) {
    return std::nullopt;
  }
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return std::nullopt;
  if (day > kDays[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0)) return std::nullopt;
  return DaysFromCivil(year, month, day) * 86400000 - kShanghaiOffsetMs;
}

std::string FormatShanghaiMinute(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  // Floor division, so that times before 1970 stay in their minute.
  int64_t local_ms = unix_ms + kShanghaiOffsetMs;
  time_t seconds = static_cast<time_t>(local_ms >= 0 ? local_ms / 1000 : (local_ms - 999) / 1000);
  struct tm tm = {};
  gmtime_r(&seconds, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string MutationCaseId(const palm::v1::Mutation& m) {
  switch (m.operation_case()) {
    case palm::v1::Mutation::kRecordCase:
      return m.record_case().case_().case_id();
    case palm::v1::Mutation::kUpdateCaseFields:
      return m.update_case_fields().case_id();
    case palm::v1::Mutation::kAddEvidence:
      return m.add_evidence().evidence().case_id();
    case palm::v1::Mutation::kWithdrawEvidence:
      return m.withdraw_evidence().case_id();
    case palm::v1::Mutation::kIssueTicket:
      return m.issue_ticket().ticket().case_id();
    case palm::v1::Mutation::kVoidTicket:
      return m.void_ticket().case_id();
    case palm::v1::Mutation::kRecordNoPenalty:
      return m.record_no_penalty().decision().case_id();
    case palm::v1::Mutation::kTransitionCase:
      return m.transition_case().case_id();
    case palm::v1::Mutation::kAppendCaseEvent:
      return m.append_case_event().event().case_id();
    case palm::v1::Mutation::OPERATION_NOT_SET:
      break;
  }
  return "";
}

std::string MutationOperation(const palm::v1::Mutation& m) {
  if (m.operation_case() == palm::v1::Mutation::OPERATION_NOT_SET) return "?";
  return m.GetDescriptor()->FindFieldByNumber(m.operation_case())->name();
}

std::string ProtoToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Printing a well-formed message cannot fail; an empty object is the
  // least surprising answer if it ever does.
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void PrintProtoJson(const google::protobuf::Message& message) {
  std::cout << ProtoToJson(message) << "\n";
}

}  // namespace palm::palmctl
