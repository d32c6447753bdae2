#include "report/claims.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "report/number_format.hpp"

namespace sg::report {

namespace {

std::string with_interval(const ComparedValue& v) {
  return figure_with_interval(v.value, v.ci_low, v.ci_high);
}

// The row of one figure. Where a stage has it from two plans (an audit with output filters
// beside one without), the row of the plan most stages have it from.
const ComparedRow* find_row(const Comparison& c, const std::string& metric,
                            const std::string& strategy, const std::string& slice) {
  const ComparedRow* best = nullptr;
  for (const auto& r : c.rows)
    if (r.metric == metric && r.strategy == strategy && r.slice == slice &&
        (!best || r.present() > best->present()))
      best = &r;
  return best;
}

struct Judged {
  std::string verdict;
  std::string why;
};

// Whether `b` lies beyond `a` in the expected direction, as the intervals say.
Judged judge(const ClaimFigure& a, const ClaimFigure& b, bool expect_higher) {
  const bool direction =
      expect_higher ? b.value.value > a.value.value : b.value.value < a.value.value;
  const bool intervals = a.value.ci_low && a.value.ci_high && b.value.ci_low && b.value.ci_high;
  const bool separated =
      intervals && (*b.value.ci_low > *a.value.ci_high || *b.value.ci_high < *a.value.ci_low);
  const std::string cmp =
      b.label + " " + with_interval(b.value) + " against " + a.label + " " + with_interval(a.value);
  if (direction && separated) return {"supported", cmp + ": the intervals separate"};
  if (direction)
    return {"not supported by the intervals", cmp + ": the direction holds but the intervals " +
                                                  (intervals ? "overlap" : "are missing") +
                                                  ", so the data cannot tell them apart"};
  if (separated) return {"contradicted", cmp + ": the other way round, and the intervals separate"};
  return {"not supported", cmp + ": the point estimates go the other way (the intervals overlap)"};
}

class ClaimBuilder {
 public:
  explicit ClaimBuilder(const ReportData& data) : data_(data) {
    // The family: the architecture most stages share, smallest first.
    std::map<std::string, int> count;
    for (const auto& s : data.stages) ++count[s.architecture];
    for (const auto& [arch, n] : count)
      if (family_arch_.empty() || n > count[family_arch_]) family_arch_ = arch;
    for (std::size_t i = 0; i < data.stages.size(); ++i)
      (data.stages[i].architecture == family_arch_ ? family_ : others_).push_back(i);
  }

  // Smallest against largest family stage; every family stage's figure listed.
  Claim across_sizes(std::string claim, const std::string& metric, const std::string& strategy,
                     bool expect_higher) const {
    Claim c{std::move(claim), label(metric, strategy, ""), {}, "not measured", ""};
    const auto* row = find_row(data_.figures, metric, strategy, "");
    if (family_.size() < 2) {
      c.why = "fewer than two stages of one architecture in the database";
      return c;
    }
    if (!row) {
      c.why = "no stage has this figure";
      return c;
    }
    for (auto i : family_)
      if (row->values[i]) c.figures.push_back({data_.stages[i].stage, *row->values[i]});
    const auto& first = row->values[family_.front()];
    const auto& last = row->values[family_.back()];
    if (!first || !last) {
      c.why = "the smallest or the largest stage lacks this figure";
      return c;
    }
    const auto j = judge({data_.stages[family_.front()].stage, *first},
                         {data_.stages[family_.back()].stage, *last}, expect_higher);
    c.verdict = j.verdict;
    c.why = j.why + monotone_note(c.figures, expect_higher);
    return c;
  }

  // Two strategies of the largest family stage.
  Claim across_strategies(std::string claim, const std::string& metric, const std::string& a,
                          const std::string& b, bool expect_higher) const {
    Claim c{std::move(claim), label(metric, b + " vs " + a, ""), {}, "not measured", ""};
    if (family_.empty()) return c;
    const auto col = family_.back();
    const auto& stage = data_.stages[col].stage;
    const auto* ra = find_row(data_.figures, metric, a, "");
    const auto* rb = find_row(data_.figures, metric, b, "");
    if (!ra || !rb || !ra->values[col] || !rb->values[col]) {
      c.why = stage + " lacks this figure for " + a + " or " + b;
      return c;
    }
    c.figures = {{stage + ", " + a, *ra->values[col]}, {stage + ", " + b, *rb->values[col]}};
    const auto j = judge(c.figures[0], c.figures[1], expect_higher);
    c.verdict = j.verdict;
    c.why = j.why;
    return c;
  }

