#include "common/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace sg::log {

namespace {
// The logger is the only global state stagegate keeps (STYLE.md).
std::atomic<Level> g_level{Level::kWarn};
std::mutex g_mutex;

void write(std::string_view prefix, std::string_view message) {
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "%.*s%.*s\n", static_cast<int>(prefix.size()), prefix.data(),
               static_cast<int>(message.size()), message.data());
}
}  // namespace

void set_level(Level level) {
  g_level = level;
}
Level level() {
  return g_level;
}

void warn(std::string_view message) {
  if (g_level >= Level::kWarn) write("warning: ", message);
}
void info(std::string_view message) {
  if (g_level >= Level::kInfo) write("", message);
}
void debug(std::string_view message) {
  if (g_level >= Level::kDebug) write("debug: ", message);
}

}  // namespace sg::log
