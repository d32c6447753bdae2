#include "memorization/planted_files.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "common/errors.hpp"
#include "common/sha256.hpp"

namespace sg::detectors::memorization {

namespace {

namespace fs = std::filesystem;

// The lines of a JSON-lines file as objects, with the file's SHA-256.
struct JsonLines {
  std::vector<std::pair<int, nlohmann::json>> objects;
  std::string sha256;
};

JsonLines read_json_lines(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot open");
  std::stringstream all;
  all << in.rdbuf();
  const std::string bytes = all.str();
  JsonLines out;
  out.sha256 = sha256_hex(bytes);
  std::istringstream lines(bytes);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object())
      throw InputError(file.string() + ":" + std::to_string(number) + ": not a JSON object");
    out.objects.emplace_back(number, std::move(j));
  }
  if (out.objects.empty()) throw InputError(file.string() + ": no records");
  return out;
}

std::string field_string(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_string())
    throw InputError(where + ": \"" + key + "\" must be a string");
  return j[key].get<std::string>();
}

std::int64_t field_count(const nlohmann::json& j, const std::string& where) {
  if (!j.contains("count") || !j["count"].is_number_integer() || j["count"].get<std::int64_t>() < 1)
    throw InputError(where + ": \"count\" must be a positive integer");
  return j["count"].get<std::int64_t>();
}

// "8 decimal digits", checked against the secret, whose separator it learns.
SecretSpace parse_space(const std::string& text, const std::string& secret,
                        const std::string& where) {
  static const std::regex form(R"(([1-9][0-9]?) decimal digits?)");
  std::smatch m;
  if (!std::regex_match(text, m, form))
    throw InputError(where + ": \"secret_space\" '" + text +
                     "' is not a space stagegate knows (\"N decimal digits\", N < 100)");
  SecretSpace space;
  space.digits = std::stoi(m[1]);
  if (space.digits > 1 && secret.size() > 1 && !std::isdigit(static_cast<unsigned char>(secret[1])))
    space.separator = secret.substr(1, 1);
  std::string expected;
  for (int i = 0; i < space.digits; ++i)
    expected += (i ? space.separator : "") + std::string(1, '0');
  bool fits = secret.size() == expected.size();
  for (std::size_t i = 0; fits && i < secret.size(); ++i)
    fits = expected[i] == '0' ? std::isdigit(static_cast<unsigned char>(secret[i])) != 0
                              : secret[i] == expected[i];
  if (!fits)
    throw InputError(where + ": \"secret\" '" + secret + "' is not " + text + " (separated alike)");
  return space;
}

}  // namespace

double SecretSpace::size() const {
  return std::pow(10.0, digits);
}

std::string SecretSpace::secret(std::uint64_t i) const {
  std::string digits_text(static_cast<std::size_t>(digits), '0');
  for (int d = digits - 1; d >= 0; --d, i /= 10)
    digits_text[static_cast<std::size_t>(d)] = static_cast<char>('0' + i % 10);
  std::string out;
  for (int d = 0; d < digits; ++d)
    out += (d ? separator : "") + std::string(1, digits_text[static_cast<std::size_t>(d)]);
  return out;
}

std::string SecretSpace::draw(std::mt19937_64& rng) const {
  std::string out;
  for (int d = 0; d < digits; ++d)
    out += (d ? separator : "") + std::string(1, static_cast<char>('0' + rng() % 10));
  return out;
}

PlantedCanaries read_canaries(const fs::path& file) {
  auto lines = read_json_lines(file);
  PlantedCanaries out;
  out.sha256 = std::move(lines.sha256);
  std::set<std::string> ids;
  for (const auto& [number, j] : lines.objects) {
    const std::string where = file.string() + ":" + std::to_string(number);
    Canary c;
    c.id = field_string(j, "id", where);
    if (c.id.find('#') != std::string::npos)
      throw InputError(where + ": \"id\" '" + c.id + "' may not contain '#'");
    if (!ids.insert(c.id).second) throw InputError(where + ": repeated id '" + c.id + "'");
    c.prefix = field_string(j, "prefix", where);
    c.secret = field_string(j, "secret", where);
    c.space = parse_space(field_string(j, "secret_space", where), c.secret, where);
    c.count = field_count(j, where);
    c.line = number;
    out.canaries.push_back(std::move(c));
  }
  return out;
}

PlantedDuplicates read_duplicates(const fs::path& file) {
  auto lines = read_json_lines(file);
  PlantedDuplicates out;
  out.sha256 = std::move(lines.sha256);
  for (const auto& [number, j] : lines.objects) {
    const std::string where = file.string() + ":" + std::to_string(number);
    out.passages.push_back({field_string(j, "id", where), field_count(j, where)});
  }
  return out;
}

}  // namespace sg::detectors::memorization
