// The seed's claims about staged GPT releases, each held against the stages' figures: larger
// stages predict text better and do better zero-shot but memorize more; greedy decoding
// loops; toxicity comes from unfiltered training data and filters reduce it; GPT-2's
// architecture against GPT-1's. Each gets a verdict from the 95 % intervals, not from the
// point estimates alone.
#pragma once

#include <string>
#include <vector>

#include "report/report_data.hpp"

namespace sg::report {

struct ClaimFigure {
  std::string label;  // a stage, or "stage4, greedy"
  ComparedValue value;
};

struct Claim {
  std::string claim;    // the claim, in words
  std::string measure;  // the metric (strategy, slice) it is judged on
  std::vector<ClaimFigure> figures;
  // "supported" (the expected direction and the intervals separate), "not supported by the
  // intervals" (the expected direction, overlapping intervals), "contradicted" (the other
  // direction, separated), "not supported" (the other direction, overlapping), "not measured".
  std::string verdict;
  std::string why;  // the comparison behind the verdict, in words
};

std::vector<Claim> seed_claims(const ReportData& data);

}  // namespace sg::report
