// Text helpers shared by palmctl's commands and its report renderer: aligned
// tables that stay aligned with Chinese text, enum names for people and for
// command lines, money in yuan, Asia/Shanghai dates, and protobuf's JSON
// mapping. Pure functions, no I/O; safe from any thread.
#ifndef PALM_TOOLS_PALMCTL_FORMAT_H_
#define PALM_TOOLS_PALMCTL_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "absl/strings/string_view.h"
#include "palm/v1/mutation.pb.h"

namespace palm::palmctl {

// Columns as a terminal shows them: CJK and full-width characters take two
// cells, combining marks none, everything else one. `text` is UTF-8; bytes
// that are not valid UTF-8 count one cell each.
size_t DisplayWidth(absl::string_view text);

// A table of text printed with its columns aligned by DisplayWidth, two
// spaces apart; the last column is not padded. An empty cell prints as "-".
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);

  // Adds a row; missing cells are empty, extra cells are dropped.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }

  // The header line and one line per row, each ending in "\n".
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "key: value" lines, the values aligned after the longest key; an empty
// value prints as "-". For `show` commands.
std::string KeyValueLines(const std::vector<std::pair<std::string, std::string>>& fields);

// The value name of `number` in `type` without the prefix all its values
// share, lowercased: CASE_STATE_LEGAL_REVIEW -> "legal_review". The decimal
// number when `type` has no such value.
std::string EnumToken(const google::protobuf::EnumDescriptor* type, int number);

// EnumToken with spaces for underscores: DEVICE_SYNC_STATE_NEVER_SYNCED ->
// "never synced". For text output.
std::string EnumLabel(const google::protobuf::EnumDescriptor* type, int number);

// Parses a value of `type` as a person writes it: the token ("legal_review",
// "legal-review", "Legal Review") or the full name ("CASE_STATE_LEGAL_REVIEW"),
// in any case. The zero (UNSPECIFIED) value is not accepted.
std::optional<int> ParseEnum(const google::protobuf::EnumDescriptor* type, absl::string_view text);

// Every token of `type` but the zero value, for usage messages.
std::vector<std::string> EnumTokens(const google::protobuf::EnumDescriptor* type);

// Fen as yuan with two decimals: 12345 -> "123.45", -5 -> "-0.05".
std::string FormatYuan(int64_t fen);

// The bureau's local time zone, Asia/Shanghai, has been UTC+8 without
// daylight saving since 1991.
inline constexpr int64_t kShanghaiOffsetMs = 8 * 3600 * 1000;

// Unix milliseconds of 00:00 Asia/Shanghai on `date` ("YYYY-MM-DD"), or
// nullopt when `date` is not a real calendar date in that form.
std::optional<int64_t> ShanghaiDayStartMs(absl::string_view date);

// Unix milliseconds as Asia/Shanghai local time, "2026-03-14 17:26"; 0 as "-".
std::string FormatShanghaiMinute(int64_t unix_ms);

// The case `m` is about, whatever its operation; empty when it names none.
std::string MutationCaseId(const palm::v1::Mutation& m);

// The name of `m`'s operation as in mutation.proto ("update_case_fields"),
// "?" when it has none.
std::string MutationOperation(const palm::v1::Mutation& m);

// `message` in protobuf's JSON mapping: field names as in the .proto
// (preserve_proto_field_names), fields at their default value included,
// enums by name, 64-bit integers as strings. Indented when `pretty`.
std::string ProtoToJson(const google::protobuf::Message& message, bool pretty = true);

// Prints ProtoToJson(message) and a newline to stdout.
void PrintProtoJson(const google::protobuf::Message& message);

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_FORMAT_H_
