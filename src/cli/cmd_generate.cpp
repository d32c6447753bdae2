// `stagegate generate`: continue a prompt, streaming the text as it is produced.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "audit/decoding.hpp"
#include "audit/run_context.hpp"
#include "cli/commands.hpp"
#include "cli/generate_gate.hpp"
#include "cli/model_setup.hpp"
#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "engine/generator.hpp"
#include "memorization/leakage_filter.hpp"

namespace sg::cli {

namespace {

// The flag of a decoding key: its name with dashes (one older flag is shorter).
std::string flag_of(const std::string& key) {
  if (key == "no_repeat_ngram_size") return "no-repeat-ngram";
  // One flag turns the toxicity filter on and names its action.
  if (key == "filters" || key == "toxicity_action") return "toxicity-filter";
  std::string flag = key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

// A decoding problem's message in the command line's words: the keys it names as flags.
std::string in_flag_words(std::string message) {
  auto keys = audit::decoding_keys();
  // Longest first, so that no key is replaced inside a longer one.
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.name.size() > b.name.size(); });
  for (const auto& k : keys)
    for (auto at = message.find(k.name); at != std::string::npos; at = message.find(k.name, at + 1))
      message.replace(at, k.name.size(), "--" + flag_of(k.name));
  return message;
}

// generation_config.json supplies defaults; flags win. The keys the flags gave are `set`
// (checked with the policy's filters applied, by audit::check_decoding).
release::FilteredDecoding decoding_from(const po::variables_map& vm,
                                        const model::GenerationDefaults& defaults) {
  audit::Decoding d;
  if (defaults.temperature) d.temperature = *defaults.temperature;
  if (defaults.top_k) d.top_k = *defaults.top_k;
  if (defaults.top_p) d.top_p = *defaults.top_p;
  if (defaults.repetition_penalty) d.repetition_penalty = *defaults.repetition_penalty;
  if (defaults.max_new_tokens) d.max_tokens = *defaults.max_new_tokens;
  if (defaults.do_sample && !*defaults.do_sample) d.temperature = 0;
  std::vector<std::string> set;
  auto read = [&](const char* key, auto& field) {
    const auto flag = flag_of(key);
    if (!vm.count(flag)) return;
    set.push_back(key);
    using T = std::remove_reference_t<decltype(field)>;
    if constexpr (std::is_floating_point_v<T>)
      field = vm[flag].as<double>();
    else
      field = vm[flag].as<std::int64_t>();
  };
  read("max_tokens", d.max_tokens);
  read("temperature", d.temperature);
  read("top_k", d.top_k);
  read("top_p", d.top_p);
  read("repetition_penalty", d.repetition_penalty);
  read("no_repeat_ngram_size", d.no_repeat_ngram_size);
  read("presence_penalty", d.presence_penalty);
  read("frequency_penalty", d.frequency_penalty);
  read("dry_multiplier", d.dry_multiplier);
  read("dry_base", d.dry_base);
  read("dry_allowed_length", d.dry_allowed_length);
  read("dry_penalty_last_n", d.dry_penalty_last_n);
  if (vm.count("dry-sequence-breakers")) {
    set.push_back("dry_sequence_breakers");
    try {
      d.dry_sequence_breakers =
          audit::parse_breakers(vm["dry-sequence-breakers"].as<std::string>());
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--dry-sequence-breakers: ") + e.what());
    }
  }
  d.stop_on_loop = vm.count("stop-on-loop") > 0;
  read("loop_min_period", d.loop_min_period);
  read("loop_max_period", d.loop_max_period);
  read("loop_min_repeats", d.loop_min_repeats);
  read("loop_min_length", d.loop_min_length);
  if (vm.count("toxicity-filter")) {
    set.insert(set.end(), {"filters", "toxicity_action"});
    d.filters = {"toxicity"};
    d.toxicity_action = vm["toxicity-filter"].as<std::string>();
  }
  if (vm.count("toxicity-scorer")) {
    set.push_back("toxicity_scorer");
    d.toxicity_scorer = vm["toxicity-scorer"].as<std::string>();
  }
  read("toxicity_threshold", d.toxicity_threshold);
  read("toxicity_retries", d.toxicity_retries);
  read("toxicity_block_severity", d.toxicity_block_severity);
  return {d, set, {}};
}

// The same ranges and rules as an audit plan's [strategy.NAME] (audit/decoding.hpp).
void check(const release::FilteredDecoding& d, const GenerateGate* gate) {
  if (auto problem = audit::check_decoding(d.decoding, d.set))
    throw UsageError("--" + flag_of(problem->key) + ": " + in_flag_words(problem->message) +
                     (gate ? " (with the policy's filters: " + gate->filter_list() + ")" : ""));
}

// What the request log keeps of the prompt: its hash, never its text.
std::string prompt_sha256(const po::variables_map& vm) {
  if (vm.count("ids"))
    return sha256_hex(ids_to_json(parse_ids(vm["ids"].as<std::string>(), "--ids")));
  if (vm.count("prompt")) return sha256_hex(vm["prompt"].as<std::string>());
  throw UsageError("give the input with --ids or --prompt");
}

// --leakage-index / --leakage-n: the verbatim-leakage filter, or null.
std::shared_ptr<const engine::OutputFilterFactory> leakage_filter_from(
    const po::variables_map& vm, const std::string& model_dir) {
  namespace mem = detectors::memorization;
  if (!vm.count("leakage-index")) {
    if (vm.count("leakage-n")) throw UsageError("--leakage-n needs --leakage-index");
    return nullptr;
  }
  const int n =
      vm.count("leakage-n") ? vm["leakage-n"].as<int>() : static_cast<int>(mem::kDefaultLeakageN);
  if (n < 1) throw UsageError("--leakage-n must be at least 1");
  return mem::leakage_filter_for_model(vm["leakage-index"].as<std::string>(),
                                       static_cast<std::uint32_t>(n), model_dir);
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
  add_model_options(desc, false);
  add_gate_options(desc);
  desc.add_options()("help,h", "show this help")("prompt", po::value<std::string>(), "prompt text")(
      "ids", po::value<std::string>(), "prompt as token ids, e.g. 464,3290")(
      "max-tokens", po::value<std::int64_t>(), "new tokens at most (default 64)")(
      "temperature", po::value<double>(), "sampling temperature; 0 is greedy (default 1)")(
      "top-k", po::value<std::int64_t>(), "keep the k most likely tokens (default off)")(
      "top-p", po::value<double>(), "nucleus sampling mass (default 1)")(
      "repetition-penalty", po::value<double>(), "CTRL repetition penalty (default 1: off)")(
      "no-repeat-ngram", po::value<std::int64_t>(), "forbid repeating any n-gram of this size")(
      "presence-penalty", po::value<double>(),
      "OpenAI presence penalty in [-2, 2]: minus this for every token the output holds")(
      "frequency-penalty", po::value<double>(),
      "OpenAI frequency penalty in [-2, 2]: minus this per occurrence in the output")(
      "dry-multiplier", po::value<double>(), "DRY penalty multiplier (default 0: off)")(
      "dry-base", po::value<double>(), "DRY: growth per token of a repeat (default 1.75)")(
      "dry-allowed-length", po::value<std::int64_t>(),
      "DRY: repeats this long go unpenalized (default 2)")(
      "dry-penalty-last-n", po::value<std::int64_t>(),
      "DRY: tokens of prompt + output scanned (default -1: all)")(
      "dry-sequence-breakers", po::value<std::string>(),
      "DRY: JSON array of strings that end repeats (default [\"\\n\", \":\", \"\\\"\", \"*\"])")(
      "stop-on-loop", "end with finish_reason \"loop\" once the output loops")(
      "loop-min-period", po::value<std::int64_t>(), "loop stop: shortest period (default 1)")(
      "loop-max-period", po::value<std::int64_t>(), "loop stop: longest period (default 256)")(
      "loop-min-repeats", po::value<std::int64_t>(),
      "loop stop: periods the loop spans at least (default 3)")(
      "loop-min-length", po::value<std::int64_t>(),
      "loop stop: tokens the loop spans at least (default 16)")(
      "seed", po::value<std::uint64_t>(), "random seed (default: drawn, reported by --json)")(
      "ignore-eos", "do not stop at the end-of-text token")(
      "leakage-index", po::value<std::string>(),
      "corpus index (.sgidx): never emit a span of --leakage-n tokens found in it")(
      "leakage-n", po::value<int>(), "span length the leakage filter blocks (default 32)")(
      "toxicity-filter", po::value<std::string>(),
      "judge the whole completion with the toxicity scorer and, at the threshold or above, "
      "refuse | regenerate | redact it")(
      "toxicity-scorer", po::value<std::string>(),
      "the filter's scorer: lexicon (default), classifier:DIR, self, self:DIR")(
      "toxicity-threshold", po::value<double>(),
      "the filter acts at this score or above "
      "(default 0.5)")("toxicity-retries", po::value<std::int64_t>(),
                       "regenerate: tries after the first before refusing (default 3)")(
      "toxicity-block-severity", po::value<std::int64_t>(),
      "block any token completing a lexicon term of this severity or worse (default 0: off)")(
      "json", "print {tokens, text, logprobs, finish_reason, seed, events} instead of streaming");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate generate (--model DIR | --policy FILE --db FILE "
                    "--stage NAME --audience NAME) (--prompt P | --ids 1,2,3) "
                    "[--max-tokens N] [--temperature T --top-k K --top-p P --seed S "
                    "--ignore-eos] [repetition controls: --presence-penalty, --dry-multiplier, "
                    "--stop-on-loop, ...] [--leakage-index F.sgidx --leakage-n N] "
                    "[--toxicity-filter refuse|regenerate|redact --toxicity-scorer SPEC ...] "
                    "[--json]"))
    return 0;

