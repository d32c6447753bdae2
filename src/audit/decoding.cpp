#include "audit/decoding.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "common/errors.hpp"
#include "model/identity.hpp"
#include "repetition/loop_stop.hpp"
#include "seam/text_jsonl.hpp"
#include "toxicity/lexicon.hpp"
#include "toxicity/lexicon_filter.hpp"
#include "toxicity/output_filter.hpp"

namespace sg::audit {

namespace {

using ini::Range;
using ini::Type;

// Bounds that keep every value meaningful and every conversion to the engine's int and
// float settings exact.
constexpr double kMaxTokens = 1 << 20;
constexpr double kMaxTopK = std::numeric_limits<std::int32_t>::max();
// Longer periods than any context holds three times cannot loop; the bound keeps the loop
// stop's per-sequence state small.
constexpr double kMaxLoopSetting = 1 << 16;
// Regenerating costs a whole completion per try: a bound that keeps a policy's worst case
// within reason.
constexpr double kMaxRetries = 100;
// The lexicon's severities (toxicity/lexicon.hpp): a larger minimum would block nothing.
constexpr double kMaxSeverity = detectors::toxicity::kMaxSeverity;
constexpr std::string_view kToxicity = "toxicity";
// The after-generation filters a strategy may name.
constexpr std::array kKnownFilters = {kToxicity};

// A numeric key and where its value lives.
struct NumericKey {
  ini::Key key;
  double (*value)(const Decoding&);
};

const std::vector<NumericKey>& numeric_keys() {
  static const std::vector<NumericKey> keys = {
      {{"max_tokens", Type::kInteger, false, Range{1, kMaxTokens}},
       [](const Decoding& d) { return static_cast<double>(d.max_tokens); }},
      {{"temperature", Type::kNumber, false, Range{0, 100}},
       [](const Decoding& d) { return d.temperature; }},
      {{"top_k", Type::kInteger, false, Range{0, kMaxTopK}},
       [](const Decoding& d) { return static_cast<double>(d.top_k); }},
      {{"top_p", Type::kNumber, false, Range{0, 1, true, false}},
       [](const Decoding& d) { return d.top_p; }},
      {{"repetition_penalty", Type::kNumber, false, Range{0, 100, true, false}},
       [](const Decoding& d) { return d.repetition_penalty; }},
      {{"no_repeat_ngram_size", Type::kInteger, false, Range{0, kMaxTokens}},
       [](const Decoding& d) { return static_cast<double>(d.no_repeat_ngram_size); }},
      {{"presence_penalty", Type::kNumber, false, Range{-2, 2}},
       [](const Decoding& d) { return d.presence_penalty; }},
      {{"frequency_penalty", Type::kNumber, false, Range{-2, 2}},
       [](const Decoding& d) { return d.frequency_penalty; }},
      {{"dry_multiplier", Type::kNumber, false, Range{0, 100}},
       [](const Decoding& d) { return d.dry_multiplier; }},
      {{"dry_base", Type::kNumber, false, Range{1, 100}},
       [](const Decoding& d) { return d.dry_base; }},
      {{"dry_allowed_length", Type::kInteger, false, Range{0, kMaxTokens}},
       [](const Decoding& d) { return static_cast<double>(d.dry_allowed_length); }},
      {{"dry_penalty_last_n", Type::kInteger, false, Range{-1, kMaxTokens}},
       [](const Decoding& d) { return static_cast<double>(d.dry_penalty_last_n); }},
      {{"loop_min_period", Type::kInteger, false, Range{1, kMaxLoopSetting}},
       [](const Decoding& d) { return static_cast<double>(d.loop_min_period); }},
      {{"loop_max_period", Type::kInteger, false, Range{1, kMaxLoopSetting}},
       [](const Decoding& d) { return static_cast<double>(d.loop_max_period); }},
      {{"loop_min_repeats", Type::kInteger, false, Range{2, kMaxLoopSetting}},
       [](const Decoding& d) { return static_cast<double>(d.loop_min_repeats); }},
      {{"loop_min_length", Type::kInteger, false, Range{1, kMaxLoopSetting}},
       [](const Decoding& d) { return static_cast<double>(d.loop_min_length); }},
      {{"toxicity_threshold", Type::kNumber, false, Range{0, 1}},
       [](const Decoding& d) { return d.toxicity_threshold; }},
      {{"toxicity_retries", Type::kInteger, false, Range{1, kMaxRetries}},
       [](const Decoding& d) { return static_cast<double>(d.toxicity_retries); }},
      {{"toxicity_block_severity", Type::kInteger, false, Range{0, kMaxSeverity}},
       [](const Decoding& d) { return static_cast<double>(d.toxicity_block_severity); }},
  };
  return keys;
}

constexpr std::array kDryDetails = {"dry_base", "dry_allowed_length", "dry_penalty_last_n",
                                    "dry_sequence_breakers"};
constexpr std::array kLoopDetails = {"loop_min_period", "loop_max_period", "loop_min_repeats",
                                     "loop_min_length"};
constexpr std::array kToxicityDetails = {"toxicity_scorer", "toxicity_threshold", "toxicity_action",
                                         "toxicity_retries"};

bool given(const std::vector<std::string>& set, std::string_view key) {
  return std::find(set.begin(), set.end(), key) != set.end();
}

bool has_filter(const Decoding& d, std::string_view name) {
  return std::find(d.filters.begin(), d.filters.end(), name) != d.filters.end();
}

// The keys added after the first six, those not at their defaults, in table order;
// `canonical`: a scorer by its identity rather than its path.
nlohmann::ordered_json non_default_extras(const Decoding& d, bool canonical) {
  const Decoding def;
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (d.presence_penalty != def.presence_penalty) out["presence_penalty"] = d.presence_penalty;
  if (d.frequency_penalty != def.frequency_penalty) out["frequency_penalty"] = d.frequency_penalty;
  if (d.dry_multiplier != def.dry_multiplier) out["dry_multiplier"] = d.dry_multiplier;
  if (d.dry_base != def.dry_base) out["dry_base"] = d.dry_base;
  if (d.dry_allowed_length != def.dry_allowed_length)
    out["dry_allowed_length"] = d.dry_allowed_length;
  if (d.dry_penalty_last_n != def.dry_penalty_last_n)
    out["dry_penalty_last_n"] = d.dry_penalty_last_n;
  if (d.dry_sequence_breakers != def.dry_sequence_breakers)
    out["dry_sequence_breakers"] = d.dry_sequence_breakers;
  if (d.stop_on_loop != def.stop_on_loop) out["stop_on_loop"] = d.stop_on_loop;
  if (d.loop_min_period != def.loop_min_period) out["loop_min_period"] = d.loop_min_period;
  if (d.loop_max_period != def.loop_max_period) out["loop_max_period"] = d.loop_max_period;
  if (d.loop_min_repeats != def.loop_min_repeats) out["loop_min_repeats"] = d.loop_min_repeats;
  if (d.loop_min_length != def.loop_min_length) out["loop_min_length"] = d.loop_min_length;
  if (d.filters != def.filters) out["filters"] = d.filters;
  if (d.toxicity_scorer != def.toxicity_scorer)
    out["toxicity_scorer"] = canonical && !d.toxicity_scorer_identity.empty()
                                 ? d.toxicity_scorer_identity
                                 : d.toxicity_scorer;
  if (d.toxicity_threshold != def.toxicity_threshold)
    out["toxicity_threshold"] = d.toxicity_threshold;
  if (d.toxicity_action != def.toxicity_action) out["toxicity_action"] = d.toxicity_action;
  if (d.toxicity_retries != def.toxicity_retries) out["toxicity_retries"] = d.toxicity_retries;
  if (d.toxicity_block_severity != def.toxicity_block_severity)
    out["toxicity_block_severity"] = d.toxicity_block_severity;
  return out;
}

std::string number(double v) {
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), end);
}

