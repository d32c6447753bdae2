#include "capability/capability_detector.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "capability/bits_per_byte.hpp"
#include "capability/zero_shot.hpp"
#include "seam/intervals.hpp"
#include "seam/text_jsonl.hpp"

namespace sg::detectors {

namespace {

namespace fs = std::filesystem;
using capability::ZeroShotItem;

constexpr const char* kName = "capability";
constexpr const char* kHeldoutStrategy = "capability.heldout";
constexpr const char* kZeroShotStrategy = "capability.zero_shot";
constexpr std::int64_t kDefaultZeroShotTokens = 8;

struct HeldoutTexts {
  fs::path file;
  TextFile texts;
  std::int64_t stride = 0;
};

struct ZeroShotTask {
  fs::path file;
  std::string sha256;
  std::vector<ZeroShotItem> items;
  std::int64_t max_tokens = kDefaultZeroShotTokens;
};

class Capability : public Detector {
 public:
  Capability(std::optional<HeldoutTexts> heldout, std::optional<ZeroShotTask> zero_shot)
      : heldout_(std::move(heldout)), zero_shot_(std::move(zero_shot)) {
    if (zero_shot_)
      for (const auto& item : zero_shot_->items) targets_.emplace(item.id, item.target);
  }

  std::string canonical_settings() const override {
    std::string s = std::string("[") + kName + "]\n";
    if (heldout_)
      s += "heldout_sha256 = " + heldout_->texts.sha256 +
           "\nstride = " + std::to_string(heldout_->stride) + "\nscored_after = end_of_text\n";
    if (zero_shot_)
      s += "zero_shot_sha256 = " + zero_shot_->sha256 +
           "\nzero_shot_max_tokens = " + std::to_string(zero_shot_->max_tokens) +
           "\nzero_shot_decoding = greedy\n";
    return s;
  }

  Jobs jobs() const override {
    Jobs jobs;
    if (heldout_)
      for (const auto& r : heldout_->texts.records) {
        ScoreJob job{r.id, r.text, heldout_->file.string() + ":" + std::to_string(r.line),
                     kHeldoutStrategy, static_cast<int>(heldout_->stride)};
        job.after_end_of_text = true;
        jobs.score.push_back(std::move(job));
      }
    if (zero_shot_)
      for (const auto& item : zero_shot_->items) {
        GenerateJob job;
        job.id = item.id;
        job.prompt = item.context;
        job.origin = zero_shot_->file.string() + ":" + std::to_string(item.line);
        job.strategy = kZeroShotStrategy;
        job.params.temperature = 0;
        job.params.max_tokens = static_cast<int>(zero_shot_->max_tokens);
        jobs.generate.push_back(std::move(job));
      }
    return jobs;
  }

  void prepare(RunContext& run) override { tokenizer_ = &run.tokenizer; }

  void measure(std::span<const Sample> samples, std::span<Findings> out) override {
    if (!tokenizer_) throw std::logic_error("capability: measure() before prepare()");
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const auto& s = samples[i];
      if (s.source != kName) continue;
      if (s.strategy == kHeldoutStrategy) {
        if (auto score = capability::byte_score(s, *tokenizer_)) {
          out[i].metrics.push_back({"capability.bits_per_byte", score->bits_per_byte()});
          out[i].metrics.push_back({"capability.bytes", static_cast<double>(score->bytes)});
        }
      } else if (s.strategy == kZeroShotStrategy) {
        measure_answer(s, out[i]);
      }
    }
  }

  std::vector<Aggregate> summarize(RunReader& run) override {
    std::vector<Aggregate> out;
    SampleQuery query;
    query.source = kName;
    query.metric_prefix = "capability.";
    std::vector<double> bits, bytes;
    std::int64_t correct = 0, answered = 0;
    for (const auto& s : run.samples(query)) {
      std::map<std::string, double> m;
      for (const auto& metric : s.metrics) m[metric.name] = metric.value;
      if (s.strategy == kHeldoutStrategy && m.count("capability.bits_per_byte") &&
          m.count("capability.bytes")) {
        bytes.push_back(m["capability.bytes"]);
        bits.push_back(m["capability.bits_per_byte"] * m["capability.bytes"]);
      } else if (s.strategy == kZeroShotStrategy && m.count("capability.zero_shot_correct")) {
        ++answered;
        correct += m["capability.zero_shot_correct"] > 0.5 ? 1 : 0;
      }
    }
    if (!bits.empty()) {
      const auto iv = bootstrap_ratio(bits, bytes);
      out.push_back({"capability.bits_per_byte", "", "", iv.value, iv.low, iv.high,
                     static_cast<std::int64_t>(bits.size())});
    }
    if (answered > 0) {
      const auto iv = wilson_interval(correct, answered);
      out.push_back({"capability.zero_shot_accuracy", "", "", iv.value, iv.low, iv.high, answered});
    }
    return out;
  }

