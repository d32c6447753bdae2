// The verbatim-leakage filter on a demo stage: what it costs per decode step at batch 1,
// and what it lets through (Ippolito et al. 2023: an exact-match filter is bypassed by
// near-copies). Prints two markdown tables for bench/README.md.
//
//   bench_leakage [--stage stage4] [--index FILE.sgidx] [--tokens 64]
//
// Without --index, the stage's slices (family.json) are indexed into a temporary file.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "engine/generator.hpp"
#include "engine/model.hpp"
#include "memorization/corpus_index.hpp"
#include "memorization/corpus_reader.hpp"
#include "memorization/index_builder.hpp"
#include "memorization/leakage_filter.hpp"
#include "memorization/tokenizer_hash.hpp"
#include "model/checkpoint.hpp"
#include "tokenizer/tokenizer.hpp"
#include "vk/context.hpp"

namespace {

namespace fs = std::filesystem;
namespace mem = sg::detectors::memorization;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using Tokens = std::vector<std::int32_t>;

const fs::path kDemo = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";
constexpr std::uint32_t kN = 32;

std::vector<json> read_jsonl(const fs::path& p) {
  std::ifstream in(p);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::vector<fs::path> slices_of(const std::string& stage) {
  std::ifstream in(kDemo / "family.json");
  const auto family = json::parse(in);
  std::vector<fs::path> out;
  for (const auto& s : family["stages"])
    if (s["name"] == stage)
      for (const auto& slice : s["slices"])
        out.push_back(kDemo / "corpus" / (slice.get<std::string>() + ".jsonl.zst"));
  return out;
}

// Times the filter's own calls: the overhead measured directly, free of the step-to-step
// noise of this shared machine.
class TimedFactory : public sg::engine::OutputFilterFactory {
 public:
  explicit TimedFactory(std::shared_ptr<const sg::engine::OutputFilterFactory> inner)
      : inner_(std::move(inner)) {}
  std::unique_ptr<sg::engine::OutputFilter> make() const override {
    return std::make_unique<Timed>(inner_->make(), seconds_, calls_);
  }
  double seconds() const { return *seconds_; }

 private:
  class Timed : public sg::engine::OutputFilter {
   public:
    Timed(std::unique_ptr<sg::engine::OutputFilter> f, std::shared_ptr<double> s,
          std::shared_ptr<std::size_t> c)
        : f_(std::move(f)), s_(std::move(s)), c_(std::move(c)) {}
    std::optional<sg::engine::FilterEvent> veto(const sg::engine::GenerationState& st,
                                                std::int32_t t) override {
      const auto t0 = Clock::now();
      auto r = f_->veto(st, t);
      *s_ += std::chrono::duration<double>(Clock::now() - t0).count();
      ++*c_;
      return r;
    }
    std::optional<sg::engine::FilterStop> stop(const sg::engine::GenerationState& st) override {
      const auto t0 = Clock::now();
      auto r = f_->stop(st);
      *s_ += std::chrono::duration<double>(Clock::now() - t0).count();
      return r;
    }

   private:
    std::unique_ptr<sg::engine::OutputFilter> f_;
    std::shared_ptr<double> s_;
    std::shared_ptr<std::size_t> c_;
  };
  std::shared_ptr<const sg::engine::OutputFilterFactory> inner_;
  std::shared_ptr<double> seconds_ = std::make_shared<double>(0);
  std::shared_ptr<std::size_t> calls_ = std::make_shared<std::size_t>(0);
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// 1 - word edit distance / words of the reference, after normalizing both: the share of
// the reference's words a reader recovers from the output (1: a verbatim copy up to case
// and spacing).
double similarity(const std::string& output, const std::string& reference) {
  const auto a = words(mem::normalize_lower_space(output)),
             b = words(mem::normalize_lower_space(reference));
  if (b.empty()) return 0;
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  std::iota(prev.begin(), prev.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return std::max(0.0, 1.0 - static_cast<double>(prev[b.size()]) / static_cast<double>(b.size()));
}

// Longest span of `output` tokens (with the prompt before them) found verbatim in the corpus.
std::uint32_t longest_verbatim(const mem::CorpusIndex& index, const Tokens& prompt,
                               const Tokens& output) {
  Tokens all = prompt;
  all.insert(all.end(), output.begin(), output.end());
  const auto l = index.longest(all);
  std::uint32_t best = 0;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (i + l[i] > prompt.size())  // reaches into the output
      best = std::max(best, l[i]);
  return best;
}

// How many tokens of `continuation` the filter vetoes when fed after `prompt`, as if the
// model emitted it.
std::size_t blocks_in(const sg::engine::OutputFilterFactory& factory, const Tokens& prompt,
                      const Tokens& continuation) {
  auto f = factory.make();
  std::size_t blocked = 0;
  for (std::size_t i = 0; i < continuation.size(); ++i) {
    const sg::engine::GenerationState s{prompt, std::span(continuation).first(i)};
    blocked += f->veto(s, continuation[i]).has_value();
  }
  return blocked;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string double_spaces(const std::string& s) {
  std::string out;
  for (char c : s) out += c == ' ' ? std::string("  ") : std::string(1, c);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string stage = "stage4";
  fs::path index_file;
  int new_tokens = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--stage")
      stage = argv[i + 1];
    else if (a == "--index")
      index_file = argv[i + 1];
    else if (a == "--tokens")
      new_tokens = std::stoi(argv[i + 1]);
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  const auto model_dir = kDemo / stage;
  const auto ckpt = sg::model::Checkpoint::open(model_dir);
  const auto tok =
      sg::tokenizer::load(model_dir, std::string(sg::model::to_string(ckpt.config().arch)));
  const fs::path scratch = fs::temp_directory_path() / ("sg-bench-leakage-" + stage);
  fs::create_directories(scratch);
  if (index_file.empty()) {
    index_file = scratch / "exact.sgidx";
    mem::build_index(slices_of(stage), *tok, mem::tokenizer_hash(model_dir), index_file);
  }
  // The same corpus lower-cased and whitespace-collapsed (`index build --normalize`): the
  // normalized mode of the filter.
  const auto normalized_file = scratch / "normalized.sgidx";
  mem::build_index(slices_of(stage), *tok, mem::tokenizer_hash(model_dir), normalized_file,
                   {.normalization = mem::TextNormalization::kLowerSpace});
  auto exact = mem::leakage_filter_for_model(index_file, kN, model_dir);
  auto normalized = mem::leakage_filter_for_model(normalized_file, kN, model_dir);

  // Memorized prompts: duplicated passages' first 32 tokens (the true continuation after);
  // novel prompts: held-out openings.
  struct Passage {
    Tokens prompt, truth;
    std::string truth_text;
    int count;
  };
  std::vector<Passage> passages;
  for (const auto& p : read_jsonl(kDemo / "duplicates.jsonl")) {
    const auto ids = tok->encode(p["text"].get<std::string>());
    if (ids.size() < 32 + static_cast<std::size_t>(new_tokens)) continue;
    Passage x;
    x.prompt.assign(ids.begin(), ids.begin() + 32);
    x.truth.assign(ids.begin() + 32, ids.begin() + 32 + new_tokens);
    x.truth_text = tok->decode(x.truth);
    x.count = p["count"];
    passages.push_back(std::move(x));
  }
  std::vector<Tokens> novel;
  for (const auto& p : read_jsonl(kDemo / "prompts" / "heldout.jsonl"))
    if (novel.size() < 16) novel.push_back(tok->encode(p["text"].get<std::string>()));

  sg::gpu::Context gpu(sg::gpu::ContextOptions{});
  sg::engine::EngineOptions o;
  o.max_sequences = 1;
  sg::engine::Model model(gpu, ckpt, o);
  auto run = [&](const Tokens& prompt,
                 std::shared_ptr<const sg::engine::OutputFilterFactory> filter,
                 std::vector<double>& steps) {
    sg::engine::GenerationRequest r{prompt, {}};
    r.params.temperature = 0;
    r.params.max_tokens = new_tokens;
    r.params.ignore_eos = true;
    if (filter) r.params.filters.push_back(std::move(filter));
    sg::engine::Generator gen(model, ckpt.config().eos_token_id);
    auto out = gen.run(std::span(&r, 1)).front();
    const auto& t = gen.timings().step_seconds;
    steps.insert(steps.end(), t.begin(), t.end());
    return out;
  };

  // Overhead: batch 1, each prompt without and with the filter back to back.
  std::cout << "## overhead (" << stage << ", batch 1, greedy " << new_tokens
            << " tokens, N = " << kN << ")\n\n"
            << "| prompts | filter | sequences | step ms off | step ms on | filter us/step | "
               "filter share of a step | blocks/sequence |\n|---|---|---|---|---|---|---|---|\n";
  auto overhead = [&](const std::string& label, const std::vector<Tokens>& prompts,
                      const std::string& mode,
                      std::shared_ptr<const mem::LeakageFilterFactory> factory) {
    std::vector<double> off, on;
    auto timed = std::make_shared<TimedFactory>(std::move(factory));
    std::size_t steps = 0, blocks = 0;
    for (const auto& p : prompts) {
      run(p, nullptr, off);
      const std::size_t before = on.size();
      const auto r = run(p, timed, on);
      steps += on.size() - before;
      blocks += r.events.size();
    }
    const double per_step_us = 1e6 * timed->seconds() / static_cast<double>(steps);
    char line[256];
    std::snprintf(line, sizeof line, "| %s | %s | %zu | %.2f | %.2f | %.1f | %.2f %% | %.1f |\n",
                  label.c_str(), mode.c_str(), prompts.size(), 1e3 * median(off), 1e3 * median(on),
                  per_step_us, 100 * per_step_us / (1e6 * median(off)),
                  static_cast<double>(blocks) / static_cast<double>(prompts.size()));
    std::cout << line << std::flush;
  };
  std::vector<Tokens> memorized;
  for (const auto& p : passages) memorized.push_back(p.prompt);
  for (const auto& [mode, factory] :
       {std::pair{"exact", exact}, std::pair{"normalized", normalized}}) {
    overhead("memorized passages (32-token prefix)", memorized, mode, factory);
    overhead("held-out openings", novel, mode, factory);
  }

  // What leaks: the model's greedy continuation of memorized passages, then near-copies of
  // the true continuation fed through the filters as if the model had written them.
  std::cout << "\n## what leaks (" << stage << ", " << passages.size()
            << " duplicated passages, continuation of " << new_tokens << " tokens, N = " << kN
            << ")\n\n"
            << "| continuation | filter | sequences blocked | longest verbatim span "
               "(median, max) | word similarity to the original (mean) |\n|---|---|---|---|---|\n";
  auto row = [](const std::string& what, const std::string& filter, std::size_t blocked,
                std::size_t total, std::vector<double> spans, double sim) {
    char line[256];
    std::snprintf(line, sizeof line, "| %s | %s | %zu / %zu | %.0f, %.0f | %.2f |\n", what.c_str(),
                  filter.c_str(), blocked, total, median(spans),
                  spans.empty() ? 0.0 : *std::max_element(spans.begin(), spans.end()), sim);
    std::cout << line << std::flush;
  };
  for (const std::string mode : {"off", "exact", "normalized"}) {
    std::vector<double> spans, ignore;
    double sim = 0;
    std::size_t blocked = 0;
    for (const auto& p : passages) {
      std::shared_ptr<const mem::LeakageFilterFactory> f;
      if (mode == "exact") f = exact;
      if (mode == "normalized") f = normalized;
      const auto r = run(p.prompt, f, ignore);
      spans.push_back(longest_verbatim(exact->index(), p.prompt, r.tokens));
      sim += similarity(tok->decode(r.tokens), p.truth_text);
      blocked += !r.events.empty();
    }
    row("model's greedy output", mode, blocked, passages.size(), spans,
        sim / static_cast<double>(passages.size()));
  }
  struct Variant {
    std::string name;
    std::string (*change)(const std::string&);
  };
  const std::vector<Variant> variants{
      {"the original", [](const std::string& s) { return s; }},
      {"lower-cased", [](const std::string& s) { return lower(s); }},
      {"upper-cased", [](const std::string& s) { return upper(s); }},
      {"spaces doubled", [](const std::string& s) { return double_spaces(s); }}};
  for (const auto& v : variants)
    for (const bool norm : {false, true}) {
      std::vector<double> spans;
      double sim = 0;
      std::size_t blocked = 0;
      for (const auto& p : passages) {
        const auto text = v.change(p.truth_text);
        // Both filters see the model's own tokens of the near-copy; the span is measured in
        // the filter's own index (normalized text, re-tokenized, for the normalized one).
        const auto cont = tok->encode(text);
        const auto& f = norm ? *normalized : *exact;
        blocked += blocks_in(f, p.prompt, cont) > 0;
        if (norm) {
          const auto prompt_text = mem::normalize_lower_space(tok->decode(p.prompt));
          const auto prompt = tok->encode(prompt_text);
          const auto all = tok->encode(mem::normalize_lower_space(tok->decode(p.prompt) + text));
          const Tokens rest(
              all.begin() + static_cast<std::ptrdiff_t>(std::min(prompt.size(), all.size())),
              all.end());
          spans.push_back(longest_verbatim(f.index(), prompt, rest));
        } else {
          spans.push_back(longest_verbatim(f.index(), p.prompt, cont));
        }
        sim += similarity(text, p.truth_text);
      }
      row(v.name, norm ? "normalized" : "exact", blocked, passages.size(), spans,
          sim / static_cast<double>(passages.size()));
    }
  fs::remove_all(scratch);
  return 0;
}
