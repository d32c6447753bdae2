#include "report/number_format.hpp"

#include <cmath>
#include <cstdio>

namespace sg::report {

std::string figure(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(value) >= 100 ? "%.1f" : "%.3f", value);
  return buf;
}

std::string figure_with_interval(double value, const std::optional<double>& low,
                                 const std::optional<double>& high) {
  std::string s = figure(value);
  if (low && high) s += " [" + figure(*low) + ", " + figure(*high) + "]";
  return s;
}

}  // namespace sg::report
