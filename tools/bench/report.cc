// The result objects every benchmark reports in (see bench.h).
#include <iostream>

#include "tools/bench/bench.h"

namespace palm::bench {
namespace {

Json Base(const Metric& metric) {
  Json j;
  j["name"] = metric.name;
  j["value"] = nullptr;
  j["unit"] = metric.unit;
  j["target"] = metric.target;
  j["target_op"] = metric.better == Better::kHigher ? ">=" : "<=";
  return j;
}

}  // namespace

Json Measured(const Metric& metric, double value) {
  Json j = Base(metric);
  j["value"] = value;
  j["meets_target"] =
      metric.better == Better::kHigher ? value >= metric.target : value <= metric.target;
  return j;
}

Json NotMeasured(const Metric& metric, std::string_view why) {
  Json j = Base(metric);
  j["status"] = std::string("not measured: ").append(why);
  return j;
}

Json Failed(const Metric& metric, std::string_view error) {
  Json j = Base(metric);
  j["status"] = std::string("error: ").append(error);
  return j;
}

void Progress(std::string_view line) { std::cerr << "[palm-bench] " << line << std::endl; }

}  // namespace palm::bench
