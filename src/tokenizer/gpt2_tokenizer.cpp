#include "tokenizer/gpt2_tokenizer.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "tokenizer/gpt2_pretokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::tokenizer {

namespace {

constexpr std::string_view kEndOfText = "<|endoftext|>";

// GPT-2's reversible byte -> printable character map: bytes that are printable Latin-1
// stand for themselves; the rest are shifted to U+0100 and up.
std::array<char32_t, 256> byte_to_char() {
  std::array<char32_t, 256> map{};
  std::array<bool, 256> direct{};
  for (int b = '!'; b <= '~'; ++b) direct[static_cast<std::size_t>(b)] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) direct[static_cast<std::size_t>(b)] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) direct[static_cast<std::size_t>(b)] = true;
  char32_t next = 256;
  for (std::size_t b = 0; b < 256; ++b) map[b] = direct[b] ? static_cast<char32_t>(b) : next++;
  return map;
}

}  // namespace

Gpt2Tokenizer::Gpt2Tokenizer(const VocabFiles& files, const std::string& where, Flavor flavor)
    : flavor_(flavor), pretokenizer_(std::make_unique<Gpt2Pretokenizer>()) {
  auto special = [&](std::string_view text, bool strip_left) -> std::optional<std::int32_t> {
    auto it = files.vocab.find(std::string(text));
    if (it == files.vocab.end()) return std::nullopt;
    specials_.push_back(SpecialToken{std::string(text), it->second, strip_left});
    return it->second;
  };
  if (flavor == Flavor::kGpt2) {
    eos_ = special(kEndOfText, false);
  } else {
    // RobertaTokenizer's defaults; only <mask> swallows the space before it.
    special_ids_.cls = special("<s>", false);
    special_ids_.pad = special("<pad>", false);
    special_ids_.sep = special("</s>", false);
    special_ids_.unk = special("<unk>", false);
    special_ids_.mask = special("<mask>", true);
    eos_ = special_ids_.sep;
    if (!special_ids_.cls || !special_ids_.sep)
      throw InputError(where + "/vocab.json: lacks RoBERTa's <s> or </s>");
  }
  auto to_char = byte_to_char();
  std::unordered_map<char32_t, std::uint8_t> to_byte;
  for (std::size_t b = 0; b < 256; ++b) to_byte[to_char[b]] = static_cast<std::uint8_t>(b);

  token_bytes_.assign(static_cast<std::size_t>(files.vocab_size), std::string());
  for (const auto& [token, id] : files.vocab) {
    std::string bytes;
    if (token == kEndOfText) {
      bytes = token;
    } else {
      std::size_t i = 0;
      while (i < token.size()) {
        if (utf8::sequence_length(token, i) == 0)
          throw InputError(where + "/vocab.json: token with id " + std::to_string(id) +
                           " is not valid UTF-8");
        char32_t c = utf8::next(token, i);
        auto it = to_byte.find(c);
        if (it == to_byte.end()) {
          bytes = token;  // an added token written as plain text
          break;
        }
        bytes += static_cast<char>(it->second);
      }
    }
    token_bytes_[static_cast<std::size_t>(id)] = std::move(bytes);
  }
  for (std::size_t b = 0; b < 256; ++b) {
    std::string key;
    utf8::append(key, to_char[b]);
    auto it = files.vocab.find(key);
    if (it == files.vocab.end())
      throw InputError(where + "/vocab.json: lacks the byte token for byte " + std::to_string(b) +
                       " (not a byte-level BPE vocabulary)");
    byte_token_[b] = it->second;
  }
  int skipped = 0;
  for (const auto& [left, right] : files.merges) {
    auto l = files.vocab.find(left), r = files.vocab.find(right),
         m = files.vocab.find(left + right);
    if (l == files.vocab.end() || r == files.vocab.end() || m == files.vocab.end()) {
      ++skipped;  // a merge whose tokens the vocabulary lacks can never apply
      continue;
    }
    merges_.add(l->second, r->second, m->second);
  }
  if (skipped)
    log::warn(where + "/merges.txt: " + std::to_string(skipped) +
              " merges name tokens missing from vocab.json; ignored");
}

Gpt2Tokenizer::~Gpt2Tokenizer() = default;

void Gpt2Tokenizer::encode_word(std::string_view word, std::vector<std::int32_t>& out) const {
  if (cache_.lookup(word, out)) return;
  std::vector<std::int32_t> ids;
  ids.reserve(word.size());
  for (char c : word) ids.push_back(byte_token_[static_cast<std::uint8_t>(c)]);
  merges_.apply(ids);
  cache_.store(word, ids);
  out.insert(out.end(), ids.begin(), ids.end());
}

void Gpt2Tokenizer::encode_plain(std::string_view text, std::vector<std::int32_t>& out) const {
  pretokenizer_->split(text, [&](std::string_view piece) { encode_word(piece, out); });
}

std::vector<std::int32_t> Gpt2Tokenizer::encode(std::string_view text,
                                                const EncodeOptions& options) const {
  std::string repaired;
  text = valid_input(text, options.invalid_utf8, repaired);
  std::vector<std::int32_t> out;
  out.reserve(text.size() / 3 + 1);
  if (!options.allow_special) {
    encode_plain(text, out);
    return out;
  }
  split_on_specials(
      text, specials_, [&](std::string_view part) { encode_plain(part, out); },
      [&](const SpecialToken& s) { out.push_back(s.id); });
  return out;
}

std::string Gpt2Tokenizer::decode_bytes(std::span<const std::int32_t> ids) const {
  std::string bytes;
  for (auto id : ids) {
    check_id(id);
    bytes += token_bytes_[static_cast<std::size_t>(id)];
  }
  return bytes;
}

std::string Gpt2Tokenizer::decode(std::span<const std::int32_t> ids) const {
  return utf8::replace_invalid(decode_bytes(ids));
}

}  // namespace sg::tokenizer
