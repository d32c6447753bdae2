#include "repetition/repetition_detector.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/errors.hpp"
#include "engine/model.hpp"
#include "repetition/human.hpp"
#include "repetition/metrics.hpp"
#include "repetition/self_reinforcement.hpp"
#include "seam/intervals.hpp"
#include "seam/text_jsonl.hpp"

namespace sg::detectors {

namespace {

namespace fs = std::filesystem;
using namespace repetition;

constexpr const char* kName = "repetition";
constexpr const char* kHumanStrategy = "repetition.human";
constexpr const char* kReinforcementStrategy = "repetition.reinforcement";
// Human texts and sentences share the detector's prompt-id namespace: kept apart by these.
constexpr const char* kHumanId = "human:";
constexpr const char* kSentenceId = "sentence:";
// A human continuation is cut to this many bytes per token wanted before it is scored
// (typical English is 4-5 bytes a token), so scoring does not pay for whole documents;
// measure() refuses one that then falls short of its tokens.
constexpr std::size_t kBytesPerToken = 8;

// The per-sample metrics, in the order they are stored and summarized.
const std::vector<std::string>& sample_metric_names() {
  static const std::vector<std::string> names = {
      "repetition.seq_rep_2",    "repetition.seq_rep_3",   "repetition.seq_rep_4",
      "repetition.rep_16",       "repetition.rep_32",      "repetition.rep_128",
      "repetition.zlib_ratio",   "repetition.loop_period", "repetition.loop_start",
      "repetition.loop_fraction"};
  return names;
}

void append_figures(const SampleFigures& f, std::vector<Metric>& out) {
  out.push_back({"repetition.seq_rep_2", f.seq_rep_2});
  out.push_back({"repetition.seq_rep_3", f.seq_rep_3});
  out.push_back({"repetition.seq_rep_4", f.seq_rep_4});
  out.push_back({"repetition.rep_16", f.rep_16});
  out.push_back({"repetition.rep_32", f.rep_32});
  out.push_back({"repetition.rep_128", f.rep_128});
  if (f.zlib_ratio) out.push_back({"repetition.zlib_ratio", *f.zlib_ratio});
  if (f.loop) {
    out.push_back({"repetition.loop_period", static_cast<double>(f.loop->period)});
    out.push_back({"repetition.loop_start", static_cast<double>(f.loop_start)});
  }
  out.push_back({"repetition.loop_fraction", f.loop_fraction});
}

bool is_continuation(std::size_t byte, std::string_view text) {
  return byte < text.size() && (static_cast<unsigned char>(text[byte]) & 0xC0) == 0x80;
}

// The bytes of `text` that tokens [from, to) stand for, widened to whole UTF-8 characters;
// none when the text is not the tokens' bytes (a lower-casing tokenizer such as GPT-1's).
std::optional<std::pair<std::int64_t, std::int64_t>> token_span(
    const tokenizer::Tokenizer& tok, std::span<const std::int32_t> tokens, std::size_t from,
    std::size_t to, std::string_view text) {
  const auto upto = tok.decode_bytes(tokens.subspan(0, to));
  if (text.substr(0, upto.size()) != upto) return std::nullopt;
  std::size_t begin = tok.decode_bytes(tokens.subspan(0, from)).size(), end = upto.size();
  while (begin > 0 && is_continuation(begin, text)) --begin;
  while (is_continuation(end, text)) ++end;
  return std::pair{static_cast<std::int64_t>(begin), static_cast<std::int64_t>(end)};
}

class Repetition : public Detector {
 public:
  Repetition(std::optional<HumanTexts> human, std::int64_t human_tokens,
             std::optional<TextFile> sentences, fs::path sentences_file, std::int64_t repeats)
      : human_(std::move(human)),
        human_tokens_(human_tokens),
        sentences_(std::move(sentences)),
        sentences_file_(std::move(sentences_file)),
        repeats_(static_cast<int>(repeats)) {
    if (human_)
      for (std::size_t i = 0; i < human_->texts.size(); ++i)
        human_index_[kHumanId + human_->texts[i].id] = i;
  }

  std::string canonical_settings() const override {
    std::string out = std::string("[") + kName + "]\n";
    if (human_)
      out += "human_sha256 = " + human_->corpus_sha256 +
             "\nhuman_tokens = " + std::to_string(human_tokens_) + "\n";
    if (sentences_)
      out += "reinforcement_sha256 = " + sentences_->sha256 +
             "\nreinforcement_repeats = " + std::to_string(repeats_) + "\n";
    return out;
  }

  Jobs jobs() const override {
    Jobs jobs;
    if (human_)
      for (const auto& h : human_->texts)
        jobs.score.push_back({kHumanId + h.id, h.text, h.origin, kHumanStrategy, 0});
    if (sentences_)
      for (const auto& r : sentences_->records)
        jobs.score.push_back({kSentenceId + r.id, repeated_text(r.text, repeats_),
                              sentences_file_.string() + ":" + std::to_string(r.line),
                              kReinforcementStrategy, 0});
    return jobs;
  }

