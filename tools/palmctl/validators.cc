#include "tools/palmctl/validators.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/palmctl/bureau_time.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {

CLI::Validator EnumValidator(const google::protobuf::EnumDescriptor* type, std::string what) {
  return CLI::Validator(
      [type, what](std::string& value) -> std::string {
        if (ParseEnum(type, value)) return "";
        return absl::StrCat("unknown ", what, " \"", value, "\"; one of ",
                            absl::StrJoin(EnumTokens(type), ", "));
      },
      absl::AsciiStrToUpper(what));
}

CLI::Validator DateValidator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto date = ResolveDate(value, 0);  // the words resolve later, in the bureau's zone
        return date.ok() ? "" : std::string(date.status().message());
      },
      "today|yesterday|YYYY-MM-DD");
}

}  // namespace palm::palmctl
