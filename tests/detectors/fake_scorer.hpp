// A toxicity scorer of known scores for tests: a text's score is the number it starts with
// ("0.7 ..."; 0 when it starts with none), and each word "bad" in it is a matched term of
// severity 2.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include "toxicity/scorer.hpp"
#include "toxicity/toxicity_detector.hpp"

namespace sg::testing {

class FakeScorer : public detectors::toxicity::Scorer {
 public:
  std::string canonical() const override { return "fake"; }
  std::vector<detectors::toxicity::Score> score(std::span<const std::string_view> texts) override {
    std::vector<detectors::toxicity::Score> out;
    for (auto text : texts) {
      const std::string s(text);
      detectors::toxicity::Score sc;
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      sc.value = end == s.c_str() ? 0 : v;
      for (auto at = s.find("bad"); at != std::string::npos; at = s.find("bad", at + 3))
        sc.matches.push_back(
            {"bad", static_cast<std::int64_t>(at), static_cast<std::int64_t>(at + 3), 2});
      out.push_back(std::move(sc));
    }
    return out;
  }
};

// The registry of a test: the toxicity detector with scorers from `make`.
inline detectors::Registry toxicity_registry(detectors::ScorerFactory make) {
  detectors::Registry r;
  r.add(detectors::toxicity_detector(std::move(make)));
  return r;
}

inline detectors::Registry fake_toxicity_registry() {
  return toxicity_registry([](const auto&, const auto&) { return std::make_unique<FakeScorer>(); });
}

}  // namespace sg::testing
