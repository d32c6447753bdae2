#include "toxicity/output_filter.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sg::detectors::toxicity {

namespace {

using engine::Verdict;

class OutputFilter : public engine::CompletionFilter {
 public:
  OutputFilter(std::unique_ptr<Scorer> scorer, const tokenizer::Tokenizer& tokenizer,
               OutputFilterSettings settings)
      : scorer_(std::move(scorer)), tokenizer_(tokenizer), settings_(std::move(settings)) {}

  std::vector<Verdict> judge(std::span<const engine::Completion> completions) override {
    std::vector<std::string> texts;
    texts.reserve(completions.size());
    for (const auto& c : completions) texts.push_back(tokenizer_.decode(c.tokens));
    const std::vector<std::string_view> views(texts.begin(), texts.end());
    auto scores = scorer_->score(views);
    if (scores.size() != texts.size())
      throw std::logic_error("the toxicity scorer gave " + std::to_string(scores.size()) +
                             " scores for " + std::to_string(texts.size()) + " texts");
    std::vector<Verdict> out(completions.size());
    for (std::size_t i = 0; i < completions.size(); ++i)
      if (scores[i].value >= settings_.threshold)
        out[i] = act(texts[i], scores[i], completions[i].attempt);
    return out;
  }

 private:
  Verdict act(const std::string& text, const Score& score, int attempt) const {
    auto detail = nlohmann::ordered_json::object();
    detail["score"] = score.value;
    detail["threshold"] = settings_.threshold;
    detail["try"] = attempt;
    auto matches = nlohmann::ordered_json::array();
    for (const auto& m : score.matches) {
      const bool inside =
          0 <= m.start && m.start <= m.end && m.end <= static_cast<std::int64_t>(text.size());
      matches.push_back({{"term", m.term},
                         {"severity", m.severity},
                         {"start", m.start},
                         {"end", m.end},
                         {"text", inside ? text.substr(static_cast<std::size_t>(m.start),
                                                       static_cast<std::size_t>(m.end - m.start))
                                         : std::string()}});
    }
    detail["matches"] = std::move(matches);
    detail["scorer"] = nlohmann::ordered_json::parse(score.detail_json);

    Verdict v;
    v.event.filter = std::string(kOutputFilterName);
    switch (settings_.action) {
      case OutputAction::kRegenerate:
        v.action =
            attempt < settings_.retries ? Verdict::Action::kRegenerate : Verdict::Action::kRefuse;
        break;
      case OutputAction::kRedact:
        if (score.matches.empty()) {
          v.action = Verdict::Action::kRefuse;
          detail["reason"] = "no span to redact: the scorer reports none";
        } else {
          v.action = Verdict::Action::kRedact;
          v.text = redact(text, score.matches, settings_.replacement);
        }
        break;
      case OutputAction::kRefuse:
        v.action = Verdict::Action::kRefuse;
        break;
    }
    v.event.action = v.action == Verdict::Action::kRegenerate ? "regenerate"
                     : v.action == Verdict::Action::kRedact   ? "redact"
                                                              : "refuse";
    v.event.detail_json = detail.dump();
    return v;
  }

  std::unique_ptr<Scorer> scorer_;
  const tokenizer::Tokenizer& tokenizer_;
  OutputFilterSettings settings_;
};

}  // namespace

OutputAction parse_output_action(std::string_view text) {
  if (text == "refuse") return OutputAction::kRefuse;
  if (text == "regenerate") return OutputAction::kRegenerate;
  if (text == "redact") return OutputAction::kRedact;
  throw std::invalid_argument("'" + std::string(text) +
                              "' is not an action: expected refuse, regenerate or redact");
}

std::string_view to_string(OutputAction action) {
  switch (action) {
    case OutputAction::kRegenerate:
      return "regenerate";
    case OutputAction::kRedact:
      return "redact";
    case OutputAction::kRefuse:
      break;
  }
  return "refuse";
}

std::string redact(std::string_view text, std::span<const Match> matches,
                   std::string_view replacement) {
  std::vector<std::pair<std::int64_t, std::int64_t>> spans;
  const auto size = static_cast<std::int64_t>(text.size());
  for (const auto& m : matches) {
    if (!(0 <= m.start && m.start <= m.end && m.end <= size))
      throw std::out_of_range("match '" + m.term + "' [" + std::to_string(m.start) + ", " +
                              std::to_string(m.end) + ") lies outside the text of " +
                              std::to_string(size) + " bytes");
    if (m.start < m.end) spans.emplace_back(m.start, m.end);
  }
  std::sort(spans.begin(), spans.end());
  std::string out;
  std::int64_t at = 0;
  for (std::size_t i = 0; i < spans.size();) {
    auto [start, end] = spans[i];
    // Overlapping or touching spans become one replacement.
    for (++i; i < spans.size() && spans[i].first <= end; ++i) end = std::max(end, spans[i].second);
    out.append(text.substr(static_cast<std::size_t>(at), static_cast<std::size_t>(start - at)));
    out.append(replacement);
    at = end;
  }
  out.append(text.substr(static_cast<std::size_t>(at)));
  return out;
}

std::shared_ptr<engine::CompletionFilter> make_output_filter(std::unique_ptr<Scorer> scorer,
                                                             const tokenizer::Tokenizer& tokenizer,
                                                             OutputFilterSettings settings) {
  return std::make_shared<OutputFilter>(std::move(scorer), tokenizer, std::move(settings));
}

}  // namespace sg::detectors::toxicity