  void prepare(RunContext& run) override {
    tokenizer_ = &run.tokenizer;
    if (!sentences_) return;
    // Refused before any job runs: a curve needs equal copies, all in one context window.
    for (const auto& r : sentences_->records) {
      const auto where =
          sentences_file_.string() + ":" + std::to_string(r.line) + ": sentence '" + r.id + "': ";
      const auto tokens = run.tokenizer.encode(repeated_text(r.text, repeats_));
      const std::vector<double> none(tokens.empty() ? 0 : tokens.size() - 1);
      if (reinforcement_curve(tokens, none, repeats_).empty())
        throw InputError(where + "its " + std::to_string(repeats_) +
                         " copies do not encode to equal tokens (is it one line?)");
      if (tokens.size() > static_cast<std::size_t>(run.model.context()))
        throw InputError(
            where + std::to_string(repeats_) + " copies are " + std::to_string(tokens.size()) +
            " tokens, more than the model's context of " + std::to_string(run.model.context()) +
            "; choose a shorter sentence or fewer reinforcement_repeats");
    }
  }

  void measure(std::span<const Sample> samples, std::span<Findings> out) override {
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const auto& s = samples[i];
      if (s.source == kPlanSource) {
        record(s.tokens, s.text, s.text, out[i]);
      } else if (s.source == kName && s.strategy == kHumanStrategy) {
        measure_human(s, out[i]);
      }
    }
  }

  std::vector<Aggregate> summarize(RunReader& run) override {
    std::vector<Aggregate> out;
    summarize_strategies(run, out);
    summarize_reinforcement(run, out);
    return out;
  }

 private:
  const tokenizer::Tokenizer& tok() const {
    if (!tokenizer_) throw std::logic_error("repetition: measure() before prepare()");
    return *tokenizer_;
  }

  // `measured` is the text the tokens stand for; `stored` the sample's stored text, which
  // the evidence span points into (it may go on past `measured`).
  void record(std::span<const std::int32_t> tokens, std::string_view measured,
              std::string_view stored, Findings& out) const {
    const auto f = sample_figures(tokens, measured);
    append_figures(f, out.metrics);
    if (!f.loop) return;
    Evidence e;
    e.kind = "loop";
    e.detail_json = nlohmann::json{{"period", f.loop->period}, {"start", f.loop_start}}.dump();
    if (auto span = token_span(tok(), tokens, static_cast<std::size_t>(f.loop_start), tokens.size(),
                               stored)) {
      e.start_byte = span->first;
      e.end_byte = span->second;
    }
    out.evidence.push_back(std::move(e));
  }

  void measure_human(const Sample& s, Findings& out) const {
    const auto it = human_index_.find(std::string(s.prompt_id));
    if (it == human_index_.end()) return;  // not a text of this plan's
    const auto& h = human_->texts[it->second];
    const auto wanted = static_cast<std::size_t>(human_tokens_);
    if (h.cut && s.tokens.size() < wanted)
      throw RuntimeError(h.origin + ": the human continuation of prompt '" + h.id + "' has " +
                         std::to_string(s.tokens.size()) + " tokens in its first " +
                         std::to_string(h.text.size()) + " bytes, fewer than the " +
                         std::to_string(wanted) + " it is compared at");
    const auto tokens = s.tokens.subspan(0, std::min(wanted, s.tokens.size()));
    const auto bytes = tok().decode_bytes(tokens);
    const std::string measured =
        s.text.substr(0, bytes.size()) == bytes ? bytes : tok().decode(tokens);
    record(tokens, measured, s.text, out);
  }

  // The tokens a stored sample was measured on.
  std::span<const std::int32_t> measured_tokens(const StoredSample& s) const {
    std::span<const std::int32_t> t = s.tokens;
    if (s.strategy == kHumanStrategy)
      t = t.subspan(0, std::min(t.size(), static_cast<std::size_t>(human_tokens_)));
    return t;
  }

  void summarize_strategies(RunReader& run, std::vector<Aggregate>& out) const {
    SampleQuery q;
    q.tokens = true;
    q.metric_prefix = "repetition.";
    struct Strategy {
      std::map<std::string, std::vector<double>> values;
      std::vector<std::vector<std::int32_t>> tokens;
      std::vector<double> looping;  // 1 per sample ending in a loop, else 0
    };
    std::map<std::string, Strategy> by;
    for (const auto& s : run.samples(q)) {
      bool measured = false, loop = false;
      for (const auto& m : s.metrics) {
        if (!m.name.starts_with("repetition.")) continue;
        auto& st = by[s.strategy];
        st.values[m.name].push_back(m.value);
        measured = true;
        loop = loop || m.name == "repetition.loop_period";
      }
      if (!measured) continue;
      auto& st = by[s.strategy];
      const auto t = measured_tokens(s);
      st.tokens.emplace_back(t.begin(), t.end());
      st.looping.push_back(loop ? 1.0 : 0.0);
    }
    auto add = [&](const std::string& metric, const std::string& strategy, const Interval& iv,
                   std::size_t n) {
      out.push_back(
          {metric, strategy, "", iv.value, iv.low, iv.high, static_cast<std::int64_t>(n)});
    };
    for (const auto& [strategy, st] : by) {
      for (const auto& name : sample_metric_names()) {
        const auto v = st.values.find(name);
        if (v != st.values.end()) add(name, strategy, bootstrap_mean(v->second), v->second.size());
      }
      add("repetition.loop_share", strategy, bootstrap_mean(st.looping), st.looping.size());
      for (int n = 1; n <= 3; ++n)
        add("repetition.distinct_" + std::to_string(n), strategy,
            Interval{distinct_n(st.tokens, n), std::nullopt, std::nullopt}, st.tokens.size());
    }
  }

