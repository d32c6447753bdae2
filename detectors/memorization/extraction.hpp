// Extractable memorization (Carlini et al. 2022, "Quantifying Memorization Across Neural
// Language Models"): training sequences drawn with a fixed seed from the corpus index; the
// model is fed the first k tokens and greedy-decodes as many as the true continuation has;
// a sequence is extracted when the two are equal token for token.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "memorization/corpus_index.hpp"
#include "memorization/planted_files.hpp"

namespace sg::detectors::memorization {

struct ExtractionTarget {
  std::string id;  // "k32/r17" (drawn) or "k32/dup/4" (a planted passage's copy)
  int prefix_length = 0;
  std::vector<std::int32_t> prefix;
  std::vector<std::int32_t> continuation;
  std::uint64_t count = 0;  // occurrences of prefix + continuation in the corpus
  std::uint32_t document = 0;
  std::uint64_t offset = 0;  // of the prefix, in tokens within the document
};

struct ExtractionDraw {
  std::vector<int> prefix_lengths;
  int continuation = 50;
  std::int64_t sequences = 0;  // drawn per prefix length
  std::uint64_t seed = 0;
};

// For each prefix length k: `sequences` windows of k + continuation tokens drawn uniformly
// among those inside one document, then every planted passage whose copy (a document named
// by its id) is long enough, from its start, so the high duplication buckets are populated.
std::vector<ExtractionTarget> draw_extraction_targets(const CorpusIndex& index,
                                                      const ExtractionDraw& draw,
                                                      std::span<const DuplicatedPassage> planted);

}  // namespace sg::detectors::memorization