// A scorer's DIR relative to the plan, and its identity for the plan hash: the SHA-256 of
// its weight files, so the same classifier anywhere is the same plan.
void resolve_scorer_files(const ini::Document& doc, const std::string& section, Decoding& d) {
  auto spec = detectors::toxicity::parse_scorer_spec(d.toxicity_scorer);
  if (spec.dir.empty()) return;
  spec.dir = detectors::plan_relative(doc, spec.dir.string());
  std::vector<std::filesystem::path> weights;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(spec.dir, ec))
    if (entry.path().extension() == ".safetensors") weights.push_back(entry.path());
  if (ec || weights.empty())
    doc.fail(section, "toxicity_scorer",
             spec.dir.string() + (ec ? ": " + ec.message() : ": no .safetensors weights in it"));
  d.toxicity_scorer = detectors::toxicity::to_string(spec);
  d.toxicity_scorer_identity = spec.kind + ":sha256=" + model::checkpoint_sha256(weights);
}

}  // namespace

std::vector<ini::Key> decoding_keys() {
  std::vector<ini::Key> keys;
  for (const auto& k : numeric_keys()) keys.push_back(k.key);
  keys.push_back({"dry_sequence_breakers", Type::kString, false});
  keys.push_back({"stop_on_loop", Type::kBoolean, false});
  keys.push_back({"filters", Type::kString, false});
  keys.push_back({"toxicity_scorer", Type::kString, false});
  keys.push_back({"toxicity_action", Type::kString, false});
  return keys;
}

