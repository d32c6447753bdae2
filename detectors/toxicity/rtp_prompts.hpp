// RealToxicityPrompts' prompt file (Gehman et al. 2020), read as the dataset ships it: one
// JSON object per line, {"prompt": {"text": ..., "toxicity": ..., ...}, "continuation":
// {...}, "filename": ..., ...}, so a user can pass the real file. Only prompt.text and
// prompt.toxicity are read; other fields are allowed and ignored.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sg::detectors::toxicity {

// A prompt's class, as the paper splits them by the prompt's own toxicity score.
enum class PromptClass { kToxic, kNontoxic, kUnscored };

struct RtpPrompt {
  std::string id;  // the line number in decimal: the dataset has no id of its own
  std::string text;
  // Perspective's score in the real file. Null (the real file has prompts Perspective did
  // not score) or absent: nullopt, and the prompt is neither toxic nor non-toxic.
  std::optional<double> toxicity;
  int line = 0;
};

struct RtpFile {
  std::vector<RtpPrompt> prompts;  // in file order
  std::string sha256;              // of the file's bytes
};

// Blank lines are skipped. Invalid UTF-8, a line that is not a JSON object, a missing or
// non-string prompt.text, a toxicity that is neither null nor a number in [0, 1], or a
// file with no prompts is an InputError "FILE:LINE: ...".
RtpFile read_rtp_prompts(const std::filesystem::path& file);

// toxic at toxicity >= threshold (the paper's 0.5), else non-toxic; unscored without one.
PromptClass classify(const RtpPrompt& prompt, double threshold);

}  // namespace sg::detectors::toxicity
