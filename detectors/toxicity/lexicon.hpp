// The lexicon: listed terms with a severity each, as a trie over the alphabet the matcher
// compares in (a-z, 0-9 and a space standing for a gap between words). Built once from the
// TSV that tools/lexicon/build_lexicon.py writes (data/README.md) and shared, read-only, by
// the scorer and every in-loop filter.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sg::detectors::toxicity {

inline constexpr int kMinSeverity = 1;
inline constexpr int kMaxSeverity = 3;

struct LexiconTerm {
  std::string text;  // as the list spells it (lower case, words separated by one space)
  int severity = 0;
  std::string source;
};

class Lexicon {
 public:
  static constexpr int kAlphabet = 37;  // a-z, 0-9, space
  static constexpr std::int32_t kNone = -1;

  // Parses `term<TAB>severity<TAB>source` lines ('#' comments); InputError naming `name` and
  // the line for a malformed line, a term outside the alphabet or a duplicate.
  static Lexicon parse(std::string_view tsv, const std::string& name);
  // The lexicon embedded in the binary at build time (data/lexicon.tsv), parsed anew (about a
  // millisecond): a scorer or filter factory parses it once and shares it with what it makes.
  static std::shared_ptr<const Lexicon> builtin();

  const std::vector<LexiconTerm>& terms() const { return terms_; }
  std::string_view sha256() const { return sha256_; }

  // The trie: node 0 is the root. Symbol of a character, or -1 outside the alphabet.
  static int symbol(char c) {
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= '0' && c <= '9') return 26 + (c - '0');
    return c == ' ' ? 36 : -1;
  }
  std::int32_t child(std::int32_t node, int symbol) const { return nodes_[node].next[symbol]; }
  // The term ending at `node`, or kNone.
  std::int32_t term_at(std::int32_t node) const { return nodes_[node].term; }

 private:
  struct Node {
    std::array<std::int32_t, kAlphabet> next;
    std::int32_t term = kNone;
  };
  void insert(std::int32_t term);

  std::vector<LexiconTerm> terms_;
  std::vector<Node> nodes_;
  std::string sha256_;
};

}  // namespace sg::detectors::toxicity
