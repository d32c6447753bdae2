// `stagegate toxicity`: a toxicity scorer (detectors/toxicity: the lexicon, a classifier
// checkpoint or self-diagnosis) on a text or on each line of a JSON-lines file; per text its
// score, whether it reaches the threshold, and the lexicon's matched terms with their byte
// spans in the text as given.
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command_models.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "common/errors.hpp"
#include "common/progress.hpp"
#include "toxicity/scorer.hpp"

namespace sg::cli {

namespace {

using nlohmann::json;
using Ordered = nlohmann::ordered_json;  // keys in the documented order
namespace tox = detectors::toxicity;

constexpr std::size_t kBatch = 64;  // texts per scorer call (engine scorers batch them)

Ordered score_json(const tox::Score& s, double threshold) {
  Ordered matches = Ordered::array();
  for (const auto& m : s.matches)
    matches.push_back(
        {{"term", m.term}, {"start", m.start}, {"end", m.end}, {"severity", m.severity}});
  Ordered out{{"score", s.value}, {"toxic", s.value >= threshold}, {"matches", matches}};
  const auto detail = Ordered::parse(s.detail_json);
  if (!detail.empty()) out["detail"] = detail;
  return out;
}

std::string score_line(const tox::Score& s, double threshold, std::string_view text) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(4) << s.value << "  "
      << (s.value >= threshold ? "toxic" : "not toxic");
  for (const auto& m : s.matches)
    out << "  " << m.term << " (severity " << m.severity << ") at " << m.start << "-" << m.end
        << " '"
        << text.substr(static_cast<std::size_t>(m.start), static_cast<std::size_t>(m.end - m.start))
        << "'";
  return out.str();
}

// The "text" of each {"text": ...} line of `path` ('-': standard input); every line is read
// before any is scored, so a bad line stops the command before it prints anything.
std::vector<std::string> read_texts(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) throw InputError(path + ": cannot be read");
    in = &file;
  }
  const std::string name = path == "-" ? "<stdin>" : path;
  std::vector<std::string> texts;
  std::string line;
  for (int number = 1; std::getline(*in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto where = name + ":" + std::to_string(number);
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      throw InputError(where + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
      throw InputError(where + ": expected an object with \"text\" (a string)");
    texts.push_back(j["text"].get<std::string>());
  }
  if (in->bad()) throw InputError(name + ": read failed");
  return texts;
}

}  // namespace

int cmd_toxicity(const Args& args) {
  po::options_description desc("stagegate toxicity");
  desc.add_options()("help,h", "show this help")("text", po::value<std::string>(), "text to score")(
      "input", po::value<std::string>(),
      "JSON lines ('-' for standard input): {\"text\": ...} per line; one line out each")(
      "scorer", po::value<std::string>()->default_value("lexicon"),
      "lexicon (built-in word lists), classifier:DIR (a sequence-classification checkpoint) "
      "or self:DIR (the model in DIR judges the text itself)")(
      "threshold", po::value<double>()->default_value(0.5),
      "a text is toxic when its score is at least this")(
      "json", "print each text's result as one JSON object")(
      "device", po::value<int>(), "Vulkan device index for checkpoint scorers")(
      "dtype", po::value<std::string>(), "weight storage for checkpoint scorers: f16 or f32");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate toxicity (--text T | --input F.jsonl) [--scorer lexicon | "
                    "classifier:DIR | self:DIR] [--threshold X] [--json]"))
    return 0;
  if (vm.count("text") + vm.count("input") != 1)
    throw UsageError("give exactly one of --text, --input");
  const double threshold = vm["threshold"].as<double>();
  if (!(threshold >= 0 && threshold <= 1)) throw UsageError("--threshold must be between 0 and 1");
  const auto spec = tox::parse_scorer_spec(vm["scorer"].as<std::string>());
  if (spec.kind == "self" && spec.dir.empty())
    throw UsageError("--scorer self: name the model that judges, self:DIR");

  engine::EngineOptions engine_options;
  engine_options.max_sequences = 8;
  if (vm.count("dtype")) {
    const auto d = vm["dtype"].as<std::string>();
    if (d != "f16" && d != "f32") throw UsageError("--dtype must be f16 or f32, not '" + d + "'");
    engine_options.dtype = d == "f16" ? engine::WeightType::kF16 : engine::WeightType::kF32;
  }
  CommandModels models(vm.count("device") ? std::optional(vm["device"].as<int>()) : std::nullopt,
                       engine_options);
  const auto scorer = tox::make_scorer(spec, tox::ScorerContext{&models, nullptr});

  const std::vector<std::string> texts =
      vm.count("text") ? std::vector<std::string>{vm["text"].as<std::string>()}
                       : read_texts(vm["input"].as<std::string>());
  const bool as_json = vm.count("json") > 0;
  ProgressBar progress("scoring", texts.size(), "texts");
  for (std::size_t first = 0; first < texts.size(); first += kBatch) {
    const auto count = std::min(kBatch, texts.size() - first);
    std::vector<std::string_view> batch(texts.begin() + static_cast<std::ptrdiff_t>(first),
                                        texts.begin() + static_cast<std::ptrdiff_t>(first + count));
    const auto scores = scorer->score(batch);
    if (scores.size() != count)
      throw RuntimeError("scorer " + tox::to_string(spec) + " returned " +
                         std::to_string(scores.size()) + " scores for " + std::to_string(count) +
                         " texts");
    for (std::size_t i = 0; i < count; ++i)
      std::cout << (as_json ? score_json(scores[i], threshold)
                                  .dump(-1, ' ', false, Ordered::error_handler_t::replace)
                            : score_line(scores[i], threshold, batch[i]))
                << "\n";
    progress.advance(count);
  }
  progress.finish();
  return 0;
}

}  // namespace sg::cli