  // With --policy, the gate comes first: a refused request loads nothing.
  std::unique_ptr<GenerateGate> gate;
  if (gate_requested(vm)) {
    const std::int64_t prompt_ids =
        vm.count("ids")
            ? static_cast<std::int64_t>(parse_ids(vm["ids"].as<std::string>(), "--ids").size())
            : 0;
    gate = std::make_unique<GenerateGate>(vm, prompt_sha256(vm), prompt_ids);
    vm.insert({"model", po::variable_value(boost::any(gate->model_dir().string()), false)});
  }
  const auto model_dir = vm["model"].as<std::string>();

  // Checked before the model is uploaded: an index of another tokenizer is refused.
  std::vector<std::shared_ptr<const engine::OutputFilterFactory>> leakage;
  if (auto requested = leakage_filter_from(vm, model_dir)) leakage.push_back(requested);
  if (gate)
    for (auto& f : gate->leakage_filters()) leakage.push_back(std::move(f));

  // Settings are checked before the weights are uploaded; a policy's filters win.
  auto requested = decoding_from(vm, model::load_generation_defaults(model_dir));
  const auto filtered = gate ? gate->apply(requested.decoding, requested.set) : requested;
  check(filtered, gate.get());
  const auto& decoding = filtered.decoding;
  engine::EngineOptions size;
  auto m = load_model(vm, size);
  // A classifier (or "self", the model loaded a second time) for the toxicity filter.
  audit::RunModels models(*m.engine);
  audit::ScorerResources scorers;
  scorers.models = &models;
  scorers.audited_dir = model_dir;
  auto params = audit::sampling_params(decoding, m.tokenizer.get(), scorers);
  params.ignore_eos = vm.count("ignore-eos") > 0;
  for (auto& f : leakage) params.filters.push_back(std::move(f));
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
  std::int64_t request_id = 0;  // with --policy: the logged request
  if (gate) request_id = gate->log(filtered, r, static_cast<std::int64_t>(prompt.size()));
  if (json) {
    nlohmann::json out{
        {"tokens", r.tokens},
        {"text", m.tokenizer ? engine::delivered_text(r, *m.tokenizer) : std::string()},
        {"logprobs", r.logprobs},
        {"finish_reason", r.finish_reason},
        {"seed", params.seed},
        {"events", filter_events_json(r.events)}};
    if (gate) {
      out.update(gate->json_fields());
      out["request_id"] = request_id;
    }
    std::cout << out.dump() << "\n";
  } else {
    // A judged completion is not streamed (the engine holds its tokens back): its delivered
    // text comes whole.
    if (!params.completion_filters.empty())
      std::cout << engine::delivered_text(r, *m.tokenizer);
    else if (stream)
      std::cout << stream->finish();
    std::cout << "\n";
  }
  return 0;
}

}  // namespace sg::cli
