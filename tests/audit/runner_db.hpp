// Comparing audit databases (the runner's and the audit command's tests): every stored
// sample as comparable text, and a database's rows with the columns that legitimately
// differ between two runs of one plan (ids, times, paths, device name, the tool's commit)
// left out.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "db/store.hpp"
#include "db/store_test_util.hpp"

namespace sg::testing {

// (strategy, prompt, index) -> everything stored about the sample but its ids and time, of
// the database's one run, for a byte-for-byte comparison; the database must be sound.
inline std::map<db::SampleKey, std::string> sample_contents(const std::filesystem::path& file) {
  db::Store store(file);
  if (!store.integrity_check().empty())
    throw std::runtime_error(file.string() + ": fails SQLite's integrity check");
  const auto runs = store.runs();
  if (runs.size() != 1) throw std::runtime_error(file.string() + ": expected one run");
  std::map<db::SampleKey, std::string> out;
  for (const auto& s : store.samples(runs.front().id)) {
    nlohmann::json j{{"seed", std::to_string(s.seed)},
                     {"tokens", s.token_ids},
                     {"text", s.text},
                     {"logprobs", s.logprobs},
                     {"finish", s.finish_reason},
                     {"temperature", s.settings.temperature},
                     {"top_k", s.settings.top_k},
                     {"top_p", s.settings.top_p},
                     {"max_tokens", s.settings.max_tokens}};
    for (const auto& m : s.metrics) j["metrics"][m.metric] = m.value;
    if (!out.emplace(s.key, j.dump()).second)
      throw std::runtime_error(file.string() + ": a sample stored twice");
  }
  return out;
}

// Table -> its rows (sorted), without ids, times or the tool's commit.
inline std::map<std::string, std::vector<std::string>> comparable_rows(
    const std::filesystem::path& file) {
  RawDb sql(file);
  const std::map<std::string, std::string> queries = {
      {"checkpoints",
       "SELECT sha256, family, stage, architecture, parameters, config_json FROM checkpoints"},
      {"audit_runs",
       "SELECT plan_hash, plan_text, tool_version, status, samples_planned, error "
       "FROM audit_runs"},
      {"prompts", "SELECT prompt_key, source, text FROM prompts"},
      {"samples",
       "SELECT s.strategy, p.prompt_key, s.sample_index, s.seed, s.temperature, s.top_k, "
       "s.top_p, s.repetition_penalty, s.no_repeat_ngram_size, s.max_tokens, s.token_ids, "
       "s.text, s.logprobs, s.finish_reason, s.decoding_json "
       "FROM samples s JOIN prompts p ON p.id = s.prompt_id"},
      {"sample_metrics",
       "SELECT s.strategy, p.prompt_key, s.sample_index, m.metric, m.value FROM sample_metrics m "
       "JOIN samples s ON s.id = m.sample_id JOIN prompts p ON p.id = s.prompt_id"},
      {"aggregates", "SELECT metric, strategy, slice, value, ci_low, ci_high, n FROM aggregates"},
  };
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [table, query] : queries) {
    auto rows = sql.rows(query);
    std::sort(rows.begin(), rows.end());
    out[table] = std::move(rows);
  }
  return out;
}

// Whether two rows say the same but for the last digits of their numbers: equal text
// around the numbers, and every pair of numbers within `tolerance` of each other (relatively,
// or absolutely for numbers below 1: a log-prob's error is absolute). Log-probs
// computed with another normalizer's rounding (the device's summary) differ only so.
inline bool same_up_to_rounding(const std::string& a, const std::string& b, double tolerance) {
  const auto number_at = [](const std::string& s, std::size_t i) {
    return std::isdigit(static_cast<unsigned char>(s[i])) ||
           (s[i] == '-' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])));
  };
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (number_at(a, i) && number_at(b, j)) {
      char* end_a = nullptr;
      char* end_b = nullptr;
      const double x = std::strtod(a.c_str() + i, &end_a);
      const double y = std::strtod(b.c_str() + j, &end_b);
      if (std::abs(x - y) > tolerance * std::max({1.0, std::abs(x), std::abs(y)})) return false;
      i = static_cast<std::size_t>(end_a - a.c_str());
      j = static_cast<std::size_t>(end_b - b.c_str());
      continue;
    }
    if (a[i++] != b[j++]) return false;
  }
  return i == a.size() && j == b.size();
}

}  // namespace sg::testing
