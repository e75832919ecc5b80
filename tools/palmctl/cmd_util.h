// The shape most palmctl read commands share: call one palm-server RPC, then
// print its answer as protobuf JSON (--json) or as text for people, and the
// "nothing to list, or a table" text of list commands. Header-only.
#ifndef PALM_TOOLS_PALMCTL_CMD_UTIL_H_
#define PALM_TOOLS_PALMCTL_CMD_UTIL_H_

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
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

// Rows palmctl asks for per page of a list: the server's largest page (it
// may send fewer: a page also stops at 1 MiB).
inline constexpr uint32_t kListPageSize = 1000;

// Calls the paged list `rpc` (named `rpc_name` in messages) on `channel`
// from the first page to the last (docs/protocol.md, "Pages of the admin
// lists"), gathering the rows of every page -- `rows(Response*)`, the
// mutable repeated field -- into *all, which ends as one answer without a
// next_page_token. A server from before paging answers once, whole.
// Returns kExitOk, or the exit code of the call that failed (printed).
template <typename Stub, typename Request, typename Response, typename Rows>
int CallAllPages(const std::shared_ptr<grpc::Channel>& channel, const GlobalOptions& global,
                 absl::string_view rpc_name,
                 grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                 Request request, Rows&& rows, Response* all) {
  all->Clear();
  if (request.page_size() == 0) request.set_page_size(kListPageSize);
  while (true) {
    Response page;
    if (int code = CallUnary(channel, global, rpc_name, rpc, request, &page); code != kExitOk) {
      return code;
    }
    for (auto& row : *rows(&page)) *rows(all)->Add() = std::move(row);
    if (page.next_page_token().empty()) return kExitOk;
    if (page.next_page_token() == request.page_token()) {
      return Fail(absl::StrCat(rpc_name, ": the server sent the same page token twice"));
    }
    request.set_page_token(page.next_page_token());
  }
}

// CallAndPrint for a paged list: every page (CallAllPages), printed as one
// answer.
template <typename Stub, typename Request, typename Response, typename Rows, typename PrintText>
int CallAllAndPrint(const GlobalOptions& global, bool json, absl::string_view rpc_name,
                    grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Rows&& rows, PrintText&& print_text) {
  auto channel = MakeClientChannel(global);
  if (!channel.ok()) return Fail(channel.status());
  Response all;
  if (int code = CallAllPages(*channel, global, rpc_name, rpc, request, rows, &all);
      code != kExitOk) {
    return code;
  }
  if (json) {
    PrintProtoJson(all);
    return kExitOk;
  }
  std::forward<PrintText>(print_text)(all);
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
