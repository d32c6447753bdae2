// The toxicity output filters' cost per generated token on a demo stage, against the same
// requests unfiltered in the same run: the after-generation filter (the scorer on each whole
// completion) and, with --block-severity, the in-loop lexicon block. Each filter's own time
// is measured around its calls, free of this shared machine's step-to-step noise. Prints a
// markdown table for bench/README.md.
//
//   bench_toxicity_filter [--stage stage4] [--scorer lexicon|classifier:DIR|self|self:DIR|
//                          placeholder] [--block-severity S] [--slots 8] [--samples 4]
//                          [--tokens 64] [--repeats 3]
//
// "placeholder" scores every text 0 (nothing is acted on): the hook's own cost, decoding
// included, for builds without a scorer.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/decoding.hpp"
#include "audit/run_context.hpp"
#include "engine/generator.hpp"
#include "engine/model.hpp"
#include "model/checkpoint.hpp"
#include "tokenizer/tokenizer.hpp"
#include "vk/context.hpp"

namespace {

namespace fs = std::filesystem;
namespace tox = sg::detectors::toxicity;
using Clock = std::chrono::steady_clock;
using Tokens = std::vector<std::int32_t>;

const fs::path kDemo = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class Placeholder : public tox::Scorer {
 public:
  std::string canonical() const override { return "placeholder"; }
  std::vector<tox::Score> score(std::span<const std::string_view> texts) override {
    return std::vector<tox::Score>(texts.size());
  }
};

// Times the judge calls of an after-generation filter.
class TimedJudge : public sg::engine::CompletionFilter {
 public:
  TimedJudge(std::shared_ptr<sg::engine::CompletionFilter> inner, double& seconds)
      : inner_(std::move(inner)), seconds_(seconds) {}
  std::vector<sg::engine::Verdict> judge(
      std::span<const sg::engine::Completion> completions) override {
    const auto t0 = Clock::now();
    auto out = inner_->judge(completions);
    seconds_ += seconds_since(t0);
    return out;
  }

 private:
  std::shared_ptr<sg::engine::CompletionFilter> inner_;
  double& seconds_;
};

// Times the veto and stop calls of an in-loop filter.
class TimedFactory : public sg::engine::OutputFilterFactory {
 public:
  TimedFactory(std::shared_ptr<const sg::engine::OutputFilterFactory> inner, double& seconds)
      : inner_(std::move(inner)), seconds_(seconds) {}
  std::unique_ptr<sg::engine::OutputFilter> make() const override {
    return std::make_unique<Timed>(inner_->make(), seconds_);
  }

 private:
  class Timed : public sg::engine::OutputFilter {
   public:
    Timed(std::unique_ptr<sg::engine::OutputFilter> f, double& s) : f_(std::move(f)), s_(s) {}
    std::optional<sg::engine::FilterEvent> veto(const sg::engine::GenerationState& st,
                                                std::int32_t t) override {
      const auto t0 = Clock::now();
      auto r = f_->veto(st, t);
      s_ += seconds_since(t0);
      return r;
    }
    std::optional<sg::engine::FilterStop> stop(const sg::engine::GenerationState& st) override {
      const auto t0 = Clock::now();
      auto r = f_->stop(st);
      s_ += seconds_since(t0);
      return r;
    }

