// Mutations of the demo policy (lines deleted, repeated, swapped, cut short, bytes flipped):
// each is read as a policy or refused with an InputError naming the file and a line — never
// another exception, never a crash. A fixed seed keeps the run the same in CI.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/errors.hpp"
#include "release/policy.hpp"

namespace sg::release {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string mutate(const std::string& text, std::mt19937& rng) {
  auto lines = lines_of(text);
  const auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  switch (pick(6)) {
    case 0:
      lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(pick(lines.size())));
      return joined(lines);
    case 1: {
      const auto i = pick(lines.size());
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(pick(lines.size())), lines[i]);
      return joined(lines);
    }
    case 2:
      std::swap(lines[pick(lines.size())], lines[pick(lines.size())]);
      return joined(lines);
    case 3:
      return text.substr(0, pick(text.size()));
    case 4: {
      std::string out = text;
      out[pick(out.size())] = static_cast<char>(pick(256));
      return out;
    }
    default: {  // a value replaced by another line's value
      const auto i = pick(lines.size());
      const auto j = pick(lines.size());
      const auto eq_i = lines[i].find('=');
      const auto eq_j = lines[j].find('=');
      if (eq_i != std::string::npos && eq_j != std::string::npos)
        lines[i] = lines[i].substr(0, eq_i + 1) + lines[j].substr(eq_j + 1);
      return joined(lines);
    }
  }
}

TEST(PolicyFuzz, MutatedDemoPoliciesAreReadOrRefusedWithFileAndLine) {
  const fs::path demo = fs::path(STAGEGATE_SOURCE_DIR) / "policies/demo.ini";
  std::ifstream in(demo, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  ASSERT_FALSE(text.str().empty());
  // Beside the demo policy, so that its relative paths still resolve.
  const fs::path file = demo.parent_path() / "fuzzed-policy.ini";
  std::mt19937 rng(15);
  int accepted = 0, refused = 0;
  for (int round = 0; round < 600; ++round) {
    std::string mutated = text.str();
    for (int k = 0; k < 1 + round % 3; ++k) mutated = mutate(mutated, rng);
    try {
      (void)Policy::parse(mutated, file);
      ++accepted;
    } catch (const InputError& e) {
      const std::string message = e.what();
      EXPECT_TRUE(message.starts_with(file.string() + ":")) << message;
      const auto line = message.substr(file.string().size() + 1);
      EXPECT_TRUE(!line.empty() && line[0] >= '1' && line[0] <= '9') << "no line in: " << message;
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "round " << round << ": not an InputError: " << e.what() << "\n" << mutated;
    }
  }
  // Both outcomes happen: the mutations neither all miss nor all break the policy.
  EXPECT_GT(accepted, 10);
  EXPECT_GT(refused, 300);
}

}  // namespace
}  // namespace sg::release
