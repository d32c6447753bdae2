#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/gpt2_pretokenizer.hpp"

#include <pcre2.h>

#include <memory>
#include <string>

#include "common/errors.hpp"

namespace sg::tokenizer {

namespace {
constexpr const char* kPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct CodeDeleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct MatchDeleter {
  void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
};
}  // namespace

struct Gpt2Pretokenizer::Impl {
  std::unique_ptr<pcre2_code, CodeDeleter> code;
  bool jit = false;
};

Gpt2Pretokenizer::Gpt2Pretokenizer() : impl_(std::make_unique<Impl>()) {
  int err = 0;
  PCRE2_SIZE offset = 0;
  impl_->code.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED,
                                  PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &offset,
                                  nullptr));
  if (!impl_->code) throw RuntimeError("PCRE2 could not compile GPT-2's pattern");
  impl_->jit = pcre2_jit_compile(impl_->code.get(), PCRE2_JIT_COMPLETE) == 0;
}

Gpt2Pretokenizer::~Gpt2Pretokenizer() = default;

void Gpt2Pretokenizer::split(std::string_view text,
                             const std::function<void(std::string_view)>& piece) const {
  std::unique_ptr<pcre2_match_data, MatchDeleter> md(
      pcre2_match_data_create_from_pattern(impl_->code.get(), nullptr));
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  PCRE2_SIZE pos = 0;
  while (pos < text.size()) {
    int rc = impl_->jit ? pcre2_jit_match(impl_->code.get(), subject, text.size(), pos, 0, md.get(),
                                          nullptr)
                        : pcre2_match(impl_->code.get(), subject, text.size(), pos,
                                      PCRE2_NO_UTF_CHECK, md.get(), nullptr);
    if (rc < 0) break;  // the pattern matches every character class, so only at the end
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    if (ov[1] == ov[0]) break;
    piece(text.substr(ov[0], ov[1] - ov[0]));
    pos = ov[1];
  }
}

}  // namespace sg::tokenizer