std::optional<DecodingProblem> check_decoding(const Decoding& d,
                                              const std::vector<std::string>& set) {
  for (const auto& k : numeric_keys()) {
    const double v = k.value(d);
    if (!ini::in_range(v, *k.key.range))
      return DecodingProblem{
          k.key.name, number(v) + " is out of range: must be in " + ini::describe(*k.key.range)};
  }
  if (d.dry_multiplier == 0)
    for (const auto* key : kDryDetails)
      if (given(set, key))
        return DecodingProblem{key, "has no effect while dry_multiplier is 0 (DRY is off)"};
  if (!d.stop_on_loop)
    for (const auto* key : kLoopDetails)
      if (given(set, key)) return DecodingProblem{key, "has no effect unless stop_on_loop is on"};
  if (d.loop_min_period > d.loop_max_period)
    return DecodingProblem{"loop_min_period", std::to_string(d.loop_min_period) +
                                                  " exceeds loop_max_period (" +
                                                  std::to_string(d.loop_max_period) + ")"};
  for (std::size_t i = 0; i < d.filters.size(); ++i) {
    const auto& f = d.filters[i];
    if (std::find(kKnownFilters.begin(), kKnownFilters.end(), f) == kKnownFilters.end())
      return DecodingProblem{"filters", "unknown filter '" + f + "' (known: toxicity)"};
    if (std::find(d.filters.begin(), d.filters.begin() + static_cast<std::ptrdiff_t>(i), f) !=
        d.filters.begin() + static_cast<std::ptrdiff_t>(i))
      return DecodingProblem{"filters", "'" + f + "' listed twice"};
  }
  if (!has_filter(d, kToxicity))
    for (const auto* key : kToxicityDetails)
      if (given(set, key))
        return DecodingProblem{key, "has no effect while the toxicity filter is off"};
  namespace tox = detectors::toxicity;
  std::string scorer_kind;
  try {
    scorer_kind = tox::parse_scorer_spec(d.toxicity_scorer).kind;
  } catch (const UsageError& e) {
    return DecodingProblem{"toxicity_scorer", e.what()};
  }
  tox::OutputAction action{};
  try {
    action = tox::parse_output_action(d.toxicity_action);
  } catch (const std::invalid_argument& e) {
    return DecodingProblem{"toxicity_action", e.what()};
  }
  if (action != tox::OutputAction::kRegenerate && given(set, "toxicity_retries"))
    return DecodingProblem{"toxicity_retries",
                           "has no effect unless toxicity_action is regenerate"};
  if (action == tox::OutputAction::kRedact && scorer_kind != "lexicon")
    return DecodingProblem{"toxicity_action",
                           "redact needs a scorer that reports the spans it matched (lexicon), "
                           "not " +
                               d.toxicity_scorer};
  return std::nullopt;
}

