#include "seam/registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace sg::detectors {

namespace {

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

void Registry::add(DetectorSpec spec) {
  // Names become metric prefixes, strategy prefixes and prompt-id namespaces ("name:id"),
  // so they stay plain.
  if (!valid_name(spec.name))
    throw std::logic_error("detector name '" + spec.name + "' must be [a-z0-9_]+");
  if (spec.name == kPlanSource || find(spec.name))
    throw std::logic_error("detector '" + spec.name + "' registered twice");
  if (!spec.make) throw std::logic_error("detector '" + spec.name + "' has no factory");
  specs_.push_back(std::move(spec));
  std::sort(specs_.begin(), specs_.end(),
            [](const DetectorSpec& a, const DetectorSpec& b) { return a.name < b.name; });
}

const DetectorSpec* Registry::find(std::string_view name) const {
  for (const auto& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const auto& s : specs_) out.push_back(s.name);
  return out;
}

}  // namespace sg::detectors
