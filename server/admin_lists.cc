#include "server/admin_lists.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/list_pages.h"
#include "sync/request_check.h"
#include "sync/status_macros.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

// The filters a token is tagged with: each part with its length, so that no
// two sets of filters give the same text.
std::string Filters(std::initializer_list<absl::string_view> parts) {
  std::string out;
  for (absl::string_view part : parts) absl::StrAppend(&out, part.size(), ":", part, ";");
  return out;
}

// One page of list `list`: the position from `token`, the rows from `read`
// through `add`, and the next token into `response`.
template <typename Row, typename Response>
absl::Status Page(absl::string_view list, const std::string& filters, uint32_t page_size,
                  const std::string& token, const PageRead<Row>& read,
                  const std::function<void(Row&&)>& add, Response* response) {
  PALM_ASSIGN_OR_RETURN(std::optional<PageKey> after, DecodePageToken(token, list, filters));
  PALM_ASSIGN_OR_RETURN(std::optional<PageKey> next,
                        FillPage<Row>(EffectivePageSize(page_size), std::move(after), read, add));
  if (next) response->set_next_page_token(EncodePageToken(list, filters, *next));
  return absl::OkStatus();
}

// `rows`, each with its key `key_of(row)`.
template <typename Row, typename KeyOf>
std::vector<KeyedRow<Row>> Keyed(std::vector<Row> rows, KeyOf key_of) {
  std::vector<KeyedRow<Row>> keyed;
  keyed.reserve(rows.size());
  for (Row& row : rows) {
    PageKey key = key_of(row);
    keyed.push_back({std::move(key), std::move(row)});
  }
  return keyed;
}

// Cases matching `filter`, by (created_at_ms, case id).
PageRead<v1::Case> ReadCases(ReadTxn& txn, CaseFilter filter) {
  return [&txn, filter](const std::optional<PageKey>& after,
                        uint32_t limit) mutable -> absl::StatusOr<std::vector<KeyedRow<v1::Case>>> {
    filter.after_created_ms = after ? after->at : std::numeric_limits<int64_t>::min();
    filter.after_case_id = after ? after->id : "";
    filter.limit = limit;
    PALM_ASSIGN_OR_RETURN(std::vector<v1::Case> cases, txn.ListCases(filter));
    return Keyed(std::move(cases), [](const v1::Case& c) {
      return PageKey{c.created_at_ms(), c.case_id(), 0};
    });
  };
}

// Devices of `filter`, by device id, each made a row by `row`.
template <typename Row>
PageRead<Row> ReadDevices(ReadTxn& txn, DeviceFilter filter,
                          std::function<absl::StatusOr<Row>(ReadTxn&, v1::Device&&)> row) {
  return [&txn, filter, row](const std::optional<PageKey>& after,
                             uint32_t limit) mutable -> absl::StatusOr<std::vector<KeyedRow<Row>>> {
    filter.after_device_id = after ? after->id : "";
    filter.limit = limit;
    PALM_ASSIGN_OR_RETURN(std::vector<v1::Device> devices, txn.ListDevices(filter));
    std::vector<KeyedRow<Row>> rows;
    rows.reserve(devices.size());
    for (v1::Device& d : devices) {
      PageKey key{0, d.device_id(), 0};
      PALM_ASSIGN_OR_RETURN(Row r, row(txn, std::move(d)));
      rows.push_back({std::move(key), std::move(r)});
    }
    return rows;
  };
}

