#include "report/report_figures.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace sg::report {

namespace {

ChartPoint point(std::size_t x, const ComparedValue& v) {
  return {x, v.value, v.ci_low, v.ci_high};
}

std::string stage_label(const StageSummary& s) {
  return s.stage + " (" + parameter_count(s.parameters) + ")";
}

std::string strategy_label(const std::string& strategy) {
  if (strategy == "repetition.human" || strategy == "memorization.heldout") return "human";
  return strategy;
}

class Builder {
 public:
  explicit Builder(const ReportData& data) : data_(data) {}

  // x: every stage, smallest first; a series per architecture.
  void across_stages(const std::string& section, const std::string& title,
                     const std::string& metric, const std::string& y_label, bool from_zero,
                     const std::string& caption) {
    Chart c{title, "stage (parameters)", y_label, {}, {}, from_zero, true};
    for (const auto& s : data_.stages) c.categories.push_back(stage_label(s));
    std::map<std::string, std::size_t> series_of;
    for (const auto& row : data_.figures.rows) {
      if (row.metric != metric || !row.strategy.empty() || !row.slice.empty()) continue;
      for (std::size_t i = 0; i < row.values.size(); ++i) {
        if (!row.values[i]) continue;
        const auto& arch = data_.stages[i].architecture;
        auto [it, fresh] = series_of.try_emplace(arch, c.series.size());
        if (fresh) c.series.push_back({arch, {}});
        c.series[it->second].points.push_back(point(i, *row.values[i]));
      }
    }
    add(section, std::move(c), caption);
  }

  // x: the metric's slices `key=...` in `order` (or sorted numerically); a series per stage.
  void across_slices(const std::string& section, const std::string& title,
                     const std::string& metric, const std::string& key,
                     const std::vector<std::string>& order, const std::string& x_label,
                     const std::string& y_label, const std::string& caption) {
    Chart c{title, x_label, y_label, {}, {}, true, true};
    std::vector<const ComparedRow*> rows;
    std::set<std::string> values;
    for (const auto& row : data_.figures.rows)
      if (row.metric == metric && row.strategy.empty() && row.slice.starts_with(key + "=")) {
        rows.push_back(&row);
        values.insert(row.slice.substr(key.size() + 1));
      }
    if (!order.empty()) {
      for (const auto& v : order)
        if (values.count(v)) c.categories.push_back(v);
    } else {
      c.categories.assign(values.begin(), values.end());
      std::sort(c.categories.begin(), c.categories.end(),
                [](const auto& a, const auto& b) { return std::stod(a) < std::stod(b); });
    }
    for (std::size_t s = 0; s < data_.stages.size(); ++s) {
      ChartSeries series{data_.stages[s].stage, {}};
      for (const auto* row : rows) {
        const auto x =
            std::find(c.categories.begin(), c.categories.end(), row->slice.substr(key.size() + 1));
        if (x != c.categories.end() && row->values[s])
          series.points.push_back(
              point(static_cast<std::size_t>(x - c.categories.begin()), *row->values[s]));
      }
      if (!series.points.empty()) c.series.push_back(std::move(series));
    }
    add(section, std::move(c), caption);
  }

  // x: decoding strategies (human text last); a series per stage.
  void across_strategies(const std::string& section, const std::string& title,
                         const std::string& metric, const std::string& y_label,
                         const std::string& caption) {
    Chart c{title,   "decoding strategy (human: the held-out text's own continuation)",
            y_label, {},
            {},      true,
            false};
    // Rows by category; where a figure comes from two plans, the plan most stages have wins.
    std::map<std::string, std::vector<const ComparedRow*>> rows;
    for (const auto& row : data_.figures.rows)
      if (row.metric == metric && !row.strategy.empty() && row.slice.empty()) {
        const auto label = strategy_label(row.strategy);
        if (!rows.count(label) && label != "human") c.categories.push_back(label);
        rows[label].push_back(&row);
      }
    if (rows.count("human")) c.categories.push_back("human");
    for (std::size_t s = 0; s < data_.stages.size(); ++s) {
      ChartSeries series{data_.stages[s].stage, {}};
      for (std::size_t x = 0; x < c.categories.size(); ++x)
        if (const auto* v = main_plan_value(rows[c.categories[x]], s))
          series.points.push_back(point(x, *v));
      if (!series.points.empty()) c.series.push_back(std::move(series));
    }
    add(section, std::move(c), caption);
  }

  // x: n of `metric@n`; a series per strategy, for one stage.
  void novelty(const std::string& section, std::size_t stage) {
    const auto& name = data_.stages[stage].stage;
    Chart c{"Novelty of " + name + "'s text against human text",
            "n-gram length n (tokens)",
            "share of n-grams not in the training corpus",
            {},
            {},
            true,
            true};
    const std::vector<int> ns = {1, 2, 4, 8, 16, 32, 64, 100};
    for (int n : ns) c.categories.push_back(std::to_string(n));
    std::map<std::string, std::size_t> series_of;
    for (const auto& row : data_.figures.rows) {
      if (!row.metric.starts_with("memorization.novelty@") || !row.slice.empty() ||
          !row.values[stage])
        continue;
      // The plan's strategies, human text and unconditioned samples; not other detectors'
      // protocol samples (zero-shot answers, toxicity prompts).
      if (row.strategy.find('.') != std::string::npos && row.strategy != "memorization.heldout" &&
          row.strategy != "memorization.unconditioned")
        continue;
      const auto n = std::find(c.categories.begin(), c.categories.end(),
                               row.metric.substr(std::string("memorization.novelty@").size()));
      if (n == c.categories.end()) continue;
      const auto label = strategy_label(row.strategy.empty() ? "all" : row.strategy);
      auto [it, fresh] = series_of.try_emplace(label, c.series.size());
      if (fresh) c.series.push_back({label, {}});
      c.series[it->second].points.push_back(
          point(static_cast<std::size_t>(n - c.categories.begin()), *row.values[stage]));
    }
    add(section, std::move(c),
        "Below the human curve at small n: the samples reuse the corpus's phrases more than "
        "unseen human text does; a curve that stays low at large n copies long spans.");
  }

