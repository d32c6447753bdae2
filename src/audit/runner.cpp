#include "audit/runner.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <set>

#include "audit/aggregates.hpp"
#include "audit/run_context.hpp"
#include "audit/sample_writer.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "db/errors.hpp"
#include "engine/generator.hpp"
#include "engine/model.hpp"
#include "engine/scorer.hpp"
#include "model/checkpoint_facts.hpp"

namespace sg::audit {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// An unfinished run of this plan on a checkpoint at the same path but with other weights:
// the weights changed mid-audit. Their samples are never mixed, and a new run is not
// started silently either: the user restores the weights or asks for a new run.
void refuse_if_checkpoint_changed(db::Store& store, const db::CheckpointRecord& now,
                                  const std::string& plan_hash, bool new_run) {
  if (new_run) return;
  for (const auto& r : store.runs()) {
    if (r.plan_hash != plan_hash || r.status == db::RunStatus::kCompleted ||
        r.status == db::RunStatus::kAbandoned || r.checkpoint_sha256 == now.sha256)
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

db::SampleRecord scored_sample(const Job& job, std::vector<std::int32_t> tokens,
                               engine::ScoreResult scored) {
  db::SampleRecord r;
  r.key = job.key;
  r.settings = job.settings;
  r.token_ids = std::move(tokens);
  r.text = *job.text;
  r.finish_reason = "scored";
  r.logprobs = std::move(scored.logprobs);
  return r;
}

db::SampleRecord generated_sample(const Job& job, const tokenizer::Tokenizer& tokenizer,
                                  engine::GenerationResult&& result) {
  db::SampleRecord r;
  r.key = job.key;
  r.seed = job.params.seed;
  r.settings = job.settings;
  // What a user would have received: a refused sample is empty, a redacted one redacted
  // (its tokens stay the model's; the filter's event keeps what it judged).
  r.text = engine::delivered_text(result, tokenizer);
  r.token_ids = std::move(result.tokens);
  r.logprobs = std::move(result.logprobs);
  r.finish_reason = std::move(result.finish_reason);
  for (auto& e : result.events) {
    db::FilterEventRecord f;
    f.filter = std::move(e.filter);
    f.action = std::move(e.action);
    f.token_position = e.position;
    f.detail_json = std::move(e.detail_json);
    r.filter_events.push_back(std::move(f));
  }
  return r;
}

}  // namespace

AuditTarget audit_target(const model::Checkpoint& checkpoint, std::string family, std::string stage,
                         std::string device) {
  auto facts = model::checkpoint_facts(checkpoint);
  AuditTarget t;
  t.checkpoint.sha256 = std::move(facts.sha256);
  t.checkpoint.path = std::move(facts.path);
  t.checkpoint.family = std::move(family);
  t.checkpoint.stage = std::move(stage);
  t.checkpoint.architecture = std::move(facts.architecture);
  t.checkpoint.parameters = facts.parameters;
  t.checkpoint.config_json = std::move(facts.config_json);
  t.device = std::move(device);
  return t;
}

Runner::Runner(engine::Model& model, const tokenizer::Tokenizer& tokenizer, db::Store& store,
               const Plan& plan, AuditTarget target)
    : model_(model),
      tokenizer_(tokenizer),
      store_(store),
      plan_(plan),
      target_(std::move(target)),
      plan_hash_(plan.hash()) {}

RunSummary Runner::run(const RunnerOptions& options) {
  const auto start = Clock::now();
  RunSummary summary;
  // Second models (detectors', the filters' scorers') load once per run, on first use.
  RunModels models(model_);
  ScorerResources scorers;
  scorers.models = &models;
  scorers.audited_dir = target_.checkpoint.path;
  auto all_jobs = plan_jobs(plan_, plan_hash_, &tokenizer_, scorers);
  std::deque<std::string> decoded_prompts;
  decode_prompts(all_jobs, tokenizer_, decoded_prompts);
  summary.planned = static_cast<std::int64_t>(all_jobs.size());
  summary.slots = model_.max_sequences();

  const std::int64_t checkpoint_id = store_.upsert_checkpoint(target_.checkpoint);
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
  const auto started = store_.start_run(nr, options.new_run);
  summary.run_id = started.run_id;
  summary.abandoned_run = started.abandoned_run;
  using Outcome = db::StartRunResult::Outcome;
  switch (started.outcome) {
    case Outcome::kCompleted: {
      summary.outcome = "already completed";
      auto info = store_.run(started.run_id);
      summary.done = info ? info->samples_done : 0;
      summary.aggregates = store_.aggregates(started.run_id);
      return summary;
    }
    case Outcome::kHeld:
      throw RuntimeError("run " + std::to_string(started.run_id) + " is being worked by process " +
                         std::to_string(started.holder ? started.holder->pid : 0) + " on " +
                         (started.holder ? started.holder->host : std::string("?")) +
                         "; two processes never work one run (wait for it, or stop it)");
    case Outcome::kResumed:
      summary.resumed = true;
      summary.recovered = started.recovered;
      break;
    case Outcome::kCreated:
      break;
  }
  const std::int64_t run_id = summary.run_id;
  auto timed = [&](auto&& write) {
    const auto t0 = Clock::now();
    write();
    summary.store_seconds += seconds_since(t0);
  };

  try {
    std::set<db::SampleKey> stored;
    timed([&] {
      store_.add_prompts(run_id, prompt_records(all_jobs));
      stored = store_.existing_sample_keys(run_id);
    });
    std::vector<const Job*> to_score, to_generate;
    for (const auto& j : all_jobs)
      if (!stored.count(j.key)) (j.score ? to_score : to_generate).push_back(&j);
    summary.done =
        summary.planned - static_cast<std::int64_t>(to_score.size() + to_generate.size());
    if (options.on_progress) options.on_progress(summary.done, summary.planned);

    detectors::RunContext context{model_, tokenizer_, models, target_.checkpoint.path};
    for (const auto& d : plan_.detectors) d.detector->prepare(context);

    auto stopped = [&] { return options.stop && options.stop->load(); };
    const auto slots = static_cast<std::size_t>(summary.slots);
    SampleWriter writer(
        store_, plan_, run_id, slots,
        [&] {
          ++summary.done;
          ++summary.new_samples;
          if (options.on_progress) options.on_progress(summary.done, summary.planned);
        },
        summary.store_seconds);

    // Texts to score, a slot's worth per forward pass (texts of one stride together).
    for (std::size_t begin = 0; begin < to_score.size() && !stopped();) {
      std::size_t end = begin;
      std::vector<std::vector<std::int32_t>> texts;
      while (end < to_score.size() && texts.size() < slots &&
             to_score[end]->stride == to_score[begin]->stride) {
        const Job& job = *to_score[end++];
        auto& tokens = texts.emplace_back();
        if (job.after_end_of_text && tokenizer_.eos_id()) tokens.push_back(*tokenizer_.eos_id());
        const auto text = tokenizer_.encode(*job.text);
        tokens.insert(tokens.end(), text.begin(), text.end());
      }
      auto scored = engine::score_many(model_, texts, to_score[begin]->stride);
      for (std::size_t i = 0; i < texts.size(); ++i)
        writer.add(*to_score[begin + i], {},
                   scored_sample(*to_score[begin + i], std::move(texts[i]), std::move(scored[i])));
      writer.flush();
      begin = end;
    }

    // Samples to draw: each distinct prompt encoded once.
    std::map<const std::string*, std::vector<std::int32_t>> encoded;
    std::vector<engine::GenerationRequest> requests;
    for (const Job* j : to_generate) {
      auto [it, fresh] = encoded.try_emplace(j->text);
      if (fresh) it->second = j->tokens ? *j->tokens : tokenizer_.encode(*j->text);
      requests.push_back({it->second, j->params});
    }
    engine::Generator generator(model_, tokenizer_.eos_id());
    auto last_write = Clock::now();
    generator.run_continuous(
        requests,
        [&](std::size_t i, engine::GenerationResult&& result) {
          summary.generated_tokens += static_cast<std::int64_t>(result.tokens.size());
          writer.add(*to_generate[i], requests[i].prompt,
                     generated_sample(*to_generate[i], tokenizer_, std::move(result)));
          last_write = Clock::now();
        },
        [&] {
          // Long sequences can go a while without a finished sample: keep the lease fresh
          // for other hosts that judge it by its heartbeat.
          if (seconds_since(last_write) > 30) {
            timed([&] { store_.heartbeat(run_id); });
            last_write = Clock::now();
          }
          return stopped();
        });
    // Finished samples are whole: stored even when Ctrl-C cut the run short.
    writer.flush();

    if (summary.done < summary.planned) {
      store_.finish_run(run_id, db::RunStatus::kInterrupted, "stopped by a signal (Ctrl-C)");
      summary.outcome = "interrupted";
    } else {
      timed([&] {
        StoreRunReader reader(store_, run_id);
        summary.aggregates = run_aggregates(reader, plan_);
        store_.add_aggregates(run_id, summary.aggregates);
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
  summary.seconds = seconds_since(start);
  return summary;
}

}  // namespace sg::audit
