// `stagegate generate`: continue a prompt, streaming the text as it is produced.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/model_setup.hpp"
#include "common/errors.hpp"
#include "engine/generator.hpp"
#include "memorization/leakage_filter.hpp"

namespace sg::cli {

namespace {

engine::SamplingParams sampling_from(const po::variables_map& vm,
                                     const model::GenerationDefaults& defaults) {
  engine::SamplingParams p;
  // generation_config.json supplies defaults; flags win.
  if (defaults.temperature) p.temperature = *defaults.temperature;
  if (defaults.top_k) p.top_k = *defaults.top_k;
  if (defaults.top_p) p.top_p = *defaults.top_p;
  if (defaults.repetition_penalty) p.repetition_penalty = *defaults.repetition_penalty;
  if (defaults.max_new_tokens) p.max_tokens = *defaults.max_new_tokens;
  if (defaults.do_sample && !*defaults.do_sample) p.temperature = 0;
  if (vm.count("temperature")) p.temperature = vm["temperature"].as<float>();
  if (vm.count("top-k")) p.top_k = vm["top-k"].as<int>();
  if (vm.count("top-p")) p.top_p = vm["top-p"].as<float>();
  if (vm.count("repetition-penalty")) p.repetition_penalty = vm["repetition-penalty"].as<float>();
  if (vm.count("no-repeat-ngram")) p.no_repeat_ngram = vm["no-repeat-ngram"].as<int>();
  if (vm.count("max-tokens")) p.max_tokens = vm["max-tokens"].as<int>();
  p.ignore_eos = vm.count("ignore-eos") > 0;
  if (p.temperature < 0) throw UsageError("--temperature must be >= 0 (0 is greedy)");
  if (p.top_k < 0) throw UsageError("--top-k must be >= 0 (0 is off)");
  if (!(p.top_p > 0 && p.top_p <= 1)) throw UsageError("--top-p must be in (0, 1]");
  if (!(p.repetition_penalty > 0)) throw UsageError("--repetition-penalty must be > 0");
  if (p.no_repeat_ngram < 0) throw UsageError("--no-repeat-ngram must be >= 0");
  if (p.max_tokens < 0) throw UsageError("--max-tokens must be >= 0");
  return p;
}

// --leakage-index / --leakage-n: the verbatim-leakage filter, or null.
std::shared_ptr<const engine::OutputFilterFactory> leakage_filter_from(
    const po::variables_map& vm) {
  namespace mem = detectors::memorization;
  if (!vm.count("leakage-index")) {
    if (vm.count("leakage-n")) throw UsageError("--leakage-n needs --leakage-index");
    return nullptr;
  }
  const int n =
      vm.count("leakage-n") ? vm["leakage-n"].as<int>() : static_cast<int>(mem::kDefaultLeakageN);
  if (n < 1) throw UsageError("--leakage-n must be at least 1");
  return mem::leakage_filter_for_model(vm["leakage-index"].as<std::string>(),
                                       static_cast<std::uint32_t>(n),
                                       vm["model"].as<std::string>());
}

// What the output filters did: {filter, action, position, detail}.
nlohmann::json filter_events_json(const std::vector<engine::FilterEvent>& events) {
  auto out = nlohmann::json::array();
  for (const auto& e : events)
    out.push_back({{"filter", e.filter},
                   {"action", e.action},
                   {"position", e.position},
                   {"detail", nlohmann::json::parse(e.detail_json)}});
  return out;
}

}  // namespace

int cmd_generate(const Args& args) {
  po::options_description desc("stagegate generate");
  add_model_options(desc);
  desc.add_options()("help,h", "show this help")("prompt", po::value<std::string>(), "prompt text")(
      "ids", po::value<std::string>(), "prompt as token ids, e.g. 464,3290")(
      "max-tokens", po::value<int>(), "new tokens at most (default 64)")(
      "temperature", po::value<float>(), "sampling temperature; 0 is greedy (default 1)")(
      "top-k", po::value<int>(), "keep the k most likely tokens (default off)")(
      "top-p", po::value<float>(), "nucleus sampling mass (default 1)")(
      "repetition-penalty", po::value<float>(), "CTRL repetition penalty (default 1: off)")(
      "no-repeat-ngram", po::value<int>(), "forbid repeating any n-gram of this size")(
      "seed", po::value<std::uint64_t>(), "random seed (default: drawn, reported by --json)")(
      "ignore-eos", "do not stop at the end-of-text token")(
      "leakage-index", po::value<std::string>(),
      "corpus index (.sgidx): never emit a span of --leakage-n tokens found in it")(
      "leakage-n", po::value<int>(), "span length the leakage filter blocks (default 32)")(
      "json", "print {tokens, text, logprobs, finish_reason, seed, events} instead of streaming");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate generate --model DIR (--prompt P | --ids 1,2,3) "
                    "[--max-tokens N] [--temperature T --top-k K --top-p P --seed S "
                    "--ignore-eos] [--leakage-index F.sgidx --leakage-n N] [--json]"))
    return 0;

  // Checked before the model is uploaded: an index of another tokenizer is refused.
  auto leakage = leakage_filter_from(vm);

  engine::EngineOptions size;
  auto m = load_model(vm, size);
  auto params = sampling_from(vm, model::load_generation_defaults(m.checkpoint->dir()));
  if (leakage) params.filters.push_back(std::move(leakage));
  params.seed = vm.count("seed") ? vm["seed"].as<std::uint64_t>() : engine::random_seed();
  auto prompt = ids_from(vm, m, "prompt");
  auto eos = m.checkpoint->config().eos_token_id;
  if (prompt.empty()) {
    // An empty prompt starts from the end-of-text token, as GPT-2's unconditional samples do.
    if (!eos) throw InputError("--prompt: empty, and this model has no end-of-text token");
    prompt.push_back(*eos);
  }

  const bool json = vm.count("json") > 0;
  std::optional<tokenizer::StreamDecoder> stream;
  if (!json && m.tokenizer) stream.emplace(*m.tokenizer);
  bool first = true;
  engine::Generator generator(*m.engine, eos);
  std::vector<engine::GenerationRequest> requests{{prompt, params}};
  auto results = generator.run(requests, [&](std::size_t, std::int32_t token) {
    if (json) return;
    if (stream) {
      std::cout << stream->push(token) << std::flush;
    } else {
      std::cout << (first ? "" : ",") << token << std::flush;
      first = false;
    }
  });
  const auto& r = results.front();
  if (json) {
    nlohmann::json out{{"tokens", r.tokens},
                       {"text", m.tokenizer ? m.tokenizer->decode(r.tokens) : std::string()},
                       {"logprobs", r.logprobs},
                       {"finish_reason", r.finish_reason},
                       {"seed", params.seed},
                       {"events", filter_events_json(r.events)}};
    std::cout << out.dump() << "\n";
  } else {
    if (stream) std::cout << stream->finish();
    std::cout << "\n";
  }
  return 0;
}

}  // namespace sg::cli
