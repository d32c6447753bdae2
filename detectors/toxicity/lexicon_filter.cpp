#include "toxicity/lexicon_filter.hpp"

#include "common/errors.hpp"

namespace sg::detectors::toxicity {

// Replaced by the lexicon's implementation as it lands.
std::shared_ptr<const engine::OutputFilterFactory> make_lexicon_block_filter(
    const tokenizer::Tokenizer&, int) {
  throw UsageError("the lexicon block filter is not available in this build");
}

}  // namespace sg::detectors::toxicity
