#include <gtest/gtest.h>
#include <zstd.h>

#include "common/errors.hpp"
#include "corpus_fixtures.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
namespace mem = sg::detectors::memorization;
using sg::testing::file_bytes;
using sg::testing::ScratchDir;
using sg::testing::write_file;

const fs::path kDemo = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";

std::string zstd_compress(const std::string& raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const auto n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

std::string error_of(const fs::path& file) {
  try {
    (void)mem::read_corpus_file(file);
  } catch (const sg::InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "read " << file << " without an error";
  return {};
}

const std::string kJsonl =
    "{\"id\": \"first\", \"text\": \"one two\"}\n"
    "\n"
    "{\"text\": \"no id here\"}\n"
    "{\"id\": 7, \"text\": \"\"}";  // no final newline

void expect_jsonl_documents(const std::vector<mem::CorpusDocument>& docs, const std::string& file) {
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].name, "first");
  EXPECT_EQ(docs[0].text, "one two");
  EXPECT_EQ(docs[1].name, file + ":3");
  EXPECT_EQ(docs[1].text, "no id here");
  EXPECT_EQ(docs[2].name, "7");
  EXPECT_EQ(docs[2].text, "");
}

TEST(CorpusReader, JsonLinesPlainAndCompressed) {
  ScratchDir dir;
  write_file(dir / "a.jsonl", kJsonl);
  expect_jsonl_documents(mem::read_corpus_file(dir / "a.jsonl"), "a.jsonl");
  write_file(dir / "b.jsonl.zst", zstd_compress(kJsonl));
  expect_jsonl_documents(mem::read_corpus_file(dir / "b.jsonl.zst"), "b.jsonl.zst");
}

TEST(CorpusReader, PlainTextIsOneDocument) {
  ScratchDir dir;
  const std::string text = "line one\n{\"text\": \"not parsed\"}\n";
  write_file(dir / "book.txt", text);
  write_file(dir / "book.txt.zst", zstd_compress(text));
  for (const char* name : {"book.txt", "book.txt.zst"}) {
    const auto docs = mem::read_corpus_file(dir / name);
    ASSERT_EQ(docs.size(), 1u);
    EXPECT_EQ(docs[0].name, name);
    EXPECT_EQ(docs[0].text, text);
  }
}

TEST(CorpusReader, LargeCompressedFileStreamsWhole) {
  ScratchDir dir;
  std::string raw;
  for (int i = 0; i < 20000; ++i)
    raw +=
        "{\"text\": \"document number " + std::to_string(i) + " " + std::string(40, 'x') + "\"}\n";
  write_file(dir / "big.jsonl.zst", zstd_compress(raw));
  const auto docs = mem::read_corpus_file(dir / "big.jsonl.zst");
  ASSERT_EQ(docs.size(), 20000u);
  EXPECT_EQ(docs[19999].text, "document number 19999 " + std::string(40, 'x'));
}

TEST(CorpusReader, ErrorsNameFileAndLine) {
  ScratchDir dir;
  write_file(dir / "bad.jsonl", "{\"text\": \"fine\"}\n{\"text\": 3}\n");
  EXPECT_NE(error_of(dir / "bad.jsonl").find("bad.jsonl:2"), std::string::npos);
  write_file(dir / "broken.jsonl", "{\"text\": \"fine\"}\n\n{\"text\": \n");
  EXPECT_NE(error_of(dir / "broken.jsonl").find("broken.jsonl:3: not valid JSON"),
            std::string::npos);
  const auto packed = zstd_compress(kJsonl + std::string(2000, '\n'));
  write_file(dir / "cut.jsonl.zst", packed.substr(0, packed.size() - 4));
  EXPECT_NE(error_of(dir / "cut.jsonl.zst").find("truncated zstd"), std::string::npos);
  write_file(dir / "fake.jsonl.zst", "plain bytes, not zstd");
  EXPECT_NE(error_of(dir / "fake.jsonl.zst").find("not a valid zstd stream"), std::string::npos);
  EXPECT_NE(error_of(dir / "absent.jsonl").find("cannot be read"), std::string::npos);
}