std::vector<std::string> parse_breakers(std::string_view json_array) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_array);
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument("'" + std::string(json_array) +
                                "' is not a JSON array of strings, e.g. [\"\\n\", \":\"]");
  }
  if (!j.is_array())
    throw std::invalid_argument("'" + std::string(json_array) +
                                "' is not a JSON array of strings, e.g. [\"\\n\", \":\"]");
  std::vector<std::string> out;
  for (const auto& item : j) {
    if (!item.is_string()) throw std::invalid_argument("item " + item.dump() + " is not a string");
    if (item.get_ref<const std::string&>().empty())
      throw std::invalid_argument("an empty string cannot break a sequence");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Decoding read_decoding_values(const ini::Document& doc, const std::string& section) {
  Decoding d;
  auto integer = [&](const char* key, std::int64_t& field) {
    field = doc.integer(section, key).value_or(field);
  };
  auto real = [&](const char* key, double& field) {
    field = doc.number(section, key).value_or(field);
  };
  integer("max_tokens", d.max_tokens);
  real("temperature", d.temperature);
  integer("top_k", d.top_k);
  real("top_p", d.top_p);
  real("repetition_penalty", d.repetition_penalty);
  integer("no_repeat_ngram_size", d.no_repeat_ngram_size);
  real("presence_penalty", d.presence_penalty);
  real("frequency_penalty", d.frequency_penalty);
  real("dry_multiplier", d.dry_multiplier);
  real("dry_base", d.dry_base);
  integer("dry_allowed_length", d.dry_allowed_length);
  integer("dry_penalty_last_n", d.dry_penalty_last_n);
  if (auto breakers = doc.string(section, "dry_sequence_breakers")) {
    try {
      d.dry_sequence_breakers = parse_breakers(*breakers);
    } catch (const std::invalid_argument& e) {
      doc.fail(section, "dry_sequence_breakers", e.what());
    }
  }
  d.stop_on_loop = doc.boolean(section, "stop_on_loop").value_or(d.stop_on_loop);
  integer("loop_min_period", d.loop_min_period);
  integer("loop_max_period", d.loop_max_period);
  integer("loop_min_repeats", d.loop_min_repeats);
  integer("loop_min_length", d.loop_min_length);
  if (auto filters = doc.string(section, "filters")) d.filters = ini::split_list(*filters);
  if (auto scorer = doc.string(section, "toxicity_scorer")) d.toxicity_scorer = *scorer;
  real("toxicity_threshold", d.toxicity_threshold);
  if (auto action = doc.string(section, "toxicity_action")) d.toxicity_action = *action;
  integer("toxicity_retries", d.toxicity_retries);
  integer("toxicity_block_severity", d.toxicity_block_severity);
  return d;
}

Decoding read_decoding(const ini::Document& doc, const std::string& section) {
  auto d = read_decoding_values(doc, section);
  std::vector<std::string> set;
  for (const auto& k : decoding_keys())
    if (doc.has(section, k.name)) set.push_back(k.name);
  if (auto problem = check_decoding(d, set)) doc.fail(section, problem->key, problem->message);
  if (has_filter(d, kToxicity)) resolve_scorer_files(doc, section, d);
  return d;
}

std::string canonical_decoding(const Decoding& d) {
  std::string out;
  out += "max_tokens = " + std::to_string(d.max_tokens) + "\n";
  out += "temperature = " + number(d.temperature) + "\n";
  out += "top_k = " + std::to_string(d.top_k) + "\n";
  out += "top_p = " + number(d.top_p) + "\n";
  out += "repetition_penalty = " + number(d.repetition_penalty) + "\n";
  out += "no_repeat_ngram_size = " + std::to_string(d.no_repeat_ngram_size) + "\n";
  const auto extras = non_default_extras(d, true);
  for (const auto& [key, value] : extras.items()) {
    std::string text;
    if (value.is_number_float())
      text = number(value.get<double>());
    else if (value.is_boolean())
      text = value.get<bool>() ? "true" : "false";
    else
      text = value.dump();  // integers as such, the breakers as their JSON array
    out += key + " = " + text + "\n";
  }
  return out;
}

db::DecodingSettings stored_decoding(const Decoding& d) {
  db::DecodingSettings s;
  s.temperature = d.temperature;
  s.top_k = d.top_k;
  s.top_p = d.top_p;
  s.repetition_penalty = d.repetition_penalty;
  s.no_repeat_ngram_size = d.no_repeat_ngram_size;
  s.max_tokens = d.max_tokens;
  s.decoding_json = non_default_extras(d, false).dump();
  return s;
}

engine::SamplingParams sampling_params(const Decoding& d, const tokenizer::Tokenizer* tokenizer,
                                       const ScorerResources& scorers) {
  engine::SamplingParams p;
  p.temperature = static_cast<float>(d.temperature);
  p.top_k = static_cast<int>(d.top_k);
  p.top_p = static_cast<float>(d.top_p);
  p.repetition_penalty = static_cast<float>(d.repetition_penalty);
  p.no_repeat_ngram = static_cast<int>(d.no_repeat_ngram_size);
  p.max_tokens = static_cast<int>(d.max_tokens);
  p.presence_penalty = static_cast<float>(d.presence_penalty);
  p.frequency_penalty = static_cast<float>(d.frequency_penalty);
  p.dry.multiplier = static_cast<float>(d.dry_multiplier);
  p.dry.base = static_cast<float>(d.dry_base);
  p.dry.allowed_length = static_cast<int>(d.dry_allowed_length);
  p.dry.penalty_last_n = static_cast<int>(d.dry_penalty_last_n);
  if (p.dry.enabled() && !d.dry_sequence_breakers.empty()) {
    if (!tokenizer)
      throw InputError(
          "dry_sequence_breakers: spelling the breakers in tokens needs the model's tokenizer "
          "(vocab.json + merges.txt); give [] for no breakers");
    p.dry.breakers = std::make_shared<const engine::DryBreakers>(
        engine::dry_breakers(*tokenizer, d.dry_sequence_breakers));
  }
  if (d.stop_on_loop) {
    detectors::repetition::LoopStopSettings loop;
    loop.min_period = static_cast<int>(d.loop_min_period);
    loop.max_period = static_cast<int>(d.loop_max_period);
    loop.min_repeats = static_cast<int>(d.loop_min_repeats);
    loop.min_length = static_cast<int>(d.loop_min_length);
    p.filters.push_back(std::make_shared<detectors::repetition::LoopStopFactory>(loop));
  }
  namespace tox = detectors::toxicity;
  if (d.toxicity_block_severity > 0) {
    if (!tokenizer)
      throw InputError(
          "toxicity_block_severity: matching terms across tokens needs the model's tokenizer");
    p.filters.push_back(
        tox::make_lexicon_block_filter(*tokenizer, static_cast<int>(d.toxicity_block_severity)));
  }
  if (has_filter(d, kToxicity)) {
    if (!tokenizer)
      throw InputError(
          "filters: the toxicity filter reads the completion's text, which needs "
          "the model's tokenizer");
    auto spec = tox::parse_scorer_spec(d.toxicity_scorer);
    if (spec.kind == "self" && spec.dir.empty()) {
      if (scorers.audited_dir.empty())
        throw InputError("toxicity_scorer: self needs the audited model's directory");
      spec.dir = scorers.audited_dir;
    }
    const tox::ScorerContext context{scorers.models, nullptr};
    auto scorer =
        scorers.make_scorer ? scorers.make_scorer(spec, context) : tox::make_scorer(spec, context);
    tox::OutputFilterSettings settings;
    settings.threshold = d.toxicity_threshold;
    settings.action = tox::parse_output_action(d.toxicity_action);
    settings.retries = static_cast<int>(d.toxicity_retries);
    p.completion_filters.push_back(
        tox::make_output_filter(std::move(scorer), *tokenizer, std::move(settings)));
  }
  return p;
}

}  // namespace sg::audit
