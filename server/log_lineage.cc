#include "server/log_lineage.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/evidence_log.h"
#include "sync/fsync.h"
#include "sync/log_transition.h"
#include "sync/status_macros.h"

namespace palm::server {

namespace v1 = palm::v1;

namespace {

// The lineage file: this header line, then one transition a line, each its
// serialized LogTransition in standard base64.
constexpr char kLineageHeader[] = "palm log lineage v1";

}  // namespace

std::string CurrentLogOrigin(const std::vector<v1::LogTransition>& store_transitions,
                             const std::string& configured) {
  return store_transitions.empty() ? configured : store_transitions.back().to_origin();
}

absl::StatusOr<v1::LogTransition> ContinueLogUnderNewOrigin(WriteTxn& txn, EVP_PKEY* key,
                                                            const std::string& configured,
                                                            const std::string& epoch,
                                                            const std::string& reason,
                                                            int64_t now_ms) {
  PALM_ASSIGN_OR_RETURN(std::vector<v1::LogTransition> before, txn.LogTransitions());
  v1::LogTransition t;
  t.set_from_origin(CurrentLogOrigin(before, configured));
  PALM_ASSIGN_OR_RETURN(*t.mutable_from_head(),
                        SignWholeTree(txn, {.key = key, .origin = t.from_origin()}, now_ms));
  t.set_to_origin(absl::StrCat(configured, "/", epoch));
  t.set_epoch(epoch);
  t.set_at_ms(t.from_head().timestamp_ms());
  t.set_reason(reason);
  PALM_RETURN_IF_ERROR(sync::SignLogTransition(key, &t));
  PALM_RETURN_IF_ERROR(txn.PutLogTransition(t));
  PALM_RETURN_IF_ERROR(
      SignAndPublishHead(txn, {.key = key, .origin = t.to_origin()}, t.at_ms()).status());
  return t;
}

absl::StatusOr<std::vector<v1::LogTransition>> RecordLineage(
    const std::string& path, const std::vector<v1::LogTransition>& store_transitions) {
  std::vector<v1::LogTransition> all;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return absl::InternalError(absl::StrCat("cannot read the log lineage ", path));
    std::vector<std::string> lines = absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
    if (lines.empty() || lines.front() != kLineageHeader) {
      return absl::DataLossError(absl::StrCat(
          path, " is not a log lineage: its first line is not \"", kLineageHeader, "\""));
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      std::string bytes;
      v1::LogTransition t;
      if (!absl::Base64Unescape(lines[i], &bytes) || !t.ParseFromString(bytes)) {
        return absl::DataLossError(absl::StrCat(path, " line ", i + 1, " is not a log transition"));
      }
      all.push_back(std::move(t));
    }
  }
  std::set<std::string> known;
  for (const v1::LogTransition& t : all) known.insert(t.to_origin());
  bool added = false;
  for (const v1::LogTransition& t : store_transitions) {
    if (known.insert(t.to_origin()).second) {
      all.push_back(t);
      added = true;
    }
  }
  if (added) {
    std::string content = absl::StrCat(kLineageHeader, "\n");
    for (const v1::LogTransition& t : all) {
      absl::StrAppend(&content, absl::Base64Escape(t.SerializeAsString()), "\n");
    }
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    PALM_RETURN_IF_ERROR(
        sync::ReplaceFileDurably(path, content, absl::StrCat("the log lineage ", path)));
  }
  return all;
}

}  // namespace palm::server
