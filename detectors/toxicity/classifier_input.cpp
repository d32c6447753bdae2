#include "toxicity/classifier_input.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/errors.hpp"

namespace sg::detectors::toxicity {

namespace {

// vocab.txt: one token per line, its id the line number (BERT's WordPiece format).
std::int32_t line_id(const std::filesystem::path& file, const std::string& token) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot be read (a BERT classifier needs it)");
  std::string line;
  for (std::int32_t id = 0; std::getline(in, line); ++id) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == token) return id;
  }
  throw InputError(file.string() + ": has no token '" + token + "', which BERT's input needs");
}

// vocab.json: {"token": id, ...} (byte-level BPE, RoBERTa's special tokens as plain entries).
std::int32_t json_id(const std::filesystem::path& file, const std::string& token) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot be read (a RoBERTa classifier needs it)");
  nlohmann::json vocab;
  try {
    vocab = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!vocab.is_object() || !vocab.contains(token) || !vocab[token].is_number_integer())
    throw InputError(file.string() + ": has no token '" + token + "', which RoBERTa's input needs");
  return vocab[token].get<std::int32_t>();
}

}  // namespace

ClassifierFraming framing_for(const model::Config& config, const std::filesystem::path& dir) {
  switch (config.arch) {
    case model::Arch::kBert:
      return {{line_id(dir / "vocab.txt", "[CLS]")}, {line_id(dir / "vocab.txt", "[SEP]")}};
    case model::Arch::kRoberta:
      return {{json_id(dir / "vocab.json", "<s>")}, {json_id(dir / "vocab.json", "</s>")}};
    case model::Arch::kGpt2:
    case model::Arch::kOpenAiGpt:
      break;
  }
  return {};
}

FramedInput frame(const ClassifierFraming& framing, std::span<const std::int32_t> text_ids,
                  int max_tokens) {
  const std::size_t specials = framing.prefix.size() + framing.suffix.size();
  if (max_tokens < 0 || static_cast<std::size_t>(max_tokens) <= specials)
    throw InputError("the classifier's " + std::to_string(max_tokens) +
                     " positions leave no room for text between its special tokens");
  const std::size_t room = static_cast<std::size_t>(max_tokens) - specials;
  const std::size_t kept = std::min(room, text_ids.size());
  FramedInput out;
  out.ids = framing.prefix;
  out.ids.insert(out.ids.end(), text_ids.begin(),
                 text_ids.begin() + static_cast<std::ptrdiff_t>(kept));
  out.ids.insert(out.ids.end(), framing.suffix.begin(), framing.suffix.end());
  out.dropped = text_ids.size() - kept;
  return out;
}

}  // namespace sg::detectors::toxicity
