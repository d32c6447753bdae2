#include "repetition/self_reinforcement.hpp"

#include <algorithm>
#include <cmath>

namespace sg::detectors::repetition {

std::string repeated_text(std::string_view sentence, int repeats) {
  const auto begin = sentence.find_first_not_of(" \t\r\n");
  const auto end = sentence.find_last_not_of(" \t\r\n");
  const auto line = begin == std::string_view::npos ? std::string_view{}
                                                    : sentence.substr(begin, end - begin + 1);
  std::string out;
  for (int i = 0; i < repeats; ++i) (out += line) += '\n';
  return out;
}

std::vector<double> reinforcement_curve(std::span<const std::int32_t> tokens,
                                        std::span<const double> logprobs, int repeats) {
  const auto r = static_cast<std::size_t>(repeats);
  if (repeats < 1 || tokens.size() < 2 * r || tokens.size() % r != 0 ||
      logprobs.size() + 1 != tokens.size())
    return {};
  const std::size_t unit = tokens.size() / r;
  for (std::size_t i = unit; i < tokens.size(); ++i)
    if (tokens[i] != tokens[i - unit]) return {};
  std::vector<double> curve;
  for (std::size_t k = 0; k < r; ++k) {
    double sum = 0;
    std::size_t count = 0;
    for (std::size_t i = std::max<std::size_t>(k * unit, 1); i < (k + 1) * unit; ++i, ++count)
      sum += std::exp(logprobs[i - 1]);
    curve.push_back(sum / static_cast<double>(count));
  }
  return curve;
}

}  // namespace sg::detectors::repetition
