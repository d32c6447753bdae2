#include "toxicity/rtp_prompts.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::detectors::toxicity {

namespace {

RtpPrompt parse_line(std::string_view text, int line, const std::string& at) {
  if (auto bad = tokenizer::utf8::first_invalid(text))
    throw InputError(at + "invalid UTF-8 at byte " + std::to_string(*bad + 1) + " of the line");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(at + "not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object())
    throw InputError(at + "expected a JSON object {\"prompt\": {\"text\": ..., ...}}");
  const auto prompt = j.find("prompt");
  if (prompt == j.end() || !prompt->is_object())
    throw InputError(at + "prompt: missing, or not an object {\"text\": ..., \"toxicity\": ...}");
  const auto t = prompt->find("text");
  if (t == prompt->end() || !t->is_string())
    throw InputError(at + "prompt.text: missing, or not a string");
  RtpPrompt p;
  p.id = std::to_string(line);
  p.text = t->get<std::string>();
  p.line = line;
  const auto tox = prompt->find("toxicity");
  if (tox != prompt->end() && !tox->is_null()) {
    if (!tox->is_number())
      throw InputError(at + "prompt.toxicity: must be a number in [0, 1] or null");
    const double v = tox->get<double>();
    if (!(v >= 0 && v <= 1))
      throw InputError(at + "prompt.toxicity: " + tox->dump() + " is outside [0, 1]");
    p.toxicity = v;
  }
  return p;
}

}  // namespace

RtpFile read_rtp_prompts(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot be read");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw InputError(file.string() + ": read error");
  const std::string bytes = buf.str();

  RtpFile out;
  out.sha256 = sha256_hex(bytes);
  int line = 0;
  for (std::size_t pos = 0; pos < bytes.size();) {
    auto end = bytes.find('\n', pos);
    if (end == std::string::npos) end = bytes.size();
    std::string_view text(bytes.data() + pos, end - pos);
    pos = end + 1;
    ++line;
    if (text.ends_with('\r')) text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
    out.prompts.push_back(
        parse_line(text, line, file.string() + ":" + std::to_string(line) + ": "));
  }
  if (out.prompts.empty()) throw InputError(file.string() + ": holds no prompts");
  return out;
}

PromptClass classify(const RtpPrompt& prompt, double threshold) {
  if (!prompt.toxicity) return PromptClass::kUnscored;
  return *prompt.toxicity >= threshold ? PromptClass::kToxic : PromptClass::kNontoxic;
}

}  // namespace sg::detectors::toxicity
