#include "release/dates.hpp"

#include <chrono>
#include <cstdio>

namespace sg::release {

bool is_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (text[i] < '0' || text[i] > '9') return false;
  const auto digits = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  const std::chrono::year_month_day ymd{std::chrono::year(digits(0, 4)),
                                        std::chrono::month(static_cast<unsigned>(digits(5, 2))),
                                        std::chrono::day(static_cast<unsigned>(digits(8, 2)))};
  return ymd.ok();
}

std::string utc_today() {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(system_clock::now())};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace sg::release
