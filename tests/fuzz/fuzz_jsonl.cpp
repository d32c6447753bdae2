// The JSON-lines readers: audit prompts and held-out texts (detectors/seam/text_jsonl),
// RealToxicityPrompts files (toxicity/rtp_prompts), training corpora (memorization/
// corpus_reader), the planted canaries and duplicates (memorization/planted_files) and the
// repetition detector's documents by id (repetition/documents) and the capability detector's
// LAMBADA-style task (capability/zero_shot), plain and zstd-compressed. Each must accept or
// refuse with sg::InputError, and they must agree:
//   - an accepted text file has records with unique ids and valid UTF-8 texts, and writing
//     them back out as JSON lines reads back the same records;
//   - where the text reader accepts a file, the corpus reader reads the same texts in the
//     same order, and the documents reader, when it accepts it, finds every id with its text;
//   - an accepted RealToxicityPrompts file has scores in [0, 1] and ids = line numbers;
//   - an accepted canary's secret is of its space's form, and the space writes it back
//     exactly from its digits; counts are positive, canary ids unique;
//   - an accepted zero-shot task splits each text into a context and a last word that give
//     the text back (whitespace between them), and reading a predicted word anywhere in the
//     text stays inside it;
//   - a .zst file reads exactly as its decompressed bytes do; a corrupt one is refused.
// The first input byte picks the mode: plain, compressed by the target, or raw .zst bytes.
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "capability/zero_shot.hpp"
#include "common/errors.hpp"
#include "memorization/corpus_reader.hpp"
#include "memorization/planted_files.hpp"
#include "repetition/documents.hpp"
#include "scratch_file.hpp"
#include "seam/text_jsonl.hpp"
#include "tokenizer/utf8.hpp"
#include "toxicity/rtp_prompts.hpp"

namespace {

using sg::fuzz::check;
namespace fs = std::filesystem;

template <class F>
auto accepted(F&& read) -> std::optional<decltype(read())> {
  try {
    return read();
  } catch (const sg::InputError& e) {
    sg::fuzz::refused(e);
    return std::nullopt;  // a refusal is a correct answer to bad input
  }
}

std::optional<std::vector<std::string>> corpus_texts(const fs::path& file) {
  return accepted([&] {
    std::vector<std::string> texts;
    for (auto& d : sg::detectors::memorization::read_corpus_file(file))
      texts.push_back(std::move(d.text));
    return texts;
  });
}

// Decompresses a whole zstd stream, as the readers must; nullopt when it is not one (or is
// truncated), or when it would exceed `cap` bytes (too slow to compare).
std::optional<std::string> unzstd(std::string_view packed, std::size_t cap) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  std::string out;
  std::string buf(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer in{packed.data(), packed.size(), 0};
  std::size_t ret = 0;
  bool output_full = false;
  while (in.pos < in.size || output_full) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    ret = ZSTD_decompressStream(ctx.get(), &o, &in);
    if (ZSTD_isError(ret)) return std::nullopt;
    out.append(buf.data(), o.pos);
    if (out.size() > cap) return std::nullopt;
    output_full = o.pos == o.size;
  }
  if (ret != 0) return std::nullopt;
  return out;
}

void check_text_file(const sg::detectors::TextFile& f, std::string_view bytes) {
  const auto lines = static_cast<int>(std::count(bytes.begin(), bytes.end(), '\n')) + 1;
  check(!f.records.empty());
  std::set<std::string> ids;
  int previous_line = 0;
  std::string rewritten;
  for (const auto& r : f.records) {
    check(!r.id.empty() && ids.insert(r.id).second);
    check(r.line > previous_line && r.line <= lines);
    previous_line = r.line;
    check(!sg::tokenizer::utf8::first_invalid(r.text));
    rewritten += nlohmann::json{{"id", r.id}, {"text", r.text}}.dump() + "\n";
  }
  const auto again =
      sg::detectors::read_text_jsonl(sg::fuzz::scratch().write("again.jsonl", rewritten));
  check(again.records.size() == f.records.size());
  for (std::size_t i = 0; i < f.records.size(); ++i) {
    check(again.records[i].id == f.records[i].id && again.records[i].text == f.records[i].text);
  }
}

void check_zero_shot(const fs::path& file, const sg::detectors::TextFile& texts) {
  namespace cap = sg::detectors::capability;
  const auto items = accepted([&] { return cap::zero_shot_items(file, texts); });
  if (!items) return;
  check(items->size() == texts.records.size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    const auto& item = (*items)[i];
    const std::string_view text = texts.records[i].text;
    check(item.id == texts.records[i].id && !item.context.empty() && !item.target.empty());
    check(!cap::bare_word(item.target).empty());
    check(text.starts_with(item.context));
    const auto at = text.find(item.target, item.context.size());
    check(at != std::string_view::npos && at > item.context.size());
    check(
        text.substr(item.context.size(), at - item.context.size()).find_first_not_of(" \t\n\r\f") ==
        std::string_view::npos);
    for (std::size_t cut : {std::size_t{0}, item.context.size(), text.size() / 2, text.size()}) {
      if (const auto p = cap::predicted_word(text, cut)) {
        check(!p->word.empty() && p->start + p->word.size() <= text.size());
        check(text.substr(p->start, p->word.size()) == p->word);
      }
    }
  }
}