TEST(CorpusReader, DemoSlice) {
  const auto docs = mem::read_corpus_file(kDemo / "corpus" / "canaries.train.jsonl.zst");
  ASSERT_EQ(docs.size(), 508u);  // models/demo/corpus/stats.json: canary_copies
  EXPECT_EQ(docs[0].name, "canary/0");
  EXPECT_EQ(docs[0].text.rfind("the vault code of ", 0), 0u);
}

TEST(TokenizerHash, StagesShareOneAndGpt1Differs) {
  const auto stage1 = mem::tokenizer_hash(kDemo / "stage1");
  EXPECT_EQ(stage1.size(), 64u);
  EXPECT_EQ(stage1, mem::tokenizer_hash(kDemo / "stage4"));
  EXPECT_NE(stage1, mem::tokenizer_hash(kDemo / "gpt1"));
  EXPECT_NO_THROW(mem::check_tokenizer_matches(stage1, "x.sgidx", kDemo / "stage2"));
  try {
    mem::check_tokenizer_matches(stage1, "x.sgidx", kDemo / "gpt1");
    FAIL() << "gpt1's tokenizer accepted for a stage1 index";
  } catch (const sg::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.sgidx: built with another tokenizer"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW((void)mem::tokenizer_hash(kDemo / "corpus"), sg::InputError);
}

// Built from text, the index holds each document's tokens as the tokenizer gives them.
TEST(BuildFromText, DemoSlicesMatchTheirTokens) {
  ScratchDir dir;
  const auto tok = sg::tokenizer::load(kDemo / "stage1", "gpt2");
  const std::vector<fs::path> files{kDemo / "corpus" / "canaries.train.jsonl.zst",
                                    kDemo / "corpus" / "duplicates.train.jsonl.zst"};
  const auto out = dir / "demo.sgidx";
  const auto hash = mem::tokenizer_hash(kDemo / "stage1");
  const auto stats = mem::build_index(files, *tok, hash, out, {.threads = 2, .progress = false});
  const auto index = mem::CorpusIndex::open(out);
  EXPECT_EQ(index.tokenizer_hash(), hash);
  EXPECT_EQ(stats.tokens, index.token_count());

  mem::TokenizedCorpus naive;
  for (const auto& f : files) {
    for (auto& doc : mem::read_corpus_file(f)) {
      naive.names.push_back(doc.name);
      naive.documents.push_back(tok->encode(doc.text));
    }
  }
  ASSERT_EQ(index.document_count(), naive.documents.size());
  for (std::uint32_t d = 0; d < index.document_count(); d += 97) {
    EXPECT_EQ(index.document_name(d), naive.names[d]);
    EXPECT_EQ(index.document_tokens(d), naive.documents[d]);
  }
  // Whole canaries: as many occurrences as copies (the most copied one has several).
  std::size_t most = 0;
  for (std::uint32_t d = 0; d < 508; d += 7) {
    const auto copies = sg::testing::naive_locate(naive, naive.documents[d]).size();
    EXPECT_EQ(index.count(naive.documents[d]), copies) << naive.names[d];
    most = std::max(most, copies);
  }
  EXPECT_GT(most, 1u);
  // The same documents give the same corpus hash; a different order another.
  const std::vector<fs::path> reversed{files[1], files[0]};
  mem::build_index(reversed, *tok, hash, dir / "rev.sgidx", {.threads = 1, .progress = false});
  EXPECT_NE(mem::CorpusIndex::open(dir / "rev.sgidx").corpus_hash(), index.corpus_hash());
  mem::build_index(files, *tok, hash, dir / "again.sgidx", {.threads = 1, .progress = false});
  EXPECT_EQ(mem::CorpusIndex::open(dir / "again.sgidx").corpus_hash(), index.corpus_hash());
}

}  // namespace
