// The shape most palmctl read commands share: call one palm-server RPC, then
// print its answer as protobuf JSON (--json) or as text for people, and the
// "nothing to list, or a table" text of list commands. Header-only.
#ifndef PALM_TOOLS_PALMCTL_CMD_UTIL_H_
#define PALM_TOOLS_PALMCTL_CMD_UTIL_H_

#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/string_view.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {

// Calls the unary `rpc` (CallUnary, named `rpc_name` in messages) with
// `request`. If it failed, returns its exit code. Otherwise prints the
// response with PrintProtoJson when `json`, else hands it to
// `print_text(const Response&)`; returns kExitOk either way.
template <typename Stub, typename Request, typename Response, typename PrintText>
int CallAndPrint(const GlobalOptions& global, bool json, absl::string_view rpc_name,
                 grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                 const Request& request, PrintText&& print_text) {
  Response response;
  if (int code = CallUnary(global, rpc_name, rpc, request, &response); code != kExitOk) {
    return code;
  }
  if (json) {
    PrintProtoJson(response);
    return kExitOk;
  }
  std::forward<PrintText>(print_text)(response);
  return kExitOk;
}

// Prints `empty_text` to stdout when `items` is empty, else a TextTable with
// `header` and one row, `row(item)`, per item.
template <typename Items, typename Row>
void PrintTableOrEmpty(const Items& items, absl::string_view empty_text,
                       std::vector<std::string> header, Row&& row) {
  if (items.empty()) {
    std::cout << empty_text;
    return;
  }
  TextTable table(std::move(header));
  for (const auto& item : items) table.AddRow(row(item));
  std::cout << table.Render();
}

}  // namespace palm::palmctl

#endif  // PALM_TOOLS_PALMCTL_CMD_UTIL_H_