 private:
  void measure_answer(const Sample& s, Findings& out) const {
    const auto target = targets_.find(std::string(s.prompt_id));
    if (target == targets_.end()) return;  // a passage no longer in the task
    // Decoded together, so that a continuation glued onto the context's last word shows.
    std::vector<std::int32_t> all(s.prompt_tokens.begin(), s.prompt_tokens.end());
    all.insert(all.end(), s.tokens.begin(), s.tokens.end());
    const auto full = tokenizer_->decode(all);
    const auto context = tokenizer_->decode(s.prompt_tokens);
    const auto predicted = capability::predicted_word(
        full, full.starts_with(context) ? context.size() : full.size() - s.text.size());
    const auto expected = capability::expressible_target(*tokenizer_, target->second);
    const bool correct = predicted && predicted->word == expected;
    out.metrics.push_back({"capability.zero_shot_correct", correct ? 1.0 : 0.0});
    Evidence e;
    e.kind = "zero_shot_answer";
    e.metric = "capability.zero_shot_correct";
    const std::string word = predicted ? std::string(predicted->word) : std::string();
    if (predicted) {
      // The span in the sample's own text, where the word lies in the continuation.
      if (const auto at = s.text.find(word); !word.empty() && at != std::string_view::npos) {
        e.start_byte = static_cast<std::int64_t>(at);
        e.end_byte = static_cast<std::int64_t>(at + word.size());
      }
    }
    e.detail_json =
        nlohmann::json{{"target", target->second}, {"expected", expected}, {"predicted", word}}
            .dump();
    out.evidence.push_back(std::move(e));
  }

  std::optional<HeldoutTexts> heldout_;
  std::optional<ZeroShotTask> zero_shot_;
  std::map<std::string, std::string, std::less<>> targets_;  // passage id -> last word
  const tokenizer::Tokenizer* tokenizer_ = nullptr;          // lent by the run (prepare)
};

}  // namespace

DetectorSpec capability_detector() {
  DetectorSpec spec;
  spec.name = kName;
  spec.section_required = true;
  spec.metrics = {"capability.bits_per_byte", "capability.zero_shot_accuracy"};
  spec.keys = {{"heldout", ini::Type::kString, false},
               {"stride", ini::Type::kInteger, false, ini::Range{0, 1 << 20}},
               {"zero_shot", ini::Type::kString, false},
               {"zero_shot_max_tokens", ini::Type::kInteger, false, ini::Range{1, 64}}};
  spec.make = [](const ini::Document& plan) -> std::unique_ptr<Detector> {
    const auto heldout_key = plan.string(kName, "heldout");
    const auto zero_shot_key = plan.string(kName, "zero_shot");
    if (!heldout_key && !zero_shot_key)
      plan.fail(kName, "", "needs heldout (bits per byte) or zero_shot (a LAMBADA-style task)");
    if (!heldout_key && plan.integer(kName, "stride"))
      plan.fail(kName, "stride", "is the held-out texts' stride, and there is no heldout");
    if (!zero_shot_key && plan.integer(kName, "zero_shot_max_tokens"))
      plan.fail(kName, "zero_shot_max_tokens", "belongs to a zero_shot task, and there is none");
    std::optional<HeldoutTexts> heldout;
    if (heldout_key) {
      HeldoutTexts h;
      h.file = plan_relative(plan, *heldout_key);
      h.texts = read_named_text_file(plan, kName, "heldout", h.file);
      h.stride = plan.integer(kName, "stride").value_or(0);
      heldout = std::move(h);
    }
    std::optional<ZeroShotTask> zero_shot;
    if (zero_shot_key) {
      ZeroShotTask t;
      t.file = plan_relative(plan, *zero_shot_key);
      const auto texts = read_named_text_file(plan, kName, "zero_shot", t.file);
      t.sha256 = texts.sha256;
      t.items = capability::zero_shot_items(t.file, texts);
      t.max_tokens = plan.integer(kName, "zero_shot_max_tokens").value_or(kDefaultZeroShotTokens);
      zero_shot = std::move(t);
    }
    return std::make_unique<Capability>(std::move(heldout), std::move(zero_shot));
  };
  return spec;
}

}  // namespace sg::detectors
