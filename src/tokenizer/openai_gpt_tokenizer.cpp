#include "tokenizer/openai_gpt_tokenizer.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "tokenizer/basic_tokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::tokenizer {

namespace {
constexpr std::string_view kWordEnd = "</w>";
}

OpenAiGptTokenizer::OpenAiGptTokenizer(const VocabFiles& files, const std::string& where)
    : vocab_(files.vocab) {
  tokens_.assign(static_cast<std::size_t>(files.vocab_size), std::string());
  for (const auto& [token, id] : vocab_) tokens_[static_cast<std::size_t>(id)] = token;
  if (auto it = vocab_.find("<unk>"); it != vocab_.end()) unk_ = it->second;
  int skipped = 0;
  for (const auto& [left, right] : files.merges) {
    auto l = vocab_.find(left), r = vocab_.find(right), m = vocab_.find(left + right);
    if (l == vocab_.end() || r == vocab_.end() || m == vocab_.end()) {
      ++skipped;
      continue;
    }
    merges_.add(l->second, r->second, m->second);
  }
  if (skipped)
    log::warn(where + "/merges.txt: " + std::to_string(skipped) +
              " merges name tokens missing from vocab.json; ignored");
}

void OpenAiGptTokenizer::encode_word(const std::string& word,
                                     std::vector<std::int32_t>& out) const {
  if (cache_.lookup(word, out)) return;
  // Symbols are characters, the last with "</w>"; a symbol outside the vocabulary gets a
  // negative placeholder (never merged) and becomes <unk>.
  std::vector<std::string> chars;
  std::size_t i = 0;
  while (i < word.size()) {
    std::size_t start = i;
    utf8::next(word, i);
    chars.emplace_back(word.substr(start, i - start));
  }
  chars.back() += kWordEnd;
  std::vector<std::int32_t> ids;
  for (const auto& c : chars) {
    auto it = vocab_.find(c);
    ids.push_back(it == vocab_.end() ? -1 : it->second);
  }
  merges_.apply(ids);
  std::vector<std::int32_t> result;
  for (auto id : ids) {
    if (id >= 0) {
      result.push_back(id);
    } else if (unk_ >= 0) {
      result.push_back(unk_);
    }
  }
  cache_.store(word, result);
  out.insert(out.end(), result.begin(), result.end());
}

std::vector<std::int32_t> OpenAiGptTokenizer::encode(std::string_view text,
                                                     const EncodeOptions& options) const {
  std::string repaired;
  text = valid_input(text, options.invalid_utf8, repaired);
  std::vector<std::int32_t> out;
  for (const auto& word : basic_tokenize(text)) encode_word(word, out);
  return out;
}

std::string OpenAiGptTokenizer::decode_bytes(std::span<const std::int32_t> ids) const {
  std::string text;
  for (auto id : ids) {
    check_id(id);
    std::string t = tokens_[static_cast<std::size_t>(id)];
    if (t.size() >= kWordEnd.size() &&
        t.compare(t.size() - kWordEnd.size(), kWordEnd.size(), kWordEnd) == 0)
      t.replace(t.size() - kWordEnd.size(), kWordEnd.size(), " ");
    text += t;
  }
  return text;
}

std::string OpenAiGptTokenizer::decode(std::span<const std::int32_t> ids) const {
  std::string text = decode_bytes(ids);
  auto first = text.find_first_not_of(" \t\n\r");
  if (first == std::string::npos) return "";
  auto last = text.find_last_not_of(" \t\n\r");
  return text.substr(first, last - first + 1);
}

}  // namespace sg::tokenizer
