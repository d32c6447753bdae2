// Logits processors: each rewrites the next-token logits of one sequence in place. They run
// in one ordered chain (make_chain, sampling.hpp) in Hugging Face's and llama.cpp's order:
// the penalties first, on the raw logits, then the warpers temperature, top-k, top-p.
// Policy filters that act during generation (later issues) are processors too.
//
// Warpers that need only the largest logits (temperature, top-k, top-p) also work on the
// device's summary of a row (sparse_logits.hpp), which spares reading and sorting the whole
// vocabulary each step; a processor that needs every logit (a penalty, a ban) says so, and
// its sequence then reads the full row.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

namespace sg::engine {

struct SparseLogits;  // engine/sparse_logits.hpp

// A token no pick may take.
inline constexpr float kMaskedLogit = -std::numeric_limits<float>::infinity();

struct GenerationState {
  std::span<const std::int32_t> prompt;
  std::span<const std::int32_t> generated;
};

class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  virtual void apply(const GenerationState& state, std::span<float> logits) = 0;
  // False when apply_sparse can stand in for apply.
  virtual bool needs_full_logits() const { return true; }
  // Does to the summarized row exactly what apply does to the full one; false when the
  // summary cannot tell (the caller then runs apply on the full row).
  virtual bool apply_sparse(const GenerationState&, SparseLogits&) { return false; }
};

// CTRL's repetition penalty as Hugging Face applies it: every token already in the prompt or
// the output has its logit divided by `penalty` when positive, multiplied when negative.
class RepetitionPenalty : public LogitsProcessor {
 public:
  explicit RepetitionPenalty(float penalty) : penalty_(penalty) {}
  void apply(const GenerationState& state, std::span<float> logits) override;

 private:
  float penalty_;
};

// The OpenAI API's presence and frequency penalties
// (platform.openai.com/docs/advanced-usage#frequency-and-presence-penalties):
//   logit[j] -= c[j] * frequency + (c[j] > 0) * presence,
// c[j] being how often token j was sampled before this position: the generated tokens only,
// never the prompt (llama.cpp's penalties sampler also counts the prompt; OpenAI's definition
// and vLLM's do not).
class PresenceFrequencyPenalty : public LogitsProcessor {
 public:
  PresenceFrequencyPenalty(float presence, float frequency)
      : presence_(presence), frequency_(frequency) {}
  void apply(const GenerationState& state, std::span<float> logits) override;

 private:
  float presence_;
  float frequency_;
};

// Bans any token that would repeat an n-gram already present in prompt + output.
class NoRepeatNgram : public LogitsProcessor {
 public:
  explicit NoRepeatNgram(int n) : n_(n) {}
  void apply(const GenerationState& state, std::span<float> logits) override;

 private:
  int n_;
};

class Temperature : public LogitsProcessor {
 public:
  explicit Temperature(float t) : t_(t) {}
  void apply(const GenerationState& state, std::span<float> logits) override;
  bool needs_full_logits() const override { return false; }
  bool apply_sparse(const GenerationState& state, SparseLogits& logits) override;

 private:
  float t_;
};

// Keeps the k largest logits (ties with the k-th kept, as Hugging Face does).
class TopK : public LogitsProcessor {
 public:
  explicit TopK(int k) : k_(k) {}
  void apply(const GenerationState& state, std::span<float> logits) override;
  bool needs_full_logits() const override { return false; }
  bool apply_sparse(const GenerationState& state, SparseLogits& logits) override;

 private:
  int k_;
};

// Nucleus sampling: keeps the smallest set of most likely tokens whose probability reaches p.
class TopP : public LogitsProcessor {
 public:
  explicit TopP(float p) : p_(p) {}
  void apply(const GenerationState& state, std::span<float> logits) override;
  bool needs_full_logits() const override { return false; }
  bool apply_sparse(const GenerationState& state, SparseLogits& logits) override;

 private:
  float p_;
};

class ProcessorChain {
 public:
  void add(std::unique_ptr<LogitsProcessor> p) { chain_.push_back(std::move(p)); }
  void apply(const GenerationState& state, std::span<float> logits) const {
    for (const auto& p : chain_) p->apply(state, logits);
  }
  bool empty() const { return chain_.empty(); }
  bool needs_full_logits() const {
    for (const auto& p : chain_)
      if (p->needs_full_logits()) return true;
    return false;
  }
  // Every processor's apply_sparse in order; false as soon as one cannot tell.
  bool apply_sparse(const GenerationState& state, SparseLogits& logits) const {
    for (const auto& p : chain_)
      if (!p->apply_sparse(state, logits)) return false;
    return true;
  }

 private:
  std::vector<std::unique_ptr<LogitsProcessor>> chain_;
};

}  // namespace sg::engine