absl::StatusOr<v1::DeviceStatus> StatusOf(ReadTxn& txn, v1::Device&& device) {
  v1::DeviceStatus status;
  PALM_ASSIGN_OR_RETURN(uint64_t acked, txn.AcknowledgedSeq(device.device_id()));
  PALM_ASSIGN_OR_RETURN(int64_t last_push, txn.LastPushMs(device.device_id()));
  PALM_ASSIGN_OR_RETURN(std::optional<DeviceReport> report,
                        txn.GetDeviceReport(device.device_id()));
  status.set_acknowledged_seq(acked);
  status.set_last_sync_ms(last_push);
  if (report) {
    status.set_pending_mutations(report->pending_mutations);
    status.set_pending_uploads(report->pending_uploads);
    status.set_ticket_numbers_left(report->ticket_numbers_left);
  }
  if (device.revoked()) {
    status.set_state(v1::DEVICE_SYNC_STATE_REVOKED);
  } else if (last_push == 0 && !report) {
    status.set_state(v1::DEVICE_SYNC_STATE_NEVER_SYNCED);
  } else if (report && (report->pending_mutations > 0 || report->pending_uploads > 0)) {
    status.set_state(v1::DEVICE_SYNC_STATE_BEHIND);
  } else {
    status.set_state(v1::DEVICE_SYNC_STATE_OK);
  }
  *status.mutable_device() = std::move(device);
  return status;
}

}  // namespace

v1::RejectedMutation RejectedOf(const DeviceLogEntry& entry) {
  v1::RejectedMutation r;
  if (entry.mutation) {
    *r.mutable_mutation() = *entry.mutation;
    sync::BoundRefused(r.mutable_mutation());
  }
  *r.mutable_result() = entry.result;
  r.set_recorded_at_ms(entry.recorded_at_ms);
  r.set_dismissed(entry.dismissed);
  r.set_dismissed_by(entry.dismissed_by);
  r.set_note(entry.note);
  return r;
}

absl::Status ListConflictsPage(ReadTxn& txn, const std::string& squad,
                               const v1::ListConflictsRequest& request,
                               v1::ListConflictsResponse* response) {
  ConflictFilter filter;
  filter.squad_id = squad;
  filter.case_id = request.case_id();
  filter.include_resolved = request.include_resolved();
  PageRead<v1::ConflictRecord> read =
      [&txn, filter](
          const std::optional<PageKey>& after,
          uint32_t limit) mutable -> absl::StatusOr<std::vector<KeyedRow<v1::ConflictRecord>>> {
    filter.after.reset();
    if (after) filter.after.emplace(after->at, after->id);
    filter.limit = limit;
    PALM_ASSIGN_OR_RETURN(std::vector<v1::ConflictRecord> conflicts, txn.ListConflicts(filter));
    return Keyed(std::move(conflicts), [](const v1::ConflictRecord& c) {
      return PageKey{c.recorded_at_ms(), c.loss().conflict_id(), 0};
    });
  };
  return Page<v1::ConflictRecord>(
      "ListConflicts",
      Filters({squad, request.case_id(), request.include_resolved() ? "all" : "open"}),
      request.page_size(), request.page_token(), read,
      [response](v1::ConflictRecord&& c) { *response->add_conflicts() = std::move(c); }, response);
}

absl::Status ListRejectedPage(ReadTxn& txn, const std::string& squad,
                              const v1::ListRejectedRequest& request,
                              v1::ListRejectedResponse* response) {
  RejectedFilter filter;
  filter.squad_id = squad;
  filter.include_dismissed = request.include_dismissed();
  PageRead<v1::RejectedMutation> read =
      [&txn, filter](
          const std::optional<PageKey>& after,
          uint32_t limit) mutable -> absl::StatusOr<std::vector<KeyedRow<v1::RejectedMutation>>> {
    filter.after.reset();
    if (after) filter.after = RejectedFilter::Position{after->at, after->id, after->seq};
    filter.limit = limit;
    PALM_ASSIGN_OR_RETURN(std::vector<DeviceLogEntry> entries, txn.ListRejected(filter));
    std::vector<KeyedRow<v1::RejectedMutation>> rows;
    rows.reserve(entries.size());
    for (const DeviceLogEntry& e : entries) {
      rows.push_back({PageKey{e.recorded_at_ms, e.device_id, e.device_seq}, RejectedOf(e)});
    }
    return rows;
  };
  return Page<v1::RejectedMutation>(
      "ListRejected", Filters({squad, request.include_dismissed() ? "all" : "open"}),
      request.page_size(), request.page_token(), read,
      [response](v1::RejectedMutation&& r) { *response->add_rejected() = std::move(r); }, response);
}

