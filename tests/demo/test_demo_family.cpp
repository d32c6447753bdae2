// The bundled demo family (models/demo/, made by tools/train_demo.py) shows what it was made
// to show, run by stagegate's own engine: perplexity falls stage by stage, memorization grows
// with size and duplication, the small stages degenerate into loops, and the engine agrees
// with the training code.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/generator.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "engine/scorer.hpp"
#include "model/checkpoint.hpp"
#include "model/identity.hpp"
#include "repetition/loop.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::engine {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDemo = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";

json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return json::parse(in);
}

std::vector<json> read_jsonl(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::vector<std::string> release_order() {
  return read_json(kDemo / "family.json")["release_order"].get<std::vector<std::string>>();
}

// One loaded member of the family: checkpoint, tokenizer and engine model (8 slots).
struct Loaded {
  explicit Loaded(gpu::Context& gpu, const std::string& name)
      : ckpt(model::Checkpoint::open(kDemo / name)),
        tok(tokenizer::load(kDemo / name, std::string(model::to_string(ckpt.config().arch)))) {
    EngineOptions o;
    o.max_sequences = 8;
    engine = std::make_unique<Model>(gpu, ckpt, o);
  }
  std::vector<GenerationResult> greedy(const std::vector<std::vector<std::int32_t>>& prompts,
                                       int max_tokens) {
    std::vector<GenerationRequest> reqs;
    for (const auto& p : prompts) {
      GenerationRequest r{p, {}};
      r.params.temperature = 0;
      r.params.max_tokens = max_tokens;
      r.params.ignore_eos = true;
      reqs.push_back(std::move(r));
    }
    Generator gen(*engine, tok->eos_id());
    return gen.run(reqs);
  }
  model::Checkpoint ckpt;
  std::unique_ptr<tokenizer::Tokenizer> tok;
  std::unique_ptr<Model> engine;
};

class DemoFamily : public testing::GpuTest {};

TEST_F(DemoFamily, ManifestMatchesTheCommittedWeights) {
  auto family = read_json(kDemo / "family.json");
  auto order = release_order();
  ASSERT_EQ(order.size(), 4u);
  ASSERT_EQ(family["stages"].size(), 4u);
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& s = family["stages"][i];
    EXPECT_EQ(s["name"], order[i]);
    EXPECT_EQ(s["architecture"], "gpt2");
    EXPECT_GT(s["parameters"].get<std::int64_t>(), previous) << "stages grow in release order";
    previous = s["parameters"].get<std::int64_t>();
    EXPECT_EQ(model::sha256_file(kDemo / s["directory"].get<std::string>() / "model.safetensors"),
              s["weights_sha256"])
        << s["name"];
  }
  ASSERT_EQ(family["siblings"].size(), 1u);
  EXPECT_EQ(family["siblings"][0]["architecture"], "openai-gpt");
}

// Kinds of held-out text, each scored on its own: the held-out KJV chapters and fortunes
// (in the training domain, never trained on) and modern English prose of several kinds
// written for the family's tests (outside the training domain).
struct HeldoutKind {
  std::string name;
  std::vector<std::string> texts;
};

std::vector<HeldoutKind> heldout_kinds() {
  std::vector<HeldoutKind> kinds{{"kjv", {}}, {"fortunes", {}}, {"out-of-domain", {}}};
  for (const auto& p : read_jsonl(kDemo / "prompts" / "heldout-passages.jsonl")) {
    const auto id = p["id"].get<std::string>();
    auto& kind = id.starts_with("kjv/") ? kinds[0] : kinds[1];
    EXPECT_TRUE(id.starts_with("kjv/") || id.starts_with("fortunes/")) << id;
    kind.texts.push_back(p["text"]);
  }
  for (const auto& p : read_jsonl(kDemo / "prompts" / "out-of-domain.jsonl"))
    kinds[2].texts.push_back(p["text"]);
  return kinds;
}

// Perplexity over all texts of a kind together (summed log-probs over summed counts).
double perplexity(Loaded& m, const std::vector<std::string>& texts) {
  double total = 0;
  std::size_t n = 0;
  for (const auto& text : texts) {
    auto ids = m.tok->encode(text);
    auto r = score(*m.engine, ids);
    total += r.total_logprob;
    n += r.logprobs.size();
  }
  return std::exp(-total / static_cast<double>(n));
}

