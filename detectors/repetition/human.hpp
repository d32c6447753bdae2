// Human continuations (Holtzman et al. 2020 compare every decoding strategy with them): for
// each prompt, the text its corpus document goes on with after it. A held-out prompt of the
// demo family is its document's first line cut at a word (tools/demo_corpus.py), so the
// document, leading blanks aside, begins with the prompt.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "seam/text_jsonl.hpp"

namespace sg::detectors::repetition {

struct HumanText {
  std::string id;      // the prompt's (and its document's) id
  std::string text;    // what follows the prompt in the document
  std::string origin;  // "CORPUS:LINE" of the document
  bool cut = false;    // cut short at `max_bytes`: the document goes on
};

struct HumanTexts {
  std::vector<HumanText> texts;  // in prompt order
  std::string corpus_sha256;
};

// The continuation of every prompt, cut at the last blank within `max_bytes` (never inside
// a UTF-8 character). InputError naming the prompt's file and line when its document is
// missing, does not begin with the prompt, or has nothing after it.
HumanTexts human_continuations(const TextFile& prompts, const std::filesystem::path& prompts_file,
                               const std::filesystem::path& corpus, std::size_t max_bytes);

}  // namespace sg::detectors::repetition