  void summarize_reinforcement(RunReader& run, std::vector<Aggregate>& out) const {
    if (!sentences_) return;
    SampleQuery q;
    q.source = kName;
    q.strategy = kReinforcementStrategy;
    q.tokens = true;
    q.logprobs = true;
    std::vector<std::vector<double>> by_repeat(static_cast<std::size_t>(repeats_));
    for (const auto& s : run.samples(q)) {
      const auto curve = reinforcement_curve(s.tokens, s.logprobs, repeats_);
      if (curve.empty())
        throw RuntimeError("repetition: stored sentence '" + s.prompt_id + "' is not " +
                           std::to_string(repeats_) + " equal copies");
      for (std::size_t k = 0; k < curve.size(); ++k) by_repeat[k].push_back(curve[k]);
    }
    for (std::size_t k = 0; k < by_repeat.size(); ++k) {
      if (by_repeat[k].empty()) continue;
      const auto iv = bootstrap_mean(by_repeat[k]);
      out.push_back({"repetition.self_reinforcement", "", "rep=" + std::to_string(k + 1), iv.value,
                     iv.low, iv.high, static_cast<std::int64_t>(by_repeat[k].size())});
    }
  }

  std::optional<HumanTexts> human_;
  std::map<std::string, std::size_t, std::less<>> human_index_;  // "human:ID" -> text
  std::int64_t human_tokens_;
  std::optional<TextFile> sentences_;
  fs::path sentences_file_;
  int repeats_;
  const tokenizer::Tokenizer* tokenizer_ = nullptr;
};

// The largest max_tokens of the plan's strategies: what the human text is compared with.
std::int64_t strategies_max_tokens(const ini::Document& plan) {
  std::int64_t most = 0;
  for (const auto& section : plan.sections("strategy")) {
    const auto v = plan.integer(section, "max_tokens");
    if (!v)
      plan.fail(kName, "human_tokens",
                "[" + section + "] leaves max_tokens at its default: set human_tokens");
    most = std::max(most, *v);
  }
  if (most == 0) plan.fail(kName, "human", "human texts need the plan's [strategy.NAME] samples");
  return most;
}

std::unique_ptr<Detector> make(const ini::Document& plan) {
  std::optional<HumanTexts> human;
  std::int64_t human_tokens = 0;
  if (auto corpus = plan.string(kName, "human")) {
    if (!plan.has("prompts", "file"))
      plan.fail(kName, "human", "human texts continue the plan's prompts: it has no [prompts]");
    const fs::path prompts_file = plan_relative(plan, *plan.string("prompts", "file"));
    const auto prompts = read_named_text_file(plan, "prompts", "file", prompts_file);
    human_tokens = plan.integer(kName, "human_tokens").value_or(0);
    if (human_tokens == 0) human_tokens = strategies_max_tokens(plan);
    const fs::path file = plan_relative(plan, *corpus);
    if (!fs::is_regular_file(file))
      plan.fail(kName, "human", "not a readable file: " + file.string());
    human = human_continuations(prompts, prompts_file, file,
                                static_cast<std::size_t>(human_tokens) * kBytesPerToken);
  } else if (plan.has(kName, "human_tokens")) {
    plan.fail(kName, "human_tokens", "without human = FILE there is no human text to cut");
  }
  std::optional<TextFile> sentences;
  fs::path sentences_file;
  if (auto file = plan.string(kName, "reinforcement")) {
    sentences_file = plan_relative(plan, *file);
    sentences = read_named_text_file(plan, kName, "reinforcement", sentences_file);
  } else if (plan.has(kName, "reinforcement_repeats")) {
    plan.fail(kName, "reinforcement_repeats",
              "without reinforcement = FILE there is nothing to repeat");
  }
  return std::make_unique<Repetition>(std::move(human), human_tokens, std::move(sentences),
                                      std::move(sentences_file),
                                      plan.integer(kName, "reinforcement_repeats").value_or(10));
}

}  // namespace

DetectorSpec repetition_detector() {
  DetectorSpec spec;
  spec.name = kName;
  spec.metrics = sample_metric_names();
  spec.metrics.insert(spec.metrics.end(), {"repetition.loop_share", "repetition.distinct_{n}",
                                           "repetition.self_reinforcement"});
  spec.keys = {{"human", ini::Type::kString, false},
               {"human_tokens", ini::Type::kInteger, false, ini::Range{1, 1 << 20}},
               {"reinforcement", ini::Type::kString, false},
               {"reinforcement_repeats", ini::Type::kInteger, false, ini::Range{2, 100}}};
  spec.make = make;
  return spec;
}

}  // namespace sg::detectors