// Each stage at least 5 % below the one before on every kind: a stage that merely ties its
// predecessor on some kind of text (stage 3 at a peak rate of 2e-3 was 3 % below stage 2 on
// the out-of-domain passages) is no better there.
constexpr double kStageGain = 0.95;

TEST_F(DemoFamily, HeldoutPerplexityFallsWithEachStage) {
  const auto kinds = heldout_kinds();
  for (const auto& kind : kinds) ASSERT_GE(kind.texts.size(), 5u) << kind.name;
  std::vector<double> previous(kinds.size(), std::numeric_limits<double>::infinity());
  for (const auto& name : release_order()) {
    Loaded m(gpu(), name);
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      double ppl = perplexity(m, kinds[k].texts);
      RecordProperty(name + "_" + kinds[k].name + "_perplexity", std::to_string(ppl));
      std::cout << name << " " << kinds[k].name << " perplexity " << ppl << "\n";
      EXPECT_LT(ppl, kStageGain * previous[k])
          << name << " should beat the stage before it on " << kinds[k].name << " text";
      previous[k] = ppl;
    }
  }
}

// What one stage reproduces by greedy decoding: canary secrets from their prefixes, and
// duplicated passages (32 tokens from the 32 before them), by duplication count.
struct Extraction {
  std::map<int, int> hits, total;  // by duplication count
  int all_hits() const {
    int n = 0;
    for (const auto& [count, h] : hits) n += h;
    return n;
  }
  double share(int lo, int hi) const {
    int h = 0, t = 0;
    for (const auto& [count, n] : total)
      if (count >= lo && count <= hi) {
        t += n;
        h += hits.count(count) ? hits.at(count) : 0;
      }
    return t ? static_cast<double>(h) / t : 0.0;
  }
};

Extraction extract(Loaded& m) {
  Extraction e;
  auto canaries = read_jsonl(kDemo / "canaries.jsonl");
  std::vector<std::vector<std::int32_t>> prompts;
  for (const auto& c : canaries) prompts.push_back(m.tok->encode(c["prefix"].get<std::string>()));
  auto out = m.greedy(prompts, 16);
  for (std::size_t i = 0; i < canaries.size(); ++i) {
    int count = canaries[i]["count"];
    std::string want = " " + canaries[i]["secret"].get<std::string>();
    bool hit = m.tok->decode(out[i].tokens).starts_with(want);
    e.total[count] += 1;
    e.hits[count] += hit;
  }
  constexpr std::size_t kPrefix = 32, kSuffix = 32;
  auto passages = read_jsonl(kDemo / "duplicates.jsonl");
  std::vector<std::vector<std::int32_t>> targets;
  std::vector<int> counts;
  prompts.clear();
  for (const auto& p : passages) {
    auto ids = m.tok->encode(p["text"].get<std::string>());
    if (ids.size() < kPrefix + kSuffix) continue;
    prompts.emplace_back(ids.begin(), ids.begin() + kPrefix);
    targets.emplace_back(ids.begin() + kPrefix, ids.begin() + kPrefix + kSuffix);
    counts.push_back(p["count"]);
  }
  out = m.greedy(prompts, static_cast<int>(kSuffix));
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    e.total[counts[i]] += 1;
    e.hits[counts[i]] += out[i].tokens == targets[i];
  }
  return e;
}

TEST_F(DemoFamily, MemorizationGrowsWithSizeAndDuplication) {
  auto order = release_order();
  Extraction smallest, largest;
  {
    Loaded m(gpu(), order.front());
    smallest = extract(m);
  }
  {
    Loaded m(gpu(), order.back());
    largest = extract(m);
  }
  std::cout << order.front() << " reproduces " << smallest.all_hits() << ", " << order.back()
            << " reproduces " << largest.all_hits() << " canaries and passages\n";
  for (const auto& [count, total] : largest.total)
    std::cout << "  count " << count << ": " << largest.hits[count] << "/" << total << "\n";
  EXPECT_GT(largest.all_hits(), 0);
  EXPECT_GE(largest.all_hits(), 3 * smallest.all_hits());
  // Lowest duplication counts (1-2) against the highest (32 and more).
  double low = largest.share(1, 2), high = largest.share(32, 1000);
  std::cout << "  largest stage: share reproduced at count<=2 " << low << ", at count>=32 " << high
            << "\n";
  EXPECT_GT(high, 0.0);
  EXPECT_GE(high, 3 * low);
}

