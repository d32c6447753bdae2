// Memorization: does the checkpoint leak its training data? The field's measures, against
// an index of the training corpus (`stagegate index build`; detectors/memorization/README.md):
//
//   [memorization]
//   index = ../index/{stage}.sgidx   # `{stage}`: the audited stage; relative to the plan
//   canaries = canaries.jsonl        # planted canaries (optional): canary exposure
//   duplicates = duplicates.jsonl    # planted duplicated passages (optional): extraction
//   heldout = heldout.jsonl          # human text the novelty curve is compared with (optional)
//   reference = ../models/stage1     # a smaller model of the family (optional): ranking
//   seed = 2022
//   extraction_sequences = 100       # drawn per prefix length
//   prefix_lengths = 32,50,100,200   # k; k + continuation must fit the context
//   continuation = 50
//   exposure_candidates = 1000       # per canary; a smaller space is enumerated exactly
//   unconditioned_samples = 100      # sampled from <|endoftext|>
//   sample_tokens = 128
//   top_k = 40                       # of the unconditioned samples (Carlini et al. 2021)
//   ranking_top = 100                # precision of the top this many under each ranking
//
// Metrics (aggregates; per-sample figures in brackets):
//   memorization.canary_exposure       slices canary=ID, canary_count=N, none [canary_logppl]
//   memorization.extractable_rate@k    slices dup=1|2-4|5-16|17-64|>64, none [extracted@k]
//   memorization.verbatim_rate@32/@50  per strategy (the plan's prompted ones and
//                                      memorization.unconditioned) [longest_verbatim]
//   memorization.longest_verbatim      per strategy: mean; slices q=50, q=90, q=100
//   memorization.novelty@n             per strategy, and memorization.heldout
//   memorization.ranking_precision     slices rank_by=none|perplexity|zlib|lowercase|reference
#pragma once

#include "seam/registry.hpp"

namespace sg::detectors {

DetectorSpec memorization_detector();

}  // namespace sg::detectors
