// Detectors by name: the audit plan reader learns each detector's section from here, and
// the runner knows detectors only through the interface (detector.hpp), never by name.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/ini.hpp"
#include "seam/detector.hpp"

namespace sg::detectors {

struct DetectorSpec {
  std::string name;            // as listed in [detectors] enabled; its section is [name]
  std::vector<ini::Key> keys;  // its section's keys (numeric ones with their ranges)
  bool section_required = false;
  // Builds it from the plan's [name] section (absent when not required and not written):
  // refuses bad values with plan.fail(name, key, ...), so errors name the file and line.
  std::function<std::unique_ptr<Detector>(const ini::Document& plan)> make;
  // The aggregate metric names its summary writes (v_metrics.metric), so a release policy
  // can refuse a metric nobody produces; `{k}`/`{n}` stand for a number
  // ("memorization.extractable_rate@{k}").
  std::vector<std::string> metrics;
};

class Registry {
 public:
  // A second detector of the same name is a programming error (std::logic_error).
  void add(DetectorSpec spec);
  const DetectorSpec* find(std::string_view name) const;
  std::vector<std::string> names() const;  // sorted
  const std::vector<DetectorSpec>& specs() const { return specs_; }

 private:
  std::vector<DetectorSpec> specs_;
};

// The detectors stagegate ships (builtin.cpp).
const Registry& builtin_registry();

}  // namespace sg::detectors
