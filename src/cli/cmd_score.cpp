// `stagegate score`: log-probability of each token given the ones before it, and perplexity.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/model_setup.hpp"
#include "common/errors.hpp"
#include "engine/scorer.hpp"

namespace sg::cli {

int cmd_score(const Args& args) {
  po::options_description desc("stagegate score");
  add_model_options(desc);
  desc.add_options()("help,h", "show this help")("text", po::value<std::string>(), "text to score")(
      "text-file", po::value<std::string>(), "file whose whole content is scored")(
      "ids", po::value<std::string>(), "token ids to score, e.g. 464,3290,318")(
      "stride", po::value<int>()->default_value(0),
      "sliding-window stride for texts longer than the context (default: half the context)")(
      "prepend-eos",
      "score the first token too, after the end-of-text token (lm-eval's convention); by "
      "default the first token is context only, as in Hugging Face's perplexity guide")(
      "json", "print one JSON object: tokens, logprobs, total_logprob, perplexity");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate score --model DIR (--text T | --text-file F | --ids 1,2,3) "
                    "[--stride S] [--prepend-eos] [--json]"))
    return 0;
  if (vm["stride"].as<int>() < 0) throw UsageError("--stride must be positive");

  engine::EngineOptions size;
  auto m = load_model(vm, size);
  auto tokens = ids_from(vm, m, "text", "text-file");
  if (vm.count("prepend-eos")) {
    auto eos = m.checkpoint->config().eos_token_id;
    if (!eos) throw InputError("--prepend-eos: this model has no end-of-text token");
    tokens.insert(tokens.begin(), *eos);
  }
  auto result = engine::score(*m.engine, tokens, vm["stride"].as<int>());

  if (vm.count("json")) {
    nlohmann::json out{{"tokens", tokens},
                       {"logprobs", result.logprobs},
                       {"total_logprob", result.total_logprob},
                       {"perplexity", result.perplexity}};
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "tokens: " << tokens.size() << " (" << result.logprobs.size() << " scored)\n"
              << "total logprob: " << result.total_logprob << "\n"
              << "perplexity: " << result.perplexity << "\n";
  }
  return 0;
}

}  // namespace sg::cli
