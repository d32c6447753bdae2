#include "audit/plan.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "common/errors.hpp"
#include "common/ini.hpp"
#include "common/sha256.hpp"

namespace sg::audit {

namespace fs = std::filesystem;

namespace {

using ini::Type;

const ini::Schema& plan_schema() {
  static const ini::Schema schema = {
      {"prompts", false, false, {{"file", Type::kString, true}}},
      {"strategy",
       true,
       false,
       {{"samples", Type::kInteger, true},
        {"max_tokens", Type::kInteger},
        {"temperature", Type::kNumber},
        {"top_k", Type::kInteger},
        {"top_p", Type::kNumber},
        {"repetition_penalty", Type::kNumber},
        {"no_repeat_ngram_size", Type::kInteger}}},
      {"detectors", false, false, {{"enabled", Type::kString, true}}},
      {"perplexity", false, false, {{"heldout", Type::kString, true}, {"stride", Type::kInteger}}},
  };
  return schema;
}

fs::path relative_to(const fs::path& plan, const std::string& path) {
  const fs::path p(path);
  return p.is_absolute() ? p : plan.parent_path() / p;
}

std::string number(double v) {
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), end);
}

// Reads the file a key names, so that its errors carry the key's place in the plan too.
TextFile read_named_file(const ini::Document& doc, const std::string& section,
                         const std::string& key, const fs::path& path) {
  if (!fs::is_regular_file(path))
    doc.fail(section, key, "'" + path.string() + "' is not a readable file");
  return read_text_jsonl(path);
}

Strategy read_strategy(const ini::Document& doc, const std::string& section) {
  Strategy s;
  s.name = section.substr(std::string("strategy.").size());
  s.samples = *doc.integer(section, "samples");
  s.max_tokens = doc.integer(section, "max_tokens").value_or(s.max_tokens);
  s.temperature = doc.number(section, "temperature").value_or(s.temperature);
  s.top_k = doc.integer(section, "top_k").value_or(s.top_k);
  s.top_p = doc.number(section, "top_p").value_or(s.top_p);
  s.repetition_penalty = doc.number(section, "repetition_penalty").value_or(s.repetition_penalty);
  s.no_repeat_ngram_size =
      doc.integer(section, "no_repeat_ngram_size").value_or(s.no_repeat_ngram_size);
  if (s.samples < 1) doc.fail(section, "samples", "must be at least 1");
  if (s.max_tokens < 1) doc.fail(section, "max_tokens", "must be at least 1");
  if (s.temperature < 0) doc.fail(section, "temperature", "must be >= 0 (0: greedy)");
  if (s.top_k < 0) doc.fail(section, "top_k", "must be >= 0 (0: off)");
  if (!(s.top_p > 0 && s.top_p <= 1)) doc.fail(section, "top_p", "must be in (0, 1]");
  if (!(s.repetition_penalty > 0)) doc.fail(section, "repetition_penalty", "must be > 0 (1: off)");
  if (s.no_repeat_ngram_size < 0)
    doc.fail(section, "no_repeat_ngram_size", "must be >= 0 (0: off)");
  return s;
}

std::vector<std::string> read_detectors(const ini::Document& doc) {
  if (!doc.has_section("detectors")) return {};
  std::vector<std::string> out;
  for (auto& name : ini::split_list(*doc.string("detectors", "enabled"))) {
    const auto& known = known_detectors();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      doc.fail("detectors", "enabled", "unknown detector '" + name + "' (known: " + list + ")");
    }
    if (std::find(out.begin(), out.end(), name) != out.end())
      doc.fail("detectors", "enabled", "'" + name + "' listed twice");
    out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  for (const auto& name : known_detectors()) {
    const bool enabled = std::binary_search(out.begin(), out.end(), name);
    if (doc.has_section(name) && !enabled)
      doc.fail(name, "", "settings for a detector that [detectors] enabled does not list");
  }
  return out;
}

}  // namespace

const std::vector<std::string>& known_detectors() {
  static const std::vector<std::string> names = {"perplexity"};
  return names;
}

Plan Plan::load(const fs::path& file) {
  const auto doc = ini::Document::read(file, plan_schema());
  Plan plan;
  plan.file = file;

  for (const auto& section : doc.sections("strategy"))
    plan.strategies.push_back(read_strategy(doc, section));
  std::sort(plan.strategies.begin(), plan.strategies.end(),
            [](const Strategy& a, const Strategy& b) { return a.name < b.name; });
  plan.detectors = read_detectors(doc);

  if (doc.has_section("prompts")) {
    if (plan.strategies.empty())
      doc.fail("prompts", "", "prompts but no [strategy.NAME] section to sample them with");
    plan.prompts_file = relative_to(file, *doc.string("prompts", "file"));
    plan.prompts = read_named_file(doc, "prompts", "file", plan.prompts_file);
  } else if (!plan.strategies.empty()) {
    throw InputError(file.string() + ": [prompts]: missing section (the strategies need prompts)");
  }

  if (std::binary_search(plan.detectors.begin(), plan.detectors.end(), "perplexity")) {
    if (!doc.has_section("perplexity"))
      throw InputError(file.string() +
                       ": [perplexity]: missing section (perplexity is enabled in [detectors])");
    PerplexitySettings p;
    p.heldout = relative_to(file, *doc.string("perplexity", "heldout"));
    p.heldout_texts = read_named_file(doc, "perplexity", "heldout", p.heldout);
    p.stride = doc.integer("perplexity", "stride").value_or(0);
    if (p.stride < 0) doc.fail("perplexity", "stride", "must be >= 0 (0: half the context)");
    plan.perplexity = std::move(p);
  }

  if (plan.strategies.empty() && plan.detectors.empty())
    throw InputError(file.string() +
                     ": the plan has nothing to audit (no [strategy.NAME] and no detectors)");
  return plan;
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
    out += "max_tokens = " + std::to_string(s.max_tokens) + "\n";
    out += "temperature = " + number(s.temperature) + "\n";
    out += "top_k = " + std::to_string(s.top_k) + "\n";
    out += "top_p = " + number(s.top_p) + "\n";
    out += "repetition_penalty = " + number(s.repetition_penalty) + "\n";
    out += "no_repeat_ngram_size = " + std::to_string(s.no_repeat_ngram_size) + "\n";
  }
  out += "\n[detectors]\nenabled = ";
  for (std::size_t i = 0; i < detectors.size(); ++i) out += (i ? "," : "") + detectors[i];
  out += "\n";
  if (perplexity) {
    out += "\n[perplexity]\nheldout_sha256 = " + perplexity->heldout_texts.sha256 +
           "\nstride = " + std::to_string(perplexity->stride) + "\n";
  }
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

}  // namespace sg::audit
