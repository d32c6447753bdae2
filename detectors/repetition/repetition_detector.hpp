// Repetition and degeneration (issue 13; Holtzman et al. 2020, Welleck et al. 2020, Xu et
// al. 2022): per sample of the plan's strategies, and of the human continuation of each
// prompt, how much the text repeats itself and whether it ends in a loop; per strategy, the
// means and distinct-n; per stage, the self-reinforcement curve.
//
//   [repetition]                # every key optional
//   human = corpus.jsonl.zst    # documents {"id","text"}: the plan prompts' own, each
//                               #   beginning with its prompt; what follows is the human text
//   human_tokens = 128          # its length in tokens; default: the strategies' largest
//                               #   max_tokens (the samples it is compared with)
//   reinforcement = sentences.jsonl  # {"id","text"}: one sentence each
//   reinforcement_repeats = 10  # copies of each sentence in its context
//
// Per-sample metrics (plan samples and the human strategy `repetition.human`):
// `repetition.seq_rep_2|3|4`, `repetition.rep_16|32|128`, `repetition.zlib_ratio` (none for
// an empty text), `repetition.loop_period` and `repetition.loop_start` (only when the
// sample ends in a loop; evidence kind `loop`), `repetition.loop_fraction`.
// Aggregates per strategy: the mean of each of those (loop_period and loop_start over the
// looping samples: loop_start's mean is the mean loop onset), `repetition.loop_share`
// (share of samples ending in a loop), `repetition.distinct_1|2|3`; per stage
// `repetition.self_reinforcement`, slices `rep=1` ... `rep=R`.
#pragma once

#include "seam/registry.hpp"

namespace sg::detectors {

DetectorSpec repetition_detector();

}  // namespace sg::detectors
