// A damaged, foreign or mismatched index file is a clear error naming it, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <span>

#include "common/errors.hpp"
#include "corpus_fixtures.hpp"
#include "memorization/index_format.hpp"

namespace {

namespace mem = sg::detectors::memorization;
using sg::testing::file_bytes;
using sg::testing::ScratchDir;
using sg::testing::write_file;

class IndexFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(3);
    const auto c = sg::testing::random_corpus(rng, 300, 20, 30, 4);
    mem::build_index(c, good_, {.threads = 1, .progress = false});
    bytes_ = file_bytes(good_);
  }

  // The InputError opening `bytes` as an index; fails the test when it opens.
  std::string open_error(const std::string& bytes) {
    write_file(bad_, bytes);
    try {
      (void)mem::CorpusIndex::open(bad_);
    } catch (const sg::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(bad_.string()), std::string::npos) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "opened a damaged index";
    return {};
  }

  ScratchDir dir_;
  std::filesystem::path good_ = dir_ / "good.sgidx";
  std::filesystem::path bad_ = dir_ / "bad.sgidx";
  std::string bytes_;
};

TEST_F(IndexFile, OpensIntact) {
  const auto index = mem::CorpusIndex::open(good_);
  EXPECT_EQ(index.tokenizer_hash(), std::string(64, 'a'));
  EXPECT_EQ(index.corpus_hash().size(), 64u);
}

TEST_F(IndexFile, TruncatedAnywhere) {
  for (std::size_t size : {std::size_t{0}, std::size_t{5}, std::size_t{100}, std::size_t{256},
                           bytes_.size() / 2, bytes_.size() - 1}) {
    const auto e = open_error(bytes_.substr(0, size));
    EXPECT_TRUE(e.find("truncated") != std::string::npos ||
                e.find("not a stagegate corpus index") != std::string::npos)
        << size << ": " << e;
    if (size >= 8) {
      EXPECT_NE(e.find("truncated"), std::string::npos) << size << ": " << e;
    }
  }
}

TEST_F(IndexFile, CorruptedData) {
  for (std::size_t at : {std::size_t{300}, bytes_.size() / 2, bytes_.size() - 1}) {
    auto damaged = bytes_;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    const auto e = open_error(damaged);
    EXPECT_NE(e.find("corrupted"), std::string::npos) << at << ": " << e;
  }
}

TEST_F(IndexFile, CorruptedHeader) {
  auto damaged = bytes_;
  damaged[20] = static_cast<char>(damaged[20] ^ 1);  // token_count
  EXPECT_NE(open_error(damaged).find("header"), std::string::npos);
}

TEST_F(IndexFile, NotAnIndex) {
  EXPECT_NE(open_error("{\"text\": \"a json line, not an index\"}\n" + std::string(300, ' '))
                .find("not a stagegate corpus index"),
            std::string::npos);
}

TEST_F(IndexFile, NewerVersion) {
  auto damaged = bytes_;
  damaged[8] = 2;
  EXPECT_NE(open_error(damaged).find("version 2"), std::string::npos);
}

TEST_F(IndexFile, MissingFile) {
  EXPECT_THROW((void)mem::CorpusIndex::open(dir_ / "absent.sgidx"), sg::InputError);
}

TEST_F(IndexFile, SkippingThePayloadCheckStillChecksTheHeader) {
  auto damaged = bytes_;
  damaged[300] = static_cast<char>(damaged[300] ^ 0x10);
  write_file(bad_, damaged);
  EXPECT_NO_THROW((void)mem::CorpusIndex::open(bad_, {.verify_payload = false}));
  write_file(bad_, bytes_.substr(0, bytes_.size() - 1));
  EXPECT_THROW((void)mem::CorpusIndex::open(bad_, {.verify_payload = false}), sg::InputError);
}

// The checksums guard against accidents; a crafted file with fresh checksums must still be
// held to the structure. Found by fuzzing (tests/fuzz/corpus/corpus_index/
// raw-token-outside-vocabulary): a document token at or above the vocabulary size was
// accepted and handed to callers that decode it.
TEST_F(IndexFile, ATokenOutsideTheVocabularyIsRefusedEvenWithValidChecksums) {
  mem::IndexHeader h;
  std::memcpy(&h, bytes_.data(), sizeof h);
  auto crafted = bytes_;
  ASSERT_EQ(h.token_bytes, 2u);
  const std::uint16_t outside = static_cast<std::uint16_t>(h.vocab_size + 1);
  std::memcpy(crafted.data() + h.tokens_offset, &outside, 2);  // document 0's first token
  sg::testing::refresh_checksums(crafted);
  const auto e = open_error(crafted);
  EXPECT_NE(e.find("document 0 holds token " + std::to_string(outside) +
                   ", outside the vocabulary of " + std::to_string(h.vocab_size)),
            std::string::npos)
      << e;
}

}  // namespace
