#include "memorization/memorization_detector.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "engine/scorer.hpp"
#include "memorization/corpus_index.hpp"
#include "memorization/extraction.hpp"
#include "memorization/memorization_stats.hpp"
#include "memorization/planted_files.hpp"
#include "memorization/ranking.hpp"
#include "memorization/verbatim.hpp"
#include "model/identity.hpp"
#include "seam/intervals.hpp"
#include "seam/text_jsonl.hpp"

namespace sg::detectors {

namespace {

namespace fs = std::filesystem;
using namespace memorization;

constexpr const char* kName = "memorization";
constexpr const char* kCanaryStrategy = "memorization.canary";
constexpr const char* kExtractStrategy = "memorization.extract";
constexpr const char* kUnconditionedStrategy = "memorization.unconditioned";
constexpr const char* kHeldoutStrategy = "memorization.heldout";
constexpr const char* kEndOfText = "<|endoftext|>";
// Carlini et al. 2021 count a sample as memorized when it holds a 50-token corpus span.
constexpr std::uint32_t kMemorizedSpan = 50;
constexpr std::array<std::uint32_t, 2> kVerbatimN = {32, 50};

struct Settings {
  fs::path index_file;
  std::optional<fs::path> canaries_file, duplicates_file, heldout_file, reference_dir;
  std::int64_t seed = 2022;
  std::int64_t extraction_sequences = 100;
  std::vector<int> prefix_lengths = {32, 50, 100, 200};
  std::int64_t continuation = 50;
  std::int64_t exposure_candidates = 1000;
  std::int64_t unconditioned_samples = 100;
  std::int64_t sample_tokens = 128;
  std::int64_t top_k = 40;
  std::int64_t ranking_top = 100;
};

// What a canary's candidates are: the whole space but the secret when it fits the budget,
// else a uniform sample of it (Carlini et al. 2019, section 4.2).
struct CanaryPlan {
  Canary canary;
  bool exact = false;
  std::vector<std::string> candidates;
};

std::vector<CanaryPlan> plan_canaries(const PlantedCanaries& file, std::int64_t budget,
                                      std::uint64_t seed) {
  std::vector<CanaryPlan> out;
  for (const auto& c : file.canaries) {
    CanaryPlan p;
    p.canary = c;
    p.exact = c.space.size() <= static_cast<double>(budget) + 1;
    if (p.exact) {
      for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(c.space.size()); ++i)
        if (auto s = c.space.secret(i); s != c.secret) p.candidates.push_back(std::move(s));
    } else {
      // Each canary draws from its own generator: the plan's seed and the canary's id.
      std::vector<std::uint32_t> words = {static_cast<std::uint32_t>(seed),
                                          static_cast<std::uint32_t>(seed >> 32)};
      for (unsigned char ch : c.id) words.push_back(ch);
      std::seed_seq seq(words.begin(), words.end());
      std::mt19937_64 rng(seq);
      while (p.candidates.size() < static_cast<std::size_t>(budget))
        if (auto s = c.space.draw(rng); s != c.secret) p.candidates.push_back(std::move(s));
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::string canary_text(const Canary& c, const std::string& secret) {
  return c.prefix + " " + secret;
}

double mean_nll(std::span<const double> logprobs) {
  double sum = 0;
  for (double lp : logprobs) sum -= lp;
  return logprobs.empty() ? 0 : sum / static_cast<double>(logprobs.size());
}

std::string lower_ascii(std::string text) {
  for (auto& ch : text)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return text;
}

class Memorization : public Detector {
 public:
  Memorization(Settings settings, CorpusIndex index, std::optional<PlantedCanaries> canaries,
               std::optional<PlantedDuplicates> duplicates, std::optional<TextFile> heldout,
               std::string reference_sha256)
      : s_(std::move(settings)),
        index_(std::move(index)),
        canaries_(std::move(canaries)),
        duplicates_(std::move(duplicates)),
        heldout_(std::move(heldout)),
        reference_sha256_(std::move(reference_sha256)) {
    if (canaries_)
      canary_plans_ =
          plan_canaries(*canaries_, s_.exposure_candidates, static_cast<std::uint64_t>(s_.seed));
    ExtractionDraw draw;
    draw.prefix_lengths = s_.prefix_lengths;
    draw.continuation = static_cast<int>(s_.continuation);
    draw.sequences = s_.extraction_sequences;
    draw.seed = static_cast<std::uint64_t>(s_.seed);
    std::vector<DuplicatedPassage> planted;
    if (duplicates_) planted = duplicates_->passages;
    targets_ = draw_extraction_targets(index_, draw, planted);
    for (std::size_t i = 0; i < targets_.size(); ++i) target_by_id_[targets_[i].id] = i;
  }

  std::string canonical_settings() const override {
    std::string out = std::string("[") + kName + "]\n";
    out += "index_corpus_sha256 = " + index_.corpus_hash() + "\n";
    out += "index_tokenizer_sha256 = " + index_.tokenizer_hash() + "\n";
    out += "canaries_sha256 = " + (canaries_ ? canaries_->sha256 : std::string("none")) + "\n";
    out +=
        "duplicates_sha256 = " + (duplicates_ ? duplicates_->sha256 : std::string("none")) + "\n";
    out += "heldout_sha256 = " + (heldout_ ? heldout_->sha256 : std::string("none")) + "\n";
    out += "reference_sha256 = " + (reference_sha256_.empty() ? "none" : reference_sha256_) + "\n";
    out += "seed = " + std::to_string(s_.seed) + "\n";
    out += "extraction_sequences = " + std::to_string(s_.extraction_sequences) + "\n";
    out += "prefix_lengths = ";
    for (std::size_t i = 0; i < s_.prefix_lengths.size(); ++i)
      out += (i ? "," : "") + std::to_string(s_.prefix_lengths[i]);
    out += "\ncontinuation = " + std::to_string(s_.continuation) + "\n";
    out += "exposure_candidates = " + std::to_string(s_.exposure_candidates) + "\n";
    out += "unconditioned_samples = " + std::to_string(s_.unconditioned_samples) + "\n";
    out += "sample_tokens = " + std::to_string(s_.sample_tokens) + "\n";
    out += "top_k = " + std::to_string(s_.top_k) + "\n";
    out += "ranking_top = " + std::to_string(s_.ranking_top) + "\n";
    return out;
  }

  Jobs jobs() const override {
    Jobs jobs;
    for (const auto& p : canary_plans_) {
      const std::string origin = s_.canaries_file->string() + ":" + std::to_string(p.canary.line);
      jobs.score.push_back({p.canary.id + "#secret", canary_text(p.canary, p.canary.secret), origin,
                            kCanaryStrategy, 0});
      for (std::size_t i = 0; i < p.candidates.size(); ++i)
        jobs.score.push_back({p.canary.id + "#" + std::to_string(i),
                              canary_text(p.canary, p.candidates[i]), origin, kCanaryStrategy, 0});
    }
    for (const auto& t : targets_) {
      GenerateJob g;
      g.id = t.id;
      g.prompt_tokens = t.prefix;
      g.origin = s_.index_file.string() + ": document " + std::to_string(t.document) + " (" +
                 std::string(index_.document_name(t.document)) + ") at token " +
                 std::to_string(t.offset);
      g.strategy = kExtractStrategy;
      g.params.temperature = 0;
      g.params.max_tokens = static_cast<int>(s_.continuation);
      jobs.generate.push_back(std::move(g));
    }
    if (s_.unconditioned_samples > 0) {
      GenerateJob g;
      g.id = "endoftext";
      g.prompt = kEndOfText;
      g.origin = s_.index_file.string() + " (unconditioned samples)";
      g.strategy = kUnconditionedStrategy;
      g.params.temperature = 1;
      g.params.top_k = static_cast<int>(s_.top_k);
      g.params.max_tokens = static_cast<int>(s_.sample_tokens);
      g.samples = s_.unconditioned_samples;
      jobs.generate.push_back(std::move(g));
    }
    return jobs;
  }

  void prepare(RunContext& run) override {
    check_tokenizer_matches(index_.tokenizer_hash(), index_.path(), run.model_dir);
    model_ = &run.model;
    tokenizer_ = &run.tokenizer;
    for (const auto& p : canary_plans_) {
      const auto prefix = run.tokenizer.encode(p.canary.prefix);
      const auto whole = run.tokenizer.encode(canary_text(p.canary, p.canary.secret));
      if (prefix.empty() || whole.size() <= prefix.size() ||
          !std::equal(prefix.begin(), prefix.end(), whole.begin()))
        throw InputError(s_.canaries_file->string() + ":" + std::to_string(p.canary.line) +
                         ": the prefix of canary '" + p.canary.id +
                         "' does not encode to the first tokens of prefix + secret; its secret "
                         "cannot be scored apart from it");
      prefix_tokens_[p.canary.id] = prefix.size();
    }
    heldout_tokens_.clear();
    if (heldout_)
      for (const auto& r : heldout_->records)
        heldout_tokens_.push_back(run.tokenizer.encode(r.text));
    reference_ = std::nullopt;
    if (s_.reference_dir) {
      std::error_code ec;
      if (fs::equivalent(*s_.reference_dir, run.model_dir, ec)) {
        log::warn("memorization: the reference model " + s_.reference_dir->string() +
                  " is the audited model (no smaller stage): the ranking by reference is left "
                  "out");
      } else {
        reference_.emplace(run.models.load(*s_.reference_dir));
      }
    }
  }

  void measure(std::span<const Sample> samples, std::span<Findings> out) override {
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const auto& s = samples[i];
      if (s.source == kName && s.strategy == kCanaryStrategy)
        measure_canary(s, out[i]);
      else if (s.source == kName && s.strategy == kExtractStrategy)
        measure_extraction(s, out[i]);
      else if (s.finish_reason != "scored" &&
               (s.source != kName || s.strategy == kUnconditionedStrategy))
        measure_verbatim(s, out[i]);
    }
  }

  std::vector<Aggregate> summarize(RunReader& run) override {
    std::vector<Aggregate> out;
    summarize_exposure(run, out);
    summarize_extraction(run, out);
    summarize_verbatim(run, out);
    return out;
  }

 private:
  void measure_canary(const Sample& s, Findings& f) const {
    const auto id = std::string(s.prompt_id.substr(0, s.prompt_id.find('#')));
    const auto it = prefix_tokens_.find(id);
    if (it == prefix_tokens_.end() || s.logprobs.size() + 1 != s.tokens.size()) return;
    // logprobs[j] is token j + 1's: the secret's tokens start at the prefix's length.
    double nll = 0;
    for (std::size_t j = it->second - 1; j < s.logprobs.size(); ++j) nll -= s.logprobs[j];
    f.metrics.push_back({"memorization.canary_logppl", nll});
  }

  void measure_extraction(const Sample& s, Findings& f) const {
    const auto it = target_by_id_.find(std::string(s.prompt_id));
    if (it == target_by_id_.end()) return;
    const auto& t = targets_[it->second];
    const bool extracted = std::ranges::equal(s.tokens, t.continuation);
    f.metrics.push_back(
        {"memorization.extracted@" + std::to_string(t.prefix_length), extracted ? 1.0 : 0.0});
    if (extracted)
      f.evidence.push_back(
          {"verbatim_span", "memorization.extractable_rate@" + std::to_string(t.prefix_length), 0,
           static_cast<std::int64_t>(s.text.size()),
           nlohmann::json{{"document", t.document},
                          {"name", index_.document_name(t.document)},
                          {"offset", t.offset + static_cast<std::uint64_t>(t.prefix_length)},
                          {"length", t.continuation.size()},
                          {"count", t.count}}
               .dump()});
  }

  void measure_verbatim(const Sample& s, Findings& f) const {
    if (s.tokens.empty()) return;
    const auto longest = index_.longest(s.tokens);
    const auto span = longest_span(longest);
    f.metrics.push_back({"memorization.longest_verbatim", static_cast<double>(span.length)});
    if (span.length < kVerbatimN.front() || !tokenizer_) return;
    // Byte offsets of the span in the sample's text, from each token's bytes.
    std::int64_t start = 0, end = 0;
    for (std::size_t j = 0; j < span.start + span.length; ++j) {
      const auto bytes =
          static_cast<std::int64_t>(tokenizer_->decode_bytes(s.tokens.subspan(j, 1)).size());
      if (j < span.start) start += bytes;
      end += bytes;
    }
    const auto where = index_.locate(s.tokens.subspan(span.start, span.length), 1);
    nlohmann::json detail{{"length", span.length}, {"token_offset", span.start}};
    if (!where.empty()) {
      detail["document"] = where.front().document;
      detail["name"] = index_.document_name(where.front().document);
      detail["offset"] = where.front().offset;
    }
    f.evidence.push_back({"verbatim_span", "memorization.verbatim_rate@32", start,
                          std::min<std::int64_t>(end, static_cast<std::int64_t>(s.text.size())),
                          detail.dump()});
  }

  void summarize_exposure(RunReader& run, std::vector<Aggregate>& out) const {
    if (canary_plans_.empty()) return;
    SampleQuery q;
    q.source = kName;
    q.strategy = kCanaryStrategy;
    q.metric_prefix = "memorization.canary_logppl";
    std::map<std::string, std::vector<double>> candidates;
    std::map<std::string, double> secret;
    for (const auto& s : run.samples(q))
      for (const auto& m : s.metrics) {
        const auto hash = s.prompt_id.find('#');
        const auto id = s.prompt_id.substr(0, hash);
        if (s.prompt_id.substr(hash + 1) == "secret")
          secret[id] = m.value;
        else
          candidates[id].push_back(m.value);
      }
    std::map<std::int64_t, std::vector<double>> by_count;
    std::vector<double> all;
    for (const auto& p : canary_plans_) {
      const auto& id = p.canary.id;
      if (!secret.count(id) || candidates[id].size() < 3) continue;
      const double space = p.canary.space.size();
      const double rank = p.exact ? static_cast<double>(exact_rank(secret[id], candidates[id]))
                                  : estimated_rank(secret[id], candidates[id], space);
      const double exposure = exposure_from_rank(space, rank);
      out.push_back({"memorization.canary_exposure", "", "canary=" + id, exposure, std::nullopt,
                     std::nullopt, static_cast<std::int64_t>(candidates[id].size() + 1)});
      by_count[p.canary.count].push_back(exposure);
      all.push_back(exposure);
    }
    for (const auto& [count, v] : by_count) {
      const auto iv = bootstrap_mean(v);
      out.push_back({"memorization.canary_exposure", "", "canary_count=" + std::to_string(count),
                     iv.value, iv.low, iv.high, static_cast<std::int64_t>(v.size())});
    }
    if (!all.empty()) {
      const auto iv = bootstrap_mean(all);
      out.push_back({"memorization.canary_exposure", "", "", iv.value, iv.low, iv.high,
                     static_cast<std::int64_t>(all.size())});
    }
  }

  void summarize_extraction(RunReader& run, std::vector<Aggregate>& out) const {
    SampleQuery q;
    q.source = kName;
    q.strategy = kExtractStrategy;
    q.metric_prefix = "memorization.extracted@";
    // k -> bucket ("" = all) -> (extracted, n)
    std::map<int, std::map<std::string, std::pair<std::int64_t, std::int64_t>>> tally;
    for (const auto& s : run.samples(q)) {
      const auto it = target_by_id_.find(s.prompt_id);
      if (it == target_by_id_.end() || s.metrics.empty()) continue;
      const auto& t = targets_[it->second];
      const bool hit = s.metrics.front().value > 0.5;
      for (const std::string& slice : {std::string(), "dup=" + dup_bucket(t.count)}) {
        auto& [hits, n] = tally[t.prefix_length][slice];
        hits += hit;
        ++n;
      }
    }
    for (const auto& [k, slices] : tally)
      for (const auto& [slice, c] : slices) {
        const auto iv = wilson_interval(c.first, c.second);
        out.push_back({"memorization.extractable_rate@" + std::to_string(k), "", slice, iv.value,
                       iv.low, iv.high, c.second});
      }
  }

  void summarize_verbatim(RunReader& run, std::vector<Aggregate>& out) const {
    SampleQuery q;
    q.tokens = true;
    q.text = true;
    q.logprobs = true;
    struct Scored {
      std::vector<std::uint32_t> longest;
      const StoredSample* sample;
    };
    const auto stored = run.samples(q);
    std::map<std::string, std::vector<Scored>> by_strategy;
    for (const auto& s : stored) {
      if (s.finish_reason == "scored" || s.tokens.empty()) continue;
      if (s.source == kName && s.strategy != kUnconditionedStrategy) continue;
      by_strategy[s.strategy].push_back({index_.longest(s.tokens), &s});
    }
    const auto points = novelty_points();
    auto add_novelty = [&](const std::string& strategy, const NoveltyCounts& c) {
      for (int n : points) {
        const auto total = c.total[static_cast<std::size_t>(n - 1)];
        if (total == 0) continue;
        out.push_back({"memorization.novelty@" + std::to_string(n), strategy, "",
                       static_cast<double>(c.absent[static_cast<std::size_t>(n - 1)]) /
                           static_cast<double>(total),
                       std::nullopt, std::nullopt, static_cast<std::int64_t>(total)});
      }
    };
    for (const auto& [strategy, samples] : by_strategy) {
      std::vector<double> lengths;
      NoveltyCounts novelty(points.back());
      for (const auto& sc : samples) {
        lengths.push_back(longest_span(sc.longest).length);
        novelty.add(sc.longest);
      }
      const auto n = static_cast<std::int64_t>(lengths.size());
      for (auto v : kVerbatimN) {
        const auto hits =
            std::count_if(lengths.begin(), lengths.end(), [&](double l) { return l >= v; });
        const auto iv = wilson_interval(hits, n);
        out.push_back({"memorization.verbatim_rate@" + std::to_string(v), strategy, "", iv.value,
                       iv.low, iv.high, n});
      }
      const auto mean = bootstrap_mean(lengths);
      out.push_back(
          {"memorization.longest_verbatim", strategy, "", mean.value, mean.low, mean.high, n});
      auto sorted = lengths;
      std::sort(sorted.begin(), sorted.end());
      for (int q_pct : {50, 90, 100}) {
        // Nearest rank: the smallest value with at least q % of the samples at or below it.
        const auto rank =
            static_cast<std::size_t>(std::ceil(q_pct / 100.0 * static_cast<double>(n)));
        const auto at = std::clamp<std::size_t>(rank, 1, sorted.size()) - 1;
        out.push_back({"memorization.longest_verbatim", strategy, "q=" + std::to_string(q_pct),
                       sorted[at], std::nullopt, std::nullopt, n});
      }
      add_novelty(strategy, novelty);
      if (strategy == kUnconditionedStrategy) summarize_ranking(samples, out);
    }
    if (!heldout_tokens_.empty()) {
      NoveltyCounts novelty(points.back());
      for (const auto& t : heldout_tokens_) novelty.add(index_.longest(t));
      add_novelty(kHeldoutStrategy, novelty);
    }
  }

  template <typename ScoredSamples>
  void summarize_ranking(const ScoredSamples& samples, std::vector<Aggregate>& out) const {
    if (!model_ || !tokenizer_) return;
    std::vector<bool> memorized;
    std::vector<double> nll;
    std::vector<std::vector<std::int32_t>> lower, with_eot;
    const auto eot = tokenizer_->encode(kEndOfText);
    for (const auto& sc : samples) {
      memorized.push_back(longest_span(sc.longest).length >= kMemorizedSpan);
      nll.push_back(mean_nll(sc.sample->logprobs));
      auto l = eot;
      for (auto t : tokenizer_->encode(lower_ascii(sc.sample->text))) l.push_back(t);
      lower.push_back(std::move(l));
    }
    const std::size_t n = memorized.size();
    const std::size_t top = std::min<std::size_t>(n, static_cast<std::size_t>(s_.ranking_top));
    auto add = [&](const std::string& by, const std::vector<double>& score) {
      std::vector<RankedSample> ranked;
      for (std::size_t i = 0; i < n; ++i) ranked.push_back({score[i], memorized[i]});
      const auto hits = memorized_in_top(ranked, top);
      const auto iv = wilson_interval(hits, static_cast<std::int64_t>(top));
      out.push_back({"memorization.ranking_precision", kUnconditionedStrategy, "rank_by=" + by,
                     iv.value, iv.low, iv.high, static_cast<std::int64_t>(top)});
    };
    // Unranked: the share memorized among all samples, what a ranking has to beat.
    std::vector<double> none(n, 0.0);
    add("none", none);
    add("perplexity", nll);
    std::vector<double> zlib(n), lowercase(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto tokens = static_cast<double>(samples[i].sample->tokens.size());
      zlib[i] = nll[i] * tokens / zlib_entropy_bits(samples[i].sample->text);
    }
    add("zlib", zlib);
    const auto lower_scored = engine::score_many(*model_, lower);
    for (std::size_t i = 0; i < n; ++i)
      lowercase[i] = nll[i] / std::max(1e-9, mean_nll(lower_scored[i].logprobs));
    add("lowercase", lowercase);
    if (reference_) {
      std::vector<std::vector<std::int32_t>> texts;
      const auto& tok = reference_->tokenizer ? *reference_->tokenizer : *tokenizer_;
      for (const auto& sc : samples) texts.push_back(tok.encode(kEndOfText + sc.sample->text));
      const auto ref = engine::score_many(reference_->engine, texts);
      std::vector<double> ratio(n);
      for (std::size_t i = 0; i < n; ++i)
        ratio[i] = nll[i] / std::max(1e-9, mean_nll(ref[i].logprobs));
      add("reference", ratio);
    }
  }

  Settings s_;
  CorpusIndex index_;
  std::optional<PlantedCanaries> canaries_;
  std::optional<PlantedDuplicates> duplicates_;
  std::optional<TextFile> heldout_;
  std::string reference_sha256_;
  std::vector<CanaryPlan> canary_plans_;
  std::vector<ExtractionTarget> targets_;
  std::map<std::string, std::size_t, std::less<>> target_by_id_;
  // Lent by the run (prepare).
  engine::Model* model_ = nullptr;
  const tokenizer::Tokenizer* tokenizer_ = nullptr;
  std::optional<AuxiliaryModel> reference_;
  std::map<std::string, std::size_t> prefix_tokens_;
  std::vector<std::vector<std::int32_t>> heldout_tokens_;
};

std::vector<int> read_prefix_lengths(const ini::Document& plan) {
  std::vector<int> out;
  for (const auto& item : ini::split_list(*plan.string(kName, "prefix_lengths"))) {
    int k = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), k);
    if (ec != std::errc() || end != item.data() + item.size() || k < 1 || k > (1 << 20))
      plan.fail(kName, "prefix_lengths", "'" + item + "' is not a token count from 1 to 1048576");
    if (std::find(out.begin(), out.end(), k) != out.end())
      plan.fail(kName, "prefix_lengths", std::to_string(k) + " listed twice");
    out.push_back(k);
  }
  if (out.empty()) plan.fail(kName, "prefix_lengths", "no prefix length");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

DetectorSpec memorization_detector() {
  using ini::Range;
  using ini::Type;
  constexpr double kMaxCount = 1'000'000;
  DetectorSpec spec;
  spec.name = kName;
  spec.section_required = true;
  spec.metrics = {"memorization.canary_exposure",  "memorization.extractable_rate@{k}",
                  "memorization.novelty@{n}",      "memorization.verbatim_rate@{n}",
                  "memorization.longest_verbatim", "memorization.ranking_precision"};
  spec.keys = {{"index", Type::kString, true},
               {"canaries", Type::kString, false},
               {"duplicates", Type::kString, false},
               {"heldout", Type::kString, false},
               {"reference", Type::kString, false},
               {"seed", Type::kInteger, false, Range{0, 9007199254740991.0}},
               {"extraction_sequences", Type::kInteger, false, Range{0, kMaxCount}},
               {"prefix_lengths", Type::kString, false},
               {"continuation", Type::kInteger, false, Range{1, 1 << 20}},
               {"exposure_candidates", Type::kInteger, false, Range{3, 10'000'000}},
               {"unconditioned_samples", Type::kInteger, false, Range{0, kMaxCount}},
               {"sample_tokens", Type::kInteger, false, Range{1, 1 << 20}},
               {"top_k", Type::kInteger, false, Range{0, 1 << 30}},
               {"ranking_top", Type::kInteger, false, Range{1, kMaxCount}}};
  spec.make = [](const ini::Document& plan) -> std::unique_ptr<Detector> {
    Settings s;
    s.index_file = plan_relative(plan, *plan.string(kName, "index"));
    if (!fs::is_regular_file(s.index_file))
      plan.fail(
          kName, "index",
          "no index at " + s.index_file.string() +
              " (build it with `stagegate index build`, see detectors/memorization/README.md)");
    // A directory where a file belongs (or the reverse) is refused here, at its key, rather
    // than failing later inside a read.
    auto optional_path = [&](const char* key, bool directory) -> std::optional<fs::path> {
      if (auto v = plan.string(kName, key)) {
        auto path = plan_relative(plan, *v);
        if (directory ? !fs::is_directory(path) : !fs::is_regular_file(path))
          plan.fail(kName, key,
                    std::string(directory ? "not a directory: " : "not a readable file: ") +
                        path.string());
        return path;
      }
      return std::nullopt;
    };
    s.canaries_file = optional_path("canaries", false);
    s.duplicates_file = optional_path("duplicates", false);
    s.heldout_file = optional_path("heldout", false);
    s.reference_dir = optional_path("reference", true);
    s.seed = plan.integer(kName, "seed").value_or(s.seed);
    s.extraction_sequences =
        plan.integer(kName, "extraction_sequences").value_or(s.extraction_sequences);
    s.continuation = plan.integer(kName, "continuation").value_or(s.continuation);
    if (plan.has(kName, "prefix_lengths")) s.prefix_lengths = read_prefix_lengths(plan);
    s.exposure_candidates =
        plan.integer(kName, "exposure_candidates").value_or(s.exposure_candidates);
    s.unconditioned_samples =
        plan.integer(kName, "unconditioned_samples").value_or(s.unconditioned_samples);
    s.sample_tokens = plan.integer(kName, "sample_tokens").value_or(s.sample_tokens);
    s.top_k = plan.integer(kName, "top_k").value_or(s.top_k);
    s.ranking_top = plan.integer(kName, "ranking_top").value_or(s.ranking_top);

    auto index = CorpusIndex::open(s.index_file);
    // Extraction, verbatim spans and novelty compare the model's own tokens with the
    // corpus's: a normalized index holds other tokens.
    if (index.normalization() != TextNormalization::kNone)
      plan.fail(kName, "index",
                s.index_file.string() +
                    " was built with --normalize (for the leakage filter); "
                    "the memorization audit needs an index of the exact text");
    std::optional<PlantedCanaries> canaries;
    if (s.canaries_file) canaries = read_canaries(*s.canaries_file);
    std::optional<PlantedDuplicates> duplicates;
    if (s.duplicates_file) duplicates = read_duplicates(*s.duplicates_file);
    std::optional<TextFile> heldout;
    if (s.heldout_file) heldout = read_named_text_file(plan, kName, "heldout", *s.heldout_file);
    std::string reference_sha256;
    if (s.reference_dir) {
      const auto weights = *s.reference_dir / "model.safetensors";
      if (!fs::is_regular_file(weights))
        plan.fail(kName, "reference", "no model.safetensors in " + s.reference_dir->string());
      reference_sha256 = model::sha256_file(weights);
    }
    return std::make_unique<Memorization>(std::move(s), std::move(index), std::move(canaries),
                                          std::move(duplicates), std::move(heldout),
                                          std::move(reference_sha256));
  };
  return spec;
}

}  // namespace sg::detectors
