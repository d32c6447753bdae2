// config.json of every architecture the reader knows (GPT-2, GPT-1, the BERT/RoBERTa/GPT-2
// sequence classifiers): it must accept or refuse with sg::InputError, and an accepted config
// is consistent (heads divide the width, ids inside the vocabulary, labels counted) and within
// the documented limits (config_limits), its declared parameters included.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/errors.hpp"
#include "model/config.hpp"

namespace {

namespace limits = sg::model::config_limits;

void check(bool ok) {
  if (!ok) std::abort();
}

bool within(std::int64_t v, std::int64_t max) {
  return v >= 1 && v <= max;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sg::model::Arch;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto c = sg::model::parse_config(text, "fuzz/config.json");
    check(within(c.n_layer, limits::kLayers) && within(c.n_embd, limits::kEmbd));
    check(within(c.n_head, c.n_embd) && c.n_embd % c.n_head == 0);
    check(c.head_dim() * c.n_head == c.n_embd);
    check(within(c.n_inner, limits::kInner));
    check(within(c.vocab_size, limits::kVocab));
    check(c.position_offset >= 0 && within(c.n_positions, limits::kPositions) &&
          c.n_positions + c.position_offset <= limits::kPositions);
    const auto params = sg::model::declared_parameters(c);
    check(params > 0 && params <= limits::kParameters);
    check(std::isfinite(c.layer_norm_epsilon) && c.layer_norm_epsilon > 0);
    for (const auto& id : {c.eos_token_id, c.bos_token_id, c.pad_token_id})
      check(!id || (*id >= 0 && *id < c.vocab_size));
    check(c.output_width() >= 1);
    if (c.classifier()) {
      check(within(c.num_labels, limits::kLabels));
      check(static_cast<std::size_t>(c.num_labels) == c.labels.size());
    } else {
      check(c.num_labels == 0 && c.labels.empty() && !c.bidirectional());
    }
    if (c.bidirectional()) {
      check(within(c.type_vocab_size, limits::kVocab));
    } else {
      check(c.type_vocab_size == 0 && c.position_offset == 0);
    }
    if (c.arch == Arch::kOpenAiGpt) check(c.n_inner == 4 * c.n_embd && !c.classifier());
    if (c.arch == Arch::kRoberta) check(c.pad_token_id && c.position_offset == *c.pad_token_id + 1);
  } catch (const sg::InputError&) {
    // A refusal is a correct answer to bad input.
  }
  return 0;
}
