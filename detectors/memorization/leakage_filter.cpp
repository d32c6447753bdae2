#include "memorization/leakage_filter.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "memorization/corpus_suffix.hpp"
#include "memorization/text_normalization.hpp"
#include "memorization/tokenizer_hash.hpp"

namespace sg::detectors::memorization {

namespace {

class LeakageFilter : public engine::OutputFilter {
 public:
  LeakageFilter(const CorpusIndex& index, std::uint32_t n)
      : index_(&index), n_(n), suffix_(index, n - 1) {}

  std::optional<engine::FilterEvent> veto(const engine::GenerationState& state,
                                          std::int32_t token) override {
    catch_up(state);
    if (suffix_.match().depth + 1 < n_) return std::nullopt;
    const auto span = index_->extend(suffix_.match(), token);
    if (span.empty()) return std::nullopt;
    const auto where = index_->locate(span, 1);
    nlohmann::json detail{{"span_length", n_}, {"token", token}, {"occurrences", span.size()}};
    if (!where.empty()) {
      detail["document"] = {{"id", where.front().document},
                            {"name", std::string(index_->document_name(where.front().document))}};
      detail["offset"] = where.front().offset;
    }
    return engine::FilterEvent{kLeakageFilterName, "block",
                               static_cast<std::int64_t>(state.generated.size()), detail.dump()};
  }

  std::optional<engine::FilterStop> stop(const engine::GenerationState& state) override {
    catch_up(state);  // pays for the accepted token now, not inside the next veto
    return std::nullopt;
  }

 private:
  // Feeds the tokens of prompt + output not yet seen. Only the last n-1 of the prompt can
  // be part of a span the output completes.
  void catch_up(const engine::GenerationState& state) {
    const std::uint64_t total = state.prompt.size() + state.generated.size();
    if (!started_) {
      started_ = true;
      fed_ = state.prompt.size() > n_ - 1 ? state.prompt.size() - (n_ - 1) : 0;
    }
    if (fed_ > total) throw std::logic_error("leakage filter: the sequence it follows shrank");
    for (; fed_ < total; ++fed_)
      suffix_.push(fed_ < state.prompt.size() ? state.prompt[fed_]
                                              : state.generated[fed_ - state.prompt.size()]);
  }

  const CorpusIndex* index_;
  std::uint32_t n_;
  CorpusSuffix suffix_;
  bool started_ = false;
  std::uint64_t fed_ = 0;  // tokens of prompt + output fed to suffix_ (or skipped)
};

// The normalized mode. No incremental state: each candidate re-tokenizes a window of
// normalized text, because the normalized token stream is not a per-token mapping of the
// model's tokens (BPE splits "LORD" and " lord" differently). The window's last word may be
// unfinished (the candidate can end inside it), and an unfinished word tokenizes unlike the
// whole word in the corpus; so the complete words are matched as tokens, and the unfinished
// one as the beginning of the text that follows them in the corpus.
class NormalizedLeakageFilter : public engine::OutputFilter {
 public:
  NormalizedLeakageFilter(const CorpusIndex& index, std::uint32_t n,
                          const tokenizer::Tokenizer& tokenizer)
      : index_(&index), n_(n), tokenizer_(&tokenizer) {}

