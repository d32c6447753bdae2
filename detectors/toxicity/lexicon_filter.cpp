#include "toxicity/lexicon_filter.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "common/errors.hpp"
#include "toxicity/lexicon_matcher.hpp"

namespace sg::detectors::toxicity {

namespace {

constexpr const char* kFilterName = "toxicity.block";
// The text kept before the candidate: far more than the longest term, even spelled out with
// gaps or stretched by repeated letters, yet cheap to scan again for every candidate.
constexpr std::size_t kTailBytes = 256;
constexpr std::size_t kPromptTokens = 64;  // the prompt's last tokens read into the tail

class LexiconBlockFilter : public engine::OutputFilter {
 public:
  LexiconBlockFilter(const tokenizer::Tokenizer& tokenizer, std::shared_ptr<const Lexicon> lexicon,
                     int min_severity)
      : tokenizer_(tokenizer), matcher_(std::move(lexicon)), min_severity_(min_severity) {}

  std::optional<engine::FilterEvent> veto(const engine::GenerationState& state,
                                          std::int32_t token) override {
    catch_up(state);
    const auto piece = tokenizer_.decode_bytes(std::span(&token, 1));
    const auto before = tail_.size();
    candidate_.assign(tail_).append(piece);
    // A match ending inside the piece is a term this token would complete (a term the text
    // ended on was judged, with the end of the text as its boundary, when it was written).
    for (const auto& m : matcher_.find_all(candidate_)) {
      const auto& term = matcher_.lexicon().terms()[m.term];
      if (static_cast<std::size_t>(m.end) <= before || term.severity < min_severity_) continue;
      const nlohmann::json detail{
          {"term", term.text}, {"severity", term.severity}, {"token", token}, {"text", piece}};
      return engine::FilterEvent{
          kFilterName, "block", static_cast<std::int64_t>(state.generated.size()),
          detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
    }
    return std::nullopt;
  }

  std::optional<engine::FilterStop> stop(const engine::GenerationState& state) override {
    catch_up(state);
    return std::nullopt;
  }

 private:
  void catch_up(const engine::GenerationState& state) {
    if (!started_) {
      started_ = true;
      const auto keep = std::min(state.prompt.size(), kPromptTokens);
      tail_ = tokenizer_.decode_bytes(state.prompt.subspan(state.prompt.size() - keep));
      trim();
    }
    if (fed_ > state.generated.size())
      throw std::logic_error("toxicity block filter: the output it follows shrank");
    if (fed_ == state.generated.size()) return;
    tail_ += tokenizer_.decode_bytes(state.generated.subspan(fed_));
    fed_ = state.generated.size();
    trim();
  }

  // Drops the front of the tail, cutting at whitespace so no word is cut (a cut word could
  // look like one starting at a word boundary).
  void trim() {
    if (tail_.size() <= 2 * kTailBytes) return;
    auto cut = tail_.find_first_of(" \t\n\r", tail_.size() - kTailBytes);
    if (cut == std::string::npos) cut = tail_.size() - kTailBytes;
    tail_.erase(0, cut);
  }

  const tokenizer::Tokenizer& tokenizer_;
  LexiconMatcher matcher_;
  int min_severity_;
  bool started_ = false;
  std::size_t fed_ = 0;  // generated tokens appended to tail_
  std::string tail_;     // the last bytes of prompt + output
  std::string candidate_;
};

class LexiconBlockFilterFactory : public engine::OutputFilterFactory {
 public:
  LexiconBlockFilterFactory(const tokenizer::Tokenizer& tokenizer, int min_severity)
      : tokenizer_(tokenizer), lexicon_(Lexicon::builtin()), min_severity_(min_severity) {}
  std::unique_ptr<engine::OutputFilter> make() const override {
    return std::make_unique<LexiconBlockFilter>(tokenizer_, lexicon_, min_severity_);
  }

 private:
  const tokenizer::Tokenizer& tokenizer_;
  std::shared_ptr<const Lexicon> lexicon_;
  int min_severity_;
};

}  // namespace

std::shared_ptr<const engine::OutputFilterFactory> make_lexicon_block_filter(
    const tokenizer::Tokenizer& tokenizer, int min_severity) {
  if (min_severity < kMinSeverity || min_severity > kMaxSeverity)
    throw UsageError("toxicity block filter: the minimum severity must be 1, 2 or 3, not " +
                     std::to_string(min_severity));
  return std::make_shared<const LexiconBlockFilterFactory>(tokenizer, min_severity);
}

}  // namespace sg::detectors::toxicity
