// The verbatim-leakage filter against a naive scan on random corpora: a candidate is vetoed
// exactly when it would complete an N-gram found inside one document, whatever the prompt
// and output before it (including output the filter itself would have vetoed, and prompts
// that already hold N-grams), and each event points at a real occurrence.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

#include "corpus_fixtures.hpp"
#include "memorization/corpus_suffix.hpp"
#include "memorization/leakage_filter.hpp"

namespace sg::testing {
namespace {

using nlohmann::json;

// Documents with much repetition over a few ids, so that long matches are common.
struct Corpus {
  Corpus(std::uint32_t seed, int documents, int max_length, int alphabet) : rng(seed) {
    corpus = random_corpus(rng, 64, documents, max_length, alphabet);
    mem::build_index(corpus, dir / "c.sgidx", {.threads = 1, .progress = false});
    index = std::make_shared<const mem::CorpusIndex>(mem::CorpusIndex::open(dir / "c.sgidx"));
    for (const auto& d : corpus.documents)
      for (auto t : d)
        if (std::find(alphabet_ids.begin(), alphabet_ids.end(), t) == alphabet_ids.end())
          alphabet_ids.push_back(t);
    alphabet_ids.push_back(0);  // an id the corpus never holds
  }
  bool occurs(std::span<const std::int32_t> q) const { return !naive_locate(corpus, q).empty(); }

  // A stream that mostly copies corpus text (so spans of every length up to a document's
  // occur), sometimes jumping to a random id.
  std::int32_t next(std::span<const std::int32_t> so_far) {
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng) < 0.85 && !so_far.empty()) {
      // Continue some occurrence of the last few tokens, if any.
      const std::size_t k = std::min<std::size_t>(so_far.size(), 1 + rng() % 6);
      auto at = naive_locate(corpus, so_far.last(k));
      std::erase_if(
          at, [&](const auto& o) { return o.offset + k >= corpus.documents[o.document].size(); });
      if (!at.empty()) {
        const auto& o = at[rng() % at.size()];
        return corpus.documents[o.document][o.offset + k];
      }
    }
    return alphabet_ids[rng() % alphabet_ids.size()];
  }

  std::mt19937 rng;
  ScratchDir dir;
  mem::TokenizedCorpus corpus;
  std::shared_ptr<const mem::CorpusIndex> index;
  std::vector<std::int32_t> alphabet_ids;
};

// The longest suffix of `s` of at most cap tokens that occurs, by brute force.
std::uint32_t naive_suffix(const Corpus& c, std::span<const std::int32_t> s, std::uint32_t cap) {
  for (std::uint32_t len = std::min<std::uint32_t>(cap, static_cast<std::uint32_t>(s.size()));
       len > 0; --len)
    if (c.occurs(s.last(len))) return len;
  return 0;
}

TEST(CorpusSuffix, TracksTheLongestOccurringSuffixUpToTheCap) {
  for (std::uint32_t seed = 1; seed <= 4; ++seed) {
    Corpus c(seed, 12, 40, 3);
    for (std::uint32_t cap : {1u, 3u, 8u}) {
      mem::CorpusSuffix suffix(*c.index, cap);
      std::vector<std::int32_t> stream;
      bool reached_cap = false;
      for (int i = 0; i < 150; ++i) {
        stream.push_back(c.next(stream));
        suffix.push(stream.back());
        const auto want = naive_suffix(c, stream, cap);
        ASSERT_EQ(suffix.match().depth, want) << "seed " << seed << " cap " << cap << " at " << i;
        EXPECT_EQ(suffix.match().size(),
                  naive_locate(c.corpus, std::span(stream).last(want)).size());
        reached_cap = reached_cap || want == cap;
      }
      EXPECT_TRUE(reached_cap) << "the stream never matched " << cap << " tokens";
    }
  }
}

TEST(LeakageFilter, VetoesExactlyTheCandidatesThatCompleteACorpusNgram) {
  std::size_t vetoes = 0, allowed = 0;
  for (std::uint32_t seed = 11; seed <= 14; ++seed) {
    Corpus c(seed, 10, 50, 3);
    for (std::uint32_t n : {1u, 2u, 5u, 9u}) {
      mem::LeakageFilterFactory factory(c.index, n);
      for (std::size_t prompt_length : {1u, 4u, 20u}) {
        auto filter = factory.make();
        std::vector<std::int32_t> all;  // prompt + output
        for (std::size_t i = 0; i < prompt_length; ++i) all.push_back(c.next(all));
        for (int step = 0; step < 60; ++step) {
          const engine::GenerationState state{std::span(all).first(prompt_length),
                                              std::span(all).subspan(prompt_length)};
          for (auto t : c.alphabet_ids) {
            auto with = all;
            with.push_back(t);
            const bool leaks = with.size() >= n && c.occurs(std::span(with).last(n));
            const auto event = filter->veto(state, t);
            ASSERT_EQ(event.has_value(), leaks)
                << "seed " << seed << " n " << n << " step " << step << " token " << t;
            if (!event) {
              ++allowed;
              continue;
            }
            ++vetoes;
            EXPECT_EQ(event->filter, "memorization.leakage");
            EXPECT_EQ(event->action, "block");
            EXPECT_EQ(event->position, step);
            const auto d = json::parse(event->detail_json);
            EXPECT_EQ(d["span_length"], n);
            EXPECT_EQ(d["token"], t);
            const auto doc = d["document"]["id"].get<std::uint32_t>();
            EXPECT_EQ(d["document"]["name"], c.corpus.names[doc]);
            EXPECT_TRUE(occurs_at(c.corpus.documents[doc], d["offset"].get<std::size_t>(),
                                  std::span(with).last(n)));
          }
          // Sometimes a token the filter vetoed: the state must follow any output.
          all.push_back(c.next(all));
          EXPECT_FALSE(filter->stop(
              {std::span(all).first(prompt_length), std::span(all).subspan(prompt_length)}));
        }
      }
    }
  }
  EXPECT_GT(vetoes, 500u);
  EXPECT_GT(allowed, 500u);
}

TEST(LeakageFilter, RefusesAZeroSpan) {
  Corpus c(3, 2, 5, 2);
  EXPECT_THROW(mem::LeakageFilterFactory(c.index, 0), std::invalid_argument);
}

}  // namespace
}  // namespace sg::testing
