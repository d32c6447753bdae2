#include "audit/jobs.hpp"

#include <map>
#include <set>

#include "audit/seed.hpp"

namespace sg::audit {

namespace {

db::DecodingSettings stored_settings(const engine::SamplingParams& p) {
  return {p.temperature, p.top_k, p.top_p, p.repetition_penalty, p.no_repeat_ngram, p.max_tokens};
}

engine::SamplingParams params_of(const Strategy& s) {
  engine::SamplingParams p;
  p.temperature = static_cast<float>(s.temperature);
  p.top_k = static_cast<int>(s.top_k);
  p.top_p = static_cast<float>(s.top_p);
  p.repetition_penalty = static_cast<float>(s.repetition_penalty);
  p.no_repeat_ngram = static_cast<int>(s.no_repeat_ngram_size);
  p.max_tokens = static_cast<int>(s.max_tokens);
  return p;
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

std::vector<Job> plan_jobs(const Plan& plan, const std::string& plan_hash) {
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
      j.settings = {0.0, 0, 1.0, 1.0, 0, 0};
      out.push_back(std::move(j));
    }
  for (const auto& s : plan.strategies) {
    // Stored as the plan wrote them (the engine takes floats).
    const db::DecodingSettings settings{
        s.temperature,          s.top_k,     s.top_p, s.repetition_penalty,
        s.no_repeat_ngram_size, s.max_tokens};
    for (const auto& p : plan.prompts.records)
      add_samples(out, plan_hash, detectors::kPlanSource, p.id, s.name, p.text, nullptr, s.samples,
                  params_of(s), settings);
  }
  for (const auto& d : plan.detectors)
    for (const auto& g : d.jobs.generate)
      add_samples(out, plan_hash, d.name, g.id, g.strategy, g.prompt,
                  g.prompt_tokens.empty() ? nullptr : &g.prompt_tokens, g.samples, g.params,
                  stored_settings(g.params));
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
