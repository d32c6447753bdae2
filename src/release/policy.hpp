// A release policy (policies/*.ini): which checkpoints form a family, in which order its
// stages may be released, what each stage must pass first, who may use it and which output
// filters apply. Read strictly with the INI reader the audit plans use (common/ini.hpp):
//
//   [family]
//   name = stagegate-demo
//   manifest = ../models/demo/family.json   # optional; `policy check` warns where it disagrees
//   [stage.stage1]
//   checkpoint = ../models/demo/stage1      # relative to the policy file
//   sha256 = 8ab0...                        # the authority: what decide and serve hash against
//   after = stage0                          # stages that must be approved first (a list)
//   not_before = 2019-02-14                 # earliest release date (UTC, YYYY-MM-DD)
//   audiences = researchers, public         # who may ever use it
//   filters = no-leakage                    # filters for every audience of this stage
//   [requirement.NAME]
//   stages = stage1, stage2                 # the stages it applies to
//   plan = plans/demo.ini                   # the audit plan whose completed runs count
//   metric = perplexity.heldout             # as v_metrics names it
//   strategy = greedy                       # optional (default "": all strategies)
//   slice = dup=17-64                       # optional (default "": no slice)
//   comparison = <=                         # <, <=, >, >=
//   threshold = 100
//   estimate = conservative                 # point | conservative (the interval's failing end)
//   [audience.public]
//   unreleased = false                      # may use stages not yet approved (never rejected)
//   requests_per_minute = 60                # 0: no limit
//   tokens_per_minute = 0
//   log_text = false                        # serve logs prompt/completion text, else hashes
//   filters = toxicity                      # filters for every stage this audience uses
//   [access.LABEL]                          # filters for one stage and audience only
//   stage = stage4
//   audience = public
//   filters = toxicity
//   [filter.NAME]
//   type = leakage | toxicity | repetition
//   ...                                     # the keys of its type (see FilterSpec)
//
// policies/README.md documents every key. The filters a (stage, audience) pair gets are the
// union of the stage's, the audience's and the matching [access.*] sections': a policy can
// add filters for a pair, never take one away.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/decoding.hpp"

namespace sg::release {

enum class Comparison { kLess, kLessEqual, kGreater, kGreaterEqual };
std::string_view to_string(Comparison c);  // "<", "<=", ">", ">="

// Which number of an aggregate is compared: its point estimate, or the end of its interval
// on the failing side (ci_high for < and <=, ci_low for > and >=).
enum class Estimate { kPoint, kConservative };
std::string_view to_string(Estimate e);  // "point", "conservative"

struct Requirement {
  std::string name;                 // [requirement.NAME]
  std::vector<std::string> stages;  // the stages it applies to
  std::filesystem::path plan;       // absolute; its `{stage}` is the stage's name
  std::string metric;
  std::string strategy;  // "" = the run-wide aggregate
  std::string slice;     // "" = no slice
  Comparison comparison = Comparison::kLessEqual;
  double threshold = 0;
  Estimate estimate = Estimate::kConservative;
  int line = 0;  // of its section header, for messages
};

struct FilterSpec {
  std::string name;  // [filter.NAME]
  enum class Type { kLeakage, kToxicity, kRepetition } type = Type::kLeakage;
  // kLeakage: the corpus index (absolute; its `{stage}` is the stage's name) and span length.
  std::filesystem::path index;
  std::int64_t leakage_n = 32;
  // kToxicity, kRepetition: decoding settings (audit/decoding.hpp) and the keys this filter
  // sets among them (decoding key names: "toxicity_scorer", "stop_on_loop", ...). A toxicity
  // scorer's DIR is absolute.
  audit::Decoding settings;
  std::vector<std::string> keys;
  int line = 0;
};
std::string_view to_string(FilterSpec::Type t);  // "leakage", "toxicity", "repetition"

struct Audience {
  std::string name;
  bool unreleased = false;
  std::int64_t requests_per_minute = 0;  // 0: no limit
  std::int64_t tokens_per_minute = 0;    // 0: no limit
  bool log_text = false;
  std::vector<std::string> filters;
  int line = 0;
};

struct Stage {
  std::string name;
  std::filesystem::path checkpoint;  // absolute
  std::string sha256;                // lower-case hex
  std::vector<std::string> after;
  std::optional<std::string> not_before;  // "YYYY-MM-DD"
  std::vector<std::string> audiences;
  std::vector<std::string> filters;
  int line = 0;
};

struct Access {
  std::string label;  // [access.LABEL]
  std::string stage;
  std::string audience;
  std::vector<std::string> filters;
  int line = 0;
};

struct Policy {
  std::filesystem::path file;
  std::string sha256;  // hex SHA-256 of the file's bytes: decisions record it
  std::string family;
  std::optional<std::filesystem::path> manifest;  // absolute
  std::vector<Stage> stages;              // in release order: `after` first, then file order
  std::vector<Requirement> requirements;  // file order
  std::vector<Audience> audiences;        // file order
  std::vector<FilterSpec> filters;        // file order
  std::vector<Access> access;             // file order
  // Disagreements that do not make the policy invalid (e.g. family.json lists another
  // SHA-256 for a stage: the policy is the authority), for `policy check` to print.
  std::vector<std::string> warnings;

  // Reads and validates `file`. InputError "FILE:LINE: section.key: message" (with a "did
  // you mean" hint for near misses) for: an unknown section or key, a missing required key,
  // a bad value, an unknown metric name, a filter/stage/audience/requirement reference to
  // something not defined, a cycle in stage order, invalid UTF-8, binary junk, an empty file.
  static Policy load(const std::filesystem::path& file);
  static Policy parse(std::string_view text, const std::filesystem::path& file);

  // The stage / audience named; InputError listing the names (with a near-miss hint).
  const Stage& stage(std::string_view name) const;
  const Audience& audience(std::string_view name) const;
  // The requirements that apply to `stage`, in file order.
  std::vector<const Requirement*> requirements_for(std::string_view stage) const;
  // The filters a (stage, audience) pair gets: the union of the stage's, the audience's and
  // its [access.*] filters, in policy file order, each once.
  std::vector<const FilterSpec*> filters_for(std::string_view stage,
                                             std::string_view audience) const;
};

}  // namespace sg::release