  std::optional<engine::FilterEvent> veto(const engine::GenerationState& state,
                                          std::int32_t token) override {
    const std::size_t total = state.prompt.size() + state.generated.size();
    // Enough of the model's tokens for n normalized ones: case changes and doubled spaces
    // at most about triple the token count of the same words.
    const std::size_t window = std::min<std::size_t>(total, 4 * std::size_t{n_} + 16);
    ids_.clear();
    for (std::size_t i = total - window; i < total; ++i)
      ids_.push_back(i < state.prompt.size() ? state.prompt[i]
                                             : state.generated[i - state.prompt.size()]);
    ids_.push_back(token);
    std::string text = normalize_lower_space(tokenizer_->decode_bytes(ids_));
    if (window < total) {
      // The window may begin inside a word: start at a word boundary.
      const auto space = text.find(' ');
      if (space == std::string::npos) return std::nullopt;
      text.erase(0, space);
    } else {
      // The sequence's first word, as a word in running text (which is how the corpus holds
      // nearly every word the prompt can begin with).
      text.insert(0, 1, ' ');
    }
    const auto last_word = text.rfind(' ');
    const std::string complete = text.substr(0, last_word);
    const std::string unfinished = text.substr(last_word);
    const auto tokens = tokenizer_->encode(
        complete, {.allow_special = false, .invalid_utf8 = tokenizer::InvalidUtf8::kReplace});
    if (tokens.size() + 1 < n_) return std::nullopt;
    const auto head = std::span(tokens).last(n_ - 1);
    const auto range = index_->find(head);
    if (range.empty()) return std::nullopt;
    // Which occurrences go on with the unfinished word (a few suffice: a span of n-1 tokens
    // is rarely common, and one continuing occurrence is enough to veto).
    for (const auto& at : index_->locate(range, kOccurrencesChecked)) {
      const auto next =
          index_->document_tokens(at.document, at.offset + head.size(), unfinished.size());
      if (next.empty()) continue;
      const std::string follows = tokenizer_->decode_bytes(next);
      if (follows.compare(0, unfinished.size(), unfinished) != 0) continue;
      nlohmann::json detail{
          {"span_length", n_},
          {"token", token},
          {"normalized", to_string(index_->normalization())},
          {"occurrences", range.size()},
          {"document",
           {{"id", at.document}, {"name", std::string(index_->document_name(at.document))}}},
          {"offset", at.offset}};
      return engine::FilterEvent{kLeakageFilterName, "block",
                                 static_cast<std::int64_t>(state.generated.size()), detail.dump()};
    }
    return std::nullopt;
  }

 private:
  static constexpr std::size_t kOccurrencesChecked = 64;

  const CorpusIndex* index_;
  std::uint32_t n_;
  const tokenizer::Tokenizer* tokenizer_;
  std::vector<std::int32_t> ids_;
};

}  // namespace

LeakageFilterFactory::LeakageFilterFactory(std::shared_ptr<const CorpusIndex> index,
                                           std::uint32_t n,
                                           std::shared_ptr<const tokenizer::Tokenizer> tokenizer)
    : index_(std::move(index)), n_(n), tokenizer_(std::move(tokenizer)) {
  if (n_ == 0) throw std::invalid_argument("leakage filter: n must be at least 1");
  if (!index_) throw std::invalid_argument("leakage filter: no index");
  if (index_->normalization() != TextNormalization::kNone && !tokenizer_)
    throw std::invalid_argument("leakage filter: a normalized index needs the tokenizer");
}

std::unique_ptr<engine::OutputFilter> LeakageFilterFactory::make() const {
  if (index_->normalization() != TextNormalization::kNone)
    return std::make_unique<NormalizedLeakageFilter>(*index_, n_, *tokenizer_);
  return std::make_unique<LeakageFilter>(*index_, n_);
}

std::shared_ptr<const LeakageFilterFactory> leakage_filter_for_model(
    const std::filesystem::path& index_file, std::uint32_t n,
    const std::filesystem::path& model_dir) {
  if (n == 0) throw InputError(index_file.string() + ": the leakage span N must be at least 1");
  auto index = std::make_shared<const CorpusIndex>(CorpusIndex::open(index_file));
  check_tokenizer_matches(index->tokenizer_hash(), index_file, model_dir);
  std::shared_ptr<const tokenizer::Tokenizer> tok;
  if (index->normalization() != TextNormalization::kNone) tok = tokenizer::load(model_dir);
  return std::make_shared<const LeakageFilterFactory>(std::move(index), n, std::move(tok));
}

}  // namespace sg::detectors::memorization
