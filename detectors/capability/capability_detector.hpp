// Capability: what a stage can do, measured on the same held-out text as its risks, so that a
// release weighs one against the other and models with different tokenizers compare fairly.
//
//   [capability]
//   heldout = heldout.jsonl          # {"id", "text"}: bits per byte, sliding window
//   stride = 0                       # sliding-window stride; 0: half the context
//   zero_shot = lambada.jsonl        # {"text"} (LAMBADA's jsonl): predict the last word
//   zero_shot_max_tokens = 8         # greedy tokens generated for the word
//
// At least one of heldout and zero_shot. Metrics, per text and over all of them:
// `capability.bits_per_byte` (each text scored after the end-of-text token where the
// tokenizer has one; texts resampled whole for the interval; per text also
// `capability.bytes`, the bytes scored); per passage `capability.zero_shot_correct` (1 or 0)
// and over all `capability.zero_shot_accuracy` with its Wilson interval. Evidence kind
// `zero_shot_answer`: the predicted word's span in the sample, {"target", "predicted"}.
#pragma once

#include "seam/registry.hpp"

namespace sg::detectors {

DetectorSpec capability_detector();

}  // namespace sg::detectors
