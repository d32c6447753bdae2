// The in-loop toxicity filter: vetoes a token whose text would complete a lexicon term of at
// least `min_severity`, judged on the normalized tail of the output plus the candidate, so a
// term split across BPE pieces is caught (engine/output_filter.hpp: the token is masked and
// the choice made again under the same sampling rule). Each veto is a filter event
// "toxicity.block".
#pragma once

#include <memory>

#include "engine/output_filter.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::detectors::toxicity {

// `tokenizer` must outlive the factory and its filters.
std::shared_ptr<const engine::OutputFilterFactory> make_lexicon_block_filter(
    const tokenizer::Tokenizer& tokenizer, int min_severity);

}  // namespace sg::detectors::toxicity
