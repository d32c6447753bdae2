// `stagegate bench`: prefill and decode throughput, per-token latency and memory, per batch
// size, on random prompts (the weights decide the speed, not the text).
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/model_setup.hpp"
#include "common/errors.hpp"
#include "engine/generator.hpp"

namespace sg::cli {

namespace {

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

std::vector<int> parse_batches(const std::string& text) {
  std::vector<int> out;
  for (auto id : parse_ids(text, "--batch")) {
    if (id < 1) throw UsageError("--batch sizes must be >= 1");
    out.push_back(id);
  }
  if (out.empty()) throw UsageError("--batch needs at least one size");
  return out;
}

}  // namespace

int cmd_bench(const Args& args) {
  po::options_description desc("stagegate bench");
  add_model_options(desc);
  desc.add_options()("help,h", "show this help")(
      "prompt-tokens", po::value<int>()->default_value(128), "prompt length per sequence")(
      "gen-tokens", po::value<int>()->default_value(128), "tokens generated per sequence")(
      "batch", po::value<std::string>()->default_value("1,8"), "batch sizes, e.g. 1,8")(
      "temperature", po::value<float>()->default_value(0.0f), "0: greedy, else sampling")(
      "top-k", po::value<int>()->default_value(0), "sample from the k most likely (0: off)")(
      "top-p", po::value<float>()->default_value(1.0f), "nucleus sampling (1: off)")(
      "host-sampling",
      "read every logits row back and sample on the host (the path device sampling replaces)")(
      "profile",
      "per-operation times of the prompt's pass and of one decode step (timestamp queries)")(
      "json", "print a JSON array, one object per batch size");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate bench --model DIR [--prompt-tokens 128] [--gen-tokens 128] "
                    "[--batch 1,8] [--temperature T] [--top-k K] [--top-p P] [--host-sampling] "
                    "[--profile] [--json]"))
    return 0;
  const int prompt_tokens = vm["prompt-tokens"].as<int>();
  const int gen_tokens = vm["gen-tokens"].as<int>();
  if (prompt_tokens < 1 || gen_tokens < 1)
    throw UsageError("--prompt-tokens and --gen-tokens must be >= 1");
  auto batches = parse_batches(vm["batch"].as<std::string>());
  engine::SamplingParams sampling;
  sampling.temperature = vm["temperature"].as<float>();
  sampling.top_k = vm["top-k"].as<int>();
  sampling.top_p = vm["top-p"].as<float>();
  if (sampling.temperature < 0 || sampling.top_k < 0 ||
      !(sampling.top_p > 0 && sampling.top_p <= 1))
    throw UsageError("--temperature and --top-k must be >= 0, --top-p in (0, 1]");

  engine::EngineOptions size;
  size.max_sequences = *std::max_element(batches.begin(), batches.end());
  size.context = prompt_tokens + gen_tokens;
  auto m = load_model(vm, size);
  const auto& cfg = m.checkpoint->config();
  if (size.context > cfg.n_positions)
    throw UsageError("--prompt-tokens + --gen-tokens exceed the context of " +
                     std::to_string(cfg.n_positions));

  engine::Rng rng(1234);
  engine::Generator generator(*m.engine, std::nullopt);
  const bool host_sampling = vm.count("host-sampling") > 0;
  generator.set_device_sampling(!host_sampling);
  // The warm-up's prompts are the timed run's: with prefix caching the timed run would take
  // them from the cache and measure no prefill.
  generator.set_prefix_reuse(false);
  nlohmann::json rows = nlohmann::json::array();
  const char* dtype = m.engine->dtype() == engine::WeightType::kF16 ? "f16" : "f32";
  for (int batch : batches) {
    std::vector<engine::GenerationRequest> requests;
    for (int b = 0; b < batch; ++b) {
      engine::GenerationRequest r;
      for (int i = 0; i < prompt_tokens; ++i)
        r.prompt.push_back(
            static_cast<std::int32_t>(rng.next() % static_cast<std::uint64_t>(cfg.vocab_size)));
      r.params = sampling;
      r.params.seed = static_cast<std::uint64_t>(b);
      r.params.max_tokens = gen_tokens;
      r.params.ignore_eos = true;
      requests.push_back(std::move(r));
    }
    // An untimed warm-up of the same shapes first (as llama-bench does): the engine builds a
    // kernel's pipeline on first use, and on lavapipe that compile would be timed as prefill.
    auto warm_up = requests;
    for (auto& r : warm_up) r.params.max_tokens = std::min(gen_tokens, 2);
    generator.run(warm_up);
    generator.run(requests);
    const auto& t = generator.timings();
    std::vector<double> step_ms;
    for (double s : t.step_seconds) step_ms.push_back(s * 1e3);
    // With --gen-tokens 1 the prompt pass picks the only token: no decode step is timed, and
    // the decode figures stay null.
    nlohmann::json decode_rate, p50, p99;
    if (t.decode_tokens > 0 && !step_ms.empty()) {
      decode_rate = static_cast<double>(t.decode_tokens) / t.decode_seconds;
      p50 = percentile(step_ms, 0.5);
      p99 = percentile(step_ms, 0.99);
    }
    rows.push_back(
        {{"batch", batch},
         {"dtype", dtype},
         {"prefill_tok_s", static_cast<double>(t.prefill_tokens) / t.prefill_seconds},
         {"decode_tok_s", decode_rate},
         {"ms_per_token_p50", p50},
         {"ms_per_token_p99", p99},
         {"peak_rss_mb", peak_rss_mb()},
         {"peak_device_mb", static_cast<double>(m.gpu->peak_allocated_bytes()) / 1048576.0},
         {"sampling", host_sampling ? "host" : "device"},
         {"summary_picks", t.summary_picks},
         {"full_row_picks", t.full_row_picks}});
  }

  // The profile holds the last forward call's passes: the prompts' when one token is
  // generated, the first decode step's when two are (so only when --gen-tokens allows two:
  // the context is sized for the run).
  auto profile_of = [&](int batch, int max_tokens) {
    m.engine->set_profiling(true);
    std::vector<engine::GenerationRequest> same(static_cast<std::size_t>(batch));
    for (auto& r : same) {
      r.prompt.assign(static_cast<std::size_t>(prompt_tokens), 0);
      r.params.temperature = 0;
      r.params.max_tokens = max_tokens;
      r.params.ignore_eos = true;
    }
    generator.run(same);
    std::map<std::string, std::pair<double, int>> by_op;
    for (const auto& op : m.engine->profile()) {
      by_op[op.label].first += op.ms;
      by_op[op.label].second += 1;
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [label, v] : by_op)
      out.push_back({{"op", label}, {"ms", v.first}, {"dispatches", v.second}});
    m.engine->set_profiling(false);
    return out;
  };
  if (vm.count("profile"))
    for (auto& r : rows) {
      r["profile_prefill_pass"] = profile_of(r["batch"].get<int>(), 1);
      if (gen_tokens > 1) r["profile_decode_step"] = profile_of(r["batch"].get<int>(), 2);
    }

  if (vm.count("json")) {
    std::cout << rows.dump() << "\n";
    return 0;
  }
  std::printf("device: %s   model: %s   prompt %d + gen %d tokens\n", m.gpu->info().name.c_str(),
              vm["model"].as<std::string>().c_str(), prompt_tokens, gen_tokens);
  std::printf("%5s %5s %12s %12s %9s %9s %9s %10s %s\n", "batch", "dtype", "prefill t/s",
              "decode t/s", "p50 ms", "p99 ms", "RSS MB", "device MB",
              "picks from the device summary");
  // A figure that was not measured (null in the JSON) prints as "-".
  auto cell = [](const nlohmann::json& v, int decimals) {
    if (v.is_null()) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v.get<double>());
    return std::string(buf);
  };
  for (const auto& r : rows) {
    const auto summary = r["summary_picks"].get<double>();
    const auto picks = summary + r["full_row_picks"].get<double>();
    std::printf(
        "%5d %5s %12.1f %12s %9s %9s %9.0f %10.0f %s\n", r["batch"].get<int>(),
        r["dtype"].get<std::string>().c_str(), r["prefill_tok_s"].get<double>(),
        cell(r["decode_tok_s"], 1).c_str(), cell(r["ms_per_token_p50"], 2).c_str(),
        cell(r["ms_per_token_p99"], 2).c_str(), r["peak_rss_mb"].get<double>(),
        r["peak_device_mb"].get<double>(),
        host_sampling
            ? "host sampling"
            : (std::to_string(static_cast<int>(picks > 0 ? 100.0 * summary / picks : 0.0)) + " %")
                  .c_str());
  }
  auto print_profile = [](const std::string& title, const nlohmann::json& profile) {
    std::printf("\n%s (timestamps around each dispatch):\n", title.c_str());
    for (const auto& p : profile)
      std::printf("  %-12s %8.3f ms  (%d dispatches)\n", p["op"].get<std::string>().c_str(),
                  p["ms"].get<double>(), p["dispatches"].get<int>());
  };
  if (vm.count("profile"))
    for (const auto& r : rows) {
      const auto batch = std::to_string(r["batch"].get<int>());
      print_profile("prefill pass profile, batch " + batch + " of " +
                        std::to_string(prompt_tokens) + " tokens",
                    r["profile_prefill_pass"]);
      if (r.contains("profile_decode_step"))
        print_profile("decode step profile, batch " + batch, r["profile_decode_step"]);
    }

  return 0;
}

}  // namespace sg::cli
