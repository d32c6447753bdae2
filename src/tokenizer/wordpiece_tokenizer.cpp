#include "tokenizer/wordpiece_tokenizer.hpp"

#include "common/errors.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::tokenizer {

namespace {

constexpr std::size_t kMaxWordChars = 100;  // BertTokenizer's max_input_chars_per_word
constexpr std::string_view kContinuation = "##";

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(WordPieceFiles files, const std::string& where)
    : tokens_(std::move(files.tokens)), basic_(files.basic) {
  for (std::size_t i = 0; i < tokens_.size(); ++i)
    vocab_.emplace(tokens_[i], static_cast<std::int32_t>(i));
  auto id_of = [&](const std::string& name) -> std::optional<std::int32_t> {
    auto it = vocab_.find(name);
    if (it == vocab_.end()) return std::nullopt;
    specials_.push_back(SpecialToken{name, it->second, false});
    return it->second;
  };
  special_ids_.unk = id_of(files.unk);
  special_ids_.cls = id_of(files.cls);
  special_ids_.sep = id_of(files.sep);
  special_ids_.pad = id_of(files.pad);
  special_ids_.mask = id_of(files.mask);
  if (!special_ids_.unk)
    throw InputError(where + "/vocab.txt: lacks the unknown token '" + files.unk +
                     "', which words outside the vocabulary become");
}

void WordPieceTokenizer::encode_word(const std::string& word,
                                     std::vector<std::int32_t>& out) const {
  if (cache_.lookup(word, out)) return;
  // Character boundaries: pieces are cut between characters, never inside one.
  std::vector<std::size_t> bounds{0};
  for (std::size_t i = 0; i < word.size();) {
    utf8::next(word, i);
    bounds.push_back(i);
  }
  const std::size_t n_chars = bounds.size() - 1;
  std::vector<std::int32_t> pieces;
  bool covered = n_chars <= kMaxWordChars;
  std::string candidate;
  for (std::size_t start = 0; covered && start < n_chars;) {
    std::size_t end = n_chars;
    std::optional<std::int32_t> found;
    for (; end > start; --end) {
      candidate.assign(start > 0 ? kContinuation : std::string_view());
      candidate.append(word, bounds[start], bounds[end] - bounds[start]);
      if (auto it = vocab_.find(candidate); it != vocab_.end()) {
        found = it->second;
        break;
      }
    }
    if (!found)
      covered = false;
    else
      pieces.push_back(*found);
    start = end;
  }
  if (!covered) pieces.assign(1, *special_ids_.unk);
  cache_.store(word, pieces);
  out.insert(out.end(), pieces.begin(), pieces.end());
}

void WordPieceTokenizer::encode_plain(std::string_view text, std::vector<std::int32_t>& out) const {
  for (const auto& word : basic_tokenize(text, basic_)) encode_word(word, out);
}

std::vector<std::int32_t> WordPieceTokenizer::encode(std::string_view text,
                                                     const EncodeOptions& options) const {
  std::string repaired;
  text = valid_input(text, options.invalid_utf8, repaired);
  std::vector<std::int32_t> out;
  if (!options.allow_special) {
    encode_plain(text, out);
    return out;
  }
  split_on_specials(
      text, specials_, [&](std::string_view part) { encode_plain(part, out); },
      [&](const SpecialToken& s) { out.push_back(s.id); });
  return out;
}

std::string WordPieceTokenizer::decode_bytes(std::span<const std::int32_t> ids) const {
  std::string text;
  for (auto id : ids) {
    check_id(id);
    std::string_view t = tokens_[static_cast<std::size_t>(id)];
    if (t.starts_with(kContinuation)) {
      text += t.substr(kContinuation.size());
    } else {
      text += ' ';
      text += t;
    }
  }
  return text;
}

std::string WordPieceTokenizer::decode(std::span<const std::int32_t> ids) const {
  std::string joined;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    check_id(ids[i]);
    if (i) joined += ' ';
    joined += tokens_[static_cast<std::size_t>(ids[i])];
  }
  std::string text;
  for (std::size_t pos = 0;;) {
    auto hit = joined.find(" ##", pos);
    text.append(joined, pos, hit == std::string::npos ? std::string::npos : hit - pos);
    if (hit == std::string::npos) break;
    pos = hit + 3;
  }
  const auto first = text.find_first_not_of(" \t\n\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\n\r") - first + 1);
}

}  // namespace sg::tokenizer
