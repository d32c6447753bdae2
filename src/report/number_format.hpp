// How every report output writes a figure: three decimals, one from 100 up.
#pragma once

#include <optional>
#include <string>

namespace sg::report {

std::string figure(double value);
// "1.834 [1.707, 1.971]", or the figure alone when it has no interval.
std::string figure_with_interval(double value, const std::optional<double>& low,
                                 const std::optional<double>& high);

}  // namespace sg::report
