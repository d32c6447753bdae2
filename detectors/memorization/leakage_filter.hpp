// The verbatim-leakage filter: generation never emits a token that would make the last N
// tokens of (prompt + output) an N-gram of the training corpus. A token that would is
// vetoed (engine/output_filter.hpp: masked, the choice made again), and each veto is an
// event naming where in the corpus the span occurs.
//
// Over an exact index, tokens are matched as they are: a near-copy (changed case, extra
// spaces) tokenizes differently and passes. Over an index built with `--normalize`, the
// normalized mode: the text of prompt + output + candidate is normalized the same way as the
// corpus was (text_normalization.hpp) and re-tokenized, and the candidate is vetoed when the
// last N-1 complete tokens of that text, followed by the word the candidate is writing, begin
// an N-token span of the corpus: an upper-cased or re-spaced copy is blocked too
// (bench/README.md measures both modes against such copies).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "engine/output_filter.hpp"
#include "memorization/corpus_index.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::detectors::memorization {

inline constexpr const char* kLeakageFilterName = "memorization.leakage";
inline constexpr std::uint32_t kDefaultLeakageN = 32;

class LeakageFilterFactory : public engine::OutputFilterFactory {
 public:
  // n >= 1 tokens (std::invalid_argument otherwise). A normalized index needs the model's
  // tokenizer, to re-tokenize normalized text.
  LeakageFilterFactory(std::shared_ptr<const CorpusIndex> index, std::uint32_t n,
                       std::shared_ptr<const tokenizer::Tokenizer> tokenizer = nullptr);
  std::unique_ptr<engine::OutputFilter> make() const override;

  const CorpusIndex& index() const { return *index_; }
  std::uint32_t n() const { return n_; }

 private:
  std::shared_ptr<const CorpusIndex> index_;
  std::uint32_t n_;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
};

// Opens `index_file` for a model: an InputError naming both when the index was built with
// another tokenizer, or when n is 0.
std::shared_ptr<const LeakageFilterFactory> leakage_filter_for_model(
    const std::filesystem::path& index_file, std::uint32_t n,
    const std::filesystem::path& model_dir);

}  // namespace sg::detectors::memorization
