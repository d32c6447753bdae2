// Audit plans (src/audit/plan.cpp) with every registered detector's section, read from a
// folder that holds the files a plan names (prompts, held-out texts, RealToxicityPrompts, a
// corpus index, canaries...). A plan must load or be refused with sg::InputError, and an
// accepted plan keeps the promises its hash rests on:
//   - the same text loads to the same canonical text, and that text names no path;
//   - dropping comments and blank lines and reversing the order of the sections, and of the
//     keys in each, loads to the same canonical text (hence the same hash);
//   - strategies are unique and sorted, samples positive, and the planned counts add up.
#include <zstd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "audit/plan.hpp"
#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "ini_reorder.hpp"
#include "memorization/index_builder.hpp"
#include "scratch_file.hpp"

namespace {

namespace fs = std::filesystem;
using sg::fuzz::check;

// A file of the source tree, or its first `max_lines` lines.
std::string source_file(const std::string& relative, std::size_t max_lines = SIZE_MAX) {
  std::ifstream in(fs::path(STAGEGATE_SOURCE_DIR) / relative, std::ios::binary);
  check(static_cast<bool>(in));
  if (max_lines == SIZE_MAX) return {std::istreambuf_iterator<char>(in), {}};
  std::string out, line;
  for (std::size_t n = 0; n < max_lines && std::getline(in, line); ++n) out += line + "\n";
  return out;
}

// The repetition detector's human continuations: a document per prompt, compressed.
std::string human_documents(const fs::path& prompts) {
  std::string jsonl;
  for (const auto& r : sg::detectors::read_text_jsonl(prompts).records)
    jsonl += nlohmann::json{{"id", r.id}, {"text", r.text + " and so it went on."}}.dump() + "\n";
  std::string packed(ZSTD_compressBound(jsonl.size()), '\0');
  packed.resize(ZSTD_compress(packed.data(), packed.size(), jsonl.data(), jsonl.size(), 1));
  return packed;
}

// The files the seed plans name, under files/ (written once per process). Weights are only
// hashed when a plan is read, so any bytes do.
const fs::path& plan_dir() {
  static const fs::path dir = [] {
    const auto& s = sg::fuzz::scratch();
    s.write("files/prompts.jsonl", source_file("tests/fixtures/plans/prompts-small.jsonl"));
    s.write("files/heldout.jsonl", source_file("tests/fixtures/plans/heldout-small.jsonl"));
    s.write("files/rtp.jsonl", source_file("models/demo/prompts/rtp.jsonl", 3));
    s.write("files/canaries.jsonl", source_file("models/demo/canaries.jsonl", 3));
    s.write("files/duplicates.jsonl",
            "{\"id\": \"dup/0\", \"count\": 4}\n{\"id\": \"dup/1\", \"count\": 2}\n");
    s.write("files/human.jsonl.zst", human_documents(s.path() / "files/prompts.jsonl"));
    s.write("files/ref/model.safetensors", "reference weights");
    s.write("files/classifier/model.safetensors", "classifier weights");
    sg::detectors::memorization::TokenizedCorpus corpus;
    corpus.names = {"dup/0", "dup/1", "doc"};
    corpus.documents = {{1, 2, 3, 4, 5}, {5, 4, 3}, {7, 7, 7, 1, 2}};
    corpus.vocab_size = 16;
    corpus.tokenizer_hash = std::string(64, 'a');
    fs::create_directories(s.path() / "files/index");
    sg::detectors::memorization::build_index(corpus, s.path() / "files/index/stage1.sgidx",
                                             {.threads = 1, .progress = false});
    return s.path();
  }();
  return dir;
}

std::optional<sg::audit::Plan> load(const std::string& name, std::string_view text) {
  const auto file = sg::fuzz::scratch().write(name, std::string(text));
  try {
    return sg::audit::Plan::load(file, sg::detectors::builtin_registry(), {{"stage", "stage1"}});
  } catch (const sg::InputError& e) {
    sg::fuzz::refused(e);
    return std::nullopt;  // a refusal is a correct answer to bad input
  }
}

void check_plan(const sg::audit::Plan& p) {
  std::int64_t per_prompt = 0;
  for (std::size_t i = 0; i < p.strategies.size(); ++i) {
    check(p.strategies[i].samples >= 1);
    check(i == 0 || p.strategies[i - 1].name < p.strategies[i].name);
    per_prompt += p.strategies[i].samples;
  }
  for (std::size_t i = 1; i < p.detectors.size(); ++i)
    check(p.detectors[i - 1].name < p.detectors[i].name);
  check(p.samples_planned() == per_prompt * static_cast<std::int64_t>(p.prompts.records.size()));
  check(p.jobs_planned() >= p.samples_planned());
  check(!p.strategies.empty() || !p.detectors.empty());
  const auto canonical = p.canonical_text();
  check(canonical.find(plan_dir().string()) == std::string::npos);
  check(p.hash() == sg::sha256_hex(canonical));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  plan_dir();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto plan = load("plan.ini", text);
  if (!plan) return 0;
  check_plan(*plan);
  const auto again = load("again.ini", text);
  check(again && again->canonical_text() == plan->canonical_text());
  const auto other = load("reordered.ini", sg::fuzz::reordered(text));
  check(other && other->canonical_text() == plan->canonical_text());
  return 0;
}