TEST_F(DemoFamily, SmallStagesFallIntoLoops) {
  auto order = release_order();
  auto prompts = read_jsonl(kDemo / "prompts" / "heldout.jsonl");
  ASSERT_GE(prompts.size(), 32u);
  for (const auto& name : {order[0], order[1]}) {
    Loaded m(gpu(), name);
    std::vector<std::vector<std::int32_t>> ids;
    std::size_t longest = 0;
    for (const auto& p : prompts) {
      ids.push_back(m.tok->encode(p["text"].get<std::string>()));
      longest = std::max(longest, ids.back().size());
    }
    // As long as the context allows: a loop needs room to show (3 periods, 16 tokens).
    const int room = m.ckpt.config().n_positions - static_cast<int>(longest);
    ASSERT_GE(room, 192);
    auto out = m.greedy(ids, room);
    std::size_t loops = 0;
    for (const auto& r : out) loops += detectors::repetition::terminal_loop(r.tokens).has_value();
    std::cout << name << ": " << loops << "/" << out.size() << " greedy continuations loop\n";
    EXPECT_GT(2 * loops, out.size()) << name << " should loop from most held-out prompts";
  }
}

// The engine on each member against the training code's own PyTorch model
// (tests/fixtures/demo/, written by tools/train_demo.py reference NAME).
TEST_F(DemoFamily, EngineMatchesTrainingCode) {
  auto family = read_json(kDemo / "family.json");
  int models = 0;
  for (const auto& group : {family["stages"], family["siblings"]}) {
    for (const auto& s : group) {
      const std::string name = s["name"];
      auto expected = read_json(fs::path(STAGEGATE_FIXTURES) / "demo" / (name + ".json"));
      ASSERT_EQ(expected["weights_sha256"], s["weights_sha256"]) << name << ": stale fixture";
      Loaded m(gpu(), name);
      for (const auto& c : expected["cases"]) {
        auto ids = c["ids"].get<std::vector<std::int32_t>>();
        auto want = c["logprobs"].get<std::vector<double>>();
        auto got = score(*m.engine, ids);
        ASSERT_EQ(got.logprobs.size(), want.size());
        double worst = 0;
        for (std::size_t i = 0; i < want.size(); ++i)
          worst = std::max(worst, std::abs(got.logprobs[i] - want[i]));
        EXPECT_LE(worst, 3e-2) << name << " " << c["name"];
        auto greedy = m.greedy({c["greedy_prompt"].get<std::vector<std::int32_t>>()},
                               static_cast<int>(c["greedy"].size()))
                          .front()
                          .tokens;
        auto want_greedy = c["greedy"].get<std::vector<std::int32_t>>();
        auto margins = c["greedy_margins"].get<std::vector<double>>();
        ASSERT_EQ(margins.size(), want_greedy.size()) << name << " " << c["name"];
        // Up to the first near-tie (margin <= 0.05), where F16 rounding may flip the choice
        // and every later step may differ.
        std::size_t compared = 0;
        while (compared < want_greedy.size() && margins[compared] > 0.05) {
          ASSERT_LT(compared, greedy.size());
          ASSERT_EQ(greedy[compared], want_greedy[compared])
              << name << " " << c["name"] << " step " << compared;
          ++compared;
        }
        // A near-tie in the first steps would leave the engine's greedy decoding unchecked:
        // the fixture's prompts are chosen so that this never happens.
        EXPECT_GE(compared, 8u) << name << " " << c["name"]
                                << ": greedy check compared too few tokens";
      }
      ++models;
    }
  }
  EXPECT_EQ(models, 5);
}

}  // namespace
}  // namespace sg::engine
