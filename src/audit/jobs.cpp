#include "audit/jobs.hpp"

#include <map>
#include <set>

#include "audit/seed.hpp"

namespace sg::audit {

namespace {

// A detector's own settings as stored: the engine's values in the plan's key names. DRY
// breakers given as token sequences and output filters have no plan spelling; the detector
// states them in its canonical settings, which the plan hash covers.
db::DecodingSettings stored_settings(const engine::SamplingParams& p) {
  Decoding d;
  d.temperature = p.temperature;
  d.top_k = p.top_k;
  d.top_p = p.top_p;
  d.repetition_penalty = p.repetition_penalty;
  d.no_repeat_ngram_size = p.no_repeat_ngram;
  d.max_tokens = p.max_tokens;
  d.presence_penalty = p.presence_penalty;
  d.frequency_penalty = p.frequency_penalty;
  if (p.dry.enabled()) {
    d.dry_multiplier = p.dry.multiplier;
    d.dry_base = p.dry.base;
    d.dry_allowed_length = p.dry.allowed_length;
    d.dry_penalty_last_n = p.dry.penalty_last_n;
    if (!p.dry.breakers) d.dry_sequence_breakers.clear();
  }
  return stored_decoding(d);
}

void add_samples(std::vector<Job>& out, const std::string& plan_hash, std::string_view source,
                 const std::string& id, const std::string& strategy, const std::string& prompt,
                 const std::vector<std::int32_t>* tokens, std::int64_t samples,
                 const engine::SamplingParams& params, const db::DecodingSettings& settings) {
  for (std::int64_t i = 0; i < samples; ++i) {
    Job j;
    j.key = {strategy, stored_prompt_id(source, id), i};
    j.source = source;
    j.local_id = id;
    j.text = &prompt;
    j.tokens = tokens;
    j.params = params;
    // Seeded by the id within the source: plan prompts keep the seeds they had before ids
    // were namespaced; a detector's strategies are its own ("<name>.<label>"), so its seeds
    // cannot repeat another source's.
    j.params.seed = sample_seed(plan_hash, strategy, id, i);
    j.settings = settings;
    out.push_back(std::move(j));
  }
}

}  // namespace

std::string stored_prompt_id(std::string_view source, std::string_view id) {
  return std::string(source) + ":" + std::string(id);
}

std::string_view local_prompt_id(std::string_view stored) {
  const auto colon = stored.find(':');
  return colon == std::string_view::npos ? stored : stored.substr(colon + 1);
}

std::vector<Job> plan_jobs(const Plan& plan, const std::string& plan_hash,
                           const tokenizer::Tokenizer* tokenizer, const ScorerResources& scorers) {
  std::vector<Job> out;
  for (const auto& d : plan.detectors)
    for (const auto& t : d.jobs.score) {
      Job j;
      j.key = {t.strategy, stored_prompt_id(d.name, t.id), 0};
      j.source = d.name;
      j.local_id = t.id;
      j.text = &t.text;
      j.score = true;
      j.stride = t.stride;
      j.after_end_of_text = t.after_end_of_text;
      j.settings = {0.0, 0, 1.0, 1.0, 0, 0, "{}"};
      out.push_back(std::move(j));
    }
  std::map<std::string, engine::SamplingParams, std::less<>> strategy_params;
  for (const auto& s : plan.strategies) {
    // Stored as the plan wrote them (the engine takes floats); made once per strategy, as
    // spelling DRY's breakers reads the whole vocabulary and a filter's scorer may load a
    // model.
    const auto settings = stored_decoding(s);
    auto& params = strategy_params[s.name] = sampling_params(s, tokenizer, scorers);
    if (s.leakage) params.filters.push_back(s.leakage);
    for (const auto& p : plan.prompts.records)
      add_samples(out, plan_hash, detectors::kPlanSource, p.id, s.name, p.text, nullptr, s.samples,
                  params, settings);
  }
  for (const auto& d : plan.detectors)
    for (const auto& g : d.jobs.generate) {
      const auto* tokens = g.prompt_tokens.empty() ? nullptr : &g.prompt_tokens;
      if (g.plan_strategy.empty()) {
        add_samples(out, plan_hash, d.name, g.id, g.strategy, g.prompt, tokens, g.samples, g.params,
                    stored_settings(g.params));
        continue;
      }
      // Plan::load checked that the strategy exists.
      const auto& s = plan.strategy(g.plan_strategy);
      Decoding decoding = s;
      decoding.max_tokens = g.params.max_tokens;
      auto params = strategy_params.at(g.plan_strategy);
      params.max_tokens = g.params.max_tokens;
      add_samples(out, plan_hash, d.name, g.id, g.strategy, g.prompt, tokens, g.samples, params,
                  stored_decoding(decoding));
    }
  return out;
}

void decode_prompts(std::vector<Job>& jobs, const tokenizer::Tokenizer& tokenizer,
                    std::deque<std::string>& storage) {
  std::map<const std::vector<std::int32_t>*, const std::string*> decoded;
  for (auto& j : jobs) {
    if (!j.tokens) continue;
    auto [it, fresh] = decoded.try_emplace(j.tokens, nullptr);
    if (fresh) it->second = &storage.emplace_back(tokenizer.decode(*j.tokens));
    j.text = it->second;
  }
}

std::vector<db::PromptRecord> prompt_records(const std::vector<Job>& jobs) {
  std::vector<db::PromptRecord> out;
  std::set<std::string> seen;
  for (const auto& j : jobs)
    if (seen.insert(j.key.prompt_id).second) out.push_back({j.key.prompt_id, j.source, *j.text});
  return out;
}

}  // namespace sg::audit
