// The verbatim-leakage filter on the largest demo stage, which has memorized its duplicated
// passages and canaries: greedy decoding from a memorized prefix reproduces a corpus N-gram
// without the filter, and never does with it, each block an event pointing into the corpus.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "corpus_fixtures.hpp"
#include "demo_index.hpp"
#include "engine/generator.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "memorization/corpus_index.hpp"
#include "memorization/leakage_filter.hpp"

namespace sg::testing {
namespace {

using nlohmann::json;
namespace mem = detectors::memorization;

std::vector<json> read_jsonl(const fs::path& p) {
  std::ifstream in(p);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  if (out.empty()) throw std::runtime_error("no records in " + p.string());
  return out;
}

class LeakageOnDemo : public GpuTest {
 protected:
  static void SetUpTestSuite() {
    GpuTest::SetUpTestSuite();
    dir_ = std::make_unique<ScratchDir>();
    stage_ = largest_stage();
    index_ = std::make_shared<const mem::CorpusIndex>(
        mem::CorpusIndex::open(build_demo_index(stage_, *dir_ / "demo.sgidx")));
  }
  static void TearDownTestSuite() {
    index_.reset();
    dir_.reset();
    GpuTest::TearDownTestSuite();
  }
  static std::string largest_stage() {
    std::ifstream in(kDemoFamily / "family.json");
    return json::parse(in)["release_order"].back();
  }

  // Greedy continuations of `prompts` without the filter, then with it over N-grams: one
  // batch, so the model loads once.
  std::pair<std::vector<engine::GenerationResult>, std::vector<engine::GenerationResult>> greedy(
      const std::vector<std::vector<std::int32_t>>& prompts, int max_tokens, std::uint32_t n) {
    const auto ckpt = model::Checkpoint::open(kDemoFamily / stage_);
    engine::EngineOptions o;
    o.max_sequences = static_cast<int>(2 * prompts.size());
    engine::Model model(gpu(), ckpt, o);
    std::vector<engine::GenerationRequest> reqs;
    for (bool filtered : {false, true})
      for (const auto& p : prompts) {
        engine::GenerationRequest r{p, {}};
        r.params.temperature = 0;
        r.params.max_tokens = max_tokens;
        r.params.ignore_eos = true;
        if (filtered)
          r.params.filters.push_back(std::make_shared<mem::LeakageFilterFactory>(index_, n));
        reqs.push_back(std::move(r));
      }
    auto all = engine::Generator(model, ckpt.config().eos_token_id).run(reqs);
    const auto half = all.begin() + static_cast<std::ptrdiff_t>(prompts.size());
    return {{all.begin(), half}, {half, all.end()}};
  }

  // Output positions whose N-token window of (prompt + output) ending there is in the corpus.
  static std::vector<std::size_t> leaked_at(const std::vector<std::int32_t>& prompt,
                                            const std::vector<std::int32_t>& output,
                                            std::size_t n) {
    auto all = prompt;
    all.insert(all.end(), output.begin(), output.end());
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < output.size(); ++i) {
      const std::size_t end = prompt.size() + i + 1;
      if (end >= n && index_->count(std::span(all).subspan(end - n, n)) > 0) out.push_back(i);
    }
    return out;
  }

  // Off leaks for some prompt; on leaks for none, and blocked where off leaked.
  void check(const std::vector<std::vector<std::int32_t>>& prompts, int max_tokens,
             std::uint32_t n) {
    const auto [off, on] = greedy(prompts, max_tokens, n);
    int leaking = 0;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      const bool leaks = !leaked_at(prompts[i], off[i].tokens, n).empty();
      leaking += leaks;
      EXPECT_TRUE(off[i].events.empty());
      EXPECT_TRUE(leaked_at(prompts[i], on[i].tokens, n).empty()) << "prompt " << i;
      if (leaks) {
        EXPECT_FALSE(on[i].events.empty()) << "prompt " << i << " leaked unblocked";
      }
      for (const auto& e : on[i].events) {
        EXPECT_EQ(e.filter, "memorization.leakage");
        EXPECT_EQ(e.action, "block");
        const auto d = json::parse(e.detail_json);
        EXPECT_EQ(d["span_length"], n);
        const auto doc = d["document"]["id"].get<std::uint32_t>();
        EXPECT_EQ(d["document"]["name"], std::string(index_->document_name(doc)));
        // The blocked token would have completed the N-gram found at that offset.
        auto all = prompts[i];
        all.insert(all.end(), on[i].tokens.begin(), on[i].tokens.begin() + e.position);
        all.push_back(d["token"].get<std::int32_t>());
        EXPECT_EQ(index_->document_tokens(doc, d["offset"].get<std::uint64_t>(), n),
                  std::vector<std::int32_t>(all.end() - n, all.end()));
      }
    }
    EXPECT_GT(leaking, static_cast<int>(prompts.size()) / 2)
        << "the unfiltered model should reproduce most of these memorized texts";
  }

  static inline std::unique_ptr<ScratchDir> dir_;
  static inline std::string stage_;
  static inline std::shared_ptr<const mem::CorpusIndex> index_;
};

std::unique_ptr<tokenizer::Tokenizer> demo_tokenizer(const std::string& stage) {
  const auto ckpt = model::Checkpoint::open(kDemoFamily / stage);
  return tokenizer::load(kDemoFamily / stage, std::string(model::to_string(ckpt.config().arch)));
}

TEST_F(LeakageOnDemo, DuplicatedPassagesAreNotReproducedVerbatim) {
  const auto tok = demo_tokenizer(stage_);
  std::vector<std::vector<std::int32_t>> prompts;
  for (const auto& p : read_jsonl(kDemoFamily / "duplicates.jsonl")) {
    if (p["count"].get<int>() < 64) continue;
    auto ids = tok->encode(p["text"].get<std::string>());
    if (ids.size() >= 64) prompts.emplace_back(ids.begin(), ids.begin() + 32);
  }
  ASSERT_GE(prompts.size(), 4u);
  check(prompts, 16, 32);
}

TEST_F(LeakageOnDemo, CanarySecretsAreNotReproducedVerbatim) {
  const auto tok = demo_tokenizer(stage_);
  std::vector<std::vector<std::int32_t>> prompts;
  for (const auto& c : read_jsonl(kDemoFamily / "canaries.jsonl"))
    if (c["count"].get<int>() >= 32) prompts.push_back(tok->encode(c["prefix"].get<std::string>()));
  ASSERT_GE(prompts.size(), 2u);
  check(prompts, 16, 16);
}

}  // namespace
}  // namespace sg::testing