absl::Status ListCasesPage(ReadTxn& txn, const std::string& town,
                           const v1::ListCasesRequest& request, v1::ListCasesResponse* response) {
  CaseFilter filter;
  filter.town_id = town;
  filter.squad_id = request.squad_id();
  filter.state = request.state();
  filter.from_ms = request.from_ms();
  filter.to_ms = request.to_ms();
  return Page<v1::Case>(
      "ListCases",
      Filters({town, request.squad_id(), absl::StrCat(request.state()),
               absl::StrCat(request.from_ms()), absl::StrCat(request.to_ms())}),
      request.page_size(), request.page_token(), ReadCases(txn, filter),
      [response](v1::Case&& c) { *response->add_cases() = std::move(c); }, response);
}

absl::Status ReviewQueuePage(ReadTxn& txn, const v1::ReviewQueueRequest& request,
                             v1::ReviewQueueResponse* response) {
  CaseFilter filter;
  filter.state = v1::CASE_STATE_LEGAL_REVIEW;
  return Page<v1::Case>(
      "ReviewQueue", Filters({}), request.page_size(), request.page_token(), ReadCases(txn, filter),
      [response](v1::Case&& c) { *response->add_cases() = std::move(c); }, response);
}

absl::Status ListDevicesPage(ReadTxn& txn, const std::string& town,
                             const v1::ListDevicesRequest& request,
                             v1::ListDevicesResponse* response) {
  DeviceFilter filter;
  filter.town_id = town;
  return Page<v1::Device>(
      "ListDevices", Filters({town}), request.page_size(), request.page_token(),
      ReadDevices<v1::Device>(
          txn, filter,
          [](ReadTxn&, v1::Device&& d) -> absl::StatusOr<v1::Device> { return std::move(d); }),
      [response](v1::Device&& d) { *response->add_devices() = std::move(d); }, response);
}

absl::Status ListOfficersPage(ReadTxn& txn, const std::string& town, const std::string& squad,
                              const v1::ListOfficersRequest& request,
                              v1::ListOfficersResponse* response) {
  OfficerFilter filter;
  filter.town_id = town;
  filter.squad_id = squad;
  PageRead<v1::Officer> read =
      [&txn, filter](const std::optional<PageKey>& after,
                     uint32_t limit) mutable -> absl::StatusOr<std::vector<KeyedRow<v1::Officer>>> {
    filter.after_officer_id = after ? after->id : "";
    filter.limit = limit;
    PALM_ASSIGN_OR_RETURN(std::vector<v1::Officer> officers, txn.ListOfficers(filter));
    return Keyed(std::move(officers), [](const v1::Officer& o) {
      return PageKey{0, o.officer_id(), 0};
    });
  };
  return Page<v1::Officer>(
      "ListOfficers", Filters({town, squad}), request.page_size(), request.page_token(), read,
      [response](v1::Officer&& o) { *response->add_officers() = std::move(o); }, response);
}

absl::Status SquadStatusPage(ReadTxn& txn, const std::string& squad,
                             const v1::SquadStatusRequest& request,
                             v1::SquadStatusResponse* response) {
  DeviceFilter filter;
  filter.squad_id = squad;
  return Page<v1::DeviceStatus>(
      "SquadStatus", Filters({squad}), request.page_size(), request.page_token(),
      ReadDevices<v1::DeviceStatus>(txn, filter, StatusOf),
      [response](v1::DeviceStatus&& d) { *response->add_devices() = std::move(d); }, response);
}

}  // namespace palm::server
