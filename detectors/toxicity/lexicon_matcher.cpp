#include "toxicity/lexicon_matcher.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <tuple>

namespace sg::detectors::toxicity {

namespace {

// The longest run of separators a gap (between spelled-out letters or between words) spans.
constexpr std::int32_t kMaxGap = 3;

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == TextNormalizer::kOtherWord;
}

bool is_separator(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\f':
    case '\v':
    case '.':
    case '-':
    case '_':
    case '*':
    case '~':
    case ',':
    case '/':
    case '\\':
    case '\'':
    case '"':
    case ':':
    case ';':
    case '`':
    case '^':
    case '=':
    case TextNormalizer::kOtherMark:
      return true;
    default:
      return false;
  }
}

// The letters a character may stand for: itself, and for digits and symbols their common
// leetspeak readings.
std::string_view letters_of(char c) {
  static constexpr std::array<std::string_view, 128> table = [] {
    std::array<std::string_view, 128> t{};
    t['0'] = "0o";
    t['1'] = "1il";
    t['2'] = "2";
    t['3'] = "3e";
    t['4'] = "4a";
    t['5'] = "5s";
    t['6'] = "6g";
    t['7'] = "7t";
    t['8'] = "8b";
    t['9'] = "9g";
    t['@'] = "a";
    t['$'] = "s";
    t['!'] = "i";
    t['|'] = "li";
    t['+'] = "t";
    constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyz";
    for (std::size_t i = 0; i < kLetters.size(); ++i)
      t[static_cast<unsigned char>(kLetters[i])] = kLetters.substr(i, 1);
    return t;
  }();
  const auto u = static_cast<unsigned char>(c);
  return u < 128 ? table[u] : std::string_view();
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool stands_for(char c, char letter) {
  return letters_of(c).find(letter) != std::string_view::npos;
}

}  // namespace

LexiconMatcher::LexiconMatcher(std::shared_ptr<const Lexicon> lexicon)
    : lexicon_(std::move(lexicon)) {}

const std::vector<TermMatch>& LexiconMatcher::find_all(std::string_view text) {
  found_.clear();
  normalizer_.normalize(text, text_);
  const auto n = static_cast<std::int32_t>(text_.chars.size());
  for (std::int32_t i = 0; i < n; ++i)
    if ((i == 0 || !is_word_char(text_.chars[i - 1])) && !letters_of(text_.chars[i]).empty())
      search_from(i);
  std::sort(found_.begin(), found_.end(), [](const TermMatch& a, const TermMatch& b) {
    return std::tie(a.start, a.end, a.term) < std::tie(b.start, b.end, b.term);
  });
  found_.erase(std::unique(found_.begin(), found_.end(),
                           [](const TermMatch& a, const TermMatch& b) {
                             return a.start == b.start && a.end == b.end && a.term == b.term;
                           }),
               found_.end());
  return found_;
}

void LexiconMatcher::search_from(std::int32_t start) {
  const auto& chars = text_.chars;
  const auto n = static_cast<std::int32_t>(chars.size());
  const auto space = Lexicon::symbol(' ');
  stack_.clear();
  stack_.push_back(State{});
  stack_.back().pos = start;
  while (!stack_.empty()) {
    const State s = stack_.back();
    stack_.pop_back();
    if (s.just_matched) record(s, start);
    if (s.pos >= n) continue;
    const char c = chars[s.pos];
    const auto gap_child = s.last != 0 ? lexicon_->child(s.node, space) : Lexicon::kNone;
    if (is_separator(c)) {
      if (s.last == 0) continue;
      std::int32_t after = s.pos;
      while (after < n && after - s.pos < kMaxGap && is_separator(chars[after])) ++after;
      if (after < n && is_separator(chars[after])) continue;  // too wide a gap
      if (gap_child != Lexicon::kNone)
        stack_.push_back({gap_child, after, 0, 0, false, s.has_letter, false});
      if (s.group == 1) stack_.push_back({s.node, after, s.last, 0, true, s.has_letter, false});
      continue;
    }
    // Two words of a term written together ("god damn" as "goddamn").
    if (gap_child != Lexicon::kNone && s.just_matched)
      stack_.push_back({gap_child, s.pos, 0, 0, false, s.has_letter, false});
    if (s.spelled && s.group >= 1) continue;  // a spelled-out word needs a separator here
    for (char letter : letters_of(c)) {
      // The whole run of characters standing for `letter` is matched at once, against a run
      // of it in the term: as long as the text's, or (a letter stretched to three or more)
      // any length up to it. So "fuuuck" is "fuck" but "assess" is not "asses", and a run
      // is one path through the trie, not one per way of splitting it.
      bool has_letter = s.has_letter;
      std::int32_t run = 0;
      while (s.pos + run < n && stands_for(chars[s.pos + run], letter)) {
        has_letter = has_letter || !is_digit(chars[s.pos + run]);
        ++run;
      }
      if (s.spelled && run > 1) continue;
      const auto group = static_cast<std::uint8_t>(std::min(s.group + run, 2));
      const std::int32_t shortest = run >= 3 ? 1 : run;
      auto node = s.node;
      for (std::int32_t k = 1; k <= run; ++k) {
        node = lexicon_->child(node, Lexicon::symbol(letter));
        if (node == Lexicon::kNone) break;
        if (k >= shortest)
          stack_.push_back({node, s.pos + run, letter, group, s.spelled, has_letter, true});
      }
    }
  }
}

void LexiconMatcher::record(const State& s, std::int32_t start) {
  const auto term = lexicon_->term_at(s.node);
  if (term == Lexicon::kNone || !s.has_letter) return;
  const auto& chars = text_.chars;
  const auto n = static_cast<std::int32_t>(chars.size());
  const auto boundary = [&](std::int32_t at) { return at >= n || !is_word_char(chars[at]); };
  const auto add = [&](std::int32_t end) {
    found_.push_back({term, text_.begin[start], text_.end[end - 1]});
  };
  if (boundary(s.pos)) add(s.pos);
  if (s.spelled || s.last < 'a' || s.last > 'z') return;
  // A plural: "s" after a term not ending in s ("asses" + "s" is "assess"), "es" after one
  // ending in a sibilant ("ass" + "es").
  const auto& text = lexicon_->terms()[term].text;
  if (s.pos < n && chars[s.pos] == 's' && text.back() != 's' && boundary(s.pos + 1)) add(s.pos + 1);
  if (s.pos + 1 < n && chars[s.pos] == 'e' && chars[s.pos + 1] == 's' &&
      std::string_view("sxzh").find(text.back()) != std::string_view::npos && boundary(s.pos + 2))
    add(s.pos + 2);
}

std::vector<Match> LexiconMatcher::find(std::string_view text) {
  auto all = find_all(text);
  const auto& terms = lexicon_->terms();
  std::sort(all.begin(), all.end(), [&](const TermMatch& a, const TermMatch& b) {
    if (a.start != b.start) return a.start < b.start;
    if (a.end != b.end) return a.end > b.end;
    if (terms[a.term].severity != terms[b.term].severity)
      return terms[a.term].severity > terms[b.term].severity;
    return terms[a.term].text.size() < terms[b.term].text.size();  // the word, not a variant
  });
  std::vector<Match> out;
  std::int64_t covered = 0;
  for (const auto& m : all) {
    if (!out.empty() && m.start < covered) continue;
    const auto& t = terms[m.term];
    out.push_back({t.text, m.start, m.end, t.severity});
    covered = m.end;
  }
  return out;
}

}  // namespace sg::detectors::toxicity
