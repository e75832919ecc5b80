// palmctl catalog load|show: the matter catalogue (执法事项) the server owns
// and syncs to every device (AdminService LoadCatalog, GetCatalog).
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "client-lib/src/catalog_json.h"
#include "palm/v1/admin.grpc.pb.h"
#include "tools/palmctl/client_channel.h"
#include "tools/palmctl/cmd_util.h"
#include "tools/palmctl/command.h"
#include "tools/palmctl/format.h"

namespace palm::palmctl {
namespace {

namespace v1 = palm::v1;

// Reads the catalogue at `path`. The checks are the client library's
// (CatalogFromJson); a file that is not JSON at all is caught first so that
// the message gives the line and column of the mistake.
absl::StatusOr<v1::Catalog> ReadCatalog(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the catalogue file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  try {
    [[maybe_unused]] nlohmann::json document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
    absl::string_view what = e.what();
    if (size_t close = what.find("] "); close != absl::string_view::npos) {
      what.remove_prefix(close + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ": not JSON: ", what));
  }
  auto catalog = palm::internal::CatalogFromJson(text);
  if (!catalog.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", catalog.status().message()));
  }
  return catalog;
}

struct LoadOptions {
  std::string file;
  std::string calendar;
  bool json = false;
};

int RunLoad(const LoadOptions& options, const GlobalOptions& global) {
  auto catalog = ReadCatalog(options.file);
  if (!catalog.ok()) return Fail(catalog.status());
  if (!options.calendar.empty()) {
    // The calendar file is a palm.v1.Catalog JSON holding only `calendar`
    // (e.g. tools/data/sample-calendar.json); it replaces the catalogue's.
    auto calendar = ReadCatalog(options.calendar);
    if (!calendar.ok()) return Fail(calendar.status());
    if (!calendar->matters().empty() || calendar->calendar().empty()) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(options.calendar,
                       ": a calendar file holds \"calendar\" (one entry per "
                       "year) and no matters")));
    }
    *catalog->mutable_calendar() = calendar->calendar();
  }
  std::vector<std::string> years;
  for (const v1::CalendarYear& y : catalog->calendar()) years.push_back(absl::StrCat(y.year()));
  v1::LoadCatalogRequest request;
  *request.mutable_catalog() = *catalog;
  return CallAndPrint(
      global, options.json, "LoadCatalog", &v1::AdminService::Stub::LoadCatalog, request,
      [&](const v1::LoadCatalogResponse& response) {
        std::cout << "loaded catalogue version " << response.version() << " ("
                  << catalog->matters_size() << " matters"
                  << (years.empty()
                          ? ""
                          : absl::StrCat(", working-day calendar ", absl::StrJoin(years, ", ")))
                  << ")" << (catalog->label().empty() ? "" : absl::StrCat(": ", catalog->label()))
                  << "\n";
      });
}

struct ShowOptions {
  bool json = false;
};

std::string Flags(const v1::Matter& m) {
  std::vector<std::string> flags;
  if (m.fast_track()) flags.push_back("fast-track");
  if (m.no_penalty_list()) flags.push_back("no-penalty list");
  if (m.delegated_to_towns()) flags.push_back("delegated");
  if (m.major()) flags.push_back("major");
  if (m.major_fine_threshold_fen() > 0) {
    flags.push_back(absl::StrCat("major above ", FormatYuan(m.major_fine_threshold_fen())));
  }
  return absl::StrJoin(flags, ", ");
}

int RunShow(const ShowOptions& options, const GlobalOptions& global) {
  v1::GetCatalogRequest request;
  return CallAndPrint(
      global, options.json, "GetCatalog", &v1::AdminService::Stub::GetCatalog, request,
      [](const v1::Catalog& catalog) {
        std::cout << KeyValueLines({{"version", absl::StrCat(catalog.version())},
                                    {"label", catalog.label()},
                                    {"published", FormatUnixMs(catalog.published_at_ms())},
                                    {"matters", absl::StrCat(catalog.matters_size())}})
                  << "\n";
        TextTable table({"CODE", "CATEGORY", "NAME", "FINE (YUAN)", "FLAGS"});
        for (const v1::Matter& m : catalog.matters()) {
          table.AddRow(
              {m.code(), m.category(), m.name(),
               absl::StrCat(FormatYuan(m.fine_min_fen()), "–", FormatYuan(m.fine_max_fen())),
               Flags(m)});
        }
        std::cout << table.Render();
      });
}

void RegisterCatalog(CommandLine& cli) {
  CLI::App* group = cli.Group("catalog", "The matter catalogue (执法事项)");
  const GlobalOptions& global = cli.global();

  auto load = std::make_shared<LoadOptions>();
  CLI::App* load_cmd = cli.Command(
      group, "load",
      "Load a catalogue from a JSON file (palm.v1.Catalog, e.g. tools/data/sample-catalog.json); "
      "its version must be newer than the server's",
      [load, &global] { return RunLoad(*load, global); });
  load_cmd->add_option("file", load->file, "Catalogue JSON file")->required();
  load_cmd->add_option("--calendar", load->calendar,
                       "Working-day calendar JSON file (Art. 85), e.g. "
                       "tools/data/sample-calendar.json");
  AddJsonFlag(load_cmd, &load->json);

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_cmd = cli.Command(group, "show", "The server's current catalogue",
                                   [show, &global] { return RunShow(*show, global); });
  AddJsonFlag(show_cmd, &show->json);
}

}  // namespace

PALMCTL_REGISTER_GROUP(catalog, RegisterCatalog);

}  // namespace palm::palmctl