  // The largest family stage's toxicity sampled as the protocol says (`toxicity.rtp`) against
  // the same prompts under a plan strategy (`toxicity.NAME`, e.g. with output filters on), in
  // the run that has both.
  Claim filters(std::string claim, const std::string& metric) const {
    Claim c{std::move(claim),
            metric + ", toxicity.rtp vs toxicity.<plan strategy>",
            {},
            "not measured",
            ""};
    if (family_.empty()) return c;
    const auto col = family_.back();
    const auto& stage = data_.stages[col].stage;
    const ComparedRow* on = nullptr;
    for (const auto& r : data_.figures.rows)
      if (r.metric == metric && r.slice.empty() && r.strategy.starts_with("toxicity.") &&
          r.strategy != "toxicity.rtp" && r.values[col]) {
        on = &r;
        break;
      }
    const ComparedRow* off = nullptr;
    for (const auto& r : data_.figures.rows)
      if (on && r.metric == metric && r.slice.empty() && r.strategy == "toxicity.rtp" &&
          r.values[col] && r.values[col]->run_id == on->values[col]->run_id)
        off = &r;
    if (!on || !off) {
      c.why = stage +
              " has no audit of the toxicity prompts under a plan strategy (with output "
              "filters on)";
      return c;
    }
    c.figures = {{stage + ", toxicity.rtp (filters off)", *off->values[col]},
                 {stage + ", " + on->strategy, *on->values[col]}};
    const auto j = judge(c.figures[0], c.figures[1], false);
    c.verdict = j.verdict;
    c.why = j.why;
    return c;
  }

  // A stage of another architecture against the family stage nearest it in size.
  std::vector<Claim> across_architectures(const std::string& metric,
                                          bool expect_family_lower) const {
    std::vector<Claim> out;
    const auto* row = find_row(data_.figures, metric, "", "");
    for (auto o : others_) {
      const auto& other = data_.stages[o];
      Claim c{family_arch_ + "'s architecture beats " + other.architecture +
                  "'s at the same size and data (" + other.stage + ")",
              label(metric, "", ""),
              {},
              "not measured",
              ""};
      if (family_.empty() || !row || !row->values[o]) {
        c.why = "no " + family_arch_ + " stage or no figure to compare";
        out.push_back(std::move(c));
        continue;
      }
      auto nearest = family_.front();
      for (auto f : family_)
        if (std::llabs(data_.stages[f].parameters - other.parameters) <
            std::llabs(data_.stages[nearest].parameters - other.parameters))
          nearest = f;
      if (!row->values[nearest]) {
        c.why = data_.stages[nearest].stage + " lacks this figure";
        out.push_back(std::move(c));
        continue;
      }
      c.figures = {{other.stage + " (" + parameter_count(other.parameters) + ")", *row->values[o]},
                   {data_.stages[nearest].stage + " (" +
                        parameter_count(data_.stages[nearest].parameters) + ")",
                    *row->values[nearest]}};
      const auto j = judge(c.figures[0], c.figures[1], !expect_family_lower);
      c.verdict = j.verdict;
      c.why = j.why + " (the nearest " + family_arch_ + " stage in size)";
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  static std::string label(const std::string& metric, const std::string& strategy,
                           const std::string& slice) {
    std::string s = metric;
    if (!strategy.empty()) s += ", " + strategy;
    if (!slice.empty()) s += ", " + slice;
    return s;
  }

  static std::string monotone_note(const std::vector<ClaimFigure>& f, bool higher) {
    for (std::size_t i = 1; i < f.size(); ++i)
      if (higher ? f[i].value.value < f[i - 1].value.value
                 : f[i].value.value > f[i - 1].value.value)
        return "; the point estimates are not monotone in size (" + f[i - 1].label + " to " +
               f[i].label + ")";
    return f.size() > 2 ? "; the point estimates move the same way at every step" : "";
  }

  const ReportData& data_;
  std::string family_arch_;
  std::vector<std::size_t> family_, others_;  // column indexes, smallest first
};

}  // namespace

std::vector<Claim> seed_claims(const ReportData& data) {
  const ClaimBuilder b(data);
  std::vector<Claim> out;
  out.push_back(b.across_sizes("Larger stages predict held-out text better (lower perplexity)",
                               "perplexity.heldout", "", false));
  out.push_back(b.across_sizes("Larger stages predict held-out text better (fewer bits per byte)",
                               "capability.bits_per_byte", "", false));
  out.push_back(b.across_sizes("Larger stages do better zero-shot (LAMBADA-style last word)",
                               "capability.zero_shot_accuracy", "", true));
  out.push_back(b.across_sizes("Larger stages memorize more (extractable training sequences)",
                               "memorization.extractable_rate@50", "", true));
  out.push_back(b.across_sizes("Larger stages memorize more (exposure of planted canaries)",
                               "memorization.canary_exposure", "", true));
  out.push_back(b.across_strategies("Greedy decoding falls into loops more than human text does",
                                    "repetition.loop_share", "repetition.human", "greedy", true));
  out.push_back(b.across_strategies("Greedy decoding repeats itself more than top-p sampling",
                                    "repetition.seq_rep_4", "top_p", "greedy", true));
  out.push_back(b.across_sizes(
      "Toxicity is inherited from unfiltered training data (the largest stage, trained on more "
      "web-like text, continues prompts more toxically than the smallest)",
      "toxicity.expected_max", "toxicity.rtp", true));
  out.push_back(b.filters("The policy's output filters lower the largest stage's toxicity",
                          "toxicity.expected_max"));
  for (auto& c : b.across_architectures("capability.bits_per_byte", true))
    out.push_back(std::move(c));
  return out;
}

}  // namespace sg::report
