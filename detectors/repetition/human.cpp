#include "repetition/human.hpp"

#include <set>

#include "common/errors.hpp"
#include "repetition/documents.hpp"

namespace sg::detectors::repetition {

namespace {

// `text` cut to at most `max_bytes`, at the last blank when there is one (a cut word would
// end the text in a token no writer wrote), else at a UTF-8 character boundary.
std::string cut_at(const std::string& text, std::size_t max_bytes) {
  std::size_t end = max_bytes;
  const auto blank = text.find_last_of(" \n\t", end);
  if (blank != std::string::npos && blank > 0) return text.substr(0, blank);
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

HumanTexts human_continuations(const TextFile& prompts, const std::filesystem::path& prompts_file,
                               const std::filesystem::path& corpus, std::size_t max_bytes) {
  std::set<std::string> ids;
  for (const auto& p : prompts.records) ids.insert(p.id);
  const auto corpus_docs = read_documents(corpus, ids);
  const auto& docs = corpus_docs.by_id;
  HumanTexts out;
  out.corpus_sha256 = corpus_docs.sha256;
  for (const auto& p : prompts.records) {
    const auto where =
        prompts_file.string() + ":" + std::to_string(p.line) + ": prompt '" + p.id + "': ";
    const auto doc = docs.find(p.id);
    if (doc == docs.end())
      throw InputError(where + "no document with this id in " + corpus.string() +
                       " to take the human continuation from");
    const std::string& text = doc->second.text;
    const auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos || text.compare(begin, p.text.size(), p.text) != 0)
      throw InputError(where + "its document (" + corpus.string() + ":" +
                       std::to_string(doc->second.line) + ") does not begin with the prompt");
    HumanText h;
    h.id = p.id;
    h.origin = corpus.string() + ":" + std::to_string(doc->second.line);
    h.text = text.substr(begin + p.text.size());
    if (h.text.find_first_not_of(" \t\r\n") == std::string::npos)
      throw InputError(where + "its document (" + h.origin + ") has nothing after the prompt");
    if (h.text.size() > max_bytes) {
      h.text = cut_at(h.text, max_bytes);
      h.cut = true;
    }
    out.texts.push_back(std::move(h));
  }
  return out;
}

}  // namespace sg::detectors::repetition