void check_rtp(const sg::detectors::toxicity::RtpFile& f) {
  check(!f.prompts.empty());
  for (const auto& p : f.prompts) {
    check(p.id == std::to_string(p.line));
    check(!p.toxicity || (*p.toxicity >= 0 && *p.toxicity <= 1));
    check(!sg::tokenizer::utf8::first_invalid(p.text));
  }
}

void check_canaries(const sg::detectors::memorization::PlantedCanaries& f) {
  std::set<std::string> ids;
  for (const auto& c : f.canaries) {
    check(ids.insert(c.id).second && c.id.find('#') == std::string::npos && c.count >= 1);
    check(c.space.digits >= 1 && c.space.digits <= 99);
    check(c.secret.size() == c.space.digits + (c.space.digits - 1) * c.space.separator.size());
    if (c.space.digits > 18) continue;  // its index would not fit 64 bits
    std::uint64_t index = 0;
    for (const char ch : c.secret) {
      if (ch >= '0' && ch <= '9') index = index * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    check(c.space.secret(index) == c.secret);
  }
}

// Every reader over the same plain JSON-lines bytes.
void read_plain(std::string_view bytes) {
  const auto file = sg::fuzz::scratch().write("in.jsonl", std::string(bytes));
  const auto texts = accepted([&] { return sg::detectors::read_text_jsonl(file); });
  if (auto rtp = accepted([&] { return sg::detectors::toxicity::read_rtp_prompts(file); }))
    check_rtp(*rtp);
  if (auto canaries = accepted([&] { return sg::detectors::memorization::read_canaries(file); }))
    check_canaries(*canaries);
  if (auto dups = accepted([&] { return sg::detectors::memorization::read_duplicates(file); })) {
    for (const auto& d : dups->passages) check(d.count >= 1);
  }
  const auto corpus = corpus_texts(file);
  std::set<std::string> ids;
  if (texts) {
    check_text_file(*texts, bytes);
    check_zero_shot(file, *texts);
    check(corpus && corpus->size() == texts->records.size());
    for (std::size_t i = 0; i < corpus->size(); ++i) check((*corpus)[i] == texts->records[i].text);
    for (const auto& r : texts->records) ids.insert(r.id);
  }
  if (auto docs = accepted([&] { return sg::detectors::repetition::read_documents(file, ids); })) {
    if (texts) {
      // The documents reader requires an id on every line, so where both accept, every
      // record's id came from the file and must be found under the same name.
      check(docs->by_id.size() == texts->records.size());
      for (const auto& r : texts->records) {
        const auto it = docs->by_id.find(r.id);
        check(it != docs->by_id.end() && it->second.text == r.text && it->second.line == r.line);
      }
    }
  }
}

// The compressed readers over `packed`, against the same readers over `plain` (nullopt: the
// stream is not valid zstd, so both must refuse).
void read_packed(std::string_view packed, const std::optional<std::string>& plain) {
  const auto zst = sg::fuzz::scratch().write("in.jsonl.zst", std::string(packed));
  const auto corpus = corpus_texts(zst);
  const auto docs =
      accepted([&] { return sg::detectors::repetition::read_documents(zst, {}); }).has_value();
  if (!plain) {
    check(!corpus && !docs);
    return;
  }
  const auto plain_file = sg::fuzz::scratch().write("plain.jsonl", *plain);
  check(corpus == corpus_texts(plain_file));
  check(docs == accepted([&] {
                  return sg::detectors::repetition::read_documents(plain_file, {});
                }).has_value());
  read_plain(*plain);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      read_plain(bytes);
      break;
    case 1: {
      std::string packed(ZSTD_compressBound(bytes.size()), '\0');
      const auto n = ZSTD_compress(packed.data(), packed.size(), bytes.data(), bytes.size(), 1);
      check(!ZSTD_isError(n));
      packed.resize(n);
      read_packed(packed, std::string(bytes));
      break;
    }
    default: {
      // Streams that inflate past this are refused by neither reader, only too slow to compare.
      constexpr std::size_t kCap = 16 << 20;
      const auto plain = unzstd(bytes, kCap + 1);
      if (plain && plain->size() > kCap) return 0;
      read_packed(bytes, plain);
    }
  }
  return 0;
}
