#include "audit/runner.hpp"

#include <chrono>
#include <cmath>
#include <set>

#include "audit/aggregates.hpp"
#include "audit/seed.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "db/errors.hpp"
#include "engine/generator.hpp"
#include "engine/scorer.hpp"

namespace sg::audit {

struct Runner::Job {
  db::SampleKey key;
  const Strategy* strategy = nullptr;  // null: a held-out text to score
  const TextRecord* text = nullptr;
};

namespace {

std::string heldout_prompt_id(const TextRecord& r) {
  return "heldout:" + r.id;
}

// An unfinished run of this plan on a checkpoint at the same path but with other weights:
// the weights changed mid-audit. Their samples are never mixed, and a new run is not
// started silently either: the user restores the weights or asks for a new run.
void refuse_if_checkpoint_changed(db::Store& store, const db::CheckpointRecord& now,
                                  const std::string& plan_hash, bool new_run) {
  if (new_run) return;
  for (const auto& r : store.runs()) {
    if (r.plan_hash != plan_hash || r.status == db::RunStatus::kCompleted ||
        r.checkpoint_sha256 == now.sha256)
      continue;
    auto then = store.checkpoint(r.checkpoint_id);
    if (!then || then->path != now.path) continue;
    throw InputError(now.path + ": the weights changed since run " + std::to_string(r.id) +
                     " of this plan started (SHA-256 " + r.checkpoint_sha256.substr(0, 12) +
                     "... then, " + now.sha256.substr(0, 12) +
                     "... now); its samples are not mixed with new ones: restore the weights to "
                     "resume it, or pass --new-run to audit the changed checkpoint");
  }
}

}  // namespace

Runner::Runner(engine::Model& model, const tokenizer::Tokenizer& tokenizer, db::Store& store,
               const Plan& plan, AuditTarget target)
    : model_(model),
      tokenizer_(tokenizer),
      store_(store),
      plan_(plan),
      target_(std::move(target)),
      plan_hash_(plan.hash()) {}

// Every job of the plan in a fixed order: held-out texts first (cheap, and the figure most
// audits want first), then strategy by strategy, prompt by prompt, sample by sample.
std::vector<Runner::Job> Runner::jobs() const {
  std::vector<Job> out;
  if (plan_.perplexity && !plan_.perplexity->heldout.empty())
    for (const auto& r : plan_.perplexity->heldout_texts.records)
      out.push_back({{kHeldoutStrategy, heldout_prompt_id(r), 0}, nullptr, &r});
  for (const auto& s : plan_.strategies)
    for (const auto& p : plan_.prompts.records)
      for (std::int64_t i = 0; i < s.samples; ++i) out.push_back({{s.name, p.id, i}, &s, &p});
  return out;
}

std::vector<db::PromptRecord> Runner::prompt_records() const {
  std::vector<db::PromptRecord> out;
  for (const auto& p : plan_.prompts.records) out.push_back({p.id, "prompts", p.text});
  if (plan_.perplexity && !plan_.perplexity->heldout.empty())
    for (const auto& r : plan_.perplexity->heldout_texts.records)
      out.push_back({heldout_prompt_id(r), kHeldoutStrategy, r.text});
  return out;
}

db::SampleRecord Runner::generate_one(const Job& job, const std::vector<std::int32_t>& tokens,
                                      const std::vector<double>& logprobs,
                                      const std::string& finish_reason) const {
  const Strategy& s = *job.strategy;
  db::SampleRecord r;
  r.key = job.key;
  r.seed = sample_seed(plan_hash_, s.name, job.key.prompt_id, job.key.sample_index);
  r.settings = {s.temperature,          s.top_k,     s.top_p, s.repetition_penalty,
                s.no_repeat_ngram_size, s.max_tokens};
  r.token_ids = tokens;
  r.text = tokenizer_.decode(tokens);
  r.logprobs = logprobs;
  r.finish_reason = finish_reason;
  if (!logprobs.empty()) {
    double sum = 0;
    for (double lp : logprobs) sum += lp;
    r.metrics.push_back(
        {"perplexity.sample", std::exp(-sum / static_cast<double>(logprobs.size()))});
  }
  return r;
}

db::SampleRecord Runner::score_one(const Job& job) const {
  db::SampleRecord r;
  r.key = job.key;
  r.settings = {0.0, 0, 1.0, 1.0, 0, 0};
  r.token_ids = tokenizer_.encode(job.text->text);
  r.text = job.text->text;
  r.finish_reason = "scored";
  if (r.token_ids.size() < 2)
    throw InputError(plan_.perplexity->heldout.string() + ":" + std::to_string(job.text->line) +
                     ": held-out text '" + job.text->id + "' has fewer than two tokens");
  auto scored = engine::score(model_, r.token_ids, static_cast<int>(plan_.perplexity->stride));
  r.logprobs = scored.logprobs;
  r.metrics.push_back({"perplexity.heldout", scored.perplexity});
  return r;
}

std::vector<db::Aggregate> Runner::aggregate(std::int64_t run_id) {
  auto aggregates = run_aggregates(store_.samples(run_id), kHeldoutStrategy);
  store_.add_aggregates(run_id, aggregates);
  return aggregates;
}

RunSummary Runner::run(const RunnerOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  RunSummary summary;
  const auto all_jobs = jobs();
  summary.planned = static_cast<std::int64_t>(all_jobs.size());

  const std::int64_t checkpoint_id = store_.upsert_checkpoint(target_.checkpoint);
  std::optional<db::RunInfo> previous;
  if (!options.new_run) previous = store_.latest_run(checkpoint_id, plan_hash_);
  if (previous && previous->status == db::RunStatus::kCompleted) {
    summary.run_id = previous->id;
    summary.outcome = "already completed";
    summary.done = previous->samples_done;
    summary.aggregates = store_.aggregates(previous->id);
    return summary;
  }
  if (previous) {
    auto claim = store_.claim_run(previous->id);
    if (claim.outcome == db::ClaimResult::Outcome::kHeld)
      throw RuntimeError("run " + std::to_string(previous->id) + " is being worked by process " +
                         std::to_string(claim.holder ? claim.holder->pid : 0) + " on " +
                         (claim.holder ? claim.holder->host : std::string("?")) +
                         "; two processes never work one run (wait for it, or stop it)");
    summary.run_id = previous->id;
    summary.resumed = true;
    summary.recovered = claim.recovered;
  } else {
    refuse_if_checkpoint_changed(store_, target_.checkpoint, plan_hash_, options.new_run);
    db::NewRun nr;
    nr.checkpoint_id = checkpoint_id;
    nr.plan_path = plan_.file.string();
    nr.plan_hash = plan_hash_;
    nr.plan_text = plan_.canonical_text();
    nr.tool_version = std::string(version());
    nr.tool_commit = std::string(git_commit());
    nr.device = target_.device;
    nr.samples_planned = summary.planned;
    summary.run_id = store_.create_run(nr);
  }
  const std::int64_t run_id = summary.run_id;
  auto timed = [&](auto&& write) {
    const auto t0 = std::chrono::steady_clock::now();
    write();
    summary.store_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  try {
    std::set<db::SampleKey> stored;
    timed([&] {
      store_.add_prompts(run_id, prompt_records());
      stored = store_.existing_sample_keys(run_id);
    });
    std::vector<const Job*> pending;
    for (const auto& j : all_jobs)
      if (!stored.count(j.key)) pending.push_back(&j);
    summary.done = summary.planned - static_cast<std::int64_t>(pending.size());
    if (options.on_progress) options.on_progress(summary.done, summary.planned);

    auto stopped = [&] { return options.stop && options.stop->load(); };
    auto store_sample = [&](db::SampleRecord s) {
      s.run_id = run_id;
      timed([&] { store_.add_sample(s); });
      ++summary.done;
      ++summary.new_samples;
      if (options.on_progress) options.on_progress(summary.done, summary.planned);
    };

    std::size_t next = 0;
    const std::size_t batch = static_cast<std::size_t>(std::max(1, model_.max_sequences()));
    engine::Generator generator(model_, tokenizer_.eos_id());
    while (next < pending.size() && !stopped()) {
      if (!pending[next]->strategy) {  // a held-out text
        store_sample(score_one(*pending[next]));
        ++next;
        continue;
      }
      // A batch of generation jobs: batch invariance makes each result independent of
      // which others share its batch.
      std::vector<const Job*> group;
      std::vector<engine::GenerationRequest> requests;
      while (next < pending.size() && pending[next]->strategy && group.size() < batch) {
        const Job& j = *pending[next++];
        const Strategy& s = *j.strategy;
        engine::GenerationRequest req;
        req.prompt = tokenizer_.encode(j.text->text);
        if (req.prompt.empty())
          throw InputError(plan_.prompts_file.string() + ":" + std::to_string(j.text->line) +
                           ": prompt '" + j.text->id + "' encodes to no tokens");
        req.params.temperature = static_cast<float>(s.temperature);
        req.params.top_k = static_cast<int>(s.top_k);
        req.params.top_p = static_cast<float>(s.top_p);
        req.params.repetition_penalty = static_cast<float>(s.repetition_penalty);
        req.params.no_repeat_ngram = static_cast<int>(s.no_repeat_ngram_size);
        req.params.max_tokens = static_cast<int>(s.max_tokens);
        req.params.seed = sample_seed(plan_hash_, s.name, j.key.prompt_id, j.key.sample_index);
        group.push_back(&j);
        requests.push_back(std::move(req));
      }
      timed([&] { store_.heartbeat(run_id); });
      auto results = generator.run(requests);
      for (std::size_t i = 0; i < group.size(); ++i) {
        // Ctrl-C between samples: what is stored is whole, the rest is redone on resume.
        if (stopped()) break;
        store_sample(generate_one(*group[i], results[i].tokens, results[i].logprobs,
                                  results[i].finish_reason));
      }
    }
    if (stopped() && summary.done < summary.planned) {
      store_.finish_run(run_id, db::RunStatus::kInterrupted, "stopped by a signal (Ctrl-C)");
      summary.outcome = "interrupted";
    } else {
      timed([&] {
        summary.aggregates = aggregate(run_id);
        store_.finish_run(run_id, db::RunStatus::kCompleted);
      });
      summary.outcome = "completed";
    }
  } catch (const db::DiskFullError&) {
    // The store rolled the write back; the run stays resumable once there is space. Marking
    // it may itself need space: the lease then lapses and the next claim recovers the run.
    try {
      store_.finish_run(run_id, db::RunStatus::kInterrupted, "the database or disk is full");
    } catch (const std::exception&) {
    }
    throw;
  } catch (const std::exception& e) {
    try {
      store_.finish_run(run_id, db::RunStatus::kFailed, e.what());
    } catch (const std::exception& inner) {
      log::warn(std::string("could not record the failure of run ") + std::to_string(run_id) +
                ": " + inner.what());
    }
    throw;
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace sg::audit
