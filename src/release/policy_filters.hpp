// A policy's output filters for one (stage, audience) pair made concrete for a generation:
// the toxicity and repetition filters' settings laid over the decoding a request asked for
// (the policy wins: a request may add controls, never loosen the policy's), and the leakage
// filters opened as the engine's output-filter factories for the stage's model.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/decoding.hpp"
#include "engine/output_filter.hpp"
#include "release/policy.hpp"

namespace sg::release {

// A setting the request gave that a policy filter replaced (for a note to the user).
struct Override {
  std::string filter;     // [filter.NAME]
  std::string key;        // the decoding key, e.g. "toxicity_action"
  std::string requested;  // the values as text
  std::string applied;
};

struct FilteredDecoding {
  audit::Decoding decoding;
  // The request's keys and the filters', for audit::check_decoding's `set`.
  std::vector<std::string> set;
  std::vector<Override> overrides;
};

// `requested` (whose given keys are `requested_keys`) with every toxicity and repetition
// filter's keys applied, in the filters' order; a filter naming "toxicity" among its
// after-generation filters adds it to the request's. Leakage filters change no setting.
// InputError naming the filter for a key that is not a decoding setting.
FilteredDecoding apply_filters(const audit::Decoding& requested,
                               const std::vector<std::string>& requested_keys,
                               const std::vector<const FilterSpec*>& filters);

// The corpus index a leakage filter reads for `stage`: its `{stage}` replaced by the name.
std::filesystem::path leakage_index_for(const FilterSpec& filter, std::string_view stage);

// One factory per leakage filter among `filters`, opened for the model in `model_dir`: an
// InputError naming the policy file, the filter and the index when the index cannot be read
// or was built with another tokenizer.
std::vector<std::shared_ptr<const engine::OutputFilterFactory>> leakage_filters(
    const Policy& policy, const std::vector<const FilterSpec*>& filters, std::string_view stage,
    const std::filesystem::path& model_dir);

// The filters' names, in order (for --json and the request log).
std::vector<std::string> filter_names(const std::vector<const FilterSpec*>& filters);

}  // namespace sg::release
