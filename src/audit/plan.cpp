#include "audit/plan.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "common/errors.hpp"
#include "common/ini.hpp"
#include "common/sha256.hpp"
#include "memorization/tokenizer_hash.hpp"

namespace sg::audit {

namespace fs = std::filesystem;

namespace {

using ini::Range;
using ini::Type;

constexpr double kMaxSamples = 1'000'000;
constexpr double kMaxLeakageN = 1 << 20;  // tokens, as max_tokens

ini::Schema plan_schema(const detectors::Registry& registry) {
  std::vector<ini::Key> strategy_keys = {{"samples", Type::kInteger, true, Range{1, kMaxSamples}}};
  for (auto& k : decoding_keys()) strategy_keys.push_back(std::move(k));
  strategy_keys.push_back({"leakage_index", Type::kString, false});
  strategy_keys.push_back({"leakage_n", Type::kInteger, false, Range{1, kMaxLeakageN}});
  ini::Schema schema = {
      {"prompts", false, false, {{"file", Type::kString, true}}},
      {"strategy", true, false, std::move(strategy_keys)},
      {"detectors", false, false, {{"enabled", Type::kString, true}}},
  };
  for (const auto& spec : registry.specs()) schema.push_back({spec.name, false, false, spec.keys});
  return schema;
}

std::shared_ptr<const detectors::memorization::LeakageFilterFactory> read_leakage(
    const ini::Document& doc, const std::string& section) {
  namespace mem = detectors::memorization;
  const auto file = doc.string(section, "leakage_index");
  const auto n = doc.integer(section, "leakage_n");
  if (!file) {
    if (n) doc.fail(section, "leakage_n", "needs leakage_index (the corpus index to match)");
    return nullptr;
  }
  auto index = std::make_shared<const mem::CorpusIndex>(
      mem::CorpusIndex::open(detectors::plan_relative(doc, *file)));
  return std::make_shared<const mem::LeakageFilterFactory>(
      std::move(index), static_cast<std::uint32_t>(n.value_or(mem::kDefaultLeakageN)));
}

Strategy read_strategy(const ini::Document& doc, const std::string& section) {
  Strategy s;
  static_cast<Decoding&>(s) = read_decoding(doc, section);
  s.name = section.substr(std::string("strategy.").size());
  s.samples = *doc.integer(section, "samples");
  s.leakage = read_leakage(doc, section);
  return s;
}

std::vector<EnabledDetector> read_detectors(const ini::Document& doc,
                                            const detectors::Registry& registry,
                                            const std::vector<Strategy>& strategies) {
  std::vector<std::string> names;
  if (doc.has_section("detectors")) {
    for (auto& name : ini::split_list(*doc.string("detectors", "enabled"))) {
      if (!registry.find(name)) {
        std::string list;
        for (const auto& k : registry.names()) list += (list.empty() ? "" : ", ") + k;
        doc.fail("detectors", "enabled",
                 "unknown detector '" + name + "'" + ini::did_you_mean(name, registry.names()) +
                     " (known: " + list + ")");
      }
      if (std::find(names.begin(), names.end(), name) != names.end())
        doc.fail("detectors", "enabled", "'" + name + "' listed twice");
      names.push_back(std::move(name));
    }
  }
  std::sort(names.begin(), names.end());
  for (const auto& spec : registry.specs()) {
    const bool enabled = std::binary_search(names.begin(), names.end(), spec.name);
    if (doc.has_section(spec.name) && !enabled)
      doc.fail(spec.name, "", "settings for a detector that [detectors] enabled does not list");
    if (enabled && spec.section_required && !doc.has_section(spec.name))
      throw InputError(doc.file().string() + ": [" + spec.name + "]: missing section (" +
                       spec.name + " is enabled in [detectors])");
  }
  std::vector<EnabledDetector> out;
  for (const auto& name : names) {
    EnabledDetector d;
    d.name = name;
    d.detector = registry.find(name)->make(doc);
    d.jobs = d.detector->jobs();
    auto check = [&](const std::string& strategy) {
      if (!strategy.starts_with(name + "."))
        throw std::logic_error("detector '" + name + "': job strategy '" + strategy +
                               "' must start with '" + name + ".'");
    };
    for (const auto& job : d.jobs.score) check(job.strategy);
    for (const auto& job : d.jobs.generate) {
      check(job.strategy);
      // The detector refuses a name the plan lacks at its own key (with the line); this
      // only guards the runner's lookup.
      if (!job.plan_strategy.empty() &&
          std::none_of(strategies.begin(), strategies.end(),
                       [&](const Strategy& s) { return s.name == job.plan_strategy; }))
        throw std::logic_error("detector '" + name + "': job '" + job.id +
                               "' names no plan strategy '" + job.plan_strategy + "'");
    }
    out.push_back(std::move(d));
  }
  return out;
}

void check_text(const tokenizer::Tokenizer& tokenizer, int context, const std::string& origin,
                const std::string& what, const std::string& id, const std::string& text,
                std::size_t min_tokens, std::size_t room) {
  const auto n = tokenizer.encode(text).size();
  if (n < min_tokens)
    throw InputError(origin + ": " + what + " '" + id + "' encodes to " + std::to_string(n) +
                     " token" + (n == 1 ? "" : "s") + "; it needs at least " +
                     std::to_string(min_tokens));
  if (n + room > static_cast<std::size_t>(context))
    throw InputError(origin + ": " + what + " '" + id + "' has " + std::to_string(n) +
                     " tokens; with the " + std::to_string(room) +
                     " it must leave for generation it exceeds the model's context of " +
                     std::to_string(context));
}

}  // namespace

Plan Plan::load(const fs::path& file, const detectors::Registry& registry,
                const std::map<std::string, std::string>& variables) {
  auto doc = ini::Document::read(file, plan_schema(registry));
  for (const auto& [name, value] : variables) doc.expand(name, value);
  Plan plan;
  plan.file = file;

  for (const auto& section : doc.sections("strategy"))
    plan.strategies.push_back(read_strategy(doc, section));
  std::sort(plan.strategies.begin(), plan.strategies.end(),
            [](const Strategy& a, const Strategy& b) { return a.name < b.name; });

  if (doc.has_section("prompts")) {
    if (plan.strategies.empty())
      doc.fail("prompts", "", "prompts but no [strategy.NAME] section to sample them with");
    plan.prompts_file = detectors::plan_relative(doc, *doc.string("prompts", "file"));
    plan.prompts = detectors::read_named_text_file(doc, "prompts", "file", plan.prompts_file);
  } else if (!plan.strategies.empty()) {
    throw InputError(file.string() + ": [prompts]: missing section (the strategies need prompts)");
  }
  plan.detectors = read_detectors(doc, registry, plan.strategies);

  if (plan.strategies.empty() && plan.detectors.empty())
    throw InputError(file.string() +
                     ": the plan has nothing to audit (no [strategy.NAME] and no detectors)");
  return plan;
}

void Plan::check_indexes(const fs::path& model_dir) const {
  for (const auto& s : strategies)
    if (s.leakage)
      detectors::memorization::check_tokenizer_matches(s.leakage->index().tokenizer_hash(),
                                                       s.leakage->index().path(), model_dir);
}

void Plan::check_texts(const tokenizer::Tokenizer& tokenizer, int context) const {
  // A generated sample needs room for at least one new token.
  for (const auto& p : prompts.records)
    check_text(tokenizer, context, prompts_file.string() + ":" + std::to_string(p.line), "prompt",
               p.id, p.text, 1, 1);
  for (const auto& d : detectors) {
    for (const auto& j : d.jobs.score)
      check_text(tokenizer, std::numeric_limits<int>::max(), j.origin, "text to score", j.id,
                 j.text, j.after_end_of_text && tokenizer.eos_id() ? 1 : 2, 0);
    for (const auto& j : d.jobs.generate) {
      if (j.prompt_tokens.empty()) {
        check_text(tokenizer, context, j.origin, "prompt", j.id, j.prompt, 1, 1);
        continue;
      }
      for (auto id : j.prompt_tokens)
        if (id < 0 || id >= tokenizer.vocab_size())
          throw InputError(j.origin + ": prompt '" + j.id + "' has token id " + std::to_string(id) +
                           ", outside the model's vocabulary of " +
                           std::to_string(tokenizer.vocab_size()));
      if (j.prompt_tokens.size() + 1 > static_cast<std::size_t>(context))
        throw InputError(j.origin + ": prompt '" + j.id + "' has " +
                         std::to_string(j.prompt_tokens.size()) +
                         " tokens; with the 1 it must leave for generation it exceeds the "
                         "model's context of " +
                         std::to_string(context));
    }
  }
}

const Strategy& Plan::strategy(std::string_view name) const {
  for (const auto& s : strategies)
    if (s.name == name) return s;
  throw std::out_of_range("the plan has no strategy '" + std::string(name) + "'");
}

std::string Plan::canonical_text() const {
  // Paths are left out on purpose: the same settings on the same file contents are the
  // same plan wherever the files lie.
  std::string out = "# stagegate audit plan, canonical form v1\n";
  if (!strategies.empty()) {
    out += "\n[prompts]\nsha256 = " + prompts.sha256 +
           "\ncount = " + std::to_string(prompts.records.size()) + "\n";
  }
  for (const auto& s : strategies) {
    out += "\n[strategy." + s.name + "]\n";
    out += "samples = " + std::to_string(s.samples) + "\n";
    out += canonical_decoding(s);
    // Only when on, so that plans without it keep their hashes.
    if (s.leakage)
      out +=
          "leakage_index = corpus:" + s.leakage->index().corpus_hash() +
          " tokenizer:" + s.leakage->index().tokenizer_hash() +
          (s.leakage->index().normalization() == detectors::memorization::TextNormalization::kNone
               ? ""
               : " normalization:" +
                     detectors::memorization::to_string(s.leakage->index().normalization())) +
          "\nleakage_n = " + std::to_string(s.leakage->n()) + "\n";
  }
  out += "\n[detectors]\nenabled = ";
  for (std::size_t i = 0; i < detectors.size(); ++i) out += (i ? "," : "") + detectors[i].name;
  out += "\n";
  for (const auto& d : detectors) out += "\n" + d.detector->canonical_settings();
  return out;
}

std::string Plan::hash() const {
  return sha256_hex(canonical_text());
}

std::int64_t Plan::samples_planned() const {
  std::int64_t per_prompt = 0;
  for (const auto& s : strategies) per_prompt += s.samples;
  return per_prompt * static_cast<std::int64_t>(prompts.records.size());
}

std::int64_t Plan::jobs_planned() const {
  std::int64_t jobs = samples_planned();
  for (const auto& d : detectors) {
    jobs += static_cast<std::int64_t>(d.jobs.score.size());
    for (const auto& g : d.jobs.generate) jobs += g.samples;
  }
  return jobs;
}

}  // namespace sg::audit
