#include "db/json_arrays.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"

namespace sg::db {

namespace {

template <class T>
std::string join(std::span<const T> values) {
  std::string out = "[";
  std::array<char, 32> buf{};
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), values[i]);
    out.append(buf.data(), end);
  }
  return out + "]";
}

template <class T>
std::vector<T> parse(std::string_view text, std::string_view what) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (!j.is_array()) throw std::runtime_error("not an array");
    return j.get<std::vector<T>>();
  } catch (const std::exception& e) {
    throw RuntimeError(std::string(what) + ": stored value is not a JSON array of numbers (" +
                       e.what() + ")");
  }
}

}  // namespace

std::string to_json_array(std::span<const std::int32_t> values) {
  return join(values);
}

std::string to_json_array(std::span<const double> values) {
  for (double v : values)
    if (!std::isfinite(v)) throw std::invalid_argument("JSON arrays hold finite numbers only");
  return join(values);
}

std::vector<std::int32_t> int_array_from_json(std::string_view text, std::string_view what) {
  return parse<std::int32_t>(text, what);
}

std::vector<double> double_array_from_json(std::string_view text, std::string_view what) {
  return parse<double>(text, what);
}

}  // namespace sg::db
