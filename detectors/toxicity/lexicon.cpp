#include "toxicity/lexicon.hpp"

#include <charconv>

#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "toxicity/lexicon_data.hpp"

namespace sg::detectors::toxicity {

namespace {

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const auto tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab - start));
    if (tab == std::string_view::npos) return fields;
    start = tab + 1;
  }
}

}  // namespace

Lexicon Lexicon::parse(std::string_view tsv, const std::string& name) {
  Lexicon lexicon;
  lexicon.sha256_ = sha256_hex(tsv);
  lexicon.nodes_.emplace_back();
  lexicon.nodes_[0].next.fill(kNone);
  std::size_t number = 0;
  for (std::size_t start = 0; start < tsv.size();) {
    const auto end = std::min(tsv.find('\n', start), tsv.size());
    const auto line = tsv.substr(start, end - start);
    start = end + 1;
    ++number;
    if (line.empty() || line.front() == '#') continue;
    const auto where = name + ":" + std::to_string(number) + ": ";
    const auto fields = split_tabs(line);
    if (fields.size() != 3) throw InputError(where + "expected term<TAB>severity<TAB>source");
    const auto term = fields[0];
    if (term.empty() || term.front() == ' ' || term.back() == ' ' ||
        term.find("  ") != std::string_view::npos)
      throw InputError(where + "the term must be words separated by single spaces");
    for (char c : term)
      if (symbol(c) < 0)
        throw InputError(where + "the term '" + std::string(term) +
                         "' has a character outside a-z, 0-9 and space");
    int severity = 0;
    const auto [ptr, ec] =
        std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), severity);
    if (ec != std::errc() || ptr != fields[1].data() + fields[1].size() ||
        severity < kMinSeverity || severity > kMaxSeverity)
      throw InputError(where + "severity '" + std::string(fields[1]) + "' is not 1, 2 or 3");
    lexicon.terms_.push_back({std::string(term), severity, std::string(fields[2])});
    const auto id = static_cast<std::int32_t>(lexicon.terms_.size() - 1);
    try {
      lexicon.insert(id);
    } catch (const InputError& e) {
      throw InputError(where + e.what());
    }
  }
  if (lexicon.terms_.empty()) throw InputError(name + ": no terms");
  return lexicon;
}

void Lexicon::insert(std::int32_t term) {
  std::int32_t node = 0;
  for (char c : terms_[term].text) {
    const int s = symbol(c);
    if (nodes_[node].next[s] == kNone) {
      nodes_[node].next[s] = static_cast<std::int32_t>(nodes_.size());
      nodes_.emplace_back();
      nodes_.back().next.fill(kNone);
    }
    node = nodes_[node].next[s];
  }
  if (nodes_[node].term != kNone)
    throw InputError("the term '" + terms_[term].text + "' is listed twice");
  nodes_[node].term = term;
}

std::shared_ptr<const Lexicon> Lexicon::builtin() {
  return std::make_shared<const Lexicon>(parse(builtin_lexicon_tsv(), "lexicon.tsv (built in)"));
}

}  // namespace sg::detectors::toxicity
