#include <gtest/gtest.h>

#include <random>

#include "common/errors.hpp"
#include "corpus_fixtures.hpp"

namespace {

namespace mem = sg::detectors::memorization;
using sg::testing::naive_locate;
using sg::testing::naive_longest;
using sg::testing::random_corpus;
using sg::testing::ScratchDir;
using Index = mem::CorpusIndex;

std::vector<std::int32_t> stream_of(const mem::TokenizedCorpus& c) {
  std::vector<std::int32_t> all;
  for (const auto& d : c.documents) all.insert(all.end(), d.begin(), d.end());
  return all;
}

// Queries: spans of the concatenated stream (so some cross document ends and must not
// count), random sequences, out-of-vocabulary ids.
std::vector<std::vector<std::int32_t>> queries_for(const mem::TokenizedCorpus& c,
                                                   std::mt19937& rng) {
  const auto all = stream_of(c);
  std::vector<std::vector<std::int32_t>> qs{{}};
  std::uniform_int_distribution<std::size_t> at(0, all.empty() ? 0 : all.size() - 1);
  std::uniform_int_distribution<std::size_t> len(1, 12);
  for (int i = 0; i < 150 && !all.empty(); ++i) {
    const std::size_t a = at(rng), n = std::min(len(rng), all.size() - a);
    qs.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(a),
                    all.begin() + static_cast<std::ptrdiff_t>(a + n));
  }
  for (int i = 0; i < 30 && !all.empty(); ++i) {
    std::vector<std::int32_t> q(len(rng));
    for (auto& t : q) t = all[at(rng)];
    qs.push_back(q);
  }
  qs.push_back({-1});
  qs.push_back({static_cast<std::int32_t>(c.vocab_size)});
  return qs;
}

void expect_agrees_with_naive(const mem::TokenizedCorpus& c, const Index& index,
                              std::mt19937& rng) {
  std::uint64_t tokens = 0;
  for (const auto& d : c.documents) tokens += d.size();
  ASSERT_EQ(index.token_count(), tokens);
  ASSERT_EQ(index.document_count(), c.documents.size());
  std::uint64_t position = 0;
  for (std::uint32_t d = 0; d < c.documents.size(); ++d) {
    ASSERT_EQ(index.document_name(d), c.names[d]);
    ASSERT_EQ(index.document_begin(d), position);
    ASSERT_EQ(index.document_length(d), c.documents[d].size());
    ASSERT_EQ(index.document_tokens(d), c.documents[d]);
    for (std::size_t k = 0; k < c.documents[d].size(); ++k, ++position) {
      ASSERT_EQ(index.token(position), c.documents[d][k]);
      ASSERT_EQ(index.document_of(position), d);
    }
  }
  std::size_t nonzero = 0, crossing = 0;
  for (const auto& q : queries_for(c, rng)) {
    const auto expected = naive_locate(c, q);
    ASSERT_EQ(index.count(q), expected.size()) << "query of " << q.size();
    ASSERT_EQ(index.locate(q, SIZE_MAX), expected);
    nonzero += !expected.empty();
    // A span of the stream that the corpus never holds inside one document.
    crossing += expected.empty() && !q.empty() && q[0] >= 0 &&
                q[0] < static_cast<std::int32_t>(c.vocab_size);
    if (expected.size() > 2) {
      const auto some = index.locate(q, 2);
      ASSERT_EQ(some.size(), 2u);
      for (const auto& o : some)
        ASSERT_NE(std::find(expected.begin(), expected.end(), o), expected.end());
    }
    Index::Range r = index.all();
    for (auto t : q) r = index.extend(r, t);
    const Index::Range f = index.find(q);
    ASSERT_EQ(r.size(), expected.size());
    ASSERT_EQ(r.depth, q.size());
    ASSERT_EQ(f.begin, r.begin);
    ASSERT_EQ(f.end, r.end);
    ASSERT_EQ(index.longest(q), naive_longest(c, q));
  }
  // Guards: the queries exercised both hits and the document-end rule.
  EXPECT_GT(nonzero, 50u);
  EXPECT_GT(crossing, 0u);
}

TEST(CorpusIndex, AgreesWithNaiveScanWith16BitTokens) {
  ScratchDir dir;
  std::mt19937 rng(1);
  for (int round = 0; round < 6; ++round) {
    const auto c = random_corpus(rng, 50, 1 + round * 7, 40, 2 + round % 3);
    const auto file = dir / ("r" + std::to_string(round) + ".sgidx");
    mem::build_index(c, file, {.threads = 1, .progress = false});
    const auto index = Index::open(file);
    ASSERT_EQ(index.token_bytes(), 2u);
    expect_agrees_with_naive(c, index, rng);
  }
}

TEST(CorpusIndex, AgreesWithNaiveScanWith32BitTokens) {
  ScratchDir dir;
  std::mt19937 rng(2);
  for (int round = 0; round < 4; ++round) {
    const auto c = random_corpus(rng, 100000, 3 + round * 5, 50, 3);
    const auto file = dir / "wide.sgidx";
    mem::build_index(c, file, {.threads = 1, .progress = false});
    const auto index = Index::open(file);
    ASSERT_EQ(index.token_bytes(), 4u);
    expect_agrees_with_naive(c, index, rng);
  }
}

TEST(CorpusIndex, MatchesStopAtDocumentEnds) {
  ScratchDir dir;
  mem::TokenizedCorpus c;
  c.vocab_size = 10;
  c.tokenizer_hash = std::string(64, 'b');
  c.names = {"a", "empty", "b"};
  c.documents = {{1, 2, 3}, {}, {4, 1, 2}};
  const auto file = dir / "ends.sgidx";
  mem::build_index(c, file, {.threads = 1, .progress = false});
  const auto index = Index::open(file);
  const std::vector<std::int32_t> across{2, 3, 4}, inside{1, 2};
  EXPECT_EQ(index.count(across), 0u);  // "3 4" only across the end of "a"
  EXPECT_EQ(index.count(inside), 2u);
  EXPECT_EQ(index.longest(across), (std::vector<std::uint32_t>{2, 1, 1}));
  EXPECT_EQ(index.locate(inside, 10), (std::vector<Index::Occurrence>{{0, 0}, {2, 1}}));
  EXPECT_EQ(index.count(std::vector<std::int32_t>{}), 6u);
  EXPECT_EQ(index.document_of(3), 2u);  // the empty document holds no position
  EXPECT_EQ(index.document_length(1), 0u);
  EXPECT_THROW((void)index.token(6), std::out_of_range);
}

TEST(CorpusIndex, RejectsTokensOutsideTheVocabulary) {
  ScratchDir dir;
  mem::TokenizedCorpus c;
  c.vocab_size = 10;
  c.tokenizer_hash = std::string(64, 'b');
  c.names = {"bad"};
  c.documents = {{1, 10}};
  try {
    mem::build_index(c, dir / "x.sgidx", {.threads = 1, .progress = false});
    FAIL() << "built an index with token 10 in a vocabulary of 10";
  } catch (const sg::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'bad'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "x.sgidx"));
}

}  // namespace
