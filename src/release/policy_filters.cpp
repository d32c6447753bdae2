#include "release/policy_filters.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "common/errors.hpp"
#include "memorization/leakage_filter.hpp"

namespace sg::release {

namespace {

using audit::Decoding;

std::string text_of(std::int64_t v) {
  return std::to_string(v);
}
std::string text_of(double v) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), end);
}
std::string text_of(bool v) {
  return v ? "true" : "false";
}
std::string text_of(const std::string& v) {
  return v;
}
std::string text_of(const std::vector<std::string>& v) {
  return nlohmann::json(v).dump();
}

// A decoding key: how a filter's value is copied over the request's, and shown.
struct Field {
  std::string_view key;
  std::function<void(Decoding& to, const Decoding& from)> copy;
  std::function<std::string(const Decoding&)> text;
};

template <auto Member>
Field field(std::string_view key) {
  return {key, [](Decoding& to, const Decoding& from) { to.*Member = from.*Member; },
          [](const Decoding& d) { return text_of(d.*Member); }};
}

// Every key of audit::decoding_keys() (a test holds them equal) but `filters`, which a
// policy adds to rather than replaces.
const std::vector<Field>& fields() {
  static const std::vector<Field> table = {
      field<&Decoding::max_tokens>("max_tokens"),
      field<&Decoding::temperature>("temperature"),
      field<&Decoding::top_k>("top_k"),
      field<&Decoding::top_p>("top_p"),
      field<&Decoding::repetition_penalty>("repetition_penalty"),
      field<&Decoding::no_repeat_ngram_size>("no_repeat_ngram_size"),
      field<&Decoding::presence_penalty>("presence_penalty"),
      field<&Decoding::frequency_penalty>("frequency_penalty"),
      field<&Decoding::dry_multiplier>("dry_multiplier"),
      field<&Decoding::dry_base>("dry_base"),
      field<&Decoding::dry_allowed_length>("dry_allowed_length"),
      field<&Decoding::dry_penalty_last_n>("dry_penalty_last_n"),
      field<&Decoding::dry_sequence_breakers>("dry_sequence_breakers"),
      field<&Decoding::stop_on_loop>("stop_on_loop"),
      field<&Decoding::loop_min_period>("loop_min_period"),
      field<&Decoding::loop_max_period>("loop_max_period"),
      field<&Decoding::loop_min_repeats>("loop_min_repeats"),
      field<&Decoding::loop_min_length>("loop_min_length"),
      // The scorer's identity (its weights' hash) travels with its spec.
      {"toxicity_scorer",
       [](Decoding& to, const Decoding& from) {
         to.toxicity_scorer = from.toxicity_scorer;
         to.toxicity_scorer_identity = from.toxicity_scorer_identity;
       },
       [](const Decoding& d) { return d.toxicity_scorer; }},
      field<&Decoding::toxicity_threshold>("toxicity_threshold"),
      field<&Decoding::toxicity_action>("toxicity_action"),
      field<&Decoding::toxicity_retries>("toxicity_retries"),
      field<&Decoding::toxicity_block_severity>("toxicity_block_severity"),
  };
  return table;
}

bool listed(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

void add_once(std::vector<std::string>& v, const std::string& s) {
  if (!listed(v, s)) v.push_back(s);
}

std::string replaced(std::string text, std::string_view name, std::string_view value) {
  for (auto at = text.find(name); at != std::string::npos; at = text.find(name, at + value.size()))
    text.replace(at, name.size(), value);
  return text;
}

}  // namespace

FilteredDecoding apply_filters(const audit::Decoding& requested,
                               const std::vector<std::string>& requested_keys,
                               const std::vector<const FilterSpec*>& filters) {
  FilteredDecoding out{requested, requested_keys, {}};
  for (const auto* f : filters) {
    if (f->type == FilterSpec::Type::kLeakage) continue;
    for (const auto& name : f->settings.filters) add_once(out.decoding.filters, name);
    for (const auto& key : f->keys) {
      if (key == "filters") {
        add_once(out.set, key);
        continue;
      }
      const auto it = std::find_if(fields().begin(), fields().end(),
                                   [&](const Field& fd) { return fd.key == key; });
      if (it == fields().end())
        throw InputError("filter." + f->name + ": '" + key + "' is not a decoding setting");
      const auto before = it->text(out.decoding);
      it->copy(out.decoding, f->settings);
      const auto after = it->text(out.decoding);
      if (listed(requested_keys, key) && before != after)
        out.overrides.push_back({f->name, key, before, after});
      add_once(out.set, key);
    }
  }
  return out;
}

std::filesystem::path leakage_index_for(const FilterSpec& filter, std::string_view stage) {
  return replaced(filter.index.string(), "{stage}", stage);
}

std::vector<std::shared_ptr<const engine::OutputFilterFactory>> leakage_filters(
    const Policy& policy, const std::vector<const FilterSpec*>& filters, std::string_view stage,
    const std::filesystem::path& model_dir) {
  std::vector<std::shared_ptr<const engine::OutputFilterFactory>> out;
  for (const auto* f : filters) {
    if (f->type != FilterSpec::Type::kLeakage) continue;
    const auto index = leakage_index_for(*f, stage);
    try {
      out.push_back(detectors::memorization::leakage_filter_for_model(
          index, static_cast<std::uint32_t>(f->leakage_n), model_dir));
    } catch (const Error& e) {
      throw InputError(policy.file.string() + ":" + std::to_string(f->line) + ": filter." +
                       f->name + ": index " + index.string() + " for stage " + std::string(stage) +
                       ": " + e.what());
    }
  }
  return out;
}

std::vector<std::string> filter_names(const std::vector<const FilterSpec*>& filters) {
  std::vector<std::string> out;
  for (const auto* f : filters) out.push_back(f->name);
  return out;
}

}  // namespace sg::release
