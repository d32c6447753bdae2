#include "capability/zero_shot.hpp"

#include "common/errors.hpp"

namespace sg::detectors::capability {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// ASCII punctuation and symbols; bytes of UTF-8 sequences (>= 0x80) are word bytes.
bool is_punctuation(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x80 && u > 0x20 && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
         !(c >= 'A' && c <= 'Z');
}

}  // namespace

std::string_view bare_word(std::string_view word) {
  while (!word.empty() && is_punctuation(word.front())) word.remove_prefix(1);
  while (!word.empty() && is_punctuation(word.back())) word.remove_suffix(1);
  return word;
}

std::vector<ZeroShotItem> zero_shot_items(const std::filesystem::path& file,
                                          const TextFile& texts) {
  std::vector<ZeroShotItem> out;
  for (const auto& r : texts.records) {
    std::string_view text = r.text;
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    std::size_t cut = text.size();
    while (cut > 0 && !is_space(text[cut - 1])) --cut;
    const std::string at = file.string() + ":" + std::to_string(r.line) + ": ";
    std::string_view context = text.substr(0, cut);
    while (!context.empty() && is_space(context.back())) context.remove_suffix(1);
    if (context.empty())
      throw InputError(at + "text: a zero-shot passage needs a context before its last word");
    const auto target = text.substr(cut);
    if (bare_word(target).empty())
      throw InputError(at + "text: the last word '" + std::string(target) +
                       "' has no letter or digit to predict");
    out.push_back({r.id, std::string(context), std::string(target), r.line});
  }
  return out;
}

std::optional<PredictedWord> predicted_word(std::string_view full, std::size_t context_size) {
  if (context_size > full.size()) return std::nullopt;
  std::size_t start = context_size;
  // Glued onto the context's last word: the prediction is that longer word.
  if (start > 0 && start < full.size() && !is_space(full[start - 1]) && !is_space(full[start]))
    while (start > 0 && !is_space(full[start - 1])) --start;
  while (start < full.size() && is_space(full[start])) ++start;
  std::size_t end = start;
  while (end < full.size() && !is_space(full[end])) ++end;
  const auto raw = full.substr(start, end - start);
  const auto bare = bare_word(raw);
  if (bare.empty()) return std::nullopt;
  return PredictedWord{start + static_cast<std::size_t>(bare.data() - raw.data()), bare};
}

std::string expressible_target(const tokenizer::Tokenizer& tokenizer, std::string_view target) {
  // Bare first: GPT-1's tokenizer would write "Jordan." as "jordan ."
  const std::string spaced = " " + std::string(bare_word(target));
  const auto text = tokenizer.decode(tokenizer.encode(spaced));
  std::string_view view = text;
  while (!view.empty() && is_space(view.front())) view.remove_prefix(1);
  while (!view.empty() && is_space(view.back())) view.remove_suffix(1);
  return std::string(bare_word(view));
}

}  // namespace sg::detectors::capability
