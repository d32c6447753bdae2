// Perplexity: of held-out texts the plan names (how well the model predicts text it was not
// trained on; the first figure of any audit), and of every generated sample under the
// model itself.
//
//   [perplexity]
//   heldout = heldout.jsonl   # {"id", "text"} per line, relative to the plan
//   stride = 0                # sliding-window stride for long texts; 0: half the context
//
// Metrics: per held-out text and over all of them `perplexity.heldout` (corpus perplexity,
// texts resampled whole for the interval); per generated sample and per strategy
// `perplexity.sample`.
#pragma once

#include "seam/registry.hpp"

namespace sg::detectors {

DetectorSpec perplexity_detector();

}  // namespace sg::detectors
