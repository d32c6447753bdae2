#include "tokenizer/special_tokens.hpp"

namespace sg::tokenizer {

void split_on_specials(std::string_view text, const std::vector<SpecialToken>& specials,
                       const std::function<void(std::string_view)>& on_text,
                       const std::function<void(const SpecialToken&)>& on_special) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const SpecialToken* best = nullptr;
    std::size_t best_at = std::string_view::npos;
    for (const auto& s : specials) {
      const auto at = text.find(s.text, pos);
      if (at == std::string_view::npos) continue;
      if (at < best_at || (at == best_at && s.text.size() > best->text.size())) {
        best = &s;
        best_at = at;
      }
    }
    if (!best) break;
    auto before = text.substr(pos, best_at - pos);
    if (best->strip_left) {
      const auto last = before.find_last_not_of(" \t\n\r\f\v");
      before = before.substr(0, last == std::string_view::npos ? 0 : last + 1);
    }
    if (!before.empty()) on_text(before);
    on_special(*best);
    pos = best_at + best->text.size();
  }
  if (pos < text.size()) on_text(text.substr(pos));
}

}  // namespace sg::tokenizer
