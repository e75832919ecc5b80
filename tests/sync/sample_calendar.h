// Test helper: the sample working-day calendar the repository ships
// (tools/data/sample-calendar.json), as the sync tests count with it.
#ifndef PALM_TESTS_SYNC_SAMPLE_CALENDAR_H_
#define PALM_TESTS_SYNC_SAMPLE_CALENDAR_H_

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "google/protobuf/util/json_util.h"
#include "palm/v1/catalog.pb.h"
#include "sync/calendar.h"

namespace palm::sync::testing {

// The sample file as a catalogue carrying only the calendar.
inline palm::v1::Catalog SampleCalendarCatalog() {
  std::ifstream in(std::string(PALM_SOURCE_DIR) + "/tools/data/sample-calendar.json");
  std::stringstream text;
  text << in.rdbuf();
  palm::v1::Catalog catalog;
  REQUIRE(google::protobuf::util::JsonStringToMessage(text.str(), &catalog).ok());
  return catalog;
}

// The sample calendar, built.
inline WorkingDayCalendar SampleWorkingDays() {
  absl::StatusOr<WorkingDayCalendar> calendar =
      WorkingDayCalendar::From(SampleCalendarCatalog().calendar());
  INFO(calendar.status());
  REQUIRE(calendar.ok());
  return *calendar;
}

}  // namespace palm::sync::testing

#endif  // PALM_TESTS_SYNC_SAMPLE_CALENDAR_H_
