#include "release/policy_schema.hpp"

#include <algorithm>

#include "audit/decoding.hpp"
#include "common/errors.hpp"

namespace sg::release::detail {

namespace {

using ini::Key;
using ini::Range;
using ini::Type;

// The decoding keys (audit/decoding.hpp) a repetition filter may set: the repetition
// controls and the loop stop. Their ranges are the decoding table's, never restated here.
constexpr std::string_view kRepetitionKeys[] = {
    "repetition_penalty", "no_repeat_ngram_size", "presence_penalty",
    "frequency_penalty",  "dry_multiplier",       "dry_base",
    "dry_allowed_length", "dry_penalty_last_n",   "dry_sequence_breakers",
    "stop_on_loop",       "loop_min_period",      "loop_max_period",
    "loop_min_repeats",   "loop_min_length"};

const Key& decoding_key(std::string_view name) {
  static const std::vector<Key> keys = audit::decoding_keys();
  for (const auto& k : keys)
    if (k.name == name) return k;
  throw std::logic_error("policy schema: no decoding key " + std::string(name));
}

// A toxicity filter's key is its decoding key without the "toxicity_" prefix.
Key renamed(std::string_view decoding_name, std::string name) {
  Key k = decoding_key(decoding_name);
  k.name = std::move(name);
  k.required = false;
  return k;
}

ini::Section filter_section() {
  ini::Section s{"filter", true, false, {{"type", Type::kString, true}}};
  s.keys.push_back({"index", Type::kString, false});
  s.keys.push_back({"n", Type::kInteger, false, Range{1, 1 << 20}});
  s.keys.push_back({"scorer", Type::kString, false});
  s.keys.push_back(renamed("toxicity_threshold", "threshold"));
  s.keys.push_back({"action", Type::kString, false});
  s.keys.push_back(renamed("toxicity_retries", "retries"));
  s.keys.push_back(renamed("toxicity_block_severity", "block_severity"));
  for (auto name : kRepetitionKeys) {
    Key k = decoding_key(name);
    k.required = false;
    s.keys.push_back(std::move(k));
  }
  return s;
}

ini::Schema make_schema() {
  return {
      {"family",
       false,
       false,  // checked by the policy reader, which can name a line for it
       {{"name", Type::kString, true}, {"manifest", Type::kString, false}}},
      {"stage",
       true,
       false,
       {{"checkpoint", Type::kString, true},
        {"sha256", Type::kString, true},
        {"after", Type::kString, false},
        {"not_before", Type::kString, false},
        {"audiences", Type::kString, true},
        {"filters", Type::kString, false}}},
      {"requirement",
       true,
       false,
       {{"stages", Type::kString, true},
        {"plan", Type::kString, true},
        {"metric", Type::kString, true},
        {"strategy", Type::kString, false},
        {"slice", Type::kString, false},
        {"comparison", Type::kString, true},
        {"threshold", Type::kNumber, true, Range{-1e15, 1e15}},
        {"estimate", Type::kString, false}}},
      {"audience",
       true,
       false,
       {{"unreleased", Type::kBoolean, false},
        {"requests_per_minute", Type::kInteger, false, Range{0, 1e9}},
        {"tokens_per_minute", Type::kInteger, false, Range{0, 1e12}},
        {"log_text", Type::kBoolean, false},
        {"filters", Type::kString, false}}},
      {"access",
       true,
       false,
       {{"stage", Type::kString, true},
        {"audience", Type::kString, true},
        {"filters", Type::kString, true}}},
      filter_section(),
  };
}

}  // namespace

const ini::Schema& policy_schema() {
  static const ini::Schema schema = make_schema();
  return schema;
}

const std::vector<std::string>& leakage_filter_keys() {
  static const std::vector<std::string> keys = {"index", "n"};
  return keys;
}

const std::vector<std::string>& toxicity_filter_keys() {
  static const std::vector<std::string> keys = {"scorer", "threshold", "action", "retries",
                                                "block_severity"};
  return keys;
}

const std::vector<std::string>& repetition_filter_keys() {
  static const std::vector<std::string> keys(std::begin(kRepetitionKeys),
                                             std::end(kRepetitionKeys));
  return keys;
}

void check_policy_text(std::string_view text, const std::filesystem::path& file) {
  ini::check_text(text, file);
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  bool content = false;  // a character outside blanks and comments
  bool comment = false;
  for (const char c : text) {
    if (c == '\n') comment = false;
    if (c == '#') comment = true;
    if (!comment && c != ' ' && c != '\t' && c != '\r' && c != '\n') content = true;
  }
  if (!content)
    throw InputError(file.string() +
                     ":1: [family]: empty policy (it needs [family] and at least one "
                     "[stage.NAME])");
}

}  // namespace sg::release::detail
