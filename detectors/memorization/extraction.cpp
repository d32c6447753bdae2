#include "memorization/extraction.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "seam/intervals.hpp"

namespace sg::detectors::memorization {

std::vector<ExtractionTarget> draw_extraction_targets(const CorpusIndex& index,
                                                      const ExtractionDraw& draw,
                                                      std::span<const DuplicatedPassage> planted) {
  std::map<std::string, std::uint32_t, std::less<>> first_named;
  if (!planted.empty())
    for (std::uint32_t d = 0; d < index.document_count(); ++d)
      first_named.try_emplace(std::string(index.document_name(d)), d);

  std::vector<ExtractionTarget> out;
  auto add = [&](std::string id, int k, std::uint32_t doc, std::uint64_t offset) {
    ExtractionTarget t;
    t.id = std::move(id);
    t.prefix_length = k;
    auto window = index.document_tokens(
        doc, offset, static_cast<std::uint64_t>(k) + static_cast<std::uint64_t>(draw.continuation));
    t.count = index.count(window);
    t.prefix.assign(window.begin(), window.begin() + k);
    t.continuation.assign(window.begin() + k, window.end());
    t.document = doc;
    t.offset = offset;
    out.push_back(std::move(t));
  };

  for (int k : draw.prefix_lengths) {
    const auto window = static_cast<std::uint64_t>(k + draw.continuation);
    // Windows starting in each document, cumulated: a uniform index picks a window.
    std::vector<std::uint64_t> cumulative(index.document_count() + 1, 0);
    for (std::uint32_t d = 0; d < index.document_count(); ++d) {
      const auto length = index.document_length(d);
      cumulative[d + 1] = cumulative[d] + (length >= window ? length - window + 1 : 0);
    }
    const std::uint64_t total = cumulative.back();
    // Each prefix length draws its own sequences, from a generator of its own.
    std::seed_seq seq{static_cast<std::uint32_t>(draw.seed),
                      static_cast<std::uint32_t>(draw.seed >> 32), static_cast<std::uint32_t>(k)};
    std::mt19937_64 rng(seq);
    for (std::int64_t i = 0; total > 0 && i < draw.sequences; ++i) {
      const auto at = uniform_index(rng, total);
      const auto doc = static_cast<std::uint32_t>(
          std::upper_bound(cumulative.begin(), cumulative.end(), at) - cumulative.begin() - 1);
      add("k" + std::to_string(k) + "/r" + std::to_string(i), k, doc, at - cumulative[doc]);
    }
    for (const auto& p : planted) {
      auto it = first_named.find(p.id);
      if (it == first_named.end() || index.document_length(it->second) < window) continue;
      add("k" + std::to_string(k) + "/" + p.id, k, it->second, 0);
    }
  }
  return out;
}

}  // namespace sg::detectors::memorization
