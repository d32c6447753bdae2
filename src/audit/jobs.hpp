// The jobs of an audit run: every text to score and every sample to draw, in a fixed
// order (texts to score first, then the plan's strategies, then detectors' prompts), each
// with the key it is stored under and the settings and seed it runs with.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "audit/plan.hpp"
#include "db/records.hpp"
#include "engine/sampling.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::audit {

struct Job {
  db::SampleKey key;                  // strategy, stored prompt id ("<source>:<id>"), sample index
  std::string source;                 // detectors::kPlanSource or a detector's name
  std::string local_id;               // the prompt's id within its source
  const std::string* text = nullptr;  // the prompt, or the text to score
  // A prompt given as ids (GenerateJob::prompt_tokens): fed as they are; `text` is then
  // their decoding, which the runner sets (decoded_prompts).
  const std::vector<std::int32_t>* tokens = nullptr;
  bool score = false;              // a text to score, not a sample to draw
  int stride = 0;                  // score: sliding-window stride
  bool after_end_of_text = false;  // score: the text follows the tokenizer's end-of-text token
  engine::SamplingParams params;   // generate: with the sample's seed
  db::DecodingSettings settings;   // as stored with the sample
};

// The stored id of a prompt: "<source>:<id>". A source is a plain name (no ':'), so no
// two sources' ids can be equal.
std::string stored_prompt_id(std::string_view source, std::string_view id);
// The id within its source of a stored prompt id.
std::string_view local_prompt_id(std::string_view stored);

// Every job of the plan; `plan_hash` seeds the samples. The tokenizer spells DRY's sequence
// breakers and reads the toxicity filters' text (null: a strategy with either is an
// InputError); `scorers` lends the toxicity filters' scorers what they load.
std::vector<Job> plan_jobs(const Plan& plan, const std::string& plan_hash,
                           const tokenizer::Tokenizer* tokenizer,
                           const ScorerResources& scorers = {});

// Points the jobs whose prompt is given as ids at its decoding, kept in `storage`.
void decode_prompts(std::vector<Job>& jobs, const tokenizer::Tokenizer& tokenizer,
                    std::deque<std::string>& storage);

// The prompts and texts the jobs use, one record per stored prompt id.
std::vector<db::PromptRecord> prompt_records(const std::vector<Job>& jobs);

}  // namespace sg::audit
