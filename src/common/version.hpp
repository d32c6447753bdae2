#pragma once

#include <string_view>

namespace sg {
std::string_view version();     // "0.1.0"
std::string_view git_commit();  // short hash, "-dirty" when built from a modified tree
}  // namespace sg
