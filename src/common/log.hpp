// The one piece of global state stagegate allows: where warnings go and how chatty it is.
#pragma once

#include <string_view>

namespace sg::log {

enum class Level { kQuiet = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

void set_level(Level level);
Level level();
void warn(std::string_view message);
void info(std::string_view message);
void debug(std::string_view message);

}  // namespace sg::log