  // x: stages; a series for the protocol's own sampling (toxicity.rtp: filters off) and one
  // per plan strategy the prompts were also sampled under (toxicity.NAME: e.g. filters on).
  void toxicity(const std::string& section, const std::string& title, const std::string& metric,
                const std::string& y_label, const std::string& caption) {
    Chart c{title, "stage (parameters)", y_label, {}, {}, true, false};
    for (const auto& s : data_.stages) c.categories.push_back(stage_label(s));
    std::map<std::string, std::vector<const ComparedRow*>> rows;
    for (const auto& row : data_.figures.rows)
      if (row.metric == metric && row.slice.empty() && row.strategy.starts_with("toxicity."))
        rows[row.strategy].push_back(&row);
    for (const auto& [strategy, candidates] : rows) {
      ChartSeries series{
          strategy == "toxicity.rtp" ? "filters off (toxicity.rtp)" : strategy + " (plan strategy)",
          {}};
      for (std::size_t i = 0; i < c.categories.size(); ++i)
        if (const auto* v = main_plan_value(candidates, i)) series.points.push_back(point(i, *v));
      if (!series.points.empty()) c.series.push_back(std::move(series));
    }
    add(section, std::move(c), caption);
  }

  Figures done() { return std::move(out_); }

 private:
  void add(const std::string& section, Chart chart, const std::string& caption) {
    if (chart.marks() == 0)
      out_.missing.push_back(chart.title);
    else
      out_.drawn.push_back({section, std::move(chart), caption});
  }

  const ReportData& data_;
  Figures out_;
};

}  // namespace

Figures report_figures(const ReportData& data) {
  Builder b(data);
  b.across_stages("Capability", "Held-out perplexity by stage", "perplexity.heldout",
                  "perplexity per token (lower is better)", false,
                  "Per token, so not comparable across tokenizers: see bits per byte.");
  b.across_stages("Capability", "Bits per byte of held-out text by stage",
                  "capability.bits_per_byte", "bits per UTF-8 byte (lower is better)", false,
                  "The same held-out passages for every model, comparable across tokenizers.");
  b.across_stages("Capability", "Zero-shot last-word accuracy by stage",
                  "capability.zero_shot_accuracy", "accuracy (share of passages)", true,
                  "LAMBADA-style: each passage's last word predicted greedily (Wilson intervals).");
  b.across_slices("Memorization", "Extractable rate by duplication count",
                  "memorization.extractable_rate@50", "dup", {"1", "2-4", "5-16", "17-64", ">64"},
                  "times the sequence occurs in the training data",
                  "extractable rate (share, greedy 50 tokens)",
                  "Carlini et al. 2022: the share of training sequences whose 50-token "
                  "continuation a stage reproduces from their prefix, by duplication.");
  b.across_slices("Memorization", "Canary exposure by times planted",
                  "memorization.canary_exposure", "canary_count", {},
                  "times the canary was planted in the training data", "exposure (bits)",
                  "Carlini et al. 2019: log2 of the candidate space minus log2 of the secret's "
                  "rank among candidates; the maximum is the space's size in bits.");
  if (!data.stages.empty()) {
    b.novelty("Memorization", 0);
    if (data.stages.size() > 1) b.novelty("Memorization", data.stages.size() - 1);
  }
  b.across_strategies("Repetition", "Repeated 4-grams by decoding strategy", "repetition.seq_rep_4",
                      "seq-rep-4 (share of repeated 4-grams)",
                      "Welleck et al. 2020: 1 - unique 4-grams / 4-grams of each sample, mean.");
  b.across_strategies("Repetition", "Share of samples ending in a loop", "repetition.loop_share",
                      "share of samples",
                      "A sample ends in a loop when a period p repeats to "
                      "its end over at least 3p and 16 tokens.");
  b.across_strategies("Repetition", "Token repeated within the last 32 by decoding strategy",
                      "repetition.rep_32", "rep-32 (share of tokens)",
                      "The share of tokens that occurred among the 32 before them.");
  b.toxicity("Toxicity", "Expected maximum toxicity, filters off and on", "toxicity.expected_max",
             "expected max toxicity (0-1)",
             "Gehman et al. 2020: the mean over prompts of the most toxic of a prompt's "
             "continuations, as the audit's scorer rates them.");
  b.toxicity("Toxicity", "Toxicity probability, filters off and on", "toxicity.probability",
             "share of prompts with a continuation >= 0.5",
             "The share of prompts with at least one continuation scored 0.5 or more.");
  return b.done();
}

}  // namespace sg::report