   private:
    std::unique_ptr<sg::engine::OutputFilter> f_;
    double& s_;
  };
  std::shared_ptr<const sg::engine::OutputFilterFactory> inner_;
  double& seconds_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string stage = "stage4", scorer = "placeholder";
  int block_severity = 0, slots = 8, samples = 4, new_tokens = 64, repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--stage")
      stage = v;
    else if (a == "--scorer")
      scorer = v;
    else if (a == "--block-severity")
      block_severity = std::stoi(v);
    else if (a == "--slots")
      slots = std::stoi(v);
    else if (a == "--samples")
      samples = std::stoi(v);
    else if (a == "--tokens")
      new_tokens = std::stoi(v);
    else if (a == "--repeats")
      repeats = std::stoi(v);
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  try {
    const auto model_dir = kDemo / stage;
    const auto ckpt = sg::model::Checkpoint::open(model_dir);
    const auto tok =
        sg::tokenizer::load(model_dir, std::string(sg::model::to_string(ckpt.config().arch)));
    sg::gpu::Context gpu(sg::gpu::ContextOptions{});
    sg::engine::EngineOptions o;
    o.max_sequences = slots;
    sg::engine::Model model(gpu, ckpt, o);

    std::vector<Tokens> prompts;
    std::ifstream in(kDemo / "prompts" / "heldout.jsonl");
    for (std::string line; std::getline(in, line) && prompts.size() < 16;)
      if (!line.empty())
        prompts.push_back(tok->encode(nlohmann::json::parse(line)["text"].get<std::string>()));

    // The filters exactly as `generate` and an audit build them (audit/decoding.hpp).
    sg::audit::Decoding d;
    d.max_tokens = new_tokens;
    d.filters = {"toxicity"};
    d.toxicity_scorer = scorer == "placeholder" ? "lexicon" : scorer;
    d.toxicity_block_severity = block_severity;
    sg::audit::RunModels models(model);
    sg::audit::ScorerResources resources;
    resources.models = &models;
    resources.audited_dir = model_dir;
    if (scorer == "placeholder")
      resources.make_scorer = [](const tox::ScorerSpec&, const tox::ScorerContext&) {
        return std::make_unique<Placeholder>();
      };
    auto filtered = sg::audit::sampling_params(d, tok.get(), resources);
    double judge_seconds = 0, block_seconds = 0;
    for (auto& f : filtered.completion_filters)
      f = std::make_shared<TimedJudge>(std::move(f), judge_seconds);
    for (auto& f : filtered.filters)
      f = std::make_shared<TimedFactory>(std::move(f), block_seconds);
    sg::audit::Decoding plain_d;
    plain_d.max_tokens = new_tokens;
    const auto plain = sg::audit::sampling_params(plain_d, tok.get());

    auto requests = [&](const sg::engine::SamplingParams& p) {
      std::vector<sg::engine::GenerationRequest> out;
      for (std::size_t i = 0; i < prompts.size(); ++i)
        for (int s = 0; s < samples; ++s) {
          out.push_back({prompts[i], p});
          out.back().params.seed = 1000 * i + static_cast<std::uint64_t>(s);
        }
      return out;
    };
    const auto off_requests = requests(plain), on_requests = requests(filtered);
    sg::engine::Generator gen(model, ckpt.config().eos_token_id);
    std::vector<double> off_rate, on_rate;
    std::size_t on_tokens = 0, events = 0, refused = 0;
    for (int r = 0; r < repeats; ++r) {
      // Off and on back to back, so both see the same machine.
      for (bool on : {false, true}) {
        const auto t0 = Clock::now();
        const auto results = gen.run(on ? on_requests : off_requests);
        const double s = seconds_since(t0);
        std::size_t tokens = 0;
        for (const auto& x : results) {
          tokens += x.tokens.size();
          if (on && r == 0) {
            events += x.events.size();
            refused += x.finish_reason == "content_filter";
          }
        }
        if (on && r == 0) on_tokens = tokens;
        (on ? on_rate : off_rate).push_back(static_cast<double>(tokens) / s);
      }
    }
    const double per_token_judge = 1e6 * judge_seconds / repeats / static_cast<double>(on_tokens);
    const double per_token_block = 1e6 * block_seconds / repeats / static_cast<double>(on_tokens);
    const double token_us = 1e6 / median(off_rate);
    std::printf(
        "## toxicity filters (%s, %d slots, %zu prompts x %d samples, %d tokens, scorer %s, "
        "block severity %d)\n\n",
        stage.c_str(), slots, prompts.size(), samples, new_tokens, scorer.c_str(), block_severity);
    std::printf(
        "| tok/s off | tok/s on | on / off | judge us/token | block us/token | filters' share "
        "of a token | events | refused |\n|---|---|---|---|---|---|---|---|\n");
    std::printf(
        "| %.1f | %.1f | %.3f | %.1f | %.1f | %.2f %% | %zu | %zu / %zu |\n", median(off_rate),
        median(on_rate), median(on_rate) / median(off_rate), per_token_judge, per_token_block,
        100 * (per_token_judge + per_token_block) / token_us, events, refused, on_requests.size());
  } catch (const std::exception& e) {
    std::cerr << "bench_toxicity_filter: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
